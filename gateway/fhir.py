"""FHIR R4 (4.0.1) JSON for clinics whose systems speak FHIR: CoverageEligibilityResponse and OperationOutcome.

Hand-written resources: the gateway needs two of them, and the Python FHIR model libraries model R4B/R5 and do not
check the required value sets, so tests check these against the R4 rules instead (tests/unit/test_fhir.py).

Identifier systems are the project's own URIs. The ЕНП has OIDs in Russian registry practice, but no source the
project can check names one for FHIR, so none is claimed here; a deployment that knows the official systems swaps
these constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any

from gateway.catalogue import Entry
from gateway.domain.coverage import Coverage, Programme
from gateway.domain.model import Reason

FHIR_JSON = "application/fhir+json"

BASE = "https://epolicy.example/fhir"
ENP_SYSTEM = f"{BASE}/sid/enp"  # the ЕНП, as the patient's identifier and as the policy's (Coverage) identifier
INSURER_SYSTEM = f"{BASE}/sid/insurer-code"  # the insurer's (СМО) code in the gateway's reference data
REQUEST_SYSTEM = f"{BASE}/sid/correlation-id"  # the X-Correlation-ID of the HTTP request that asked
PROGRAMME_SYSTEM = f"{BASE}/CodeSystem/oms-programme"
REASON_SYSTEM = f"{BASE}/CodeSystem/rejection-reason"  # the codes of contracts/rejections.yaml
NOT_COVERED_EXTENSION = f"{BASE}/StructureDefinition/not-covered-reason"
XHTML = "http://www.w3.org/1999/xhtml"

# Where the catalogue speaks to a citizen about their application, a clinic's system reads these instead: its check
# saves nothing and no one retries it for the clinic. Per code: the text and what to do (diagnostics).
CLINIC_TEXTS = {
    "TECHNICAL_ERROR": (
        "Фонд ОМС временно не отвечает: проверить полис сейчас нельзя. Это не отказ и не сведения о полисе.",
        "Повторите запрос через указанное в заголовке Retry-After число секунд.",
    ),
}

PROGRAMME_NAMES = {
    Programme.TERRITORIAL: "Территориальная программа ОМС",
    Programme.BASIC: "Базовая программа ОМС",
}


def fhir_date_time(value: datetime) -> str:
    """A FHIR dateTime in UTC, to the second."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def coverage_eligibility_response(
    coverage: Coverage,
    insurer_name: str | None,
    checked_at: datetime,
    request_id: str,
    reason: tuple[Reason, Entry] | None = None,
) -> dict[str, Any]:
    """The coverage answer as a CoverageEligibilityResponse with purpose `validation` and outcome `complete`.

    FHIR requires `request` (1..1); the clinic sent query parameters, not a CoverageEligibilityRequest, so the
    reference is a logical one: the correlation id of the HTTP request, which the answer also carries in its
    X-Correlation-ID header. A contained request would have to invent its own required `insurer`.
    """
    policy = coverage.policy
    disposition = _disposition(coverage, reason)
    insurer: dict[str, Any] = {"identifier": {"system": INSURER_SYSTEM, "value": policy.insurer_code}}
    if insurer_name:
        insurer["display"] = insurer_name
    period = {"start": policy.valid_from.isoformat()}
    if policy.valid_to is not None:
        period["end"] = policy.valid_to.isoformat()
    insurance: dict[str, Any] = {
        "coverage": {"identifier": {"system": ENP_SYSTEM, "value": policy.enp}, "display": "Полис ОМС"},
        "inforce": coverage.covered,
        "benefitPeriod": period,
    }
    if coverage.programme is not None:
        insurance["item"] = [_programme_item(coverage.programme, policy.region_code, coverage.clinic_region_code)]
    if reason is not None:
        found, entry = reason
        # Not covered is an answer, not an error: the reason rides on the insurance entry it explains.
        insurance["extension"] = [
            {"url": NOT_COVERED_EXTENSION, "valueCoding": _coding(found.code, entry.title)},
        ]
    return {
        "resourceType": "CoverageEligibilityResponse",
        "text": _narrative(disposition),
        "status": "active",
        "purpose": ["validation"],
        "patient": {"identifier": {"system": ENP_SYSTEM, "value": policy.enp}},
        "servicedDate": checked_at.date().isoformat(),
        "created": fhir_date_time(checked_at),
        "request": {
            "identifier": {"system": REQUEST_SYSTEM, "value": request_id},
            "display": "Проверка полиса ОМС медицинской организацией",
        },
        "outcome": "complete",
        "disposition": disposition,
        "insurer": insurer,
        "insurance": [insurance],
    }


