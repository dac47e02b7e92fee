"""The catalogue's texts say what the rules do: examples that pass, limits the rules keep, the law's words."""

from __future__ import annotations

import re

from gateway.catalogue import Catalogue
from gateway.domain.eligibility import name_violations
from gateway.domain.identifiers import inn_violations, normalize_identifier, snils_violations

CATALOGUE = Catalogue.load()


def texts(code: str) -> str:
    entry = CATALOGUE.entry(code)
    return f"{entry.message} {entry.recommendation}"


def test_name_characters_text_allows_the_latin_letters_the_validator_accepts() -> None:
    # A foreigner's name is written as in their document, which may be in Latin letters.
    assert name_violations("Smith", "person.last_name") == []
    assert "без цифр, латинских букв" not in texts("NAME_CHARACTERS")
    assert "латинскими" in CATALOGUE.entry("NAME_CHARACTERS").recommendation


def test_inn_invalid_text_names_the_twelve_digits_of_a_persons_inn() -> None:
    # A 10-digit ИНН is refused for its length (an organisation's), not for its check digits.
    assert [v.details for v in inn_violations("7707083893")] == [(("reason", "format"),)]
    message = CATALOGUE.entry("INN_INVALID").message
    assert "12 цифр" in message and "10 цифр" in message


def test_snils_format_example_passes_its_own_check() -> None:
    examples = re.findall(r"\d{3}-\d{3}-\d{3} \d{2}", texts("SNILS_FORMAT"))
    assert examples, "the recommendation shows how a СНИЛС is written"
    assert all(snils_violations(normalize_identifier(example)) == [] for example in examples)


def test_insurer_change_texts_say_change_of_residence_as_the_law_does() -> None:
    # 326-ФЗ ст. 16: more than once a year, or after 1 November, «в случае изменения места жительства».
    for code in ("INSURER_CHANGE_LIMIT", "INSURER_CHANGE_AFTER_NOVEMBER", "REPLACEMENT_REASON_NOT_APPLICABLE"):
        assert "другой регион" not in texts(code), code
        assert "места жительства" in texts(code), code
