"""Domain values <-> JSON-able data for the JSON columns: dates in ISO 8601, enums by value, tuples as lists.

The mapping follows the dataclasses' own type hints, so a field added to the domain is stored without a change
here; a field missing from stored data takes its default, which lets older rows load after such a change.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeAlias, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from gateway.domain.model import ApplicationKind, NewPolicyRequest, Reason, ReplacementRequest

Json: TypeAlias = dict[str, "Json"] | list["Json"] | str | int | float | bool | None
T = TypeVar("T")


class CodecError(ValueError):
    """Stored data that does not fit the domain type it is read as."""


def dump(value: object) -> Json:
    """JSON-able data for a domain value (a frozen dataclass, a tuple of them, an enum, a date, a scalar)."""
    if isinstance(value, Enum):
        return cast(Json, value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [dump(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: dump(getattr(value, field.name)) for field in dataclasses.fields(value)}
    raise CodecError(f"cannot store a {type(value).__name__}")


def load(cls: type[T], data: Json) -> T:
    """The domain value of type `cls` that `dump` turned into `data`."""
    return cast(T, _loader(cast(Any, cls))(data, cls.__name__))


def load_request(kind: ApplicationKind, data: Json) -> NewPolicyRequest | ReplacementRequest:
    """The request of an application of this kind."""
    if kind is ApplicationKind.NEW:
        return load(NewPolicyRequest, data)
    return load(ReplacementRequest, data)


def load_reasons(data: Json, path: str = "rejection") -> tuple[Reason, ...]:
    """The reasons of a rejection, or of a refusal kept under an Idempotency-Key."""
    return cast(tuple[Reason, ...], _loader(tuple[Reason, ...])(data, path))


Loader: TypeAlias = Callable[[Json, str], Any]


@cache
def _loader(hint: Any) -> Loader:
    """A function reading data of the type `hint`, worked out once per type (the worker reads every row it takes)."""
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return _union_loader(hint)
    if origin is tuple:
        return _tuple_loader(get_args(hint))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass_loader(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_loader(hint)
    if hint is datetime or hint is date:
        return _iso_loader(hint)
    if hint in (str, int, float, bool):
        return _scalar_loader(hint)
    return _refusal(f"expected {hint}")


def _union_loader(hint: Any) -> Loader:
    options = [option for option in get_args(hint) if option is not type(None)]
    nullable = len(options) < len(get_args(hint))
    if len(options) != 1:
        refuse = _refusal(f"cannot tell which of {hint} is stored")
        return (lambda data, path: None if data is None else refuse(data, path)) if nullable else refuse
    inner = _loader(options[0])
    if not nullable:
        return inner
    return lambda data, path: None if data is None else inner(data, path)


def _tuple_loader(items: tuple[Any, ...]) -> Loader:
    if len(items) == 2 and items[1] is Ellipsis:
        item_loader = _loader(items[0])

        def load_items(data: Json, path: str) -> tuple[Any, ...]:
            if not isinstance(data, list):
                raise CodecError(f"{path}: expected a list, got {type(data).__name__}")
            return tuple(item_loader(item, f"{path}[{i}]") for i, item in enumerate(data))

        return load_items
    loaders = [_loader(item) for item in items]

    def load_fixed(data: Json, path: str) -> tuple[Any, ...]:
        if not isinstance(data, list):
            raise CodecError(f"{path}: expected a list, got {type(data).__name__}")
        if len(loaders) != len(data):
            raise CodecError(f"{path}: expected {len(loaders)} items, got {len(data)}")
        return tuple(load(item, f"{path}[{i}]") for i, (load, item) in enumerate(zip(loaders, data, strict=True)))

    return load_fixed


def _dataclass_loader(cls: Any) -> Loader:
    hints = _field_hints(cls)
    loaders: dict[str, Loader] = {}

    def load_fields(data: Json, path: str) -> Any:
        if not isinstance(data, dict):
            raise CodecError(f"{path}: expected an object, got {type(data).__name__}")
        if not loaders:  # filled on first use: a dataclass may refer to itself
            loaders.update({name: _loader(hint) for name, hint in hints.items()})
        unknown = data.keys() - loaders.keys()
        if unknown:
            raise CodecError(f"{path}: unknown fields {sorted(unknown)}")
        values = {name: loaders[name](value, f"{path}.{name}") for name, value in data.items()}
        try:
            return cls(**values)
        except TypeError as error:  # a required field is missing
            raise CodecError(f"{path}: {error}") from None

    return load_fields


def _enum_loader(kind: type[Enum]) -> Loader:
    def load_enum(data: Json, path: str) -> Enum:
        try:
            return kind(data)
        except ValueError as error:
            raise CodecError(f"{path}: {error}") from None

    return load_enum


def _iso_loader(kind: type[date]) -> Loader:
    def load_iso(data: Json, path: str) -> date:
        if not isinstance(data, str):
            raise CodecError(f"{path}: expected an ISO {kind.__name__}, got {type(data).__name__}")
        return kind.fromisoformat(data)

    return load_iso


def _scalar_loader(kind: type) -> Loader:
    def load_scalar(data: Json, path: str) -> Any:
        if type(data) is kind:
            return data
        raise CodecError(f"{path}: expected {kind}, got {type(data).__name__}")

    return load_scalar


def _refusal(message: str) -> Loader:
    def refuse(data: Json, path: str) -> Any:
        raise CodecError(f"{path}: {message}, got {type(data).__name__}")

    return refuse


@cache
def _field_hints(cls: Any) -> dict[str, Any]:
    # The domain modules use `from __future__ import annotations`: resolve the strings once per class.
    hints = get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}
