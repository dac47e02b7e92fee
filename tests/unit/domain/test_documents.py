"""Document patterns, dates and the age rules of the passport and the birth certificate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gateway.domain.documents import (
    age_on,
    anniversary,
    document_violations,
    normalize_document,
    normalize_series,
    passport_age_violations,
)
from gateway.domain.model import Document, DocumentType, Violation

DT = DocumentType
TODAY = date(2026, 6, 15)
ADULT = date(1990, 5, 17)
PATH = "person.identity_document"


def passport(series: str | None = "4510", number: str = "123456", issue_date: date = date(2010, 6, 1)) -> Document:
    return Document(DT.PASSPORT_RF, number, issue_date, series=series)


def birth_certificate(
    series: str | None = "IV-МЮ", number: str = "123456", issue_date: date = date(2020, 4, 2)
) -> Document:
    return Document(DT.BIRTH_CERTIFICATE_RF, number, issue_date, series=series)


def check(document: Document, birth_date: date | None = ADULT, today: date = TODAY) -> list[Violation]:
    """The rules on a document as the user typed it: normalised where it enters the gateway, then checked."""
    return document_violations(normalize_document(document), today, PATH, birth_date)


def codes(violations: list[Violation]) -> list[str]:
    return [violation.code for violation in violations]


# --- passport of the RF: pattern -----------------------------------------------------------------------------


@pytest.mark.parametrize("series", ["4510", "45 10", " 45 10 "])
def test_accepts_a_passport_series_of_four_digits_with_or_without_the_printed_space(series: str) -> None:
    assert check(passport(series=series)) == []


def test_normalizes_the_passport_series_to_four_digits() -> None:
    assert normalize_series(DT.PASSPORT_RF, "45 10") == "4510"
    assert normalize_document(passport(series="45 10", number=" 123 456 ")) == passport(series="4510")


def test_normalizes_full_width_digits_of_a_series_and_number_to_ascii() -> None:
    typed = passport(series="４５ １０", number="１２３４５６")
    assert normalize_document(typed) == passport(series="4510", number="123456")
    # "№" is not folded into "No": a number with letters nobody typed.
    assert codes(check(Document(DT.FOREIGN_PASSPORT, "№１２３", date(2019, 4, 2)))) == ["DOCUMENT_NUMBER_FORMAT"]


def test_checks_the_series_and_number_as_they_will_be_sent() -> None:
    # Normalised once, where the document enters; a document that skipped it is refused, not quietly fixed.
    assert codes(document_violations(passport(series="45 10"), TODAY, PATH, ADULT)) == ["DOCUMENT_SERIES_FORMAT"]
    assert codes(document_violations(passport(number="１２３４５６"), TODAY, PATH, ADULT)) == ["DOCUMENT_NUMBER_FORMAT"]


@pytest.mark.parametrize("series", ["451", "45100", "45-10", "45 1O", "AB10"])
def test_refuses_a_passport_series_that_is_not_four_digits(series: str) -> None:
    assert check(passport(series=series)) == [
        Violation("DOCUMENT_SERIES_FORMAT", f"{PATH}.series", (("type", "passport_rf"),))
    ]


@pytest.mark.parametrize("series", [None, "", "  "])
def test_requires_the_series_of_a_passport(series: str | None) -> None:
    assert check(passport(series=series)) == [Violation("FIELD_REQUIRED", f"{PATH}.series")]


@pytest.mark.parametrize("number", ["12345", "1234567", "12345A"])
def test_refuses_a_passport_number_that_is_not_six_digits(number: str) -> None:
    assert codes(check(passport(number=number))) == ["DOCUMENT_NUMBER_FORMAT"]


def test_requires_the_number_of_a_document() -> None:
    assert check(passport(number=" ")) == [Violation("FIELD_REQUIRED", f"{PATH}.number")]


def test_reports_a_wrong_series_and_a_wrong_number_together() -> None:
    assert [v.field for v in check(passport(series="45", number="12"))] == [f"{PATH}.series", f"{PATH}.number"]


# --- birth certificate of the RF: pattern --------------------------------------------------------------------


@pytest.mark.parametrize("series", ["I-МЮ", "IV-МЮ", "XIV-АБ", "LXXXVIII-ЁЯ", "MCMXC-ЖЖ"])
def test_accepts_a_birth_certificate_series_of_a_roman_numeral_hyphen_and_two_cyrillic_capitals(series: str) -> None:
    assert check(birth_certificate(series=series), birth_date=date(2020, 4, 1)) == []


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("iv-мю", "IV-МЮ"),  # small letters
        ("IV - МЮ", "IV-МЮ"),  # spaces around the hyphen
        ("IV–МЮ", "IV-МЮ"),  # an en dash
        ("ІV-МЮ", "IV-МЮ"),  # a Cyrillic І for the Roman I
        ("ХIV-АБ", "XIV-АБ"),  # a Cyrillic Х for the Roman X
        ("IV-MO", "IV-МО"),  # Latin M and O among the Cyrillic letters
    ],
)
def test_normalizes_a_birth_certificate_series_typed_with_look_alike_letters(typed: str, normalized: str) -> None:
    assert normalize_series(DT.BIRTH_CERTIFICATE_RF, typed) == normalized
    assert check(birth_certificate(series=typed), birth_date=date(2020, 4, 1)) == []


@pytest.mark.parametrize("series", ["IIII-МЮ", "VX-МЮ", "-МЮ", "IV-М", "IV-МЮЯ", "IV-12", "4-МЮ", "IVМЮ", "IV-QZ"])
def test_refuses_a_birth_certificate_series_that_is_not_a_real_roman_numeral_and_two_letters(series: str) -> None:
    assert codes(check(birth_certificate(series=series), birth_date=date(2020, 4, 1))) == ["DOCUMENT_SERIES_FORMAT"]


def test_refuses_a_birth_certificate_number_that_is_not_six_digits() -> None:
    assert codes(check(birth_certificate(number="12345"), birth_date=date(2020, 4, 1))) == ["DOCUMENT_NUMBER_FORMAT"]


# --- documents of foreigners and refugees --------------------------------------------------------------------


@pytest.mark.parametrize(("series", "number"), [(None, "AB1234567"), ("FA", "1234567"), (None, "n0123"), ("", "X")])
def test_accepts_a_foreign_passport_with_or_without_a_series(series: str | None, number: str) -> None:
    document = Document(DT.FOREIGN_PASSPORT, number, date(2019, 4, 2), series=series)
    assert check(document) == []


@pytest.mark.parametrize("number", ["№1234567", "123456789012345678901", "АБ123456"])
def test_refuses_a_foreign_passport_number_other_than_latin_letters_and_digits(number: str) -> None:
    document = Document(DT.FOREIGN_PASSPORT, number, date(2019, 4, 2))
    assert codes(check(document)) == ["DOCUMENT_NUMBER_FORMAT"]


def residence_permit(
    series: str | None = "82", number: str = "0123456", expiry: date | None = date(2029, 3, 14)
) -> Document:
    return Document(DT.RESIDENCE_PERMIT, number, date(2024, 3, 15), series=series, expiry_date=expiry)


@pytest.mark.parametrize("series", ["82", "83", None])
def test_accepts_a_residence_permit_of_two_digit_series_and_seven_digit_number(series: str | None) -> None:
    assert check(residence_permit(series=series)) == []


def test_refuses_a_residence_permit_with_a_wrong_series_and_number() -> None:
    assert codes(check(residence_permit(series="820", number="123456"))) == [
        "DOCUMENT_SERIES_FORMAT",
        "DOCUMENT_NUMBER_FORMAT",
    ]


def test_accepts_a_temporary_residence_permit_stamp_numbered_by_its_decision() -> None:
    document = Document(DT.TEMPORARY_RESIDENCE_PERMIT, "123/2024", date(2024, 3, 15), expiry_date=date(2027, 3, 14))
    assert check(document) == []


def test_requires_the_number_of_a_refugee_certificate() -> None:
    document = Document(DT.REFUGEE_CERTIFICATE, "", date(2024, 3, 15), expiry_date=date(2027, 3, 14))
    assert check(document) == [Violation("FIELD_REQUIRED", f"{PATH}.number")]


@pytest.mark.parametrize("type_", [DT.RESIDENCE_PERMIT, DT.TEMPORARY_RESIDENCE_PERMIT, DT.REFUGEE_CERTIFICATE])
def test_requires_an_expiry_date_on_documents_that_allow_a_stay(type_: DocumentType) -> None:
    document = Document(type_, "0123456", date(2024, 3, 15))
    assert check(document) == [Violation("FIELD_REQUIRED", f"{PATH}.expiry_date")]


def test_refuses_a_residence_document_past_its_expiry_date() -> None:
    assert check(residence_permit(expiry=TODAY - timedelta(days=1))) == [
        Violation("RESIDENCE_DOCUMENT_EXPIRED", f"{PATH}.expiry_date", (("expiry_date", "2026-06-14"),))
    ]


def test_accepts_a_residence_document_on_its_last_day() -> None:
    assert check(residence_permit(expiry=TODAY)) == []


def test_refuses_an_expiry_date_before_the_issue_date() -> None:
    document = Document(DT.FOREIGN_PASSPORT, "AB1234567", date(2019, 4, 2), expiry_date=date(2019, 4, 1))
    assert codes(check(document)) == ["FIELD_INVALID"]


# --- dates ---------------------------------------------------------------------------------------------------


def test_refuses_a_document_issued_in_the_future() -> None:
    assert check(passport(issue_date=TODAY + timedelta(days=1))) == [
        Violation("DOCUMENT_ISSUE_DATE_IN_FUTURE", f"{PATH}.issue_date")
    ]


def test_accepts_a_document_issued_today() -> None:
    assert check(passport(issue_date=TODAY)) == []


def test_refuses_a_document_issued_before_the_birth() -> None:
    document = birth_certificate(issue_date=date(2020, 3, 31))
    assert check(document, birth_date=date(2020, 4, 1)) == [
        Violation("DOCUMENT_ISSUE_DATE_BEFORE_BIRTH", f"{PATH}.issue_date")
    ]


def test_accepts_a_birth_certificate_issued_on_the_day_of_birth() -> None:
    assert check(birth_certificate(issue_date=date(2020, 4, 1)), birth_date=date(2020, 4, 1)) == []


def test_checks_only_pattern_and_dates_when_the_birth_date_is_unknown() -> None:
    assert check(passport(issue_date=date(1950, 1, 1)), birth_date=None) == []


# --- passport of the RF: age ---------------------------------------------------------------------------------


def test_refuses_a_passport_for_a_child_under_14() -> None:
    birth = date(2013, 1, 1)
    assert check(passport(issue_date=date(2026, 1, 1)), birth_date=birth) == [
        Violation("PASSPORT_UNDER_14", f"{PATH}.type")
    ]


def test_refuses_a_passport_issued_before_the_14th_birthday() -> None:
    birth = date(2010, 6, 1)
    assert check(passport(issue_date=date(2024, 5, 31)), birth_date=birth) == [
        Violation("PASSPORT_UNDER_14", f"{PATH}.issue_date", (("rule", "issued_before_14"),))
    ]


def test_accepts_a_passport_issued_on_the_14th_birthday() -> None:
    assert check(passport(issue_date=date(2024, 6, 1)), birth_date=date(2010, 6, 1)) == []


BIRTH = date(2000, 3, 10)
TWENTIETH = date(2020, 3, 10)
FORTY_FIFTH = date(2045, 3, 10)


def age_rule(issue_date: date, today: date) -> list[Violation]:
    return passport_age_violations(passport(issue_date=issue_date), BIRTH, today, PATH)


def test_accepts_a_passport_issued_at_14_until_90_days_after_the_20th_birthday() -> None:
    assert age_rule(date(2014, 3, 20), TWENTIETH + timedelta(days=90)) == []


def test_refuses_a_passport_issued_at_14_from_the_91st_day_after_the_20th_birthday() -> None:
    assert age_rule(date(2014, 3, 20), TWENTIETH + timedelta(days=91)) == [
        Violation("PASSPORT_EXPIRED_BY_AGE", f"{PATH}.issue_date", (("replacement_age", "20"),))
    ]


def test_refuses_a_passport_issued_the_day_before_the_20th_birthday_once_the_grace_is_over() -> None:
    assert codes(age_rule(TWENTIETH - timedelta(days=1), TWENTIETH + timedelta(days=91))) == ["PASSPORT_EXPIRED_BY_AGE"]


def test_accepts_a_passport_issued_on_the_20th_birthday_until_45() -> None:
    assert age_rule(TWENTIETH, FORTY_FIFTH + timedelta(days=90)) == []


def test_refuses_a_passport_issued_at_20_from_the_91st_day_after_the_45th_birthday() -> None:
    assert age_rule(TWENTIETH, FORTY_FIFTH + timedelta(days=91)) == [
        Violation("PASSPORT_EXPIRED_BY_AGE", f"{PATH}.issue_date", (("replacement_age", "45"),))
    ]


def test_refuses_a_passport_issued_at_14_when_the_holder_is_past_45() -> None:
    assert codes(age_rule(date(2014, 3, 20), FORTY_FIFTH + timedelta(days=365))) == ["PASSPORT_EXPIRED_BY_AGE"]


def test_accepts_a_passport_issued_at_45_for_life() -> None:
    assert age_rule(FORTY_FIFTH, date(2090, 1, 1)) == []


def test_counts_the_replacement_age_of_someone_born_on_29_february_from_28_february() -> None:
    birth = date(1980, 2, 29)  # 45 on 28 February 2025, a common year: valid through 29 May
    issued_at_20 = date(2000, 3, 1)
    assert passport_age_violations(passport(issue_date=issued_at_20), birth, date(2025, 5, 29), PATH) == []
    assert codes(passport_age_violations(passport(issue_date=issued_at_20), birth, date(2025, 5, 30), PATH)) == [
        "PASSPORT_EXPIRED_BY_AGE"
    ]


# --- birth certificate of the RF: age ------------------------------------------------------------------------


def test_accepts_a_birth_certificate_until_14_years_and_30_days() -> None:
    birth = date(2012, 3, 20)
    assert check(birth_certificate(issue_date=date(2012, 4, 2)), birth, date(2026, 4, 19)) == []


def test_refuses_a_birth_certificate_from_the_31st_day_after_the_14th_birthday() -> None:
    birth = date(2012, 3, 20)
    assert check(birth_certificate(issue_date=date(2012, 4, 2)), birth, date(2026, 4, 20)) == [
        Violation("BIRTH_CERTIFICATE_AGE", f"{PATH}.type")
    ]


# --- age -----------------------------------------------------------------------------------------------------


def test_counts_full_years_of_age() -> None:
    assert age_on(date(1990, 5, 17), date(2026, 5, 16)) == 35
    assert age_on(date(1990, 5, 17), date(2026, 5, 17)) == 36


def test_turns_a_year_older_on_28_february_when_born_on_29_february() -> None:
    assert anniversary(date(2012, 2, 29), 14) == date(2026, 2, 28)
    assert anniversary(date(2012, 2, 29), 16) == date(2028, 2, 29)
    assert age_on(date(2012, 2, 29), date(2026, 2, 27)) == 13
    assert age_on(date(2012, 2, 29), date(2026, 2, 28)) == 14
