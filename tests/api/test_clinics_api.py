"""History, visits, clinics and attachment through the Flask test client, the fund faked."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from gateway.domain.calendar import MOSCOW
from gateway.domain.clinics import Attachment, AttachmentReason, CareKind, PolicyEvent, PolicyEventType, Visit
from gateway.domain.model import Source
from gateway.openapi import build_spec
from gateway.ports import BackendUnavailable
from tests.support.gateway import MINE, SNILS, THEIRS, Gateway, insure

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

TODAY = datetime.now(MOSCOW).date()  # the gateway dates applications on the registry's calendar


@pytest.fixture
def insured(gateway: Gateway) -> Gateway:
    insure(gateway, MINE, SNILS)
    insure(gateway, THEIRS, "01024236877")
    return gateway


def visit(day: date, amount: str, diagnosis: str | None = None) -> Visit:
    return Visit(f"V-{day}", day, "770101", "Поликлиника № 301", CareKind.OUTPATIENT, "Приём терапевта",
                 Decimal(amount), diagnosis)  # fmt: skip


def outage(operation: str) -> BackendUnavailable:
    return BackendUnavailable(Source.FUND, operation, "timeout", retry_after=7)


# --- history ------------------------------------------------------------------------------------------------


def test_the_history_lists_the_events_of_my_policy_with_insurer_names(insured: Gateway) -> None:
    insured.fund.events[MINE] = [
        PolicyEvent(date(2020, 1, 1), PolicyEventType.ISSUED, "77002", "77", "paper", "first_choice"),
        PolicyEvent(date(2023, 1, 10), PolicyEventType.INSURER_CHANGED, "77001", "77", "electronic", "own_wish"),
    ]

    answer = insured.client.get(f"/api/v1/policies/{MINE}/history", headers=insured.auth())

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["enp"] == MINE
    assert [(item["date"], item["type"], item["reason"]) for item in body["items"]] == [
        ("2020-01-01", "issued", "first_choice"),
        ("2023-01-10", "insurer_changed", "own_wish"),
    ]
    assert body["items"][1]["insurer"]["code"] == "77001"
    assert body["items"][1]["insurer"]["name"], "the name comes from the reference data"
    assert (body["items"][1]["region_code"], body["items"][1]["policy_form"]) == ("77", "electronic")


def test_the_history_of_someone_elses_policy_is_not_found(insured: Gateway) -> None:
    answer = insured.client.get(f"/api/v1/policies/{THEIRS}/history", headers=insured.auth())
    assert answer.status_code == 404
    assert "policy_history" not in insured.fund.calls


def test_the_history_is_for_citizens_not_for_clinics(insured: Gateway) -> None:
    clinic = insured.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")
    assert insured.client.get(f"/api/v1/policies/{MINE}/history", headers=clinic).status_code == 403


def test_the_history_of_an_enp_with_a_wrong_check_digit_is_refused(insured: Gateway) -> None:
    answer = insured.client.get("/api/v1/policies/7754900882000016/history", headers=insured.auth())
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["code"] == "ENP_CHECKSUM"


def test_the_history_when_the_fund_is_down_is_a_503_with_retry_after(insured: Gateway) -> None:
    insured.fund.fail("policy_history", outage("GetPolicyHistory"))
    answer = insured.client.get(f"/api/v1/policies/{MINE}/history", headers=insured.auth())
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "7"


# --- visits -------------------------------------------------------------------------------------------------


def test_visits_of_a_period_come_with_amounts_in_roubles_and_their_total(insured: Gateway) -> None:
    insured.fund.visit_log[MINE] = [
        visit(date(2024, 12, 30), "900.00"),
        visit(date(2025, 1, 20), "1250.00", "J00-J06 Острые респираторные инфекции"),
        visit(date(2025, 9, 3), "980.5"),
    ]

    answer = insured.client.get(f"/api/v1/policies/{MINE}/visits?from=2025-01-01&to=2025-12-31", headers=insured.auth())

    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["enp"], body["from"], body["to"]) == (MINE, "2025-01-01", "2025-12-31")
    assert [item["date"] for item in body["items"]] == ["2025-01-20", "2025-09-03"]
    first = body["items"][0]
    assert first["clinic"] == {"code": "770101", "name": "Поликлиника № 301"}
    assert (first["care_kind"], first["service"]) == ("outpatient", "Приём терапевта")
    assert first["diagnosis_group"] == "J00-J06 Острые респираторные инфекции"
    assert [item["amount_paid"] for item in body["items"]] == ["1250.00", "980.50"]
    assert body["total_paid"] == "2230.50"


def test_visits_without_a_period_are_all_of_them(insured: Gateway) -> None:
    insured.fund.visit_log[MINE] = [visit(date(2024, 12, 30), "900.00")]
    body = insured.client.get(f"/api/v1/policies/{MINE}/visits", headers=insured.auth()).get_json()
    assert (body["from"], body["to"], len(body["items"]), body["total_paid"]) == (None, None, 1, "900.00")


def test_no_visits_total_zero(insured: Gateway) -> None:
    body = insured.client.get(f"/api/v1/policies/{MINE}/visits", headers=insured.auth()).get_json()
    assert (body["items"], body["total_paid"]) == ([], "0.00")


@pytest.mark.parametrize(("query", "code", "field"), [
    ("from=2025-13-01", "FIELD_INVALID", "from"),
    ("to=yesterday", "FIELD_INVALID", "to"),
    ("from=2025-02-01&to=2025-01-31", "VISITS_PERIOD_INVALID", "from"),
])  # fmt: skip
def test_a_bad_period_is_refused_before_asking_the_fund(insured: Gateway, query: str, code: str, field: str) -> None:
    answer = insured.client.get(f"/api/v1/policies/{MINE}/visits?{query}", headers=insured.auth())
    assert answer.status_code == 422
    [reason] = answer.get_json()["errors"]
    assert (reason["code"], reason["field"], reason["source"]) == (code, field, "gateway")
    assert reason["message"] and reason["recommendation"]
    assert "visits" not in insured.fund.calls


def test_visits_of_someone_elses_policy_are_not_found(insured: Gateway) -> None:
    assert insured.client.get(f"/api/v1/policies/{THEIRS}/visits", headers=insured.auth()).status_code == 404


def test_visits_when_the_fund_is_down_are_a_503(insured: Gateway) -> None:
    insured.fund.fail("visits", outage("GetVisits"))
    answer = insured.client.get(f"/api/v1/policies/{MINE}/visits", headers=insured.auth())
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "7")


# --- clinics ------------------------------------------------------------------------------------------------


def test_the_clinics_of_a_region_are_listed_for_any_valid_token(insured: Gateway) -> None:
    clinic = insured.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")
    answer = insured.client.get("/api/v1/clinics?region_code=77", headers=clinic)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["region_code"] == "77"
    assert [(item["code"], item["accepts_attachment"]) for item in body["items"]] == [
        ("770101", True),
        ("770102", True),
        ("770103", False),
    ]
    assert body["items"][0]["address"] == "г. Москва, ул. Примерная, д. 1"
    assert body["items"][1]["phone"] is None


def test_clinics_need_a_region_code_and_a_token(insured: Gateway) -> None:
    assert insured.client.get("/api/v1/clinics?region_code=7", headers=insured.auth()).status_code == 400
    assert insured.client.get("/api/v1/clinics", headers=insured.auth()).status_code == 400
    assert insured.client.get("/api/v1/clinics?region_code=77").status_code == 401


def test_clinics_when_the_fund_is_down_are_a_503(insured: Gateway) -> None:
    insured.fund.fail("list_clinics", outage("ListClinics"))
    assert insured.client.get("/api/v1/clinics?region_code=77", headers=insured.auth()).status_code == 503


# --- attachment ---------------------------------------------------------------------------------------------


def attach(gateway: Gateway, body: object, enp: str = MINE, **headers: str) -> tuple[int, dict[str, Any]]:
    answer = gateway.client.post(f"/api/v1/policies/{enp}/attachment", json=body, headers={**gateway.auth(), **headers})
    data: dict[str, Any] = answer.get_json()
    return answer.status_code, data


def test_attaching_to_a_clinic_answers_the_attachment_and_the_status_shows_it(insured: Gateway) -> None:
    before = insured.client.get(f"/api/v1/policies/{MINE}", headers=insured.auth()).get_json()
    assert before["attachment"] is None

    status, body = attach(insured, {"clinic_code": "770102"})

    assert status == 200
    assert body == {
        "clinic": {"code": "770102", "name": "Поликлиника № 302"},
        "since": TODAY.isoformat(),
        "reason": "choice",
    }
    after = insured.client.get(f"/api/v1/policies/{MINE}", headers=insured.auth()).get_json()
    assert after["attachment"] == body
    assert after["status"] == "active", "the fields of API.md stay as they are"


def test_a_clinic_sees_the_attachment_in_the_status_too(insured: Gateway) -> None:
    insured.fund.attachments[THEIRS] = Attachment(
        THEIRS, "770101", "Поликлиника № 301", date(2024, 5, 6), AttachmentReason.RELOCATION
    )
    clinic = insured.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")
    body = insured.client.get(f"/api/v1/policies/{THEIRS}", headers=clinic).get_json()
    assert body["attachment"]["clinic"]["code"] == "770101"
    assert (body["attachment"]["since"], body["attachment"]["reason"]) == ("2024-05-06", "relocation")


def test_the_status_when_the_policy_card_cannot_be_read_is_a_503(insured: Gateway) -> None:
    insured.fund.fail("policy_card", outage("GetPolicyCard"))
    assert insured.client.get(f"/api/v1/policies/{MINE}", headers=insured.auth()).status_code == 503


@pytest.mark.parametrize(("clinic", "code"), [
    ("770103", "CLINIC_FULL"),
    ("500101", "CLINIC_OTHER_REGION"),
    ("779999", "CLINIC_UNKNOWN"),
])  # fmt: skip
def test_a_refusal_of_the_fund_is_a_422_with_the_catalogue_reason(insured: Gateway, clinic: str, code: str) -> None:
    status, body = attach(insured, {"clinic_code": clinic})
    assert status == 422
    [reason] = body["errors"]
    assert (reason["code"], reason["source"], reason["field"]) == (code, "fund", "clinic_code")
    assert reason["message"] and reason["recommendation"]


def test_a_second_choice_within_a_year_says_when_it_becomes_possible(insured: Gateway) -> None:
    assert attach(insured, {"clinic_code": "770101"})[0] == 200

    status, body = attach(insured, {"clinic_code": "770102"})

    assert status == 422
    [reason] = body["errors"]
    assert (reason["code"], reason["field"]) == ("CLINIC_CHANGE_LIMIT", "reason")
    assert reason["details"]["allowed_from"] > TODAY.isoformat()
    assert attach(insured, {"clinic_code": "770102", "reason": "relocation"})[0] == 200


def test_attaching_twice_to_the_same_clinic_is_refused_without_a_key(insured: Gateway) -> None:
    attach(insured, {"clinic_code": "770101"})
    status, body = attach(insured, {"clinic_code": "770101", "reason": "relocation"})
    assert status == 422
    assert body["errors"][0]["code"] == "CLINIC_ALREADY_ATTACHED"


def test_a_retry_with_the_same_idempotency_key_gets_the_attachment_made(insured: Gateway) -> None:
    first = attach(insured, {"clinic_code": "770101"}, **{"Idempotency-Key": "attach-1"})
    again = attach(insured, {"clinic_code": "770101"}, **{"Idempotency-Key": "attach-1"})
    assert first == again
    assert first[0] == 200
    assert len(insured.fund.attached) == 1
    [message_id] = insured.fund.attached
    assert message_id.startswith("at_") and len(message_id) <= 64


def test_each_attachment_goes_to_the_fund_with_its_own_message_id(insured: Gateway) -> None:
    attach(insured, {"clinic_code": "770101"})
    attach(insured, {"clinic_code": "770102", "reason": "relocation"})
    assert len(insured.fund.attached) == 2
    assert all(message_id.startswith("at_") for message_id in insured.fund.attached)


@pytest.mark.parametrize(("body", "code", "field"), [
    ({}, "FIELD_REQUIRED", "clinic_code"),
    ({"clinic_code": "77"}, "FIELD_INVALID", "clinic_code"),
    ({"clinic_code": "770101", "reason": "whim"}, "FIELD_INVALID", "reason"),
    ({"clinic_code": "770101", "insurer_code": "77001"}, "FIELD_INVALID", "insurer_code"),
])  # fmt: skip
def test_a_bad_body_is_refused_before_asking_the_fund(
    insured: Gateway, body: dict[str, str], code: str, field: str
) -> None:
    status, answer = attach(insured, body)
    assert status == 422
    assert (answer["errors"][0]["code"], answer["errors"][0]["field"]) == (code, field)
    assert "attach_to_clinic" not in insured.fund.calls


def test_attaching_needs_the_apply_scope_and_my_own_policy(insured: Gateway) -> None:
    read_only = insured.auth(scope="epolicy.read")
    answer = insured.client.post(f"/api/v1/policies/{MINE}/attachment", json={"clinic_code": "770101"},
                                 headers=read_only)  # fmt: skip
    assert answer.status_code == 403
    assert attach(insured, {"clinic_code": "770101"}, enp=THEIRS)[0] == 404
    assert "attach_to_clinic" not in insured.fund.calls


def test_attaching_when_the_fund_is_down_is_a_503_with_retry_after(insured: Gateway) -> None:
    insured.fund.fail("attach_to_clinic", outage("AttachToClinic"))
    answer = insured.client.post(
        f"/api/v1/policies/{MINE}/attachment", json={"clinic_code": "770101"}, headers=insured.auth()
    )
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "7")


def test_attaching_takes_only_json(insured: Gateway) -> None:
    answer = insured.client.post(
        f"/api/v1/policies/{MINE}/attachment", data="clinic_code=770101", headers=insured.auth()
    )
    assert answer.status_code == 415


# --- the contract -------------------------------------------------------------------------------------------


def test_the_openapi_document_lists_the_new_operations(insured: Gateway) -> None:
    paths = build_spec().to_dict()["paths"]
    assert {"/api/v1/policies/{enp}/history", "/api/v1/policies/{enp}/visits", "/api/v1/clinics",
            "/api/v1/policies/{enp}/attachment"} <= set(paths)  # fmt: skip
    policy = build_spec().to_dict()["components"]["schemas"]["Policy"]
    assert "attachment" in policy["required"]
