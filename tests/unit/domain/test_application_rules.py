"""Rules on a new-policy application and a replacement: who applies, region, insurer, form, reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from gateway.domain.eligibility import check_new_application, check_replacement
from gateway.domain.model import (
    Authority,
    AuthorityType,
    Document,
    DocumentType,
    InsuredCategory,
    NewPolicyRequest,
    Person,
    PersonChanges,
    PolicyForm,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Representative,
    Violation,
)
from tests.support.persons import ANNA
from tests.support.reference import REFERENCE

DT = DocumentType
TODAY = date(2026, 6, 15)


BIRTH_CERTIFICATE = Document(DT.BIRTH_CERTIFICATE_RF, "123456", date(2018, 3, 12), series="IV-МЮ")
CHILD = replace(ANNA, first_name="Варвара", birth_date=date(2018, 3, 1), identity_document=BIRTH_CERTIFICATE)
APPLICATION = NewPolicyRequest(
    relation=Relation.SELF, person=ANNA, region_code="77", insurer_code="77001", policy_form=PolicyForm.ELECTRONIC
)
ENP = "7754900882000015"
RESIDENCE_PERMIT = Document(
    DT.RESIDENCE_PERMIT, "0123456", date(2026, 3, 15), series="82", expiry_date=date(2031, 3, 14)
)


PARENT = Representative(
    last_name="Иванова",
    first_name="Анна",
    middle_name="Сергеевна",
    birth_date=date(1990, 5, 17),
    snils="11223344595",
    identity_document=Document(DT.PASSPORT_RF, "123456", date(2010, 6, 1), series="4510"),
    authority=Authority(AuthorityType.PARENT),
)
GUARDIAN = replace(
    PARENT, authority=Authority(AuthorityType.GUARDIANSHIP_DECISION, "17/245", date(2024, 2, 1), "Опека")
)
ATTORNEY = replace(PARENT, authority=Authority(AuthorityType.POWER_OF_ATTORNEY, "77 АВ 1234567", date(2026, 1, 10)))
REPRESENTATIVES = {Relation.CHILD: PARENT, Relation.WARD: GUARDIAN, Relation.SPOUSE: ATTORNEY}


def apply(**changes: Any) -> list[Violation]:
    request = replace(APPLICATION, **changes)
    if request.relation is not Relation.SELF and "representative" not in changes:
        # Someone applying for another person comes with their authority; the tests of that rule set their own.
        request = replace(request, representative=REPRESENTATIVES[request.relation])
    return check_new_application(request, TODAY, REFERENCE)


def replacement(reason: ReplacementReason, **changes: Any) -> list[Violation]:
    request = ReplacementRequest(enp=ENP, reason=reason, policy_form=PolicyForm.ELECTRONIC)
    return check_replacement(replace(request, **changes), TODAY, REFERENCE)


def codes(violations: list[Violation]) -> list[str]:
    return [violation.code for violation in violations]


def born(years_ago: int, days_later: int = 0) -> date:
    """A birth date `years_ago` years before TODAY, moved `days_later` days on."""
    return date(TODAY.year - years_ago, TODAY.month, TODAY.day) + timedelta(days=days_later)


def citizen_born(birth: date) -> Person:
    """A citizen with the document of their age: a passport from the 14th birthday, else a birth certificate."""
    fourteenth = date(birth.year + 14, birth.month, birth.day)
    if fourteenth <= TODAY:
        return replace(ANNA, birth_date=birth, identity_document=replace(ANNA.identity_document, issue_date=fourteenth))
    return replace(ANNA, birth_date=birth, identity_document=replace(BIRTH_CERTIFICATE, issue_date=birth))


# --- new application -----------------------------------------------------------------------------------------


def test_accepts_an_adult_applying_for_herself() -> None:
    assert apply() == []


def test_refuses_a_child_under_14_applying_without_a_representative() -> None:
    assert apply(person=CHILD) == [Violation("REPRESENTATIVE_REQUIRED", "relation")]


@pytest.mark.parametrize("age", [14, 15, 17])
def test_minor_aged_14_to_17_applies_through_a_legal_representative(age: int) -> None:
    assert apply(person=citizen_born(born(age))) == [Violation("REPRESENTATIVE_REQUIRED", "relation")]
    assert apply(relation=Relation.CHILD, person=citizen_born(born(age))) == []
    assert apply(relation=Relation.WARD, person=citizen_born(born(age))) == []


def test_applies_alone_from_the_18th_birthday() -> None:
    assert apply(person=citizen_born(born(18))) == []
    assert codes(apply(person=citizen_born(born(18, days_later=1)))) == ["REPRESENTATIVE_REQUIRED"]


def test_refuses_a_child_the_day_before_the_14th_birthday_applying_alone() -> None:
    assert codes(apply(person=citizen_born(born(14, days_later=1)))) == ["REPRESENTATIVE_REQUIRED"]


def test_accepts_a_parent_applying_for_a_child() -> None:
    assert apply(relation=Relation.CHILD, person=CHILD) == []


def test_accepts_a_parent_applying_for_a_child_the_day_before_the_18th_birthday() -> None:
    assert apply(relation=Relation.CHILD, person=citizen_born(born(18, days_later=1))) == []


def test_refuses_an_adult_as_somebodys_child() -> None:
    assert apply(relation=Relation.CHILD, person=citizen_born(born(18))) == [
        Violation("FIELD_INVALID", "relation", (("rule", "child_under_18"),))
    ]


@pytest.mark.parametrize("relation", [Relation.CHILD, Relation.WARD])
def test_accepts_a_newborn_without_a_snils_from_a_representative(relation: Relation) -> None:
    newborn = replace(
        CHILD, birth_date=date(2026, 5, 1), snils=None, identity_document=replace(BIRTH_CERTIFICATE, issue_date=TODAY)
    )
    assert apply(relation=relation, person=newborn) == []


def test_refuses_an_unknown_region_once() -> None:
    assert apply(region_code="00") == [Violation("REGION_UNKNOWN", "region_code")]


def test_refuses_an_unknown_insurer() -> None:
    assert apply(insurer_code="77009") == [Violation("INSURER_UNKNOWN", "insurer_code")]


def test_refuses_an_insurer_of_another_region() -> None:
    assert apply(insurer_code="50001") == [Violation("INSURER_NOT_ADMITTED", "insurer_code", (("region_code", "77"),))]


def test_refuses_an_insurer_whose_admission_ended() -> None:
    assert codes(apply(insurer_code="77003", policy_form=PolicyForm.PAPER)) == ["INSURER_NOT_ADMITTED"]


def test_leaves_the_policy_form_to_the_insurer() -> None:
    assert apply(region_code="50", insurer_code="50001", policy_form=PolicyForm.PLASTIC) == []


def test_reports_every_broken_rule_of_an_application_at_once() -> None:
    person = replace(CHILD, snils="01024236800")
    assert [(v.code, v.field) for v in apply(person=person, region_code="99", insurer_code="50001")] == [
        ("SNILS_CHECKSUM", "person.snils"),
        ("REPRESENTATIVE_REQUIRED", "relation"),
        ("REGION_UNKNOWN", "region_code"),
    ]


# --- replacement ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [ReplacementReason.LOST, ReplacementReason.DAMAGED])
def test_accepts_a_duplicate_of_a_lost_or_damaged_policy(reason: ReplacementReason) -> None:
    assert replacement(reason) == []


def test_refuses_an_enp_with_a_wrong_check_digit() -> None:
    assert replacement(ReplacementReason.LOST, enp="7754900882000016") == [Violation("ENP_CHECKSUM", "enp")]


def test_accepts_a_change_of_name() -> None:
    changes = PersonChanges(last_name="Петрова")
    assert replacement(ReplacementReason.PERSONAL_DATA_CHANGE, person=changes) == []


def test_requires_the_changed_data_for_a_change_of_personal_data() -> None:
    assert replacement(ReplacementReason.PERSONAL_DATA_CHANGE) == [Violation("FIELD_REQUIRED", "person")]


def test_checks_the_changed_fields_with_the_rules_of_a_person() -> None:
    changes = PersonChanges(
        last_name="Петр0ва",
        birth_date=date(2030, 1, 1),
        snils="01024236800",
        identity_document=replace(ANNA.identity_document, series="45"),
    )
    assert [(v.code, v.field) for v in replacement(ReplacementReason.PERSONAL_DATA_CHANGE, person=changes)] == [
        ("NAME_CHARACTERS", "person.last_name"),
        ("BIRTH_DATE_IN_FUTURE", "person.birth_date"),
        ("SNILS_CHECKSUM", "person.snils"),
        ("DOCUMENT_SERIES_FORMAT", "person.identity_document.series"),
    ]


def test_checks_a_new_document_against_a_changed_birth_date() -> None:
    changes = PersonChanges(
        birth_date=date(2000, 1, 1), identity_document=replace(ANNA.identity_document, issue_date=date(2010, 1, 1))
    )
    assert codes(replacement(ReplacementReason.PERSONAL_DATA_CHANGE, person=changes)) == ["PASSPORT_UNDER_14"]


def test_accepts_a_change_of_insurer_within_the_region() -> None:
    assert replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77002") == []


def test_requires_the_new_insurer_for_a_change_of_insurer() -> None:
    assert replacement(ReplacementReason.INSURER_CHANGE) == [Violation("FIELD_REQUIRED", "insurer_code")]


def test_refuses_a_change_to_an_unknown_insurer() -> None:
    assert codes(replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77009")) == ["INSURER_UNKNOWN"]


def test_refuses_a_change_to_an_insurer_whose_admission_ended() -> None:
    violations = replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77003", policy_form=PolicyForm.PAPER)
    assert codes(violations) == ["INSURER_NOT_ADMITTED"]


def test_refuses_a_change_to_an_insurer_not_admitted_in_the_region_given() -> None:
    violations = replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77002", region_code="50")
    assert violations == [Violation("INSURER_NOT_ADMITTED", "insurer_code", (("region_code", "50"),))]


def test_accepts_a_move_to_another_region_with_an_insurer_there() -> None:
    assert replacement(ReplacementReason.RELOCATION, region_code="50", insurer_code="50001") == []


def test_requires_the_new_region_for_a_move() -> None:
    assert replacement(ReplacementReason.RELOCATION) == [Violation("FIELD_REQUIRED", "region_code")]


def test_refuses_a_move_to_an_unknown_region() -> None:
    assert replacement(ReplacementReason.RELOCATION, region_code="00") == [Violation("REGION_UNKNOWN", "region_code")]


def test_refuses_a_move_with_an_insurer_of_the_old_region() -> None:
    assert codes(replacement(ReplacementReason.RELOCATION, region_code="50", insurer_code="77001")) == [
        "INSURER_NOT_ADMITTED"
    ]


def test_leaves_the_new_insurers_policy_form_to_the_insurer() -> None:
    violations = replacement(
        ReplacementReason.RELOCATION, region_code="50", insurer_code="50001", policy_form=PolicyForm.PLASTIC
    )
    assert violations == []


def test_refuses_a_renewal_without_a_new_residence_document() -> None:
    assert replacement(ReplacementReason.EXPIRY_RENEWAL) == [Violation("REPLACEMENT_REASON_NOT_APPLICABLE", "reason")]


def test_accepts_a_renewal_with_a_new_residence_permit() -> None:
    changes = PersonChanges(residence_document=RESIDENCE_PERMIT)
    assert replacement(ReplacementReason.EXPIRY_RENEWAL, person=changes) == []


def test_accepts_a_renewal_with_a_new_refugee_certificate() -> None:
    certificate = Document(DT.REFUGEE_CERTIFICATE, "0012345", date(2026, 1, 10), expiry_date=date(2029, 1, 9))
    changes = PersonChanges(identity_document=certificate)
    assert replacement(ReplacementReason.EXPIRY_RENEWAL, person=changes) == []


def test_refuses_a_renewal_with_a_residence_permit_already_expired() -> None:
    changes = PersonChanges(residence_document=replace(RESIDENCE_PERMIT, expiry_date=date(2026, 6, 1)))
    assert [(v.code, v.field) for v in replacement(ReplacementReason.EXPIRY_RENEWAL, person=changes)] == [
        ("RESIDENCE_DOCUMENT_EXPIRED", "person.residence_document.expiry_date")
    ]


def test_reports_every_broken_rule_of_a_replacement_at_once() -> None:
    violations = replacement(ReplacementReason.RELOCATION, enp="123", insurer_code="77009")
    assert codes(violations) == ["ENP_FORMAT", "FIELD_REQUIRED", "INSURER_UNKNOWN"]


def test_refuses_an_application_for_a_child_without_a_representative() -> None:
    assert apply(relation=Relation.CHILD, person=CHILD, representative=None) == [
        Violation("REPRESENTATIVE_REQUIRED", "representative")
    ]


def test_refuses_a_representative_for_oneself() -> None:
    assert codes(apply(representative=PARENT)) == ["FIELD_INVALID"]


@pytest.mark.parametrize(
    ("relation", "representative"),
    [(Relation.CHILD, ATTORNEY), (Relation.WARD, PARENT), (Relation.SPOUSE, PARENT), (Relation.SPOUSE, GUARDIAN)],
)
def test_refuses_an_authority_that_does_not_fit_the_relation(
    relation: Relation, representative: Representative
) -> None:
    person = CHILD if relation is Relation.CHILD else replace(ANNA, first_name="Мария")
    violations = apply(relation=relation, person=person, representative=representative)
    assert [(v.code, v.field) for v in violations] == [
        ("REPRESENTATIVE_AUTHORITY_INVALID", "representative.authority.type")
    ]


def test_accepts_a_spouse_by_power_of_attorney_and_a_ward_by_guardianship() -> None:
    assert apply(relation=Relation.SPOUSE, person=replace(ANNA, first_name="Мария")) == []
    assert apply(relation=Relation.WARD, person=replace(ANNA, first_name="Мария")) == []


def test_refuses_a_minor_representative_and_an_authority_without_number_or_date() -> None:
    minor = replace(GUARDIAN, birth_date=date(2010, 1, 1), authority=Authority(AuthorityType.GUARDIANSHIP_DECISION))
    minor = replace(minor, identity_document=Document(DT.PASSPORT_RF, "654321", date(2024, 2, 1), series="4520"))
    violations = apply(relation=Relation.WARD, person=replace(ANNA, first_name="Мария"), representative=minor)
    assert {(v.code, v.field) for v in violations} == {
        ("REPRESENTATIVE_NOT_ADULT", "representative.birth_date"),
        ("FIELD_REQUIRED", "representative.authority.number"),
        ("FIELD_REQUIRED", "representative.authority.issue_date"),
    }


def test_refuses_a_highly_qualified_specialist() -> None:
    specialist = replace(
        ANNA,
        citizenship="DEU",
        snils=None,
        category=InsuredCategory.HIGHLY_QUALIFIED_SPECIALIST,
        identity_document=Document(DT.FOREIGN_PASSPORT, "C01X00T47", date(2020, 1, 1)),
        residence_document=RESIDENCE_PERMIT,
    )
    assert apply(person=specialist) == [Violation("HIGHLY_QUALIFIED_SPECIALIST", "person.category")]


def test_accepts_an_eaeu_worker_on_a_labour_contract_and_refuses_others_on_one() -> None:
    contract = Document(DT.LABOUR_CONTRACT_EAEU, "15/2026", date(2026, 2, 1), expiry_date=date(2027, 1, 31))
    worker = replace(
        ANNA,
        citizenship="KGZ",
        snils=None,
        category=InsuredCategory.EAEU_WORKER,
        identity_document=Document(DT.FOREIGN_PASSPORT, "AC1234567", date(2019, 5, 1)),
        residence_document=contract,
    )
    assert apply(person=worker) == []
    uzbek = replace(worker, citizenship="UZB", category=None)
    assert [(v.code, v.field) for v in apply(person=uzbek)] == [
        ("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "person.residence_document.type")
    ]
    assert codes(apply(person=replace(uzbek, category=InsuredCategory.EAEU_WORKER))) == ["FIELD_INVALID"]


def test_accepts_an_asylum_seeker_with_a_temporary_asylum_certificate() -> None:
    asylum = Document(DT.TEMPORARY_ASYLUM_CERTIFICATE, "ВУ0012345", date(2026, 1, 20), expiry_date=date(2027, 1, 19))
    person = replace(ANNA, citizenship="AFG", snils=None, identity_document=asylum, category=InsuredCategory.REFUGEE)
    assert apply(person=person) == []


def test_refuses_a_stated_category_that_contradicts_citizenship() -> None:
    assert codes(apply(person=replace(ANNA, category=InsuredCategory.FOREIGNER_PERMANENT))) == ["FIELD_INVALID"]


def test_accepts_a_temporary_identity_card_for_a_citizen() -> None:
    card = Document(DT.TEMPORARY_IDENTITY_CARD_RF, "7701-123456", date(2026, 5, 20), issuer="МВД")
    assert apply(person=replace(ANNA, identity_document=card)) == []


def test_foreign_passport_past_its_expiry_date_is_refused() -> None:
    passport = Document(DT.FOREIGN_PASSPORT, "FA1234567", date(2016, 4, 2), expiry_date=date(2026, 4, 1))
    foreigner = replace(ANNA, citizenship="UZB", snils=None, identity_document=passport,
                        residence_document=RESIDENCE_PERMIT)  # fmt: skip
    assert apply(person=foreigner) == [
        Violation("DOCUMENT_EXPIRED", "person.identity_document.expiry_date", (("expiry_date", "2026-04-01"),))
    ]
    assert apply(person=replace(foreigner, identity_document=replace(passport, expiry_date=TODAY))) == []


@pytest.mark.parametrize(
    ("category", "permit"),
    [
        (InsuredCategory.FOREIGNER_PERMANENT, DT.TEMPORARY_RESIDENCE_PERMIT),
        (InsuredCategory.FOREIGNER_TEMPORARY, DT.RESIDENCE_PERMIT),
        (InsuredCategory.EAEU_WORKER, DT.RESIDENCE_PERMIT),
    ],
)
def test_stated_category_must_be_the_one_the_stay_document_gives(category: InsuredCategory, permit: DT) -> None:
    passport = Document(DT.FOREIGN_PASSPORT, "AC1234567", date(2019, 5, 1))
    foreigner = replace(ANNA, citizenship="KGZ", snils=None, identity_document=passport, category=category,
                        residence_document=replace(RESIDENCE_PERMIT, type=permit))  # fmt: skip
    assert apply(person=foreigner) == [
        Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "person.residence_document.type", (("category", category),))
    ]


def test_stateless_persons_stated_category_is_checked_against_the_permit_they_identify_with() -> None:
    stateless = replace(ANNA, citizenship="stateless", snils=None, identity_document=RESIDENCE_PERMIT)
    assert apply(person=replace(stateless, category=InsuredCategory.STATELESS_PERMANENT)) == []
    assert apply(person=replace(stateless, category=InsuredCategory.STATELESS_TEMPORARY)) == [
        Violation(
            "DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "person.identity_document.type", (("category", "stateless_temporary"),)
        )
    ]


def test_temporary_identity_card_is_a_document_from_14_like_the_passport() -> None:
    thirteen = citizen_born(born(13))
    card = Document(DT.TEMPORARY_IDENTITY_CARD_RF, "7701-123456", date(2026, 5, 20), issuer="МВД")
    rule = (("category", "citizen"), ("rule", "temporary_identity_card_from_14"))
    assert apply(relation=Relation.CHILD, person=replace(thirteen, identity_document=card)) == [
        Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "person.identity_document.type", rule)
    ]
    fifteen = citizen_born(born(15))
    issued_at_13 = replace(card, issue_date=born(2))
    assert apply(relation=Relation.CHILD, person=replace(fifteen, identity_document=issued_at_13)) == [
        Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", "person.identity_document.issue_date", rule)
    ]
    assert apply(relation=Relation.CHILD, person=replace(fifteen, identity_document=card)) == []