def reason_issue(reason: Reason, entry: Entry) -> dict[str, Any]:
    """One catalogue reason as an OperationOutcome issue: severity and type from the catalogue, the field's path.

    The fields of this API are HTTP query parameters, so the path follows R4's rule for HTTP errors
    (OperationOutcome.issue.location: "http." + the parameter name), in `expression` and in `location` alike.
    """
    text, advice = CLINIC_TEXTS.get(reason.code, (reason.message, reason.recommendation))
    issue: dict[str, Any] = {
        "severity": entry.severity.value,
        "code": entry.fhir_issue_type,
        "details": {"coding": [_coding(reason.code, entry.title)], "text": text},
        "diagnostics": advice,
    }
    if reason.field:
        issue["expression"] = [f"http.{reason.field}"]
        issue["location"] = [f"http.{reason.field}"]
    return issue


def plain_issue(severity: str, code: str, text: str, diagnostics: str | None = None) -> dict[str, Any]:
    """An issue that no catalogue reason stands for (authentication, an internal error)."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "details": {"text": text}}
    if diagnostics:
        issue["diagnostics"] = diagnostics
    return issue


def operation_outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    """An OperationOutcome with the issues (at least one)."""
    if not issues:
        raise ValueError("an OperationOutcome needs at least one issue")
    summary = " ".join(str(issue["details"]["text"]) for issue in issues)
    return {"resourceType": "OperationOutcome", "text": _narrative(summary), "issue": issues}


def catalogue_outcome(reasons: tuple[Reason, ...], entries: Mapping[str, Entry]) -> dict[str, Any]:
    """An OperationOutcome with one issue per catalogue reason."""
    return operation_outcome([reason_issue(reason, entries[reason.code]) for reason in reasons])


def _programme_item(programme: Programme, policy_region: str, clinic_region: str) -> dict[str, Any]:
    name = PROGRAMME_NAMES[programme]
    if programme is Programme.TERRITORIAL:
        description = f"Полис выдан в регионе {policy_region}, медицинская организация в том же регионе."
    else:
        description = (
            f"Полис выдан в регионе {policy_region}, медицинская организация в регионе {clinic_region}: "
            "помощь оказывается в объёме базовой программы ОМС."
        )
    return {
        "category": {"coding": [{"system": PROGRAMME_SYSTEM, "code": programme.value, "display": name}]},
        "name": name,
        "description": description,
        "excluded": False,
    }


def _disposition(coverage: Coverage, reason: tuple[Reason, Entry] | None) -> str:
    if coverage.covered and coverage.programme is not None:
        return f"Полис действует. Помощь оказывается по программе: {PROGRAMME_NAMES[coverage.programme]}."
    return reason[0].message if reason else "Полис не действует."


def _coding(code: str, display: str) -> dict[str, str]:
    return {"system": REASON_SYSTEM, "code": code, "display": display}


def _narrative(text: str) -> dict[str, str]:
    # dom-6: a resource should have a human-readable narrative; generated from the structured data.
    return {"status": "generated", "div": f'<div xmlns="{XHTML}"><p>{escape(text, quote=False)}</p></div>'}
