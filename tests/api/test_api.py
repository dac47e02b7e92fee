"""The REST contract of API.md through the Flask test client: shapes, errors, idempotency, visibility."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.api.common import fingerprint
from gateway.ports import IdempotencyKey
from tests.support.bodies import BODY, body
from tests.support.gateway import Gateway

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network


def test_the_example_of_api_md_is_accepted_with_a_location(gateway: Gateway) -> None:
    answer = gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth())
    assert answer.status_code == 202, answer.get_json()
    data = answer.get_json()
    assert answer.headers["Location"] == f"/api/v1/applications/{data['id']}"
    assert data["id"].startswith("app_")
    assert (data["kind"], data["status"], data["rejection"], data["policy"]) == ("new", "accepted", None, None)
    assert [entry["status"] for entry in data["history"]] == ["accepted"]
    assert data["id"] in gateway.store.outbox, "the outbox entry is written with the application"


def test_validate_stores_nothing(gateway: Gateway) -> None:
    answer = gateway.client.post("/api/v1/applications/validate", json=BODY, headers=gateway.auth())
    assert (answer.status_code, answer.get_json()) == (200, {"valid": True})
    assert gateway.store.applications == {}


def test_every_input_error_is_reported_at_once_with_its_json_path(gateway: Gateway) -> None:
    bad = body(snils="112-233-445 00", inn="500100732250", birth_date="2990-01-01")
    del bad["person"]["first_name"]
    bad["policy_form"] = "hologram"
    answer = gateway.client.post("/api/v1/applications/validate", json=bad, headers=gateway.auth())
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem["status"] == 422
    found = {(reason["code"], reason["field"]) for reason in problem["errors"]}
    assert ("FIELD_REQUIRED", "person.first_name") in found
    assert ("FIELD_INVALID", "policy_form") in found
    for reason in problem["errors"]:
        assert reason["source"] == "gateway"
        assert reason["message"]
        assert reason["recommendation"]


def test_domain_errors_come_with_their_catalogue_codes(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/api/v1/applications/validate", json=body(snils="112-233-445 00", inn="500100732250"), headers=gateway.auth()
    )
    assert answer.status_code == 422
    found = {(reason["code"], reason["field"]) for reason in answer.get_json()["errors"]}
    assert found == {("SNILS_CHECKSUM", "person.snils"), ("INN_INVALID", "person.inn")}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [(b"{not json", "application/json", 400), (b"[1, 2]", "application/json", 400), (b"x=1", "text/plain", 415)],
)
def test_a_body_that_is_not_a_json_object_is_a_problem(
    gateway: Gateway, data: bytes, content_type: str, status: int
) -> None:
    answer = gateway.client.post("/api/v1/applications", data=data, content_type=content_type, headers=gateway.auth())
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"


def test_unknown_routes_and_methods_are_problems(gateway: Gateway) -> None:
    missing = gateway.client.get("/api/v1/nothing-here")
    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")
    wrong = gateway.client.put("/api/v1/applications", headers=gateway.auth())
    assert (wrong.status_code, wrong.mimetype) == (405, "application/problem+json")
    assert "POST" in wrong.headers["Allow"]


def test_missing_and_bad_tokens_are_401_with_www_authenticate(gateway: Gateway) -> None:
    missing = gateway.client.get("/api/v1/applications")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.mimetype == "application/problem+json"
    bad = gateway.client.get("/api/v1/applications", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def test_a_token_without_the_scope_is_403_insufficient_scope(gateway: Gateway) -> None:
    answer = gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth(scope="epolicy.read"))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]


def test_idempotency_key_replays_refuses_another_body_and_reports_in_progress(gateway: Gateway) -> None:
    headers = {**gateway.auth(), "Idempotency-Key": "key-1"}
    first = gateway.client.post("/api/v1/applications", json=BODY, headers=headers)
    again = gateway.client.post("/api/v1/applications", json=BODY, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(gateway.store.applications) == 1
    other = gateway.client.post("/api/v1/applications", json=body(first_name="Мария"), headers=headers)
    assert other.status_code == 422
    # A concurrent request holding the key: reserved, not yet finished.
    busy_key = IdempotencyKey("user-1", "busy", fingerprint(BODY, "POST /api/v1/applications"))
    gateway.store.reserve(busy_key, datetime.now(UTC))
    busy_headers = {**gateway.auth(), "Idempotency-Key": "busy"}
    busy = gateway.client.post("/api/v1/applications", json=BODY, headers=busy_headers)
    assert busy.status_code == 409


def test_a_refusal_under_an_idempotency_key_is_answered_again_the_same(gateway: Gateway) -> None:
    headers = {**gateway.auth(), "Idempotency-Key": "key-bad"}
    bad = body(snils="112-233-445 00")
    first = gateway.client.post("/api/v1/applications", json=bad, headers=headers)
    again = gateway.client.post("/api/v1/applications", json=bad, headers=headers)
    assert (first.status_code, again.status_code) == (422, 422)
    assert first.get_json() == again.get_json()


def test_the_list_is_paginated_newest_first_and_shows_only_ones_own(gateway: Gateway) -> None:
    for _ in range(5):
        gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth())
    gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth(sub="user-2"))
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = gateway.client.get("/api/v1/applications", query_string=query, headers=gateway.auth()).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True), "ids are time-ordered, newest first"
    assert gateway.client.get("/api/v1/applications?limit=0", headers=gateway.auth()).status_code == 400
    # Digits to str.isdigit that int() cannot read ("²") or that are not ASCII ("١٠") are no limit either.
    for written in ("²", "١٠"):
        answer = gateway.client.get("/api/v1/applications", query_string={"limit": written}, headers=gateway.auth())
        assert answer.status_code == 400, written
        assert answer.get_json()["type"].endswith("/bad-limit")


def test_cancel_works_before_issuing_and_not_after(gateway: Gateway) -> None:
    created = gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth()).get_json()
    cancelled = gateway.client.delete(f"/api/v1/applications/{created['id']}", headers=gateway.auth())
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert created["id"] not in gateway.store.outbox
    again = gateway.client.delete(f"/api/v1/applications/{created['id']}", headers=gateway.auth())
    assert again.status_code == 409
    # Said to the citizen in their language, with the status it is in: not the state machine's own words.
    assert again.get_json()["detail"] == "Заявление в статусе cancelled отозвать уже нельзя."


def test_another_citizen_sees_nothing_of_mine(gateway: Gateway) -> None:
    created = gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth()).get_json()
    stranger = gateway.auth(sub="user-2", snils="01024236877")
    assert gateway.client.get(f"/api/v1/applications/{created['id']}", headers=stranger).status_code == 404
    assert gateway.client.delete(f"/api/v1/applications/{created['id']}", headers=stranger).status_code == 404


def test_policy_status_validates_the_enp_and_hides_others_policies(gateway: Gateway) -> None:
    wrong = gateway.client.get("/api/v1/policies/7754900882000016", headers=gateway.auth())
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["code"] == "ENP_CHECKSUM"
    unknown = gateway.client.get("/api/v1/policies/7754900882000015", headers=gateway.auth())
    assert unknown.status_code == 404


def test_the_catalogue_is_public(gateway: Gateway) -> None:
    answer = gateway.client.get("/api/v1/rejection-reasons")
    assert answer.status_code == 200
    codes = {item["code"] for item in answer.get_json()["items"]}
    assert {"SNILS_CHECKSUM", "BACKEND_REJECTED", "TECHNICAL_ERROR"} <= codes


def test_insurers_of_a_region_come_from_the_fund(gateway: Gateway) -> None:
    answer = gateway.client.get("/api/v1/insurers?region_code=77", headers=gateway.auth())
    assert answer.status_code == 200
    assert [item["code"] for item in answer.get_json()["items"]] == ["77001", "77002"]
    assert gateway.client.get("/api/v1/insurers?region_code=7", headers=gateway.auth()).status_code == 400


def test_an_unexpected_error_is_a_500_problem_without_internals(gateway: Gateway) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    gateway.store.list_for_owner = explode  # type: ignore[method-assign]
    answer = gateway.client.get("/api/v1/applications", headers=gateway.auth())
    assert answer.status_code == 500
    assert answer.mimetype == "application/problem+json"
    assert "secret" not in answer.get_data(as_text=True)


def test_a_safe_correlation_id_is_kept_and_an_unsafe_one_replaced(gateway: Gateway) -> None:
    kept = gateway.client.get("/healthz", headers={"X-Correlation-ID": "portal-req-42"})
    assert kept.headers["X-Correlation-ID"] == "portal-req-42"
    replaced = gateway.client.get("/healthz", headers={"X-Correlation-ID": "bad id\twith spaces"})
    assert replaced.headers["X-Correlation-ID"] not in ("", "bad id\twith spaces")


def test_readiness_names_what_is_down(gateway: Gateway) -> None:
    from gateway.domain.model import Source
    from gateway.ports import BackendUnavailable

    gateway.app.extensions["epolicy"].readiness.interval = 0  # every call checks again
    assert gateway.client.get("/readyz").status_code == 200
    gateway.fund.fail("list_insurers", BackendUnavailable(Source.FUND, "ListInsurers", "timeout"))
    answer = gateway.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["fund"] == "unavailable: timeout"


def test_an_unexpected_error_is_logged_with_the_route_not_the_path(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("boom")

    gateway.fund.policy_card = explode  # type: ignore[method-assign]
    gateway.fund.find_person = explode  # type: ignore[method-assign]
    with caplog.at_level("ERROR"):
        answer = gateway.client.get(
            "/api/v1/policies/7754900882000015", headers=gateway.auth(scope="epolicy.eligibility")
        )
    assert answer.status_code == 500
    assert "/api/v1/policies/<enp>" in caplog.text
    assert "7754900882000015" not in caplog.text


def test_readiness_names_the_kazakh_fund_when_it_is_down(gateway: Gateway) -> None:
    from gateway.domain.model import Source
    from gateway.ports import BackendUnavailable

    gateway.app.extensions["epolicy"].readiness.interval = 0  # every call checks again
    kz_fund = gateway.app.extensions["epolicy"].kz_fund.port  # the fake behind the guards
    kz_fund.fail("insurance_status", BackendUnavailable(Source.FUND, "GetInsuranceStatus", "connection refused"))
    answer = gateway.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["kz fund"] == "unavailable: connection refused"
    assert gateway.client.get("/readyz").status_code == 200, "a probe that is not found means reachable"
