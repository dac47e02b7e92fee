"""The limits of a JSON body: its depth counted on the text without recursion, its texts and keys by JSON path."""

from __future__ import annotations

import json
import sys

import pytest

from gateway.api.bodies import character_violations, depth, depth_violation
from gateway.domain.model import Violation
from tests.support.bodies import BODY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{}", 1),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('"[[[["', 0),  # brackets in a string are text
        ('{"a": "\\"[[[[", "b": "\\\\"}', 1),  # so are those after an escaped quote; an escaped backslash ends
        ('["\\u005b[", []]', 2),
        ("[[1], [2], [3]]", 2),  # width is not depth
        ("", 0),
        ("null", 0),
    ],
)
def test_depth_is_the_nesting_of_arrays_and_objects_outside_strings(text: str, expected: int) -> None:
    assert depth(text) == expected


def test_an_application_nests_three_deep() -> None:
    assert depth(json.dumps(BODY, ensure_ascii=False)) == 3


def test_a_depth_far_past_the_recursion_limit_is_counted_without_recursion() -> None:
    levels = sys.getrecursionlimit() * 20
    assert depth("[" * levels + "]" * levels) == levels
    assert depth('{"a":' * levels + "1" + "}" * levels) == levels


def test_an_unterminated_string_hides_the_rest_of_the_text() -> None:
    # The parser refuses such a text anyway; what matters is that counting it stays linear.
    assert depth('["' + '\\"[' * 30_000) == 1


def test_too_deep_names_the_limit() -> None:
    assert depth_violation("[[[]]]", 3) is None
    assert depth_violation("[[[[]]]]", 3) == Violation("BODY_TOO_DEEP", None, (("max_depth", "3"),))


def test_every_text_and_key_is_checked_with_its_json_path_in_the_bodys_order() -> None:
    body = {
        "relation": "self\x00",
        "person": {"last_name": "Ива\ud800нова", "bad\x1bkey": 1, "ok": ["a", "b\u2028"]},
        "region_code": "77",
    }
    assert character_violations(body) == [
        Violation("CHARACTERS_NOT_ALLOWED", "relation", (("characters", "U+0000"),)),
        Violation("CHARACTERS_NOT_ALLOWED", "person.last_name", (("characters", "U+D800"),)),
        Violation("CHARACTERS_NOT_ALLOWED", "person.bad\\u001bkey", (("characters", "U+001B"),)),
        Violation("CHARACTERS_NOT_ALLOWED", "person.ok[1]", (("characters", "U+2028"),)),
    ]
    assert character_violations(BODY) == []
