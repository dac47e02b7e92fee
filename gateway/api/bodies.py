"""Every JSON body of the API is read here: its media type, its encoding, its depth, its characters, its schema.

A body that does not load is refused with the same reasons as the domain's rules give, together with those of
the rules that the fields which did load still allow (gateway/api/drafts.py): one answer names every mistake.

The limits: Python's json module recurses once per nested array or object, so a body of ten thousand `[`
exhausts the stack before any rule could look at it: the depth is counted first, on the text, without recursion.
Then every text of the parsed body, keys included, is held to what a SOAP message can carry (gateway.domain.text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any, Protocol

from flask import g, request
from marshmallow import Schema, ValidationError

from gateway.api.common import dependencies
from gateway.api.drafts import draft_violations
from gateway.api.problems import ProblemError
from gateway.api.schemas import violations_of
from gateway.catalogue import Catalogue
from gateway.domain.calendar import moscow_date
from gateway.domain.model import Reason, Violation
from gateway.domain.text import CHARACTERS_NOT_ALLOWED, characters_violation, code_points, escaped, not_allowed
from gateway.usecases.errors import InputRejected
from gateway.usecases.submission import Context


class Needs(Protocol):
    """What reading a body needs of the app's services."""

    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def submission(self) -> Context: ...
    @property
    def json_max_depth(self) -> int: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a problem: 415 for another type, 400 for bad or too deeply nested JSON, 422
    for texts no SOAP message could carry (below). Read once a request."""
    cached: dict[str, Any] | None = g.get("json_body")
    if cached is not None:
        return cached
    if not request.is_json:
        raise ProblemError(415, "unsupported-media-type", "Тело запроса должно быть в формате application/json.")
    try:
        # JSON between systems is UTF-8 (RFC 8259 §8.1); a byte order mark may lead.
        text = request.get_data(cache=True).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProblemError(400, "malformed-json", "Тело запроса не является корректным JSON.") from None
    needs = _needs()
    catalogue = needs.catalogue
    # Before parsing: the parser recurses once per level, and a deep enough body would exhaust the stack.
    too_deep = depth_violation(text, needs.json_max_depth)
    if too_deep is not None:
        raise InputRejected((catalogue.reason(too_deep),))
    try:
        body = json.loads(text or "null")
    except ValueError:
        raise ProblemError(400, "malformed-json", "Тело запроса не является корректным JSON.") from None
    if not isinstance(body, dict):
        raise ProblemError(400, "malformed-json", "Тело запроса должно быть объектом JSON.")
    # Before any rule or store sees it, so that /validate and a submission refuse the same texts the same way.
    wrong = character_violations(body)
    if wrong:
        raise InputRejected(tuple(catalogue.reason(violation) for violation in wrong))
    g.json_body = body
    return body


def load(schema: type[Schema]) -> Any:
    """The request's body loaded with `schema`: the typed request its `post_load` makes, or InputRejected."""
    return parse(schema(), json_body())


def parse(schema: Schema, body: Mapping[str, Any]) -> Any:
    """Load a body with a schema; shape errors come with the domain's reasons for what did load."""
    try:
        return schema.load(body)
    except ValidationError as error:
        raise InputRejected(refusal_reasons(schema, error)) from None


def refusal_reasons(schema: Schema, error: ValidationError) -> tuple[Reason, ...]:
    """Every reason against a body the schema refused: its shape first, then its meaning as far as it was read."""
    context = _needs().submission
    shape = violations_of(error)
    refused = frozenset(violation.field for violation in shape if violation.field)
    loaded = error.valid_data if isinstance(error.valid_data, Mapping) else {}
    meaning = draft_violations(schema, loaded, refused, moscow_date(context.clock()), context.reference)
    found = list(dict.fromkeys(shape))
    for violation in meaning:
        # A field the schema refused has its reason already; a warning of the catalogue refuses nothing.
        refused_here = violation.field is not None and any(_within(violation.field, path) for path in refused)
        if not refused_here and context.catalogue.entry(violation.code).severity == "error" and violation not in found:
            found.append(violation)
    return tuple(context.catalogue.reason(violation) for violation in found)


def _within(field: str, path: str) -> bool:
    return field == path or field.startswith(f"{path}.")


# --- the limits on a body ------------------------------------------------------------------------------------

BODY_TOO_DEEP = "BODY_TOO_DEEP"

# A JSON string, escapes and all; what is left between strings is structure, numbers, literals and white space.
# An unterminated string runs to the end of the text (the closing quote is optional): otherwise every quote after
# it would start a scan to the end again, and a body of `"\"\"\"…` would take quadratic time.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (`{}` is 1), with brackets inside strings skipped.

    Linear and without recursion, whatever the text: on a text that is not JSON the figure means nothing, but the
    parser refuses that text anyway.
    """
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def depth_violation(text: str, limit: int) -> Violation | None:
    """BODY_TOO_DEEP when the text nests deeper than `limit`."""
    if depth(text) <= limit:
        return None
    return Violation(BODY_TOO_DEEP, None, (("max_depth", str(limit)),))


def character_violations(body: Any) -> list[Violation]:
    """CHARACTERS_NOT_ALLOWED for every text of a parsed body, and every key, that holds a character no field may.

    Each names its field by JSON path (`person.birth_place`); a key's own characters are written there as `\\uXXXX`.
    """
    found: list[Violation] = []
    # A stack, not recursion (the depth was limited, but need not be), each value with the key it came under.
    pending: list[tuple[str, str | None, Any]] = [("", None, body)]
    while pending:
        path, key, value = pending.pop()
        wrong = not_allowed(key) if key is not None else []
        if wrong:
            found.append(Violation(CHARACTERS_NOT_ALLOWED, path, (("characters", code_points(wrong)),)))
        if isinstance(value, str):
            violation = characters_violation(value, path or None)
            if violation is not None:
                found.append(violation)
        elif isinstance(value, dict):
            children = [
                (f"{path}.{escaped(name)}" if path else escaped(name), name, item) for name, item in value.items()
            ]
            pending.extend(reversed(children))  # so that reasons come in the body's order
        elif isinstance(value, list):
            pending.extend(reversed([(f"{path}[{index}]", None, item) for index, item in enumerate(value)]))
    return found
