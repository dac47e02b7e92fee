"""Texts the back-ends can carry: every character the check admits is one lxml writes and reads back, every one
outside XML 1.0's Char is refused, names keep to one alphabet a word."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.domain.eligibility import name_violations
from gateway.domain.model import Document, DocumentType, Person, Sex, Violation
from gateway.domain.text import (
    carriage_violations,
    characters_violation,
    escaped,
    mixed_script_letters,
    not_allowed,
)
from tests.support.persons import ANNA

EVERY_CODE_POINT = range(0x110000)


def xml_char(point: int) -> bool:
    """XML 1.0 (Fifth Edition) §2.2, as the specification writes it."""
    return (
        point in (0x9, 0xA, 0xD) or 0x20 <= point <= 0xD7FF or 0xE000 <= point <= 0xFFFD or 0x10000 <= point <= 0x10FFFF
    )


def test_every_character_the_check_admits_is_carried_by_lxml_unchanged() -> None:
    admitted = [chr(point) for point in EVERY_CODE_POINT if not not_allowed(chr(point))]
    assert len(admitted) > 1_000_000
    for start in range(0, len(admitted), 4096):
        text = "".join(admitted[start : start + 4096])
        element = etree.Element("Text")
        element.text = text  # lxml raises ValueError for what XML cannot hold
        assert etree.fromstring(etree.tostring(element, encoding="utf-8")).text == text


def test_every_character_outside_xmls_char_is_refused() -> None:
    outside = [point for point in EVERY_CODE_POINT if not xml_char(point)]
    assert 0xD800 in outside and 0xFFFE in outside and 0x0 in outside
    assert [hex(point) for point in outside if not not_allowed(chr(point))] == []


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"])
def test_controls_and_line_breaks_xml_allows_are_refused_on_a_single_line(char: str) -> None:
    assert not_allowed(f"г. Мос{char}ква") == [char]


def test_the_violation_names_each_code_point_once_in_order() -> None:
    violation = characters_violation("a\ud800b\x00c\ud800", "person.birth_place")
    assert violation == Violation("CHARACTERS_NOT_ALLOWED", "person.birth_place", (("characters", "U+0000 U+D800"),))
    assert characters_violation("г. Москва \U0010ffff\ue000", "person.birth_place") is None


def test_escaped_text_can_be_encoded_whatever_it_held() -> None:
    assert escaped("x\ud800y\x00") == "x\\ud800y\\u0000"
    assert escaped("x\ud800y").encode("utf-8") == b"x\\ud800y"


def test_every_text_of_a_domain_value_is_checked_with_its_json_path() -> None:
    document = Document(DocumentType.PASSPORT_RF, "123456", ANNA.identity_document.issue_date, "4510", "ОВД\x00")
    person = Person("Иванова", "Анна", ANNA.birth_date, Sex.FEMALE, "RUS", document, birth_place="г.\x07 Москва")
    assert [(v.code, v.field) for v in carriage_violations(person, "person")] == [
        ("CHARACTERS_NOT_ALLOWED", "person.identity_document.issuer"),
        ("CHARACTERS_NOT_ALLOWED", "person.birth_place"),
    ]
    assert carriage_violations(ANNA, "person") == []


@pytest.mark.parametrize(
    ("name", "letters"),
    [
        ("Ивaновa", "a"),  # Latin «a» in a Cyrillic word
        ("Smіth", "і"),  # Cyrillic «і» in a Latin word
        ("Салтыков-Щeдрин", "e"),
        ("Анна Mария", "M"),  # ties and short words: the Latin letters are named
        ("Иванова", ""),
        ("Smith", ""),
        ("Смит-Smith", ""),
        ("Д'Artagnan", ""),  # apostrophes part words as hyphens do
    ],
)
def test_mixed_script_letters_are_those_of_the_less_used_alphabet_in_a_word(name: str, letters: str) -> None:
    assert mixed_script_letters(name) == letters


def test_a_name_mixing_alphabets_in_a_word_is_a_violation_of_its_own() -> None:
    assert name_violations("Ивaновa", "person.last_name") == [
        Violation("NAME_MIXED_SCRIPTS", "person.last_name", (("characters", "a"),))
    ]
    assert name_violations("Ivanova Иванова", "person.last_name") == []
