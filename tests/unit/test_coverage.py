"""Coverage for clinics: who is covered today, under which programme, and what a clinic is told otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from gateway.catalogue import Catalogue
from gateway.domain.coverage import (
    NOT_COVERED_REASONS,
    CoverageQuery,
    Programme,
    assess,
    programme_in,
    query_violations,
)
from gateway.domain.model import Policy, PolicyStatus, Source
from gateway.domain.reference import load_reference
from gateway.domain.registry import RegistryPerson
from gateway.ports import BackendUnavailable
from gateway.usecases.coverage import CoverageContext, NotInRegistry, check_coverage
from gateway.usecases.errors import InputRejected, ServiceUnavailable
from tests.support.fakes import FakeFund, unavailable
from tests.support.persons import ANNA, ENP, SNILS, active_policy

POLICY = active_policy()

CATALOGUE = Catalogue.load()
REGIONS = load_reference().regions


@dataclass
class RecordingFund(FakeFund):
    """The fake fund, remembering the message id of every read a check makes."""

    message_ids: list[str] = field(default_factory=list)
    no_enp_for_snils: bool = False

    def find_person_by_snils(self, message_id: str, snils: str) -> RegistryPerson | None:
        self.message_ids.append(message_id)
        found = super().find_person_by_snils(message_id, snils)
        return replace(found, enp=None) if found is not None and self.no_enp_for_snils else found

    def insurance_status(self, message_id: str, enp: str) -> Policy:
        self.message_ids.append(message_id)
        return super().insurance_status(message_id, enp)


def fund_with(policy: Policy | None = POLICY) -> RecordingFund:
    fund = RecordingFund()
    fund.persons[ENP] = (ANNA, policy)
    return fund


def context(fund: FakeFund) -> CoverageContext:
    counter = iter(range(1, 1000))
    return CoverageContext(fund, CATALOGUE, REGIONS, lambda: f"rd_{next(counter)}")


def codes(error: InputRejected) -> list[tuple[str, str | None]]:
    return [(reason.code, reason.field) for reason in error.reasons]


# --- the rules -----------------------------------------------------------------------------------------------


def test_a_clinic_in_the_policys_region_works_under_the_territorial_programme() -> None:
    assert programme_in("77", "77") is Programme.TERRITORIAL


def test_a_clinic_in_another_region_works_under_the_basic_programme() -> None:
    assert programme_in("77", "50") is Programme.BASIC


def test_an_active_policy_covers_its_holder_with_no_reason() -> None:
    coverage = assess(POLICY, "50")
    assert (coverage.covered, coverage.programme, coverage.reason_code) == (True, Programme.BASIC, None)
    assert coverage.clinic_region_code == "50"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (PolicyStatus.EXPIRED, "POLICY_EXPIRED"),
        (PolicyStatus.ANNULLED, "POLICY_ANNULLED"),
        (PolicyStatus.SUSPENDED, "POLICY_SUSPENDED"),
        (PolicyStatus.PENDING, "POLICY_PENDING"),
    ],
)
def test_a_policy_that_is_not_active_covers_no_one_and_says_why(status: PolicyStatus, code: str) -> None:
    coverage = assess(replace(POLICY, status=status), "77")
    assert (coverage.covered, coverage.programme, coverage.reason_code) == (False, None, code)


def test_every_status_but_active_has_a_reason_in_the_catalogue() -> None:
    assert set(NOT_COVERED_REASONS) == set(PolicyStatus) - {PolicyStatus.ACTIVE}
    assert all(code in CATALOGUE for code in NOT_COVERED_REASONS.values())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (CoverageQuery("77"), [("COVERAGE_IDENTIFIER_REQUIRED", None)]),
        (CoverageQuery("77", enp=ENP, snils=SNILS), [("COVERAGE_IDENTIFIER_REQUIRED", None)]),
        (CoverageQuery("77", enp="7754900882000016"), [("ENP_CHECKSUM", "enp")]),
        (CoverageQuery("77", enp="77549008"), [("ENP_FORMAT", "enp")]),
        (CoverageQuery("77", snils="11223344500"), [("SNILS_CHECKSUM", "snils")]),
        (CoverageQuery("77", snils="1122"), [("SNILS_FORMAT", "snils")]),
        (CoverageQuery("", enp=ENP), [("FIELD_REQUIRED", "region_code")]),
        (CoverageQuery("99", enp=ENP), [("REGION_UNKNOWN", "region_code")]),
        (CoverageQuery("7", enp=ENP), [("REGION_UNKNOWN", "region_code")]),
        (CoverageQuery("x", enp="1"), [("ENP_FORMAT", "enp"), ("REGION_UNKNOWN", "region_code")]),
    ],
)
def test_a_query_is_checked_whole_before_anyone_is_asked(
    query: CoverageQuery, expected: list[tuple[str, str | None]]
) -> None:
    assert [(v.code, v.field) for v in query_violations(query, REGIONS)] == expected


def test_a_query_with_both_identifiers_says_so_in_the_details() -> None:
    (violation,) = query_violations(CoverageQuery("77", enp=ENP, snils=SNILS), REGIONS)
    assert dict(violation.details) == {"given": "both"}


def test_a_query_takes_the_snils_as_the_api_normalised_it() -> None:
    # The API turns "112-233-445 95" into digits (tests/api/test_coverage_api.py); the rule checks what it is given.
    assert query_violations(CoverageQuery("77", snils="11223344595"), REGIONS) == []
    assert query_violations(CoverageQuery("77", snils="112-233-445 95"), REGIONS)[0].code == "SNILS_FORMAT"


# --- the use case --------------------------------------------------------------------------------------------


def test_a_check_by_enp_asks_the_fund_for_todays_status() -> None:
    fund = fund_with()
    coverage = check_coverage(CoverageQuery("77", enp=ENP), context(fund))
    assert (coverage.covered, coverage.programme, coverage.policy.insurer_code) == (
        True,
        Programme.TERRITORIAL,
        "77001",
    )
    assert fund.calls == ["insurance_status"]


def test_a_check_by_snils_finds_the_enp_then_its_status_each_read_with_its_own_message_id() -> None:
    fund = fund_with()
    coverage = check_coverage(CoverageQuery("50", snils="11223344595"), context(fund))
    assert coverage.policy.enp == ENP
    assert coverage.programme is Programme.BASIC
    assert (fund.calls[0], fund.calls[-1]) == ("find_person_by_snils", "insurance_status")
    assert fund.message_ids == ["rd_1", "rd_2"]


def test_an_invalid_query_never_reaches_the_fund() -> None:
    fund = fund_with()
    with pytest.raises(InputRejected) as rejected:
        check_coverage(CoverageQuery("77", enp="7754900882000016"), context(fund))
    assert codes(rejected.value) == [("ENP_CHECKSUM", "enp")]
    assert fund.calls == []


def test_an_unknown_enp_is_not_in_the_registry_with_the_funds_reason() -> None:
    with pytest.raises(NotInRegistry) as missing:
        check_coverage(CoverageQuery("77", enp="7748410819000012"), context(fund_with()))
    reason = missing.value.reason
    assert (reason.code, reason.field, reason.source) == ("ENP_NOT_FOUND", "enp", Source.FUND)


def test_an_unknown_snils_is_not_in_the_registry() -> None:
    with pytest.raises(NotInRegistry) as missing:
        check_coverage(CoverageQuery("77", snils="01024236877"), context(fund_with()))
    assert (missing.value.reason.code, missing.value.reason.field) == ("SNILS_NOT_FOUND", "snils")


@pytest.mark.parametrize("no_enp", [False, True])
def test_a_person_known_by_snils_without_a_policy_is_not_in_the_registry(no_enp: bool) -> None:
    fund = fund_with(policy=None)
    fund.no_enp_for_snils = no_enp
    with pytest.raises(NotInRegistry) as missing:
        check_coverage(CoverageQuery("77", snils=SNILS), context(fund))
    assert missing.value.reason.code == "SNILS_NOT_FOUND"


@pytest.mark.parametrize("operation", ["insurance_status", "find_person_by_snils"])
def test_a_fund_outage_is_service_unavailable_never_a_refusal(operation: str) -> None:
    fund = fund_with()
    fund.fail(operation, unavailable(Source.FUND, operation))
    with pytest.raises(ServiceUnavailable) as outage:
        check_coverage(CoverageQuery("77", snils=SNILS), context(fund))
    assert outage.value.retry_after == 30


def test_the_funds_own_retry_after_is_passed_on() -> None:
    fund = fund_with()
    fund.fail("insurance_status", BackendUnavailable(Source.FUND, "GetInsuranceStatus", "busy", retry_after=7))
    with pytest.raises(ServiceUnavailable) as outage:
        check_coverage(CoverageQuery("77", enp=ENP), context(fund))
    assert outage.value.retry_after == 7
