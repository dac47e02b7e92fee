"""Rules on a person: names, СНИЛС, ИНН, documents, who may be insured with which documents; the policy's end."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from gateway.domain.eligibility import check_person, issued_policy_end, name_violations, policy_end_date
from gateway.domain.model import Document, DocumentType, Person, Sex, Violation
from tests.support.persons import ANNA, PASSPORT

DT = DocumentType
TODAY = date(2026, 6, 15)

BIRTH_CERTIFICATE = Document(DT.BIRTH_CERTIFICATE_RF, "123456", date(2018, 3, 12), series="IV-МЮ")
CHILD = replace(
    ANNA,
    first_name="Варвара",
    birth_date=date(2018, 3, 1),
    inn=None,
    snils="01024236877",
    identity_document=BIRTH_CERTIFICATE,
)
NEWBORN = replace(
    CHILD,
    birth_date=date(2026, 3, 1),
    snils=None,
    identity_document=replace(BIRTH_CERTIFICATE, issue_date=date(2026, 3, 5)),
)
FOREIGN_PASSPORT = Document(DT.FOREIGN_PASSPORT, "1234567", date(2019, 4, 2), series="FA", expiry_date=date(2029, 4, 1))
RESIDENCE_PERMIT = Document(
    DT.RESIDENCE_PERMIT, "0123456", date(2024, 3, 15), series="82", expiry_date=date(2029, 3, 14)
)
FOREIGNER = Person(
    last_name="Каримов",
    first_name="Алишер",
    middle_name="Рустамович",
    birth_date=date(1988, 2, 11),
    sex=Sex.MALE,
    citizenship="UZB",
    identity_document=FOREIGN_PASSPORT,
    residence_document=RESIDENCE_PERMIT,
)
STATELESS = replace(FOREIGNER, citizenship="stateless", identity_document=RESIDENCE_PERMIT, residence_document=None)
REFUGEE_CERTIFICATE = Document(DT.REFUGEE_CERTIFICATE, "0012345", date(2025, 1, 10), expiry_date=date(2028, 1, 9))
REFUGEE = replace(FOREIGNER, citizenship="AFG", identity_document=REFUGEE_CERTIFICATE, residence_document=None)


def codes(violations: list[Violation]) -> list[str]:
    return [violation.code for violation in violations]


@pytest.mark.parametrize(
    "person",
    [ANNA, CHILD, FOREIGNER, STATELESS, REFUGEE],
    ids=["citizen", "child", "foreigner", "stateless", "refugee"],
)
def test_accepts_a_person_with_the_documents_their_category_needs(person: Person) -> None:
    assert check_person(person, TODAY) == []


# --- names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Анна-Мария",
        "Д’Артаньян",
        "O'Brien",
        "Müller",
        "Ёлкина",
        "Мамедов Али оглы",
        "Nguyễn",
        "Ivanova",
        "Мар\u02bcяна",
    ],
)
def test_accepts_names_of_cyrillic_or_latin_letters_spaces_hyphens_and_apostrophes(name: str) -> None:
    assert name_violations(name, "person.last_name") == []


def test_accepts_a_name_typed_with_combining_marks_once_composed() -> None:
    assert name_violations("Андреи\u0306", "person.first_name") == []


@pytest.mark.parametrize(
    ("name", "characters"), [("Ив4нова", "4"), ("Анна!", "!"), ("Αννα", "Ααν"), ("Анна_Мария", "_")]
)
def test_refuses_names_with_digits_signs_or_other_alphabets(name: str, characters: str) -> None:
    assert name_violations(name, "person.last_name") == [
        Violation("NAME_CHARACTERS", "person.last_name", (("characters", characters),))
    ]


def test_refuses_a_name_of_hyphens_only() -> None:
    assert codes(name_violations("--", "person.last_name")) == ["NAME_CHARACTERS"]


def test_accepts_a_name_of_100_letters_and_refuses_101() -> None:
    assert name_violations("Я" * 100, "person.last_name") == []
    assert name_violations("Я" * 101, "person.last_name") == [
        Violation("FIELD_TOO_LONG", "person.last_name", (("max_length", "100"),))
    ]


def test_counts_the_length_after_composing_the_letters() -> None:
    assert name_violations("и\u0306" * 100, "person.last_name") == []


def test_requires_the_last_and_first_name_but_not_the_middle_name() -> None:
    person = replace(ANNA, last_name=" ", first_name="", middle_name="")
    assert check_person(person, TODAY) == [
        Violation("FIELD_REQUIRED", "person.last_name"),
        Violation("FIELD_REQUIRED", "person.first_name"),
    ]


def test_refuses_a_birth_place_longer_than_250_characters() -> None:
    assert codes(check_person(replace(ANNA, birth_place="г" * 251), TODAY)) == ["FIELD_TOO_LONG"]


# --- birth date, СНИЛС, ИНН ----------------------------------------------------------------------------------


def test_refuses_a_birth_date_in_the_future_without_rules_that_follow_from_it() -> None:
    person = replace(
        CHILD, birth_date=date(2026, 6, 16), identity_document=replace(BIRTH_CERTIFICATE, issue_date=TODAY)
    )
    assert check_person(person, TODAY) == [Violation("BIRTH_DATE_IN_FUTURE", "person.birth_date")]


def test_refuses_a_wrong_snils() -> None:
    assert check_person(replace(ANNA, snils="01024236800"), TODAY) == [Violation("SNILS_CHECKSUM", "person.snils")]


def test_refuses_a_wrong_inn() -> None:
    assert codes(check_person(replace(ANNA, inn="7707083893"), TODAY)) == ["INN_INVALID"]


def test_requires_the_snils_of_a_citizen_from_14() -> None:
    assert check_person(replace(ANNA, snils=None), TODAY) == [Violation("SNILS_REQUIRED", "person.snils")]


def test_child_under_14_on_birth_certificate_may_have_no_snils() -> None:
    assert check_person(replace(CHILD, snils=None), TODAY) == []
    assert check_person(NEWBORN, TODAY) == []


def test_child_on_birth_certificate_needs_the_snils_from_the_14th_birthday() -> None:
    # The birth certificate is still accepted for 30 days after the birthday; the СНИЛС is needed from the day.
    child = replace(CHILD, birth_date=date(2012, 6, 15), snils=None)
    assert check_person(replace(child, birth_date=date(2012, 6, 16)), TODAY) == []
    assert check_person(child, TODAY) == [Violation("SNILS_REQUIRED", "person.snils")]


def test_does_not_require_the_snils_of_a_foreigner_but_checks_one_given() -> None:
    assert check_person(replace(FOREIGNER, snils=None), TODAY) == []
    assert codes(check_person(replace(FOREIGNER, snils="01024236800"), TODAY)) == ["SNILS_CHECKSUM"]


# --- citizens' documents -------------------------------------------------------------------------------------


def test_refuses_a_passport_for_a_child_under_14() -> None:
    passport = replace(PASSPORT, issue_date=date(2026, 1, 10))
    assert check_person(replace(CHILD, identity_document=passport), TODAY) == [
        Violation("PASSPORT_UNDER_14", "person.identity_document.type")
    ]


def test_accepts_the_birth_certificate_of_a_citizen_who_turned_14_less_than_30_days_ago() -> None:
    person = replace(
        CHILD, birth_date=date(2012, 5, 20), identity_document=replace(BIRTH_CERTIFICATE, issue_date=date(2012, 6, 1))
    )
    assert check_person(person, TODAY) == []


def test_refuses_the_birth_certificate_of_a_citizen_past_14_years_and_30_days() -> None:
    person = replace(
        CHILD, birth_date=date(2012, 5, 15), identity_document=replace(BIRTH_CERTIFICATE, issue_date=date(2012, 6, 1))
    )
    assert check_person(person, TODAY) == [Violation("BIRTH_CERTIFICATE_AGE", "person.identity_document.type")]


def test_refuses_a_foreign_passport_for_a_citizen() -> None:
    assert check_person(replace(ANNA, identity_document=FOREIGN_PASSPORT), TODAY) == [
        Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "person.identity_document.type", (("category", "citizen"),))
    ]


def test_refuses_a_residence_permit_for_a_citizen() -> None:
    assert codes(check_person(replace(ANNA, residence_document=RESIDENCE_PERMIT), TODAY)) == [
        "DOCUMENT_NOT_ALLOWED_FOR_CATEGORY"
    ]


def test_refuses_a_passport_past_the_replacement_at_45() -> None:
    person = replace(
        ANNA, birth_date=date(1980, 1, 10), identity_document=replace(PASSPORT, issue_date=date(2000, 2, 1))
    )
    assert check_person(person, TODAY) == [
        Violation("PASSPORT_EXPIRED_BY_AGE", "person.identity_document.issue_date", (("replacement_age", "45"),))
    ]


# --- foreigners, stateless persons, refugees -----------------------------------------------------------------


def test_refuses_a_foreigner_without_a_residence_document() -> None:
    assert check_person(replace(FOREIGNER, residence_document=None), TODAY) == [
        Violation("RESIDENCE_DOCUMENT_REQUIRED", "person.residence_document")
    ]


def test_accepts_a_foreigner_with_a_temporary_residence_permit() -> None:
    permit = Document(DT.TEMPORARY_RESIDENCE_PERMIT, "123/2025", date(2025, 2, 1), expiry_date=date(2028, 2, 1))
    assert check_person(replace(FOREIGNER, residence_document=permit), TODAY) == []


def test_refuses_a_foreign_passport_as_the_residence_document() -> None:
    assert check_person(replace(FOREIGNER, residence_document=FOREIGN_PASSPORT), TODAY) == [
        Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "person.residence_document.type", (("category", "foreigner"),))
    ]


def test_refuses_a_passport_of_the_rf_for_a_foreigner() -> None:
    assert codes(check_person(replace(FOREIGNER, identity_document=PASSPORT), TODAY)) == [
        "DOCUMENT_NOT_ALLOWED_FOR_CATEGORY"
    ]


def test_refuses_a_residence_permit_as_a_foreigners_identity_document() -> None:
    person = replace(FOREIGNER, identity_document=RESIDENCE_PERMIT, residence_document=None)
    assert codes(check_person(person, TODAY)) == ["DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "RESIDENCE_DOCUMENT_REQUIRED"]


def test_accepts_a_stateless_person_with_a_foreign_travel_document_and_a_residence_permit() -> None:
    person = replace(STATELESS, identity_document=FOREIGN_PASSPORT, residence_document=RESIDENCE_PERMIT)
    assert check_person(person, TODAY) == []


def test_refuses_a_foreigners_residence_permit_past_its_expiry_date() -> None:
    person = replace(FOREIGNER, residence_document=replace(RESIDENCE_PERMIT, expiry_date=date(2026, 6, 14)))
    assert codes(check_person(person, TODAY)) == ["RESIDENCE_DOCUMENT_EXPIRED"]


def test_refuses_a_refugee_certificate_past_its_expiry_date() -> None:
    person = replace(REFUGEE, identity_document=replace(REFUGEE_CERTIFICATE, expiry_date=date(2026, 1, 9)))
    assert [v.field for v in check_person(person, TODAY)] == ["person.identity_document.expiry_date"]


def test_refuses_a_refugee_certificate_for_a_citizen() -> None:
    assert codes(check_person(replace(ANNA, identity_document=REFUGEE_CERTIFICATE), TODAY)) == [
        "DOCUMENT_NOT_ALLOWED_FOR_CATEGORY"
    ]


# --- all at once ---------------------------------------------------------------------------------------------


def test_reports_every_broken_rule_of_a_person_at_once() -> None:
    person = replace(
        ANNA,
        last_name="Ив4нова",
        first_name="",
        snils="01024236800",
        inn="123",
        identity_document=replace(PASSPORT, series="451", number="12", issue_date=date(2027, 1, 1)),
    )
    assert [(v.code, v.field) for v in check_person(person, TODAY)] == [
        ("NAME_CHARACTERS", "person.last_name"),
        ("FIELD_REQUIRED", "person.first_name"),
        ("SNILS_CHECKSUM", "person.snils"),
        ("INN_INVALID", "person.inn"),
        ("DOCUMENT_SERIES_FORMAT", "person.identity_document.series"),
        ("DOCUMENT_NUMBER_FORMAT", "person.identity_document.number"),
        ("DOCUMENT_ISSUE_DATE_IN_FUTURE", "person.identity_document.issue_date"),
    ]


def test_names_the_fields_under_the_path_it_is_given() -> None:
    assert check_person(replace(ANNA, snils=None), TODAY, "applicant")[0].field == "applicant.snils"


# --- end of a policy -----------------------------------------------------------------------------------------


def test_gives_a_citizens_policy_no_end_date() -> None:
    assert policy_end_date(ANNA, TODAY) is None


def test_ends_a_foreigners_policy_with_the_calendar_year() -> None:
    assert policy_end_date(FOREIGNER, TODAY) == date(2026, 12, 31)


def test_ends_a_foreigners_policy_with_a_residence_permit_that_expires_within_the_year() -> None:
    person = replace(FOREIGNER, residence_document=replace(RESIDENCE_PERMIT, expiry_date=date(2026, 9, 30)))
    assert policy_end_date(person, TODAY) == date(2026, 9, 30)


def test_ends_a_policy_applied_for_on_31_december_that_same_day() -> None:
    assert policy_end_date(FOREIGNER, date(2026, 12, 31)) == date(2026, 12, 31)


def test_ends_a_stateless_persons_policy_with_the_residence_permit_they_identify_with() -> None:
    person = replace(STATELESS, identity_document=replace(RESIDENCE_PERMIT, expiry_date=date(2026, 8, 1)))
    assert policy_end_date(person, TODAY) == date(2026, 8, 1)


def test_stateless_persons_residence_permit_is_both_identity_and_stay_document() -> None:
    # 115-ФЗ ст. 2, 10; the mock fund agrees (tests/mocks/test_fund_rules.py, tests/contract).
    assert check_person(STATELESS, TODAY) == []
    expired = replace(STATELESS, identity_document=replace(RESIDENCE_PERMIT, expiry_date=date(2026, 6, 1)))
    assert check_person(expired, TODAY) == [
        Violation(
            "RESIDENCE_DOCUMENT_EXPIRED", "person.identity_document.expiry_date", (("expiry_date", "2026-06-01"),)
        )
    ]


def test_ends_a_refugees_policy_with_the_year_or_the_refugee_certificate() -> None:
    assert policy_end_date(REFUGEE, TODAY) == date(2026, 12, 31)
    person = replace(REFUGEE, identity_document=replace(REFUGEE_CERTIFICATE, expiry_date=date(2026, 7, 1)))
    assert policy_end_date(person, TODAY) == date(2026, 7, 1)


def test_issued_policy_end_is_the_funds_date_within_the_lawful_end_of_a_non_citizens_policy() -> None:
    # The fund's date when it is within the bound (a duplicate keeps the end of the policy it replaces)...
    assert issued_policy_end(FOREIGNER, TODAY, date(2026, 10, 31)) == date(2026, 10, 31)
    # ...never past 31 December, nor past the stay document, nor open-ended for a foreigner.
    assert issued_policy_end(FOREIGNER, TODAY, date(2027, 6, 30)) == date(2026, 12, 31)
    assert issued_policy_end(FOREIGNER, TODAY, None) == date(2026, 12, 31)
    permit = replace(RESIDENCE_PERMIT, expiry_date=date(2026, 9, 30))
    assert issued_policy_end(replace(FOREIGNER, residence_document=permit), TODAY, None) == date(2026, 9, 30)


def test_issued_policy_end_of_a_citizen_is_the_funds_date() -> None:
    assert issued_policy_end(ANNA, TODAY, None) is None
    assert issued_policy_end(ANNA, TODAY, date(2030, 1, 1)) == date(2030, 1, 1)
