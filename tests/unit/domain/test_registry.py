"""The registry's decisions, without a back-end: what a fund's answer makes of an application."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from gateway.domain.applications import Application, Owner
from gateway.domain.model import (
    NewPolicyRequest,
    PersonChanges,
    Policy,
    PolicyForm,
    PolicyStatus,
    RegistryApplicationType,
    RegistryReason,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Source,
    Violation,
)
from gateway.domain.reference import load_reference
from gateway.domain.registry import (
    ALREADY_INSURED,
    ENP_UNKNOWN,
    REPLACEMENT_TYPES,
    Proceed,
    Refusal,
    RegistryPerson,
    Verification,
    choice_reason,
    forced_reason,
    insured_with,
    insurer_application,
    issues_anew,
    new_policy_decision,
    registration,
    registry_of,
    replacement_decision,
)
from tests.support.persons import ANNA, ENP, active_policy

Type, Reason = RegistryApplicationType, RegistryReason
TODAY = date(2026, 3, 2)
REFERENCE = load_reference()
MOSCOW_POLICY = active_policy(region_code="77", insurer_code="77001")
ENDED_POLICY = active_policy(region_code="77", insurer_code="77003")  # its contract ended on 31 December 2024
EXPIRED = replace(MOSCOW_POLICY, status=PolicyStatus.EXPIRED)
RECORD = RegistryPerson(replace(ANNA, birth_place=None, inn=None), enp=ENP, policy=MOSCOW_POLICY)


def new_request(insurer_code: str = "77002", region_code: str = "77") -> NewPolicyRequest:
    return NewPolicyRequest(Relation.SELF, ANNA, region_code, insurer_code, PolicyForm.ELECTRONIC)


def replacement(reason: ReplacementReason, **changes: object) -> ReplacementRequest:
    return replace(ReplacementRequest(ENP, reason, PolicyForm.PLASTIC), **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (ReplacementReason.PERSONAL_DATA_CHANGE, (Type.REISSUE, Reason.PERSONAL_DATA_CHANGE)),
        (ReplacementReason.EXPIRY_RENEWAL, (Type.REISSUE, Reason.EXPIRY_RENEWAL)),
        (ReplacementReason.LOST, (Type.DUPLICATE, Reason.LOSS)),
        (ReplacementReason.DAMAGED, (Type.DUPLICATE, Reason.WEAR)),
        (ReplacementReason.RELOCATION, (Type.INSURER_CHOICE, Reason.RELOCATION)),
        (ReplacementReason.INSURER_CHANGE, (Type.INSURER_CHOICE, Reason.OWN_WISH)),
    ],
)
def test_every_replacement_reason_is_one_application_type_and_reason_of_the_registry(
    reason: ReplacementReason, expected: tuple[RegistryApplicationType, RegistryReason]
) -> None:
    assert REPLACEMENT_TYPES[reason] == expected


def test_the_replacement_table_covers_every_replacement_reason() -> None:
    assert set(REPLACEMENT_TYPES) == set(ReplacementReason)


@pytest.mark.parametrize(
    ("insurer_code", "region_code", "expected"),
    [
        ("77001", None, True),
        ("77002", None, False),
        ("77001", "77", True),
        ("77001", "50", False),
    ],
)
def test_insured_with_the_insurer_and_in_the_region_only_when_both_match(
    insurer_code: str, region_code: str | None, expected: bool
) -> None:
    assert insured_with(MOSCOW_POLICY, insurer_code, region_code) is expected


@pytest.mark.parametrize(
    ("current", "region_code", "expected"),
    [
        (None, "77", Reason.FIRST_CHOICE),
        (EXPIRED, "77", Reason.FIRST_CHOICE),
        (MOSCOW_POLICY, "77", Reason.OWN_WISH),
        (MOSCOW_POLICY, "50", Reason.RELOCATION),
    ],
)
def test_a_choice_of_insurer_is_a_first_one_a_relocation_or_by_wish(
    current: Policy | None, region_code: str, expected: RegistryReason
) -> None:
    assert choice_reason(current, region_code) is expected


@pytest.mark.parametrize(
    ("reason", "ended", "expected"),
    [
        (Reason.OWN_WISH, True, Reason.INSURER_CONTRACT_ENDED),
        (Reason.OWN_WISH, False, Reason.OWN_WISH),
        (Reason.RELOCATION, True, Reason.RELOCATION),
        (Reason.FIRST_CHOICE, True, Reason.FIRST_CHOICE),
    ],
)
def test_only_a_change_by_wish_becomes_one_forced_by_the_end_of_a_contract(
    reason: RegistryReason, ended: bool, expected: RegistryReason
) -> None:
    assert forced_reason(reason, ended) is expected


@pytest.mark.parametrize(
    ("verification", "request_", "expected"),
    [
        (Verification(known=False), new_request(), (Reason.FIRST_CHOICE, None)),
        (Verification(True, ENP, None), new_request(), (Reason.FIRST_CHOICE, ENP)),
        (Verification(True, ENP, EXPIRED), new_request("77001"), (Reason.FIRST_CHOICE, ENP)),
        (Verification(True, ENP, MOSCOW_POLICY), new_request("77002"), (Reason.OWN_WISH, ENP)),
        (Verification(True, ENP, MOSCOW_POLICY), new_request("50001", "50"), (Reason.RELOCATION, ENP)),
        (Verification(True, ENP, MOSCOW_POLICY), new_request("77001"), ALREADY_INSURED),
        (Verification(True, ENP, MOSCOW_POLICY), new_request("77001", "50"), ALREADY_INSURED),
    ],
)
def test_what_the_funds_check_makes_of_a_new_policy_application(
    verification: Verification, request_: NewPolicyRequest, expected: tuple[RegistryReason, str | None] | Refusal
) -> None:
    decision = new_policy_decision(request_, verification)

    if isinstance(expected, Refusal):
        assert decision == expected
        return
    reason, enp = expected
    assert decision == Proceed(
        Type.INSURER_CHOICE, reason, request_.insurer_code, request_.region_code, request_.person, enp
    )


def test_an_already_insured_applicant_is_refused_by_the_fund_on_the_insurer_code() -> None:
    assert Refusal((Violation("ALREADY_INSURED_SAME_INSURER", "insurer_code"),), Source.FUND) == ALREADY_INSURED


@pytest.mark.parametrize(
    ("request_", "record", "on", "expected"),
    [
        (replacement(ReplacementReason.LOST), None, TODAY, ENP_UNKNOWN),
        (replacement(ReplacementReason.LOST), replace(RECORD, policy=None), TODAY, ENP_UNKNOWN),
        (replacement(ReplacementReason.LOST), RECORD, TODAY, (Type.DUPLICATE, Reason.LOSS, "77001", "77")),
        (
            replacement(ReplacementReason.PERSONAL_DATA_CHANGE, person=PersonChanges(last_name="Петрова")),
            RECORD,
            TODAY,
            (Type.REISSUE, Reason.PERSONAL_DATA_CHANGE, "77001", "77"),
        ),
        (
            replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77002"),
            RECORD,
            TODAY,
            (Type.INSURER_CHOICE, Reason.OWN_WISH, "77002", "77"),
        ),
        (
            replacement(ReplacementReason.RELOCATION, insurer_code="50001", region_code="50"),
            RECORD,
            TODAY,
            (Type.INSURER_CHOICE, Reason.RELOCATION, "50001", "50"),
        ),
        (replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77001"), RECORD, TODAY, ALREADY_INSURED),
        (replacement(ReplacementReason.INSURER_CHANGE), RECORD, TODAY, ALREADY_INSURED),
        (
            replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77002"),
            replace(RECORD, policy=ENDED_POLICY),
            date(2025, 1, 1),
            (Type.INSURER_CHOICE, Reason.INSURER_CONTRACT_ENDED, "77002", "77"),
        ),
        (
            replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77002"),
            replace(RECORD, policy=ENDED_POLICY),
            date(2024, 12, 31),
            (Type.INSURER_CHOICE, Reason.OWN_WISH, "77002", "77"),
        ),
    ],
)
def test_what_the_registrys_record_makes_of_a_replacement(
    request_: ReplacementRequest,
    record: RegistryPerson | None,
    on: date,
    expected: tuple[RegistryApplicationType, RegistryReason, str, str] | Refusal,
) -> None:
    decision = replacement_decision(request_, record, on, TODAY, REFERENCE)

    if isinstance(expected, Refusal):
        assert decision == expected
        return
    assert isinstance(decision, Proceed)
    assert (decision.type, decision.reason, decision.insurer_code, decision.region_code) == expected
    assert decision.enp == ENP


def test_a_replacement_sends_the_recorded_person_with_the_stated_changes() -> None:
    changes = PersonChanges(last_name="Петрова")
    decision = replacement_decision(
        replacement(ReplacementReason.PERSONAL_DATA_CHANGE, person=changes), RECORD, TODAY, TODAY, REFERENCE
    )

    assert isinstance(decision, Proceed)
    assert decision.person == replace(RECORD.person, last_name="Петрова")


def test_a_replacement_whose_changes_break_the_gateways_rules_is_refused_by_the_gateway() -> None:
    changes = PersonChanges(birth_date=date(2030, 1, 1))
    decision = replacement_decision(
        replacement(ReplacementReason.PERSONAL_DATA_CHANGE, person=changes), RECORD, TODAY, TODAY, REFERENCE
    )

    assert isinstance(decision, Refusal)
    assert decision.source is Source.GATEWAY
    assert "person.birth_date" in {violation.field for violation in decision.violations}


def test_without_a_reference_no_contract_is_known_to_have_ended() -> None:
    request_ = replacement(ReplacementReason.INSURER_CHANGE, insurer_code="77002")
    decision = replacement_decision(request_, replace(RECORD, policy=ENDED_POLICY), date(2025, 1, 1), TODAY, None)

    assert isinstance(decision, Proceed)
    assert decision.reason is Reason.OWN_WISH


@pytest.mark.parametrize(
    ("registry_type", "anew"),
    [(Type.INSURER_CHOICE, True), (Type.REISSUE, False), (Type.DUPLICATE, False), (Type.DATA_CHANGE, False)],
)
def test_an_insurer_issues_on_a_choice_and_replaces_otherwise(
    registry_type: RegistryApplicationType, anew: bool
) -> None:
    assert issues_anew(registry_type) is anew


def verified(request_: NewPolicyRequest | ReplacementRequest, created_at: datetime) -> Application:
    application = Application.accept("app_1", Owner("user-1", "11223344595"), request_, created_at)
    return application.with_progress(
        enp=ENP,
        registry_type=Type.DUPLICATE,
        registry_reason=Reason.LOSS,
        insurer_code="77001",
        region_code="77",
        person=ANNA,
        insurer_application_id="77001-1",
    )


def test_the_later_steps_ask_on_the_moscow_date_of_the_application() -> None:
    late_evening = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # already 2 March in Moscow
    application = verified(replacement(ReplacementReason.LOST), late_evening)

    asked, recorded = insurer_application(application), registration(application)

    assert asked.application_date == recorded.application_date == date(2026, 3, 2)
    assert (asked.type, asked.reason, asked.policy_form) == (Type.DUPLICATE, Reason.LOSS, PolicyForm.PLASTIC)
    assert (recorded.insurer_code, recorded.insurer_application_id) == ("77001", "77001-1")


def test_a_step_past_verify_without_its_registry_type_is_a_bug_not_a_refusal() -> None:
    application = Application.accept("app_1", Owner("user-1", None), new_request(), datetime(2026, 3, 2, tzinfo=UTC))

    with pytest.raises(RuntimeError, match="without its registry type"):
        registry_of(application)
