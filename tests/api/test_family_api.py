"""`GET /api/v1/me/family`: the citizen and the people they applied for, with each one's policy status."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest

from gateway.domain.model import Source
from gateway.ports import BackendUnavailable
from tests.support.bodies import BODY, mother_as_representative
from tests.support.gateway import Gateway

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network


def child_body() -> dict[str, Any]:
    born = date.today() - timedelta(days=400)
    body = copy.deepcopy(BODY)
    body["relation"] = "child"
    body["person"] = {
        "last_name": "Иванов",
        "first_name": "Лев",
        "birth_date": born.isoformat(),
        "sex": "male",
        "citizenship": "RUS",
        "snils": "01024236877",
        "identity_document": {
            "type": "birth_certificate_rf",
            "series": "IV-МЮ",
            "number": "654321",
            "issue_date": (born + timedelta(days=5)).isoformat(),
        },
    }
    body["representative"] = mother_as_representative()
    return body


def apply_and_process(gateway: Gateway, body: dict[str, Any]) -> str:
    answer = gateway.client.post("/api/v1/applications", json=body, headers=gateway.auth())
    assert answer.status_code == 202, answer.get_json()
    application_id: str = answer.get_json()["id"]
    processor = gateway.app.extensions["epolicy"].worker_context.processor()
    for _ in range(6):
        processor.run(application_id)
    return application_id


def test_the_family_lists_oneself_first_and_each_child_with_their_policy(gateway: Gateway) -> None:
    apply_and_process(gateway, child_body())
    apply_and_process(gateway, BODY)
    answer = gateway.client.get("/api/v1/me/family", headers=gateway.auth())
    assert answer.status_code == 200
    items = answer.get_json()["items"]
    assert [(item["relation"], item["person"]["first_name"]) for item in items] == [("self", "Анна"), ("child", "Лев")]
    for item in items:
        assert item["enp"]
        assert item["policy"]["status"] == "active"
        assert item["policy"]["insurer"]["code"] == "77001"
        assert item["policy_status_available"] is True
        assert item["latest_application"]["status"] == "issued"


def test_a_child_needs_a_representative_with_a_fitting_authority(gateway: Gateway) -> None:
    body = child_body()
    body["representative"]["authority"] = {"type": "power_of_attorney", "number": "77 АВ 1", "issue_date": "2026-01-01"}
    answer = gateway.client.post("/api/v1/applications/validate", json=body, headers=gateway.auth())
    assert answer.status_code == 422
    assert [(r["code"], r["field"]) for r in answer.get_json()["errors"]] == [
        ("REPRESENTATIVE_AUTHORITY_INVALID", "representative.authority.type")
    ]
    del body["representative"]
    answer = gateway.client.post("/api/v1/applications/validate", json=body, headers=gateway.auth())
    assert [r["code"] for r in answer.get_json()["errors"]] == ["REPRESENTATIVE_REQUIRED"]


def test_another_citizen_has_an_empty_family(gateway: Gateway) -> None:
    apply_and_process(gateway, BODY)
    answer = gateway.client.get("/api/v1/me/family", headers=gateway.auth(sub="user-2", snils="01024236877"))
    assert answer.get_json() == {"items": []}


def test_the_family_still_answers_when_the_fund_is_down(gateway: Gateway) -> None:
    apply_and_process(gateway, BODY)
    gateway.fund.fail("insurance_status", BackendUnavailable(Source.FUND, "GetInsuranceStatus", "timeout"))
    (item,) = gateway.client.get("/api/v1/me/family", headers=gateway.auth()).get_json()["items"]
    assert item["policy"] is None
    assert item["policy_status_available"] is False
    assert item["latest_application"]["status"] == "issued"
