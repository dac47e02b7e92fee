"""A clinic checks coverage over the REST API: JSON at /api/v1/coverage, FHIR R4 at /api/v1/fhir/…/$check."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from werkzeug.test import TestResponse

from gateway.api.coverage import CoverageOut
from gateway.domain.model import PolicyStatus, Source
from tests.support.fakes import unavailable
from tests.support.fhir import r4_problems
from tests.support.gateway import Gateway
from tests.support.persons import ANNA, ENP, INSURER, POLICY, SNILS

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

FHIR_CHECK = "/api/v1/fhir/CoverageEligibilityRequest/$check"


@pytest.fixture
def clinic(gateway: Gateway) -> dict[str, str]:
    gateway.fund.persons[ENP] = (ANNA, POLICY)
    return gateway.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")


def check(gateway: Gateway, headers: dict[str, str], path: str = "/api/v1/coverage", **query: str) -> TestResponse:
    return gateway.client.get(path, query_string=query, headers=headers)


def codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in body["errors"]]


# --- JSON ----------------------------------------------------------------------------------------------------


def test_a_clinic_in_the_policys_region_learns_the_person_is_covered_under_the_territorial_programme(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    answer = check(gateway, clinic, enp=ENP, region_code="77")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert CoverageOut().validate(body) == {}
    checked_at = body.pop("checked_at")
    assert checked_at.endswith("Z")
    assert body == {
        "covered": True,
        "enp": ENP,
        "insurer": {"code": "77001", "name": INSURER},
        "programme": "territorial",
        "clinic_region_code": "77",
        "policy": {"status": "active", "valid_from": "2020-01-01", "valid_to": None, "region_code": "77"},
        "reason": None,
    }


def test_a_clinic_in_another_region_learns_the_basic_programme_applies(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    body = check(gateway, clinic, enp=ENP, region_code="50").get_json()
    assert (body["covered"], body["programme"], body["policy"]["region_code"]) == (True, "basic", "77")


def test_a_clinic_that_knows_only_the_snils_gets_the_enp_too(gateway: Gateway, clinic: dict[str, str]) -> None:
    body = check(gateway, clinic, snils="112-233-445 95", region_code="77").get_json()
    assert (body["covered"], body["enp"]) == (True, ENP)


@pytest.mark.parametrize(
    ("status", "code"),
    [(PolicyStatus.EXPIRED, "POLICY_EXPIRED"), (PolicyStatus.ANNULLED, "POLICY_ANNULLED"),
     (PolicyStatus.SUSPENDED, "POLICY_SUSPENDED"), (PolicyStatus.PENDING, "POLICY_PENDING")],
)  # fmt: skip
def test_a_person_not_covered_is_a_200_with_covered_false_and_the_reason(
    gateway: Gateway, clinic: dict[str, str], status: PolicyStatus, code: str
) -> None:
    gateway.fund.persons[ENP] = (ANNA, replace(POLICY, status=status, valid_to=date(2025, 12, 31)))
    answer = check(gateway, clinic, enp=ENP, region_code="77")
    assert answer.status_code == 200
    body = answer.get_json()
    assert CoverageOut().validate(body) == {}
    assert (body["covered"], body["programme"], body["policy"]["status"]) == (False, None, status.value)
    assert body["insurer"]["code"] == "77001"
    assert (body["reason"]["code"], body["reason"]["source"]) == (code, "fund")
    assert body["reason"]["message"].endswith(".")


def test_an_unknown_enp_is_a_404_naming_the_reason(gateway: Gateway, clinic: dict[str, str]) -> None:
    answer = check(gateway, clinic, enp="7748410819000012", region_code="77")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"
    assert codes(answer.get_json()) == [("ENP_NOT_FOUND", "enp")]


def test_an_unknown_snils_is_a_404_naming_the_reason(gateway: Gateway, clinic: dict[str, str]) -> None:
    answer = check(gateway, clinic, snils="01024236877", region_code="77")
    assert answer.status_code == 404
    assert codes(answer.get_json()) == [("SNILS_NOT_FOUND", "snils")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"enp": "7754900882000016", "region_code": "77"}, [("ENP_CHECKSUM", "enp")]),
        ({"snils": "112-233-445 00", "region_code": "77"}, [("SNILS_CHECKSUM", "snils")]),
        ({"enp": ENP, "snils": SNILS, "region_code": "77"}, [("COVERAGE_IDENTIFIER_REQUIRED", None)]),
        ({"region_code": "77"}, [("COVERAGE_IDENTIFIER_REQUIRED", None)]),
        ({"enp": ENP}, [("FIELD_REQUIRED", "region_code")]),
        ({"enp": "1", "region_code": "00"}, [("ENP_FORMAT", "enp"), ("REGION_UNKNOWN", "region_code")]),
    ],
)
def test_wrong_parameters_are_a_422_with_every_reason(
    gateway: Gateway, clinic: dict[str, str], query: dict[str, str], expected: list[tuple[str, str | None]]
) -> None:
    answer = check(gateway, clinic, **query)
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["type"].endswith("/validation")
    assert "Заявление" not in body["detail"]
    assert codes(body) == expected
    assert gateway.fund.calls == []


def test_a_fund_outage_is_a_503_with_retry_after(gateway: Gateway, clinic: dict[str, str]) -> None:
    gateway.fund.fail("insurance_status", unavailable(Source.FUND, "GetInsuranceStatus"))
    answer = check(gateway, clinic, enp=ENP, region_code="77")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"


def test_an_outage_answers_with_the_technical_error_of_the_catalogue(gateway: Gateway, clinic: dict[str, str]) -> None:
    gateway.fund.fail("insurance_status", unavailable(Source.FUND, "GetInsuranceStatus"), count=2)
    body = check(gateway, clinic, enp=ENP, region_code="77").get_json()
    assert [(error["code"], error["source"]) for error in body["errors"]] == [("TECHNICAL_ERROR", "gateway")]
    fhir = fhir_check(gateway, clinic, enp=ENP, region_code="77").get_json(force=True)
    assert [issue["details"]["coding"][0]["code"] for issue in fhir["issue"]] == ["TECHNICAL_ERROR"]


def test_a_citizens_token_may_not_check_coverage(gateway: Gateway, clinic: dict[str, str]) -> None:
    answer = check(gateway, gateway.auth(scope="epolicy.read"), enp=ENP, region_code="77")
    assert answer.status_code == 403
    assert check(gateway, {}, enp=ENP, region_code="77").status_code == 401


# --- FHIR R4 -------------------------------------------------------------------------------------------------


def fhir_check(gateway: Gateway, headers: dict[str, str], **query: str) -> TestResponse:
    return check(gateway, headers, FHIR_CHECK, **query)


def test_the_fhir_answer_is_a_valid_coverage_eligibility_response(gateway: Gateway, clinic: dict[str, str]) -> None:
    answer = fhir_check(gateway, {**clinic, "X-Correlation-ID": "clinic-42"}, enp=ENP, region_code="50")
    assert answer.status_code == 200
    assert answer.mimetype == "application/fhir+json"
    resource = answer.get_json(force=True)
    assert r4_problems(resource) == []
    assert resource["resourceType"] == "CoverageEligibilityResponse"
    assert resource["request"]["identifier"]["value"] == "clinic-42" == answer.headers["X-Correlation-ID"]
    assert resource["insurer"]["display"] == INSURER
    (insurance,) = resource["insurance"]
    assert insurance["inforce"] is True
    assert insurance["item"][0]["category"]["coding"][0]["code"] == "basic"


def test_a_person_not_covered_is_a_fhir_response_not_in_force(gateway: Gateway, clinic: dict[str, str]) -> None:
    gateway.fund.persons[ENP] = (ANNA, replace(POLICY, status=PolicyStatus.EXPIRED, valid_to=date(2025, 12, 31)))
    resource = fhir_check(gateway, clinic, snils=SNILS, region_code="77").get_json(force=True)
    assert r4_problems(resource) == []
    assert resource["insurance"][0]["inforce"] is False
    assert resource["insurance"][0]["extension"][0]["valueCoding"]["code"] == "POLICY_EXPIRED"


def test_fhir_input_errors_are_an_operation_outcome_from_the_catalogue(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    answer = fhir_check(gateway, clinic, enp="7754900882000016", region_code="99")
    assert answer.status_code == 422
    assert answer.mimetype == "application/fhir+json"
    outcome = answer.get_json(force=True)
    assert r4_problems(outcome) == []
    assert [(i["code"], i["details"]["coding"][0]["code"], i["expression"]) for i in outcome["issue"]] == [
        ("value", "ENP_CHECKSUM", ["http.enp"]),
        ("code-invalid", "REGION_UNKNOWN", ["http.region_code"]),
    ]


def test_an_unknown_person_is_a_404_operation_outcome(gateway: Gateway, clinic: dict[str, str]) -> None:
    answer = fhir_check(gateway, clinic, snils="01024236877", region_code="77")
    assert answer.status_code == 404
    outcome = answer.get_json(force=True)
    assert r4_problems(outcome) == []
    (issue,) = outcome["issue"]
    assert (issue["severity"], issue["code"], issue["details"]["coding"][0]["code"]) == (
        "error",
        "not-found",
        "SNILS_NOT_FOUND",
    )


def test_a_fund_outage_is_a_503_operation_outcome_with_retry_after(gateway: Gateway, clinic: dict[str, str]) -> None:
    gateway.fund.fail("insurance_status", unavailable(Source.FUND, "GetInsuranceStatus"))
    answer = fhir_check(gateway, clinic, enp=ENP, region_code="77")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    outcome = answer.get_json(force=True)
    assert r4_problems(outcome) == []
    assert outcome["issue"][0]["code"] == "transient"


def test_fhir_authentication_errors_are_operation_outcomes_with_www_authenticate(gateway: Gateway) -> None:
    missing = fhir_check(gateway, {}, enp=ENP, region_code="77")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.get_json(force=True)["issue"][0]["code"] == "login"
    forbidden = fhir_check(gateway, gateway.auth(scope="epolicy.read"), enp=ENP, region_code="77")
    assert forbidden.status_code == 403
    assert "insufficient_scope" in forbidden.headers["WWW-Authenticate"]
    outcome = forbidden.get_json(force=True)
    assert r4_problems(outcome) == []
    assert outcome["issue"][0]["code"] == "forbidden"


def test_an_unexpected_fhir_error_is_a_500_operation_outcome_without_internals(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    gateway.fund.insurance_status = explode  # type: ignore[method-assign,assignment]
    answer = fhir_check(gateway, clinic, enp=ENP, region_code="77")
    assert answer.status_code == 500
    assert "secret" not in answer.get_data(as_text=True)
    assert answer.get_json(force=True)["issue"][0]["code"] == "exception"
