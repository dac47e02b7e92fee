"""The access model of README's "Who may see what": each row tried by the person it lets in and by an attacker.

Anna (sub "anna") is the caller. Boris holds the policy BORIS_ENP; Лев is a child already in the registry with
LEV_ENP. Anna knows Boris's СНИЛС and passport and Лев's birth certificate: knowing a person's data must give her
nothing of theirs. Only an application of hers that the gateway has **issued** for a person makes her that
person's representative.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from gateway.app import create_app
from gateway.domain.identifiers import enp_check_digit, enp_facet
from gateway.domain.model import Document, DocumentType, Sex, Source
from gateway.ports import BackendRefusal
from tests.support.bodies import BODY, mother_as_representative
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore, unavailable
from tests.support.gateway import MINE, SNILS, Gateway
from tests.support.persons import ANNA, active_policy
from tests.support.services import RunningMocks

# Tokens come from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

BORIS_SNILS = "01024236877"
BORIS_ENP = "7748410819000012"
LEV_SNILS = "14978822329"
LEV_BORN = date.today() - timedelta(days=3 * 365)
LEV_CERTIFICATE = Document(DocumentType.BIRTH_CERTIFICATE_RF, "654321", LEV_BORN + timedelta(days=5), "IV-МЮ")
LEV_ENP = f"77{enp_facet(LEV_BORN, Sex.MALE)}00042" + enp_check_digit(f"77{enp_facet(LEV_BORN, Sex.MALE)}00042")
POLICY_READS = ("", "/history", "/visits", "/document")


@pytest.fixture
def world(mocks_server: RunningMocks) -> tuple[Gateway, FakeInsurers]:
    """Anna, Boris and Лев in the registry (Лев with insurer 77001); the insurers at hand to fail or refuse."""
    store, fund = FakeStore(), FakeFund()
    insurers = FakeInsurers({code: FakeInsurer(code) for code in ("77001", "77002", "50001")})
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"},
        store=store,
        fund=fund,
        insurers=insurers,
        kz_fund=FakeKzFund(),
    )
    anna = replace(ANNA, middle_name=None)
    fund.persons[MINE] = (anna, active_policy(MINE, person=anna))
    boris = replace(ANNA, last_name="Петров", first_name="Борис", sex=Sex.MALE, snils=BORIS_SNILS, middle_name=None)
    fund.persons[BORIS_ENP] = (boris, active_policy(BORIS_ENP, person=boris))
    lev = replace(
        ANNA,
        last_name="Иванов",
        first_name="Лев",
        middle_name=None,
        sex=Sex.MALE,
        birth_date=LEV_BORN,
        snils=LEV_SNILS,
        inn=None,
        identity_document=LEV_CERTIFICATE,
    )
    fund.persons[LEV_ENP] = (lev, active_policy(LEV_ENP, person=lev))
    return Gateway(app, app.test_client(), store, fund, mocks_server), insurers


def anna(gateway: Gateway, scope: str = "epolicy.apply epolicy.read epolicy.replace") -> dict[str, str]:
    return gateway.auth(sub="anna", snils=SNILS, scope=scope)


def borises_data() -> dict[str, Any]:
    """Boris's real data, as Anna might have learnt it."""
    body = copy.deepcopy(BODY)
    body["person"].update(last_name="Петров", first_name="Борис", sex="male", snils="010-242-368 77")
    body["person"].pop("middle_name")
    body["person"].pop("inn")
    return body


def for_lev(insurer_code: str = "77002") -> dict[str, Any]:
    """Anna applies for Лев as his mother."""
    body = copy.deepcopy(BODY)
    body["relation"] = "child"
    body["insurer_code"] = insurer_code
    body["person"] = {
        "last_name": "Иванов",
        "first_name": "Лев",
        "birth_date": LEV_BORN.isoformat(),
        "sex": "male",
        "citizenship": "RUS",
        "snils": LEV_SNILS,
        "identity_document": {
            "type": "birth_certificate_rf",
            "series": "IV-МЮ",
            "number": "654321",
            "issue_date": (LEV_BORN + timedelta(days=5)).isoformat(),
        },
    }
    body["representative"] = mother_as_representative()
    return body


