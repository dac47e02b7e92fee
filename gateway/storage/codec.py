"""Domain values <-> JSON-able data for the JSON columns: dates in ISO 8601, enums by value, tuples as lists.

The mapping follows the dataclasses' own type hints, so a field added to the domain is stored without a change
here; a field missing from stored data takes its default, which lets older rows load after such a change.
"""

from __future__ import annotations

import dataclasses
import types
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
    return cast(T, _load(cls, data, cls.__name__))


def load_request(kind: ApplicationKind, data: Json) -> NewPolicyRequest | ReplacementRequest:
    """The request of an application of this kind."""
    if kind is ApplicationKind.NEW:
        return load(NewPolicyRequest, data)
    return load(ReplacementRequest, data)


def load_reasons(data: Json) -> tuple[Reason, ...]:
    """The reasons of a rejection."""
    return cast(tuple[Reason, ...], _load(tuple[Reason, ...], data, "rejection"))


def _load(hint: Any, data: Json, path: str) -> Any:
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        options = [option for option in get_args(hint) if option is not type(None)]
        if data is None and len(options) < len(get_args(hint)):
            return None
        if len(options) != 1:
            raise CodecError(f"{path}: cannot tell which of {hint} is stored")
        return _load(options[0], data, path)
    if origin is tuple:
        return _load_tuple(get_args(hint), data, path)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _load_dataclass(hint, data, path)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(data)
        except ValueError as error:
            raise CodecError(f"{path}: {error}") from None
    if hint is datetime or hint is date:
        if not isinstance(data, str):
            raise CodecError(f"{path}: expected an ISO {hint.__name__}, got {type(data).__name__}")
        return hint.fromisoformat(data)
    if hint in (str, int, float, bool) and type(data) is hint:
        return data
    raise CodecError(f"{path}: expected {hint}, got {type(data).__name__}")


def _load_tuple(items: tuple[Any, ...], data: Json, path: str) -> tuple[Any, ...]:
    if not isinstance(data, list):
        raise CodecError(f"{path}: expected a list, got {type(data).__name__}")
    if len(items) == 2 and items[1] is Ellipsis:
        return tuple(_load(items[0], item, f"{path}[{i}]") for i, item in enumerate(data))
    if len(items) != len(data):
        raise CodecError(f"{path}: expected {len(items)} items, got {len(data)}")
    return tuple(_load(hint, item, f"{path}[{i}]") for i, (hint, item) in enumerate(zip(items, data, strict=True)))


def _load_dataclass(cls: Any, data: Json, path: str) -> Any:
    if not isinstance(data, dict):
        raise CodecError(f"{path}: expected an object, got {type(data).__name__}")
    hints = _field_hints(cls)
    unknown = set(data) - set(hints)
    if unknown:
        raise CodecError(f"{path}: unknown fields {sorted(unknown)}")
    values = {name: _load(hints[name], value, f"{path}.{name}") for name, value in data.items()}
    try:
        return cls(**values)
    except TypeError as error:  # a required field is missing
        raise CodecError(f"{path}: {error}") from None


@cache
def _field_hints(cls: Any) -> dict[str, Any]:
    # The domain modules use `from __future__ import annotations`: resolve the strings once per class.
    hints = get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}
