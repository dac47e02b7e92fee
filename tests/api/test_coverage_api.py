"""A clinic checks coverage over the REST API: JSON at /api/v1/coverage, FHIR R4 at /api/v1/fhir/…/$check."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from flask import Response, abort, request
from werkzeug.test import TestResponse

from gateway.api.bodies import json_body
from gateway.api.coverage import CoverageOut
from gateway.app import create_app
from gateway.domain.model import PolicyStatus, Source
from tests.support.fakes import FakeFund, FakeInsurers, FakeStore, unavailable
from tests.support.fhir import r4_problems
from tests.support.gateway import Gateway
from tests.support.persons import ANNA, ENP, INSURER, POLICY, SNILS
from tests.support.services import RunningMocks

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


def issue_of(answer: TestResponse, status: int) -> dict[str, Any]:
    """The one issue of a FHIR error answer, which is a valid R4 OperationOutcome with the status."""
    assert (answer.status_code, answer.mimetype) == (status, "application/fhir+json"), answer.get_data(as_text=True)
    outcome = answer.get_json(force=True)
    assert outcome["resourceType"] == "OperationOutcome"
    assert r4_problems(outcome) == []
    (issue,) = outcome["issue"]
    assert issue["severity"] == ("fatal" if status == 500 else "error")
    return dict(issue)


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


def test_a_fund_outage_is_a_503_operation_outcome_telling_the_clinic_to_retry(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    gateway.fund.fail("insurance_status", unavailable(Source.FUND, "GetInsuranceStatus"))
    answer = fhir_check(gateway, clinic, enp=ENP, region_code="77")
    issue = issue_of(answer, 503)
    assert answer.headers["Retry-After"] == "30"
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("transient", "TECHNICAL_ERROR")
    # A clinic's check saves nothing and no one retries it for the clinic: it is told to retry itself.
    said = issue["details"]["text"] + " " + issue["diagnostics"]
    assert "заявлени" not in said.lower() and "личном кабинете" not in said
    assert "Фонд" in said and "Retry-After" in said


def test_fhir_authentication_errors_are_operation_outcomes_with_www_authenticate(gateway: Gateway) -> None:
    missing = fhir_check(gateway, {}, enp=ENP, region_code="77")
    assert issue_of(missing, 401)["code"] == "login"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    invalid = fhir_check(gateway, {"Authorization": "Bearer abc"}, enp=ENP, region_code="77")
    assert issue_of(invalid, 401)["code"] == "login"
    assert invalid.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    forbidden = fhir_check(gateway, gateway.auth(scope="epolicy.read"), enp=ENP, region_code="77")
    assert issue_of(forbidden, 403)["code"] == "forbidden"
    assert 'error="insufficient_scope"' in forbidden.headers["WWW-Authenticate"]
    assert 'scope="epolicy.eligibility"' in forbidden.headers["WWW-Authenticate"]


def test_a_token_in_the_fhir_url_is_a_400_saying_the_token_goes_in_the_authorization_header(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    answer = fhir_check(gateway, {}, enp=ENP, region_code="77", access_token="abc")
    issue = issue_of(answer, 400)
    assert issue["code"] == "security"
    assert "Authorization" in issue["details"]["text"]
    assert "област" not in issue["details"]["text"], "the token is in the wrong place, not short of a scope"
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_request"')


def test_an_unknown_path_under_fhir_is_a_404_operation_outcome(gateway: Gateway) -> None:
    answer = gateway.client.get("/api/v1/fhir/Patient/7754900882000015")
    assert issue_of(answer, 404)["code"] == "not-found"


def test_another_method_on_the_fhir_operation_is_a_405_operation_outcome_with_allow(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    answer = gateway.client.post(FHIR_CHECK, json={"resourceType": "CoverageEligibilityRequest"}, headers=clinic)
    assert issue_of(answer, 405)["code"] == "not-supported"
    assert {"GET", "HEAD", "OPTIONS"} == set(answer.headers["Allow"].split(", "))


@pytest.fixture
def probe(gateway: Gateway) -> str:
    """A FHIR operation that reads a JSON body, as a future one will: the only one today reads none."""

    def echo() -> Response:
        if request.args.get("refuse"):
            abort(int(request.args["refuse"]))
        return Response(json.dumps(json_body()), mimetype="application/fhir+json")

    gateway.app.add_url_rule("/api/v1/fhir/Probe/$echo", view_func=echo, methods=["POST"])
    return "/api/v1/fhir/Probe/$echo"


def test_a_body_that_is_no_json_under_fhir_is_a_400_operation_outcome(gateway: Gateway, probe: str) -> None:
    answer = gateway.client.post(probe, data="{", content_type="application/fhir+json")
    assert issue_of(answer, 400)["code"] == "structure"


def test_a_body_of_another_type_under_fhir_is_a_415_operation_outcome(gateway: Gateway, probe: str) -> None:
    answer = gateway.client.post(probe, data="<x/>", content_type="application/fhir+xml")
    assert issue_of(answer, 415)["code"] == "not-supported"


def test_a_body_over_the_limit_under_fhir_is_a_413_operation_outcome(gateway: Gateway, probe: str) -> None:
    limit = int(gateway.app.config["MAX_CONTENT_LENGTH"])
    answer = gateway.client.post(probe, data="x" * (limit + 1), content_type="application/fhir+json")
    assert issue_of(answer, 413)["code"] == "too-costly"


def test_a_refused_format_under_fhir_is_a_406_operation_outcome(gateway: Gateway, probe: str) -> None:
    answer = gateway.client.post(probe, query_string={"refuse": "406"}, json={})
    assert issue_of(answer, 406)["code"] == "not-supported"


def test_too_many_fhir_requests_are_a_429_operation_outcome_with_retry_after(mocks_server: RunningMocks) -> None:
    settings = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth",
                "RATELIMIT_ENABLED": True, "RATELIMIT_PER_ADDRESS": "1/minute"}  # fmt: skip
    app = create_app(settings, store=FakeStore(), fund=FakeFund(), insurers=FakeInsurers({}))
    client = app.test_client()
    assert client.get(FHIR_CHECK).status_code == 401
    answer = client.get(FHIR_CHECK)
    assert issue_of(answer, 429)["code"] == "throttled"
    assert 1 <= int(answer.headers["Retry-After"]) <= 61, "at most the rest of the one-minute window"


def test_an_unexpected_fhir_error_is_a_500_operation_outcome_without_internals(
    gateway: Gateway, clinic: dict[str, str]
) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    gateway.fund.insurance_status = explode  # type: ignore[method-assign,assignment]
    answer = fhir_check(gateway, clinic, enp=ENP, region_code="77")
    issue = issue_of(answer, 500)
    assert "secret" not in answer.get_data(as_text=True)
    assert (issue["severity"], issue["code"]) == ("fatal", "exception")
