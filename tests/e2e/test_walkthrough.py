"""A citizen, a clinic and QA use the running stack over real HTTP: apply, follow, check, replace, be refused."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from mocks.calendar import moscow_today
from tests.support.stack import Api, Stack, adult, application, apply_and_wait, citizen

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

TODAY = moscow_today()  # the gateway and the registry work in Moscow calendar days


def test_a_citizens_new_policy_is_issued_and_its_status_can_be_read(stack: Stack) -> None:
    api, snils = citizen(stack)
    done = apply_and_wait(api, application(adult(snils)))
    assert done["status"] == "issued", done
    assert [entry["status"] for entry in done["history"] if "note" not in entry] == [
        "accepted",
        "verifying",
        "issuing",
        "issued",
    ]
    enp = done["policy"]["enp"]
    assert enp[:2] == "77"
    assert enp[2:10] == "54900882", "the ЕНП carries the birth facet of 1990-05-17, female"
    status = api.get(f"/api/v1/policies/{enp}")
    assert status.status_code == 200, status.text
    policy = status.json()
    assert (policy["status"], policy["insurer"]["code"], policy["policy_form"]) == ("active", "77001", "electronic")
    assert policy["holder"] == {"last_name": "И******", "first_name": "Анна", "birth_date": "1990-05-17"}


def newborn(mother: dict[str, Any]) -> dict[str, Any]:
    born = TODAY - timedelta(days=20)
    child = {
        "last_name": "Смирнов",
        "first_name": "Лев",
        "birth_date": born.isoformat(),
        "sex": "male",
        "citizenship": "RUS",
        "identity_document": {
            "type": "birth_certificate_rf",
            "series": "IV-МЮ",
            "number": f"{random.randint(1, 999_999):06d}",
            "issue_date": (born + timedelta(days=5)).isoformat(),
            "issuer": "Отдел ЗАГС Пресненского района",
        },
    }
    representative = {key: mother[key] for key in ("last_name", "first_name", "birth_date", "snils")}
    representative |= {"identity_document": mother["identity_document"], "authority": {"type": "parent"}}
    return {"person": child, "representative": representative, "relation": "child"}


def test_a_newborn_without_snils_is_insured_with_the_mothers_insurer_and_joins_her_family(stack: Stack) -> None:
    api, snils = citizen(stack)
    mother = adult(snils)
    assert apply_and_wait(api, application(mother, insurer="77002"))["status"] == "issued"
    child = newborn(mother)
    refused = apply_and_wait(api, application(child.pop("person"), insurer="77001", **child))
    assert refused["status"] == "rejected", refused
    (reason,) = refused["rejection"]["reasons"]
    assert (reason["code"], reason["field"]) == ("NEWBORN_MOTHER_INSURER", "insurer_code")
    assert reason["details"]["mothers_insurer"] == "77002"
    child = newborn(mother)
    done = apply_and_wait(api, application(child.pop("person"), insurer="77002", **child))
    assert done["status"] == "issued", done
    family = api.get("/api/v1/me/family").json()["items"]
    assert [(member["relation"], member["policy"]["insurer"]["code"]) for member in family] == [
        ("self", "77002"),
        ("child", "77002"),
    ]


def test_a_name_change_keeps_the_enp(stack: Stack) -> None:
    api, snils = citizen(stack)
    enp = apply_and_wait(api, application(adult(snils)))["policy"]["enp"]
    answer = api.post(
        f"/api/v1/policies/{enp}/replacements",
        {"reason": "personal_data_change", "person": {"last_name": "Петрова"}, "policy_form": "electronic"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["kind"] == "replacement"
    done = api.until_final(answer.headers["Location"])
    assert done["status"] == "issued", done
    assert done["policy"]["enp"] == enp
    assert api.get(f"/api/v1/policies/{enp}").json()["holder"]["last_name"] == "П******"


def test_moving_to_another_region_changes_the_insurer_and_keeps_the_enp(stack: Stack) -> None:
    api, snils = citizen(stack)
    enp = apply_and_wait(api, application(adult(snils)))["policy"]["enp"]
    answer = api.post(
        f"/api/v1/policies/{enp}/replacements",
        {"reason": "relocation", "region_code": "50", "insurer_code": "50001", "policy_form": "electronic"},
    )
    assert answer.status_code == 202, answer.text
    done = api.until_final(answer.headers["Location"])
    assert done["status"] == "issued", done
    assert (done["policy"]["enp"], done["policy"]["insurer_code"]) == (enp, "50001")
    policy = api.get(f"/api/v1/policies/{enp}").json()
    assert (policy["insurer"]["code"], policy["region_code"]) == ("50001", "50")


def test_an_insurer_change_by_wish_follows_the_1_november_rule(stack: Stack) -> None:
    api, snils = citizen(stack)
    enp = apply_and_wait(api, application(adult(snils)))["policy"]["enp"]
    answer = api.post(
        f"/api/v1/policies/{enp}/replacements",
        {"reason": "insurer_change", "insurer_code": "77002", "policy_form": "electronic"},
    )
    assert answer.status_code == 202, answer.text
    done = api.until_final(answer.headers["Location"])
    if date(TODAY.year, 11, 1) >= TODAY:
        assert done["status"] == "issued", done
        assert (done["policy"]["enp"], done["policy"]["insurer_code"]) == (enp, "77002")
    else:
        assert done["status"] == "rejected", done
        (reason,) = done["rejection"]["reasons"]
        assert (reason["code"], reason["source"]) == ("INSURER_CHANGE_AFTER_NOVEMBER", "fund")
        assert reason["details"]["allowed_from"] == f"{TODAY.year + 1}-01-01"


def test_an_input_error_is_refused_at_once_with_message_and_recommendation(stack: Stack) -> None:
    api, _ = citizen(stack)
    answer = api.post("/api/v1/applications", application(adult("112-233-445 00")))
    assert answer.status_code == 422
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    (reason,) = [r for r in answer.json()["errors"] if r["code"] == "SNILS_CHECKSUM"]
    assert (reason["field"], reason["source"]) == ("person.snils", "gateway")
    assert reason["message"]
    assert reason["recommendation"]


def test_a_refusal_of_the_fund_reaches_the_citizen(stack: Stack) -> None:
    # The token's own СНИЛС, which the registry holds for a person of another name (a seeded record): the name
    # in the application is not the one the fund knows.
    snils = "14830157653"
    api = Api(stack, stack.token(f"user-{uuid.uuid4().hex[:8]}", snils))
    done = apply_and_wait(api, application(adult(snils)))
    assert done["status"] == "rejected", done
    (reason,) = done["rejection"]["reasons"]
    assert (reason["code"], reason["source"], reason["field"]) == ("SNILS_OTHER_PERSON", "fund", "person.snils")
    assert reason["message"]
    assert reason["recommendation"]


def test_a_refusal_of_the_insurer_reaches_the_citizen(stack: Stack) -> None:
    api, snils = citizen(stack)
    done = apply_and_wait(api, application(adult(snils), insurer="50001", region="50", policy_form="plastic"))
    assert done["status"] == "rejected", done
    (reason,) = done["rejection"]["reasons"]
    assert (reason["code"], reason["source"], reason["field"]) == ("POLICY_FORM_NOT_ISSUED", "insurer", "policy_form")


def test_another_citizen_gets_404_for_what_is_not_theirs(stack: Stack) -> None:
    owner, snils = citizen(stack)
    done = apply_and_wait(owner, application(adult(snils)))
    stranger, _ = citizen(stack)
    assert stranger.get(f"/api/v1/applications/{done['id']}").status_code == 404
    assert stranger.get(f"/api/v1/policies/{done['policy']['enp']}").status_code == 404
    assert stranger.delete(f"/api/v1/applications/{done['id']}").status_code == 404
    assert done["id"] not in [item["id"] for item in stranger.get("/api/v1/applications").json()["items"]]


def test_a_clinic_reads_any_policy_with_an_eligibility_token(stack: Stack) -> None:
    api, snils = citizen(stack)
    enp = apply_and_wait(api, application(adult(snils)))["policy"]["enp"]
    clinic = Api(stack, stack.clinic_token())
    answer = clinic.get(f"/api/v1/policies/{enp}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "active"
    assert clinic.get("/api/v1/applications").status_code == 403


def test_the_same_idempotency_key_twice_creates_one_application(stack: Stack) -> None:
    api, snils = citizen(stack)
    body = application(adult(snils))
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.post("/api/v1/applications", body, headers=key)
    again = api.post("/api/v1/applications", body, headers=key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert len(api.get("/api/v1/applications").json()["items"]) == 1
    other = api.post("/api/v1/applications", application(adult(snils, first_name="Мария")), headers=key)
    assert other.status_code == 422


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/v1/rejection-reasons"])
def test_public_endpoints_answer_without_a_token(stack: Stack, path: str) -> None:
    answer = requests.get(stack.gateway + path, timeout=10)
    assert answer.status_code == 200, answer.text


def test_an_insurer_whose_contract_ended_can_be_left_at_any_time_of_the_year(stack: Stack) -> None:
    # A seeded holder insured with 77003, whose admission ended on 2024-12-31: no yearly limit, no 1 November rule.
    api = Api(stack, stack.token("lebedeva", "15940268784"))
    enp = "7752020876000012"
    assert api.get(f"/api/v1/policies/{enp}").json()["insurer"]["code"] == "77003"
    answer = api.post(
        f"/api/v1/policies/{enp}/replacements",
        {"reason": "insurer_change", "insurer_code": "77002", "policy_form": "electronic"},
    )
    assert answer.status_code == 202, answer.text
    done = api.until_final(answer.headers["Location"])
    assert done["status"] == "issued", done
    assert api.get(f"/api/v1/policies/{enp}").json()["insurer"]["code"] == "77002"


def foreigner(**changes: Any) -> dict[str, Any]:
    person: dict[str, Any] = {
        "last_name": "Рахимов",
        "first_name": "Тимур",
        "birth_date": "1992-08-14",
        "sex": "male",
        "citizenship": "TJK",
        "identity_document": {
            "type": "foreign_passport",
            "number": f"4{random.randint(0, 99_999_999):08d}",
            "issue_date": "2021-03-01",
        },
        "residence_document": {
            "type": "temporary_residence_permit",
            "number": f"{random.randint(0, 999_999):06d}",
            "issue_date": (TODAY - timedelta(days=60)).isoformat(),
            "expiry_date": (TODAY + timedelta(days=3 * 365)).isoformat(),
        },
    }
    person.update(changes)
    return person


def test_a_foreigners_policy_ends_with_the_year(stack: Stack) -> None:
    api, snils = citizen(stack)  # one applies for oneself on the СНИЛС the identity provider confirmed
    done = apply_and_wait(api, application(foreigner(snils=snils)))
    assert done["status"] == "issued", done
    assert done["policy"]["valid_to"] == f"{TODAY.year}-12-31"


def test_a_highly_qualified_specialist_is_refused_with_the_reason(stack: Stack) -> None:
    api, snils = citizen(stack)
    specialist = foreigner(snils=snils, category="highly_qualified_specialist")
    answer = api.post("/api/v1/applications", application(specialist))
    assert answer.status_code == 422
    assert [(r["code"], r["field"]) for r in answer.json()["errors"]] == [
        ("HIGHLY_QUALIFIED_SPECIALIST", "person.category")
    ]


def test_a_foreigners_expired_policy_is_renewed_with_the_residence_document(stack: Stack) -> None:
    # A seeded holder from Uzbekistan whose policy ended on 2025-12-31; the residence permit runs to 2029.
    api = Api(stack, stack.token("karimov", "16051379850"))
    enp = "7757110838000013"
    assert api.get(f"/api/v1/policies/{enp}").json()["status"] == "expired"
    permit = {
        "type": "residence_permit",
        "series": "82",
        "number": "0123456",
        "issue_date": "2024-03-15",
        "expiry_date": "2029-03-14",
    }
    answer = api.post(
        f"/api/v1/policies/{enp}/replacements",
        {"reason": "expiry_renewal", "person": {"residence_document": permit}, "policy_form": "electronic"},
    )
    assert answer.status_code == 202, answer.text
    done = api.until_final(answer.headers["Location"])
    assert done["status"] == "issued", done
    status = api.get(f"/api/v1/policies/{enp}").json()
    assert (status["status"], status["valid_to"]) == ("active", f"{TODAY.year}-12-31")


def test_a_child_who_turned_14_sees_the_restriction_in_the_status(stack: Stack) -> None:
    api = Api(stack, stack.token("sokolova", "17162480966"))
    status = api.get("/api/v1/policies/7796789779000018").json()
    assert [restriction["code"] for restriction in status["restrictions"]] == ["BIRTH_CERTIFICATE_AGE"]


def test_an_eaeu_workers_policy_ends_with_the_labour_contract(stack: Stack) -> None:
    api, snils = citizen(stack)
    contract_end = TODAY + timedelta(days=20)
    contract = {
        "type": "labour_contract_eaeu",
        "number": f"{random.randint(1, 999)}/{TODAY.year}",
        "issue_date": (TODAY - timedelta(days=100)).isoformat(),
        "expiry_date": contract_end.isoformat(),
    }
    worker = foreigner(snils=snils, citizenship="KGZ", category="eaeu_worker", residence_document=contract)
    done = apply_and_wait(api, application(worker))
    assert done["status"] == "issued", done
    assert done["policy"]["valid_to"] == min(contract_end, date(TODAY.year, 12, 31)).isoformat()