def submit(gateway: Gateway, body: dict[str, Any], headers: dict[str, str]) -> str:
    answer = gateway.client.post("/api/v1/applications", json=body, headers=headers)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def process(gateway: Gateway, application_id: str) -> str:
    """Run every step the application can take now; its status after them."""
    processor = gateway.app.extensions["epolicy"].worker_context.processor()
    for _ in range(6):
        processor.run(application_id)
    application = gateway.store.get(application_id)
    assert application is not None
    return application.status.value


def reads_of(gateway: Gateway, enp: str, headers: dict[str, str]) -> list[int]:
    return [gateway.client.get(f"/api/v1/policies/{enp}{path}", headers=headers).status_code for path in POLICY_READS]


def replace_lost(gateway: Gateway, enp: str, headers: dict[str, str]) -> Any:
    return gateway.client.post(f"/api/v1/policies/{enp}/replacements", json={"reason": "lost"}, headers=headers)


# --- relation "self" is the token's own identity -------------------------------------------------------------


def test_applying_for_oneself_with_another_persons_snils_is_refused_and_stores_nothing(
    world: tuple[Gateway, FakeInsurers],
) -> None:
    gateway, _ = world
    for path in ("/api/v1/applications", "/api/v1/applications/validate"):
        answer = gateway.client.post(path, json=borises_data(), headers=anna(gateway))
        assert answer.status_code == 422, path
        assert [(r["code"], r["field"]) for r in answer.get_json()["errors"]] == [
            ("SELF_SNILS_MISMATCH", "person.snils")
        ]
    assert gateway.store.list_for_owner("anna", 10, None).items == []
    assert reads_of(gateway, BORIS_ENP, anna(gateway)) == [404] * len(POLICY_READS)


def test_a_citizen_token_without_a_snils_cannot_apply_for_oneself(world: tuple[Gateway, FakeInsurers]) -> None:
    gateway, _ = world
    headers = gateway.auth(sub="anna", snils=None)
    answer = gateway.client.post("/api/v1/applications", json=BODY, headers=headers)
    assert answer.status_code == 422
    reasons = answer.get_json()["errors"]
    assert [(r["code"], r["field"]) for r in reasons] == [("SELF_SNILS_MISMATCH", "person.snils")]
    assert reasons[0]["details"] == {"rule": "token_has_no_snils"}
    assert gateway.store.list_for_owner("anna", 10, None).items == []


def test_applying_for_oneself_with_ones_own_snils_goes_through(world: tuple[Gateway, FakeInsurers]) -> None:
    gateway, _ = world
    submit(gateway, {**BODY, "insurer_code": "77002"}, anna(gateway))


def test_the_representative_is_the_caller(world: tuple[Gateway, FakeInsurers]) -> None:
    gateway, _ = world
    body = for_lev()
    body["representative"]["snils"] = "010-242-368 77"  # Boris's: Anna may not act as him
    answer = gateway.client.post("/api/v1/applications", json=body, headers=anna(gateway))
    assert answer.status_code == 422
    assert [(r["code"], r["field"]) for r in answer.get_json()["errors"]] == [
        ("REPRESENTATIVE_NOT_CALLER", "representative.snils")
    ]


# --- representation is granted by an issued application only ------------------------------------------------


def test_a_pending_application_for_a_child_grants_nothing_of_the_childs_policy(
    world: tuple[Gateway, FakeInsurers],
) -> None:
    gateway, insurers = world
    insurers.ports["77002"].fail("issue_policy", unavailable(Source.INSURER, "IssuePolicy"), count=10)
    application_id = submit(gateway, for_lev(), anna(gateway))
    assert process(gateway, application_id) == "issuing"  # the fund found Лев; the insurer is out
    assert reads_of(gateway, LEV_ENP, anna(gateway)) == [404] * len(POLICY_READS)
    assert replace_lost(gateway, LEV_ENP, anna(gateway)).status_code == 404
    family = gateway.client.get("/api/v1/me/family", headers=anna(gateway)).get_json()["items"]
    assert [(member["relation"], member["enp"], member["policy"]) for member in family] == [("child", None, None)]
    assert family[0]["latest_application"]["status"] == "issuing"


