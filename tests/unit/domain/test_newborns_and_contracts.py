"""Rules the worker applies with what the fund answers: the newborn's insurer, an insurer whose contract ended."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from gateway.domain.eligibility import mother_to_ask, mothers_insurer_violation
from gateway.domain.model import (
    Authority,
    AuthorityType,
    Document,
    DocumentType,
    Holder,
    NewPolicyRequest,
    Policy,
    PolicyForm,
    PolicyStatus,
    Relation,
    Representative,
    Sex,
)
from gateway.domain.reference import load_reference
from tests.support.persons import ANNA

BORN = date(2026, 5, 1)
CHILD = replace(
    ANNA,
    first_name="Мария",
    birth_date=BORN,
    snils=None,
    inn=None,
    identity_document=Document(DocumentType.BIRTH_CERTIFICATE_RF, "123456", BORN + timedelta(days=3), "IV-МЮ"),
)
MOTHER = Representative(
    "Иванова", "Анна", ANNA.birth_date, ANNA.identity_document, Authority(AuthorityType.PARENT, "123456", BORN, "ЗАГС"),
    snils="11223344595",
)  # fmt: skip
REQUEST = NewPolicyRequest(Relation.CHILD, CHILD, "77", "77002", PolicyForm.ELECTRONIC, representative=MOTHER)
HOLDER = Holder(ANNA.last_name, ANNA.first_name, ANNA.birth_date, ANNA.sex)
MOTHERS = Policy("7754900882000015", PolicyStatus.ACTIVE, "77001", "77", "electronic", date(2020, 1, 1), HOLDER)
REGISTERED = CHILD.identity_document.issue_date


def test_a_newborn_within_30_days_of_the_birth_certificate_takes_the_mothers_insurer() -> None:
    within = REGISTERED + timedelta(days=30)
    violation = mothers_insurer_violation(REQUEST, within, Sex.FEMALE, MOTHERS)
    assert violation is not None
    assert (violation.code, violation.field) == ("NEWBORN_MOTHER_INSURER", "insurer_code")
    assert dict(violation.details) == {
        "mothers_insurer": "77001",
        "allowed_from": (within + timedelta(days=1)).isoformat(),
    }
    assert mother_to_ask(REQUEST, within) == "11223344595"


def test_after_30_days_or_with_the_same_insurer_or_no_active_policy_of_a_mother_the_choice_is_free() -> None:
    within = REGISTERED + timedelta(days=1)
    assert mothers_insurer_violation(REQUEST, REGISTERED + timedelta(days=31), Sex.FEMALE, MOTHERS) is None
    assert mother_to_ask(REQUEST, REGISTERED + timedelta(days=31)) is None
    assert mothers_insurer_violation(replace(REQUEST, insurer_code="77001"), within, Sex.FEMALE, MOTHERS) is None
    assert mothers_insurer_violation(REQUEST, within, Sex.MALE, MOTHERS) is None
    assert mothers_insurer_violation(REQUEST, within, Sex.FEMALE, None) is None
    ended = replace(MOTHERS, status=PolicyStatus.ANNULLED)
    assert mothers_insurer_violation(REQUEST, within, Sex.FEMALE, ended) is None


def test_an_insurer_whose_contract_ended_is_told_from_one_still_admitted() -> None:
    reference = load_reference()  # 77003 worked in ОМС until 31 December 2024
    assert not reference.contract_ended("77003", date(2024, 12, 31))
    assert reference.contract_ended("77003", date(2025, 1, 1))
    assert not reference.contract_ended("77001", date(2026, 1, 1))
    assert not reference.contract_ended("00000", date(2026, 1, 1)), "an insurer the gateway does not know"
