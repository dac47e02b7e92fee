"""The reason catalogue `contracts/rejections.yaml`: its shape, its codes and its texts for citizens."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

import pytest
import yaml

import contracts
from tests.support.fhir import FHIR_R4_ISSUE_TYPES

SOURCES = frozenset({"gateway", "fund", "insurer"})
HTTP_STATUSES = frozenset({400, 403, 404, 409, 422, 503})
SEVERITIES = frozenset({"error", "warning"})


REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "code": str,
    "sources": list,
    "title": str,
    "message": str,
    "recommendation": str,
    "http_status": int,
    "fhir_issue_type": str,
    "severity": str,
}
OPTIONAL_KEYS: dict[str, type | tuple[type, ...]] = {"legal_basis": str, "field": str, "reserved": str}

# Codes that other parts of the project already use: they must never disappear from the catalogue.
USED_CODES = frozenset(
    {
        # gateway input
        "FIELD_REQUIRED",
        "FIELD_INVALID",
        "FIELD_TOO_LONG",
        "SNILS_FORMAT",
        "SNILS_CHECKSUM",
        "SNILS_REQUIRED",
        "INN_INVALID",
        "ENP_FORMAT",
        "ENP_CHECKSUM",
        "ENP_FACET_MISMATCH",
        "NAME_CHARACTERS",
        "BIRTH_DATE_IN_FUTURE",
        "DOCUMENT_SERIES_FORMAT",
        "DOCUMENT_NUMBER_FORMAT",
        "DOCUMENT_ISSUE_DATE_BEFORE_BIRTH",
        "DOCUMENT_ISSUE_DATE_IN_FUTURE",
        "PASSPORT_UNDER_14",
        "PASSPORT_EXPIRED_BY_AGE",
        "BIRTH_CERTIFICATE_AGE",
        "DOCUMENT_NOT_ALLOWED_FOR_CATEGORY",
        "RESIDENCE_DOCUMENT_REQUIRED",
        "RESIDENCE_DOCUMENT_EXPIRED",
        "HIGHLY_QUALIFIED_SPECIALIST",
        "REPRESENTATIVE_REQUIRED",
        "NEWBORN_MOTHER_INSURER",
        "REGION_UNKNOWN",
        "INSURER_UNKNOWN",
        "INSURER_NOT_ADMITTED",
        "REPLACEMENT_REASON_NOT_APPLICABLE",
        "DOCUMENT_EXPIRED",
        # fund (registry)
        "SCHEMA_VIOLATION",
        "ALREADY_INSURED_SAME_INSURER",
        "DUPLICATE_APPLICATION",
        "REGISTRY_DATA_MISMATCH",
        "SNILS_OTHER_PERSON",
        "DOCUMENT_OTHER_PERSON",
        "ENP_OTHER_PERSON",
        "ENP_NOT_FOUND",
        "PERSON_DECEASED",
        "INSURER_CHANGE_LIMIT",
        "INSURER_CHANGE_AFTER_NOVEMBER",
        "POLICY_NOT_ACTIVE",
        "ADDRESS_INCOMPLETE",
        "APPLICATION_DATE_INVALID",
        # insurer
        "POLICY_FORM_NOT_ISSUED",
        "REGION_NOT_SERVED",
        "POLICY_NOT_HELD",
        # generic
        "BACKEND_REJECTED",
        "TECHNICAL_ERROR",
    }
)

# Each refusal named in /work/shared/DOMAIN.md, the code that stands for it, and a system that must be able to
# say it (registry practice is the fund's format-logical control).
DOMAIN_REFUSALS: list[tuple[str, str, str]] = [
    ("СНИЛС check digits wrong", "SNILS_CHECKSUM", "fund"),
    ("СНИЛС belongs to another person", "SNILS_OTHER_PERSON", "fund"),
    ("document belongs to another person", "DOCUMENT_OTHER_PERSON", "fund"),
    ("document series does not match its pattern", "DOCUMENT_SERIES_FORMAT", "fund"),
    ("document number does not match its pattern", "DOCUMENT_NUMBER_FORMAT", "fund"),
    ("person is deceased", "PERSON_DECEASED", "fund"),
    ("person already insured with this insurer", "ALREADY_INSURED_SAME_INSURER", "fund"),
    ("an open application already exists for the person", "DUPLICATE_APPLICATION", "fund"),
    ("name not in the names dictionary", "NAME_NOT_IN_DICTIONARY", "fund"),
    ("wrong birth date", "BIRTH_DATE_IN_FUTURE", "fund"),
    ("birth date after the document's issue date", "DOCUMENT_ISSUE_DATE_BEFORE_BIRTH", "fund"),
    ("region or address incomplete", "ADDRESS_INCOMPLETE", "fund"),
    ("ЕНП wrong (format)", "ENP_FORMAT", "fund"),
    ("ЕНП wrong (check digit)", "ENP_CHECKSUM", "fund"),
    ("ЕНП does not match sex and age", "ENP_FACET_MISMATCH", "fund"),
    ("ЕНП belongs to another person", "ENP_OTHER_PERSON", "fund"),
    ("no document required for the person's category", "DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "fund"),
    ("passport issue date inconsistent with age 20 / 45 replacement", "PASSPORT_EXPIRED_BY_AGE", "fund"),
    ("technical error of a registry service", "TECHNICAL_ERROR", "fund"),
    ("rejected as not matching the XML schema", "SCHEMA_VIOLATION", "fund"),
    ("highly qualified specialists and their families", "HIGHLY_QUALIFIED_SPECIALIST", "gateway"),
    ("a passport before 14 is an error", "PASSPORT_UNDER_14", "gateway"),
    ("birth certificate accepted until 14 years + 30 days", "BIRTH_CERTIFICATE_AGE", "gateway"),
    ("newborn insured with the mother's insurer for 30 days", "NEWBORN_MOTHER_INSURER", "gateway"),
    ("child under 14 applied for by a representative", "REPRESENTATIVE_REQUIRED", "gateway"),
    ("from 14: СНИЛС required", "SNILS_REQUIRED", "gateway"),
    ("foreigner without a residence document", "RESIDENCE_DOCUMENT_REQUIRED", "gateway"),
    ("residence or refugee document past its expiry date", "RESIDENCE_DOCUMENT_EXPIRED", "gateway"),
    ("insurer changed by own wish more than once a calendar year", "INSURER_CHANGE_LIMIT", "fund"),
    ("insurer changed by own wish after 1 November", "INSURER_CHANGE_AFTER_NOVEMBER", "fund"),
]

# Codes that more than one system says, with the systems each must list.
SHARED_CODES: list[tuple[str, frozenset[str]]] = [
    ("SNILS_CHECKSUM", frozenset({"gateway", "fund"})),
    ("INSURER_NOT_ADMITTED", frozenset({"gateway", "fund"})),
    ("SCHEMA_VIOLATION", frozenset({"fund", "insurer"})),
]

UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
FIELD_PATH = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
TEXT_KEYS = ("title", "message", "recommendation")


@cache
def load_catalogue() -> dict[str, Any]:
    """Read and parse the catalogue once per test session."""
    text = contracts.path("rejections.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict), "the catalogue must be a YAML mapping"
    return loaded


def reasons() -> list[dict[str, Any]]:
    """Return the catalogue's reasons."""
    listed = load_catalogue().get("reasons")
    assert isinstance(listed, list), "`reasons` must be a list"
    return listed


