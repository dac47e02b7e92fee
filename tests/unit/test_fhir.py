"""The FHIR R4 resources of the gateway, checked against the R4 rules a test can check without a FHIR server.

`r4_problems` checks the elements these resources use (from the R4 resource definitions of
CoverageEligibilityResponse and OperationOutcome): required elements, cardinality, required value sets, the
primitive formats, ele-1 (no empty elements), ext-1, ces-1 and the references, and that no unknown element slips
in. It is tested itself, so that a green test means something.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from gateway import fhir
from gateway.catalogue import Catalogue, Entry
from gateway.domain.coverage import assess
from gateway.domain.model import Holder, Policy, PolicyStatus, Reason, Sex, Source, Violation
from tests.support.fhir import (
    r4_problems,
)

CATALOGUE = Catalogue.load()
CHECKED_AT = datetime(2026, 11, 24, 9, 30, 5, tzinfo=UTC)
POLICY = Policy(
    enp="7754900882000015",
    status=PolicyStatus.ACTIVE,
    insurer_code="77001",
    region_code="77",
    policy_form="electronic",
    valid_from=date(2020, 1, 1),
    holder=Holder("Иванова", "Анна", date(1990, 5, 17), Sex.FEMALE),
)
INSURER = "АО «Столичная медицинская страховая компания»"


def response(policy: Policy = POLICY, clinic_region: str = "77") -> dict[str, Any]:
    coverage = assess(policy, clinic_region)
    reason = None
    if coverage.reason_code is not None:
        found = CATALOGUE.reason(Violation(coverage.reason_code), Source.FUND)
        reason = (found, CATALOGUE.entry(found.code))
    return fhir.coverage_eligibility_response(coverage, INSURER, CHECKED_AT, "corr-1", reason)


# --- CoverageEligibilityResponse ---------------------------------------------------------------------------


def test_a_covered_person_is_a_valid_complete_validation_response() -> None:
    resource = response()
    assert r4_problems(resource) == []
    assert (resource["status"], resource["purpose"], resource["outcome"]) == ("active", ["validation"], "complete")
    assert resource["patient"] == {"identifier": {"system": fhir.ENP_SYSTEM, "value": POLICY.enp}}
    assert resource["insurer"]["identifier"] == {"system": fhir.INSURER_SYSTEM, "value": "77001"}
    assert resource["insurer"]["display"] == INSURER
    assert resource["created"] == "2026-11-24T09:30:05Z"
    assert resource["servicedDate"] == "2026-11-24"


def test_the_request_is_a_logical_reference_to_the_http_request_that_asked() -> None:
    assert response()["request"]["identifier"] == {"system": fhir.REQUEST_SYSTEM, "value": "corr-1"}


def test_the_insurance_is_in_force_under_the_territorial_programme_in_the_policys_region() -> None:
    (insurance,) = response()["insurance"]
    assert insurance["inforce"] is True
    assert insurance["coverage"]["identifier"]["value"] == POLICY.enp
    (item,) = insurance["item"]
    assert item["category"]["coding"] == [
        {"system": fhir.PROGRAMME_SYSTEM, "code": "territorial", "display": "Территориальная программа ОМС"}
    ]


def test_the_basic_programme_applies_in_another_region() -> None:
    resource = response(clinic_region="50")
    assert r4_problems(resource) == []
    assert resource["insurance"][0]["item"][0]["category"]["coding"][0]["code"] == "basic"


def test_a_policy_without_an_end_has_an_open_benefit_period() -> None:
    assert response()["insurance"][0]["benefitPeriod"] == {"start": "2020-01-01"}
    ending = replace(POLICY, valid_to=date(2026, 12, 31))
    assert response(ending)["insurance"][0]["benefitPeriod"] == {"start": "2020-01-01", "end": "2026-12-31"}


@pytest.mark.parametrize("status", [s for s in PolicyStatus if s is not PolicyStatus.ACTIVE])
def test_a_person_not_covered_is_a_complete_answer_not_in_force_with_the_reason(status: PolicyStatus) -> None:
    resource = response(replace(POLICY, status=status, valid_to=date(2025, 12, 31)))
    assert r4_problems(resource) == []
    assert resource["outcome"] == "complete"
    (insurance,) = resource["insurance"]
    assert insurance["inforce"] is False
    assert "item" not in insurance
    coding = insurance["extension"][0]["valueCoding"]
    assert coding["system"] == fhir.REASON_SYSTEM
    assert resource["disposition"] == CATALOGUE.entry(coding["code"]).message


def test_an_insurer_missing_from_the_reference_data_is_still_identified() -> None:
    coverage = assess(POLICY, "77")
    resource = fhir.coverage_eligibility_response(coverage, None, CHECKED_AT, "corr-1")
    assert r4_problems(resource) == []
    assert resource["insurer"] == {"identifier": {"system": fhir.INSURER_SYSTEM, "value": "77001"}}


# --- OperationOutcome ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", CATALOGUE.entries(), ids=lambda entry: entry.code)
def test_every_catalogue_reason_is_a_valid_issue_with_the_catalogues_severity_and_type(entry: Entry) -> None:
    reason = CATALOGUE.reason(Violation(entry.code, "enp"))
    outcome = fhir.catalogue_outcome((reason,), {entry.code: entry})
    assert r4_problems(outcome) == []
    (issue,) = outcome["issue"]
    assert (issue["severity"], issue["code"]) == (entry.severity, entry.fhir_issue_type)
    assert issue["details"]["coding"][0]["code"] == entry.code
    texts = fhir.CLINIC_TEXTS.get(entry.code, (entry.message, entry.recommendation))
    assert (issue["details"]["text"], issue["diagnostics"]) == texts


def test_an_outage_tells_the_clinic_to_retry_not_that_an_application_was_saved() -> None:
    reason = CATALOGUE.reason(Violation("TECHNICAL_ERROR"))
    issue = fhir.reason_issue(reason, CATALOGUE.entry(reason.code))
    assert "заявление" in reason.message, "the catalogue speaks to a citizen"
    assert "заявлени" not in issue["details"]["text"] + issue["diagnostics"]
    assert issue["details"]["text"].startswith("Фонд ОМС временно не отвечает")
    assert "Retry-After" in issue["diagnostics"]


def test_the_field_of_a_reason_is_the_http_parameter_path() -> None:
    reason = CATALOGUE.reason(Violation("REGION_UNKNOWN", "region_code"))
    issue = fhir.reason_issue(reason, CATALOGUE.entry(reason.code))
    assert issue["expression"] == issue["location"] == ["http.region_code"]


def test_a_reason_without_a_field_has_no_path() -> None:
    reason = Reason("COVERAGE_IDENTIFIER_REQUIRED", Source.GATEWAY, "m", "r")
    issue = fhir.reason_issue(reason, CATALOGUE.entry(reason.code))
    assert "expression" not in issue
    assert "location" not in issue


def test_several_reasons_are_several_issues_of_one_outcome() -> None:
    reasons = (
        CATALOGUE.reason(Violation("ENP_CHECKSUM", "enp")),
        CATALOGUE.reason(Violation("REGION_UNKNOWN", "region_code")),
    )
    outcome = fhir.catalogue_outcome(reasons, {r.code: CATALOGUE.entry(r.code) for r in reasons})
    assert r4_problems(outcome) == []
    assert [issue["expression"] for issue in outcome["issue"]] == [["http.enp"], ["http.region_code"]]


def test_an_issue_without_a_catalogue_reason_is_valid_too() -> None:
    assert r4_problems(fhir.operation_outcome([fhir.plain_issue("error", "transient", "Повторите позже.")])) == []


def test_an_outcome_needs_an_issue() -> None:
    with pytest.raises(ValueError, match="at least one issue"):
        fhir.operation_outcome([])


def test_the_narrative_escapes_what_would_break_the_xhtml() -> None:
    outcome = fhir.operation_outcome([fhir.plain_issue("error", "exception", "a < b & c")])
    assert r4_problems(outcome) == []
    assert "a &lt; b &amp; c" in outcome["text"]["div"]


# --- the checker finds what it is there to find ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda r: r.pop("request"), "CoverageEligibilityResponse.request: required"),
        (lambda r: r.update(outcome="done"), "CoverageEligibilityResponse.outcome: 'done' is not in"),
        (lambda r: r.update(status="final"), "CoverageEligibilityResponse.status: 'final' is not in"),
        (lambda r: r.update(purpose=[]), "CoverageEligibilityResponse.purpose: 1..* codes"),
        (lambda r: r.update(created="24.11.2026"), "CoverageEligibilityResponse.created: '24.11.2026'"),
        (lambda r: r.update(disposition=""), "CoverageEligibilityResponse.disposition: empty element"),
        (lambda r: r["insurance"][0].update(inForce=True), "insurance[0].inForce: not an element"),
        (lambda r: r["insurance"][0]["item"][0].update(productOrService={"text": "x"}), "ces-1"),
        (lambda r: r.update(request={"reference": "#nowhere"}), "ref-1"),
        (lambda r: r["text"].update(div="<p>no div</p>"), "txt-1"),
    ],
)
def test_the_checker_catches_a_broken_response(spoil: Any, expected: str) -> None:
    resource = response()
    spoil(resource)
    assert any(expected in problem for problem in r4_problems(resource)), r4_problems(resource)


def test_the_checker_catches_a_broken_outcome() -> None:
    outcome = fhir.operation_outcome([fhir.plain_issue("fatal", "exception", "x")])
    outcome["issue"][0].update(severity="critical", code="oops")
    problems = r4_problems(outcome)
    assert any("severity: 'critical'" in problem for problem in problems)
    assert any("code: 'oops'" in problem for problem in problems)
