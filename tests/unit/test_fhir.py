"""The FHIR R4 resources of the gateway, checked against the R4 rules a test can check without a FHIR server.

`r4_problems` checks the elements these resources use (from the R4 resource definitions of
CoverageEligibilityResponse and OperationOutcome): required elements, cardinality, required value sets, the
primitive formats, ele-1 (no empty elements), ext-1, ces-1 and the references, and that no unknown element slips
in. It is tested itself, so that a green test means something.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from gateway import fhir
from gateway.catalogue import Catalogue, Entry
from gateway.domain.coverage import assess
from gateway.domain.model import Holder, Policy, PolicyStatus, Reason, Sex, Source, Violation
from tests.contract.test_catalogue import FHIR_R4_ISSUE_TYPES

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

# --- R4 value sets (required bindings) -----------------------------------------------------------------------
FINANCIAL_RESOURCE_STATUS = {"active", "cancelled", "draft", "entered-in-error"}
ELIGIBILITY_RESPONSE_PURPOSE = {"auth-requirements", "benefits", "discovery", "validation"}
REMITTANCE_OUTCOME = {"queued", "complete", "error", "partial"}
ISSUE_SEVERITY = {"fatal", "error", "warning", "information"}
NARRATIVE_STATUS = {"generated", "extensions", "additional", "empty"}

# --- R4 primitive formats (the regular expressions of the specification) -------------------------------------
DATE = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"
)
DATE_TIME = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)
CODE = re.compile(r"[^\s]+(\s[^\s]+)*")
URI = re.compile(r"\S+")
ABSOLUTE_URI = re.compile(r"(https?|urn):\S+")

# Elements each (data) type may have here: anything else is a typo or an element R4 does not have.
ELEMENTS = {
    "CoverageEligibilityResponse": {
        "resourceType", "id", "meta", "text", "contained", "extension", "identifier", "status", "purpose", "patient",
        "servicedDate", "servicedPeriod", "created", "requestor", "request", "outcome", "disposition", "insurer",
        "insurance", "preAuthRef", "form", "error",
    },
    "insurance": {"extension", "coverage", "inforce", "benefitPeriod", "item"},
    "item": {
        "extension", "category", "productOrService", "modifier", "provider", "excluded", "name", "description",
        "network", "unit", "term", "benefit", "authorizationRequired", "authorizationSupporting",
        "authorizationUrl",
    },
    "OperationOutcome": {"resourceType", "id", "meta", "text", "extension", "issue"},
    "issue": {"extension", "severity", "code", "details", "diagnostics", "location", "expression"},
    "Reference": {"reference", "type", "identifier", "display"},
    "Identifier": {"use", "type", "system", "value", "period", "assigner"},
    "CodeableConcept": {"coding", "text"},
    "Coding": {"system", "version", "code", "display", "userSelected"},
    "Period": {"start", "end"},
    "Narrative": {"status", "div"},
    "Extension": {"url", "valueCoding", "valueString", "valueCode", "valueBoolean"},
}  # fmt: skip


class Checker:
    """Collects every rule a resource breaks, each with the path where it breaks it."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, text: str) -> None:
        self.problems.append(f"{path}: {text}")

    def known(self, value: dict[str, Any], kind: str, path: str) -> None:
        for name in sorted(set(value) - ELEMENTS[kind]):
            self.fail(f"{path}.{name}", f"not an element of {kind}")

    def required(self, value: dict[str, Any], names: tuple[str, ...], path: str) -> None:
        for name in names:
            if name not in value:
                self.fail(f"{path}.{name}", "required (1..1 or 1..*) but missing")

    def matches(self, value: Any, pattern: re.Pattern[str], path: str) -> None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.fail(path, f"{value!r} is not a valid {pattern.pattern[:20]}…")

    def in_value_set(self, value: Any, allowed: set[str] | frozenset[str], path: str) -> None:
        if value not in allowed:
            self.fail(path, f"{value!r} is not in the required value set")

    def not_empty(self, value: Any, path: str) -> None:
        """ele-1: every element has a value or children; JSON has no nulls, empty strings, objects or arrays."""
        if value is None or value in ("", [], {}):
            self.fail(path, "empty element (ele-1)")
        elif isinstance(value, dict):
            for name, child in value.items():
                self.not_empty(child, f"{path}.{name}")
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self.not_empty(child, f"{path}[{index}]")

    # --- data types ---

    def reference(self, value: dict[str, Any], path: str, contained: set[str]) -> None:
        self.known(value, "Reference", path)
        if not {"reference", "identifier", "display"} & set(value):
            self.fail(path, "a Reference needs a reference, an identifier or a display")
        local = value.get("reference", "")
        if local.startswith("#") and local[1:] not in contained:
            self.fail(path, "ref-1: a local reference must point to a contained resource")
        if "identifier" in value:
            self.identifier(value["identifier"], f"{path}.identifier")

    def identifier(self, value: dict[str, Any], path: str) -> None:
        self.known(value, "Identifier", path)
        self.matches(value.get("system"), ABSOLUTE_URI, f"{path}.system")
        if not isinstance(value.get("value"), str):
            self.fail(f"{path}.value", "an identifier without a value identifies nothing")

    def codeable_concept(self, value: dict[str, Any], path: str) -> None:
        self.known(value, "CodeableConcept", path)
        for index, coding in enumerate(value.get("coding", [])):
            self.coding(coding, f"{path}.coding[{index}]")

    def coding(self, value: dict[str, Any], path: str) -> None:
        self.known(value, "Coding", path)
        self.matches(value.get("system"), URI, f"{path}.system")
        self.matches(value.get("code"), CODE, f"{path}.code")

    def period(self, value: dict[str, Any], path: str) -> None:
        self.known(value, "Period", path)
        for name in ("start", "end"):
            if name in value:
                self.matches(value[name], DATE_TIME, f"{path}.{name}")
        if "start" in value and "end" in value and value["start"] > value["end"]:
            self.fail(path, "per-1: start after end")

    def narrative(self, value: dict[str, Any], path: str) -> None:
        self.known(value, "Narrative", path)
        self.in_value_set(value.get("status"), NARRATIVE_STATUS, f"{path}.status")
        try:
            root = ET.fromstring(value.get("div", ""))
        except ET.ParseError as error:
            self.fail(f"{path}.div", f"not well-formed XHTML: {error}")
            return
        if root.tag != "{http://www.w3.org/1999/xhtml}div":
            self.fail(f"{path}.div", "txt-1: the narrative is one XHTML div")
        if not "".join(root.itertext()).strip():
            self.fail(f"{path}.div", "txt-2: the narrative has no text")

    def extension(self, value: dict[str, Any], path: str) -> None:
        self.known(value, "Extension", path)
        self.matches(value.get("url"), ABSOLUTE_URI, f"{path}.url")
        values = [name for name in value if name.startswith("value")]
        if len(values) != 1:
            self.fail(path, "ext-1: an extension here has exactly one value[x]")
        if "valueCoding" in value:
            self.coding(value["valueCoding"], f"{path}.valueCoding")

    # --- resources ---

    def coverage_eligibility_response(self, resource: dict[str, Any]) -> None:
        path = "CoverageEligibilityResponse"
        self.known(resource, path, path)
        self.required(resource, ("status", "purpose", "patient", "created", "request", "outcome", "insurer"), path)
        contained = {item.get("id", "") for item in resource.get("contained", [])}
        self.in_value_set(resource.get("status"), FINANCIAL_RESOURCE_STATUS, f"{path}.status")
        purposes = resource.get("purpose")
        if not isinstance(purposes, list) or not purposes:
            self.fail(f"{path}.purpose", "1..* codes")
        for index, purpose in enumerate(purposes or []):
            self.in_value_set(purpose, ELIGIBILITY_RESPONSE_PURPOSE, f"{path}.purpose[{index}]")
        self.in_value_set(resource.get("outcome"), REMITTANCE_OUTCOME, f"{path}.outcome")
        self.matches(resource.get("created"), DATE_TIME, f"{path}.created")
        if "servicedDate" in resource:
            self.matches(resource["servicedDate"], DATE, f"{path}.servicedDate")
        for name in ("patient", "request", "insurer"):
            if name in resource:
                self.reference(resource[name], f"{path}.{name}", contained)
        if "text" in resource:
            self.narrative(resource["text"], f"{path}.text")
        for index, insurance in enumerate(resource.get("insurance", [])):
            self.insurance(insurance, f"{path}.insurance[{index}]", contained)
        self.not_empty(resource, path)

    def insurance(self, value: dict[str, Any], path: str, contained: set[str]) -> None:
        self.known(value, "insurance", path)
        self.required(value, ("coverage",), path)
        if "coverage" in value:
            self.reference(value["coverage"], f"{path}.coverage", contained)
        if "inforce" in value and not isinstance(value["inforce"], bool):
            self.fail(f"{path}.inforce", "a boolean")
        if "benefitPeriod" in value:
            self.period(value["benefitPeriod"], f"{path}.benefitPeriod")
        for index, extension in enumerate(value.get("extension", [])):
            self.extension(extension, f"{path}.extension[{index}]")
        for index, item in enumerate(value.get("item", [])):
            item_path = f"{path}.item[{index}]"
            self.known(item, "item", item_path)
            if ("category" in item) == ("productOrService" in item):
                self.fail(item_path, "ces-1: a category or a billcode, not both")
            if "category" in item:
                self.codeable_concept(item["category"], f"{item_path}.category")
            if "excluded" in item and not isinstance(item["excluded"], bool):
                self.fail(f"{item_path}.excluded", "a boolean")

    def operation_outcome(self, resource: dict[str, Any]) -> None:
        path = "OperationOutcome"
        self.known(resource, path, path)
        issues = resource.get("issue")
        if not isinstance(issues, list) or not issues:
            self.fail(f"{path}.issue", "1..* issues")
        for index, issue in enumerate(issues or []):
            issue_path = f"{path}.issue[{index}]"
            self.known(issue, "issue", issue_path)
            self.required(issue, ("severity", "code"), issue_path)
            self.in_value_set(issue.get("severity"), ISSUE_SEVERITY, f"{issue_path}.severity")
            self.in_value_set(issue.get("code"), FHIR_R4_ISSUE_TYPES, f"{issue_path}.code")
            if "details" in issue:
                self.codeable_concept(issue["details"], f"{issue_path}.details")
            for name in ("location", "expression"):
                if name in issue and not all(isinstance(item, str) for item in issue[name]):
                    self.fail(f"{issue_path}.{name}", "a list of strings")
        if "text" in resource:
            self.narrative(resource["text"], f"{path}.text")
        self.not_empty(resource, path)


def r4_problems(resource: dict[str, Any]) -> list[str]:
    """Every R4 rule the resource breaks (empty when it is valid as far as these checks go)."""
    checker = Checker()
    kind = resource.get("resourceType")
    if kind == "CoverageEligibilityResponse":
        checker.coverage_eligibility_response(resource)
    elif kind == "OperationOutcome":
        checker.operation_outcome(resource)
    else:
        checker.fail("resourceType", f"{kind!r} is not a resource this gateway answers")
    return checker.problems


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
    assert (issue["details"]["text"], issue["diagnostics"]) == (entry.message, entry.recommendation)


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