def test_a_refused_application_shows_its_refusal_and_nothing_of_the_registry(
    world: tuple[Gateway, FakeInsurers],
) -> None:
    gateway, insurers = world
    refusal = BackendRefusal(Source.INSURER, "REGION_NOT_SERVED", "не обслуживаем", "region_code")
    insurers.ports["77002"].fail("issue_policy", refusal)
    application_id = submit(gateway, for_lev(), anna(gateway))
    assert process(gateway, application_id) == "rejected"
    own = gateway.client.get(f"/api/v1/applications/{application_id}", headers=anna(gateway))
    assert own.status_code == 200
    assert [r["code"] for r in own.get_json()["rejection"]["reasons"]] == ["REGION_NOT_SERVED"]
    assert own.get_json()["policy"] is None
    assert LEV_ENP not in own.get_data(as_text=True)
    assert reads_of(gateway, LEV_ENP, anna(gateway)) == [404] * len(POLICY_READS)
    assert replace_lost(gateway, LEV_ENP, anna(gateway)).status_code == 404
    family = gateway.client.get("/api/v1/me/family", headers=anna(gateway))
    assert LEV_ENP not in family.get_data(as_text=True)


def test_an_issued_application_for_a_child_lets_the_representative_read_and_replace(
    world: tuple[Gateway, FakeInsurers],
) -> None:
    gateway, _ = world
    application_id = submit(gateway, for_lev(), anna(gateway))
    assert process(gateway, application_id) == "issued"
    assert reads_of(gateway, LEV_ENP, anna(gateway)) == [200] * len(POLICY_READS)
    assert replace_lost(gateway, LEV_ENP, anna(gateway)).status_code == 202
    family = gateway.client.get("/api/v1/me/family", headers=anna(gateway)).get_json()["items"]
    assert [(member["relation"], member["enp"]) for member in family] == [("child", LEV_ENP)]


def test_another_citizens_issued_grant_is_not_annas(world: tuple[Gateway, FakeInsurers]) -> None:
    gateway, _ = world
    body = for_lev()
    application_id = submit(gateway, body, anna(gateway))
    assert process(gateway, application_id) == "issued"
    stranger = gateway.auth(sub="boris", snils=BORIS_SNILS)
    assert reads_of(gateway, LEV_ENP, stranger) == [404] * len(POLICY_READS)
    assert replace_lost(gateway, LEV_ENP, stranger).status_code == 404


# --- the holder, and service clients ------------------------------------------------------------------------


def test_the_holder_reads_and_replaces_their_own_policy_without_any_application(
    world: tuple[Gateway, FakeInsurers],
) -> None:
    gateway, _ = world
    assert reads_of(gateway, MINE, anna(gateway)) == [200] * len(POLICY_READS)
    assert replace_lost(gateway, MINE, anna(gateway)).status_code == 202


def test_knowing_a_persons_data_reaches_nothing_of_theirs(world: tuple[Gateway, FakeInsurers]) -> None:
    gateway, _ = world
    assert reads_of(gateway, BORIS_ENP, anna(gateway)) == [404] * len(POLICY_READS)
    assert replace_lost(gateway, BORIS_ENP, anna(gateway)).status_code == 404
    assert gateway.fund.persons[BORIS_ENP][0].last_name == "Петров"


def test_a_service_client_reads_any_policys_status_but_replaces_none(world: tuple[Gateway, FakeInsurers]) -> None:
    gateway, _ = world
    clinic = gateway.auth(sub="clinic-1", snils=None, scope="epolicy.eligibility epolicy.replace")
    assert gateway.client.get(f"/api/v1/policies/{BORIS_ENP}", headers=clinic).status_code == 200
    assert replace_lost(gateway, BORIS_ENP, clinic).status_code == 404
    assert gateway.client.get(f"/api/v1/policies/{BORIS_ENP}/document", headers=clinic).status_code in (403, 404)