def by_code() -> dict[str, dict[str, Any]]:
    """Return the reasons keyed by code."""
    return {reason["code"]: reason for reason in reasons()}


def reason_id(reason: object) -> str:
    """Name a parametrized case after the reason's code."""
    return str(reason["code"]) if isinstance(reason, dict) else repr(reason)


each_reason = pytest.mark.parametrize("reason", reasons(), ids=reason_id)


def test_catalogue_declares_version_1() -> None:
    assert load_catalogue().get("version") == 1


def test_catalogue_has_only_version_and_reasons_at_the_top() -> None:
    assert set(load_catalogue()) == {"version", "reasons"}


def test_catalogue_lists_at_least_thirty_reasons() -> None:
    assert len(reasons()) >= 30


def test_every_entry_is_a_mapping() -> None:
    assert all(isinstance(reason, dict) for reason in reasons())


def test_codes_are_unique() -> None:
    counts = Counter(reason.get("code") for reason in reasons())
    assert [code for code, count in counts.items() if count > 1] == []


@each_reason
def test_reason_has_every_required_key_with_the_right_type(reason: dict[str, Any]) -> None:
    missing = [key for key in REQUIRED_KEYS if key not in reason]
    assert missing == []
    wrong = [key for key, kind in REQUIRED_KEYS.items() if not isinstance(reason[key], kind)]
    assert wrong == []
    # bool is an int in Python; a status of `true` is a typo, not a status.
    assert not isinstance(reason["http_status"], bool)


@each_reason
def test_reason_has_no_unknown_keys(reason: dict[str, Any]) -> None:
    assert set(reason) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS) == set()


@each_reason
def test_optional_keys_have_the_right_type_when_present(reason: dict[str, Any]) -> None:
    for key, kind in OPTIONAL_KEYS.items():
        if key in reason:
            assert isinstance(reason[key], kind), key
            assert reason[key].strip() == reason[key] != "", key


@each_reason
def test_code_is_upper_snake_case(reason: dict[str, Any]) -> None:
    assert UPPER_SNAKE.fullmatch(reason["code"])


def test_every_code_used_by_the_project_is_in_the_catalogue() -> None:
    assert sorted(USED_CODES - set(by_code())) == []


