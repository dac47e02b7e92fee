"""Limits on a JSON body, checked where every body is read (gateway.api.common.json_body).

Python's json module recurses once per nested array or object, so a body of ten thousand `[` exhausts the stack
before any rule could look at it: the depth is counted first, on the text, without recursion. Then every text of
the parsed body, keys included, is held to what a SOAP message can carry (gateway.domain.text).
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from gateway.domain.model import Violation
from gateway.domain.text import CHARACTERS_NOT_ALLOWED, characters_violation, code_points, escaped, not_allowed

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
