"""A citizen reads their policy's history and visits, picks a clinic and sees it in the status, over real HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.domain.calendar import MOSCOW
from tests.support.stack import Api, Stack, adult, application, apply_and_wait, citizen

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

TODAY = datetime.now(MOSCOW).date()  # the gateway dates applications on the registry's calendar
MOROZOV_ENP, MOROZOV_SNILS = "7748410819000012", "14830157653"  # seeded in mocks/data/registry.yaml
FULL_CLINIC = "770103"


def test_a_new_policy_has_a_history_and_its_holder_attaches_to_a_clinic_of_the_region(stack: Stack) -> None:
    api, snils = citizen(stack)
    done = apply_and_wait(api, application(adult(snils)))
    assert done["status"] == "issued", done
    enp = done["policy"]["enp"]

    history = api.get(f"/api/v1/policies/{enp}/history")
    assert history.status_code == 200, history.text
    [issued] = history.json()["items"]
    assert (issued["type"], issued["reason"], issued["date"]) == ("issued", "first_choice", TODAY.isoformat())
    assert issued["insurer"]["code"] == "77001" and issued["insurer"]["name"]

    clinics = api.get("/api/v1/clinics", params={"region_code": "77"})
    assert clinics.status_code == 200, clinics.text
    listed = {item["code"]: item for item in clinics.json()["items"]}
    assert listed[FULL_CLINIC]["accepts_attachment"] is False
    assert listed["770101"]["accepts_attachment"] is True
    assert api.get(f"/api/v1/policies/{enp}").json()["attachment"] is None

    full = api.post(f"/api/v1/policies/{enp}/attachment", {"clinic_code": FULL_CLINIC})
    assert full.status_code == 422, full.text
    assert full.headers["Content-Type"].startswith("application/problem+json")
    [reason] = full.json()["errors"]
    assert (reason["code"], reason["source"], reason["field"]) == ("CLINIC_FULL", "fund", "clinic_code")
    assert reason["message"] and reason["recommendation"]

    elsewhere = api.post(f"/api/v1/policies/{enp}/attachment", {"clinic_code": "500101"})
    assert elsewhere.json()["errors"][0]["code"] == "CLINIC_OTHER_REGION"

    attached = api.post(f"/api/v1/policies/{enp}/attachment", {"clinic_code": "770101"})
    assert attached.status_code == 200, attached.text
    assert attached.json()["clinic"]["code"] == "770101"
    assert attached.json()["since"] == TODAY.isoformat()
    status = api.get(f"/api/v1/policies/{enp}").json()
    assert status["attachment"] == attached.json()
    assert status["status"] == "active"


def test_a_second_choice_within_a_year_waits_unless_the_citizen_moved(stack: Stack) -> None:
    api, snils = citizen(stack)
    enp = apply_and_wait(api, application(adult(snils)))["policy"]["enp"]
    assert api.post(f"/api/v1/policies/{enp}/attachment", {"clinic_code": "770101"}).status_code == 200

    again = api.post(f"/api/v1/policies/{enp}/attachment", {"clinic_code": "770102"})
    assert again.status_code == 422, again.text
    [reason] = again.json()["errors"]
    assert (reason["code"], reason["field"]) == ("CLINIC_CHANGE_LIMIT", "reason")
    assert reason["details"]["allowed_from"] > TODAY.isoformat()

    moved = api.post(
        f"/api/v1/policies/{enp}/attachment",
        {"clinic_code": "770102", "reason": "relocation"},
        headers={"Idempotency-Key": f"move-{enp}"},
    )
    assert moved.status_code == 200, moved.text
    retried = api.post(
        f"/api/v1/policies/{enp}/attachment",
        {"clinic_code": "770102", "reason": "relocation"},
        headers={"Idempotency-Key": f"move-{enp}"},
    )
    assert retried.json() == moved.json(), "a retry gets the attachment made, not a refusal"
    assert api.get(f"/api/v1/policies/{enp}").json()["attachment"]["clinic"]["code"] == "770102"


def test_a_citizen_reads_their_visits_and_history_from_the_fund(stack: Stack) -> None:
    api = Api(stack, stack.token("user-morozov", MOROZOV_SNILS))

    visits = api.get(f"/api/v1/policies/{MOROZOV_ENP}/visits", params={"from": "2025-01-01", "to": "2025-12-31"})
    assert visits.status_code == 200, visits.text
    body = visits.json()
    assert [item["date"] for item in body["items"]] == ["2025-01-20", "2025-09-03"]
    assert [item["amount_paid"] for item in body["items"]] == ["1250.00", "980.00"]
    assert body["total_paid"] == "2230.00"
    assert body["items"][0]["clinic"]["code"] == "770101"
    assert body["items"][0]["care_kind"] == "outpatient"

    again = api.get(f"/api/v1/policies/{MOROZOV_ENP}/visits", params={"from": "2025-01-01", "to": "2025-12-31"})
    assert again.json() == body, "the fund answers the same visits every time"

    history = api.get(f"/api/v1/policies/{MOROZOV_ENP}/history").json()["items"]
    assert [(item["type"], item["insurer"]["code"]) for item in history] == [
        ("issued", "77002"),
        ("insurer_changed", "77001"),
    ]
    status = api.get(f"/api/v1/policies/{MOROZOV_ENP}").json()
    assert status["attachment"]["clinic"]["code"] == "770101"
    assert status["attachment"]["since"] == "2023-02-01"


def test_a_new_policy_has_no_visits_yet_and_a_wrong_period_is_refused(stack: Stack) -> None:
    api, snils = citizen(stack)
    enp = apply_and_wait(api, application(adult(snils)))["policy"]["enp"]

    body = api.get(f"/api/v1/policies/{enp}/visits").json()
    assert (body["items"], body["total_paid"]) == ([], "0.00")

    wrong = api.get(f"/api/v1/policies/{enp}/visits", params={"from": "2025-02-01", "to": "2025-01-01"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["code"] == "VISITS_PERIOD_INVALID"


def test_history_and_visits_of_another_citizens_policy_are_not_found(stack: Stack) -> None:
    api, _ = citizen(stack)
    for path in ("history", "visits"):
        assert api.get(f"/api/v1/policies/{MOROZOV_ENP}/{path}").status_code == 404, path
    assert api.post(f"/api/v1/policies/{MOROZOV_ENP}/attachment", {"clinic_code": "770102"}).status_code == 404