@each_reason
def test_sources_are_a_non_empty_subset_of_gateway_fund_and_insurer(reason: dict[str, Any]) -> None:
    sources = reason["sources"]
    assert sources, "at least one system must be able to say it"
    assert set(sources) <= SOURCES
    assert len(sources) == len(set(sources)), "a source is listed twice"


@pytest.mark.parametrize(("code", "systems"), SHARED_CODES)
def test_code_said_by_several_systems_lists_them_all(code: str, systems: frozenset[str]) -> None:
    assert systems <= set(by_code()[code]["sources"])


@each_reason
def test_http_status_is_one_the_api_answers_with(reason: dict[str, Any]) -> None:
    assert reason["http_status"] in HTTP_STATUSES


@each_reason
def test_fhir_issue_type_is_in_the_r4_value_set(reason: dict[str, Any]) -> None:
    assert reason["fhir_issue_type"] in FHIR_R4_ISSUE_TYPES


@each_reason
def test_severity_is_error_or_warning(reason: dict[str, Any]) -> None:
    assert reason["severity"] in SEVERITIES


@each_reason
def test_title_message_and_recommendation_are_russian_text(reason: dict[str, Any]) -> None:
    for key in TEXT_KEYS:
        text = reason[key]
        assert CYRILLIC.search(text), f"{key} has no Cyrillic"
        assert text == text.strip(), f"{key} has leading or trailing spaces"
        assert "  " not in text, f"{key} has a double space"
        assert "\n" not in text, f"{key} spans several lines"


@each_reason
def test_message_and_recommendation_are_sentences_ending_with_a_full_stop(reason: dict[str, Any]) -> None:
    assert reason["message"].endswith(".")
    assert reason["recommendation"].endswith(".")


@each_reason
def test_message_and_recommendation_say_different_things(reason: dict[str, Any]) -> None:
    assert reason["message"].casefold() != reason["recommendation"].casefold()


@each_reason
def test_texts_have_no_placeholders(reason: dict[str, Any]) -> None:
    # Concrete values travel in the Reason's `details`; front-ends show these texts as they are.
    for key in TEXT_KEYS:
        assert not re.search(r"[{}%]", reason[key]), key


@each_reason
def test_field_is_a_json_path_into_the_request_when_given(reason: dict[str, Any]) -> None:
    if "field" in reason:
        assert FIELD_PATH.fullmatch(reason["field"])


@each_reason
def test_legal_basis_is_written_in_russian_when_given(reason: dict[str, Any]) -> None:
    if "legal_basis" in reason:
        assert CYRILLIC.search(reason["legal_basis"])


def test_titles_are_unique() -> None:
    counts = Counter(reason["title"] for reason in reasons())
    assert [title for title, count in counts.items() if count > 1] == []


@pytest.mark.parametrize(
    ("refusal", "code", "system"), DOMAIN_REFUSALS, ids=[refusal for refusal, _, _ in DOMAIN_REFUSALS]
)
def test_every_refusal_named_in_the_domain_notes_has_a_code(refusal: str, code: str, system: str) -> None:
    assert code in by_code(), f"no code for: {refusal}"
    assert system in by_code()[code]["sources"], f"{code} cannot be said by the {system}"


def test_technical_error_is_transient_and_answers_503() -> None:
    technical = by_code()["TECHNICAL_ERROR"]
    assert technical["http_status"] == 503
    assert technical["fhir_issue_type"] == "transient"


def test_only_the_technical_error_answers_503() -> None:
    assert [code for code, reason in by_code().items() if reason["http_status"] == 503] == ["TECHNICAL_ERROR"]


def test_enp_facet_mismatch_is_only_a_warning() -> None:
    assert by_code()["ENP_FACET_MISMATCH"]["severity"] == "warning"


def test_duplicate_application_is_a_conflict_with_an_open_application() -> None:
    duplicate = by_code()["DUPLICATE_APPLICATION"]
    assert duplicate["http_status"] == 409
    assert duplicate["fhir_issue_type"] == "duplicate"


def test_unknown_enp_answers_404_as_the_api_says() -> None:
    assert by_code()["ENP_NOT_FOUND"]["http_status"] == 404


def test_backend_rejection_can_come_from_the_fund_and_insurers() -> None:
    assert set(by_code()["BACKEND_REJECTED"]["sources"]) == {"fund", "insurer"}


def test_api_example_of_a_snils_checksum_reason_matches_the_catalogue() -> None:
    snils = by_code()["SNILS_CHECKSUM"]
    assert snils["message"] == "Контрольное число СНИЛС не совпадает: проверьте номер."
    assert snils["field"] == "person.snils"


def test_representative_required_says_the_representative_chooses_the_insurer_until_18() -> None:
    # 326-ФЗ ст. 16: a minor's insurer is chosen by a parent or another legal representative, not only under 14.
    required = by_code()["REPRESENTATIVE_REQUIRED"]
    assert "До 18 лет" in required["message"]
    assert "14" not in required["message"] + required["recommendation"]
    assert "326-ФЗ, ст. 16" in required["legal_basis"]
