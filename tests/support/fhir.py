"""FHIR R4 rules for the tests: the issue types, and a checker of the resources the gateway answers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any


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


# http://hl7.org/fhir/R4/valueset-issue-type.html
FHIR_R4_ISSUE_TYPES = frozenset(
    {
        "invalid",
        "structure",
        "required",
        "value",
        "invariant",
        "security",
        "login",
        "unknown",
        "expired",
        "forbidden",
        "suppressed",
        "processing",
        "not-supported",
        "duplicate",
        "multiple-matches",
        "not-found",
        "deleted",
        "too-long",
        "code-invalid",
        "extension",
        "too-costly",
        "business-rule",
        "conflict",
        "transient",
        "lock-error",
        "no-store",
        "exception",
        "timeout",
        "incomplete",
        "throttled",
        "informational",
    }
)


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
