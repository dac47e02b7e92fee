"""Two identical replacements sent at once: one is accepted, the other answers 409 DUPLICATE_APPLICATION.

Run over real SQL stores (an SQLite file, a PostgreSQL schema), since it is the database's unique index that holds
the rule across threads and gateway processes; the API answers from the store's refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from tests.support.databases import fresh_schema
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund
from tests.support.gateway import MINE, SNILS, Gateway, insure
from tests.support.services import RunningMocks

# Tokens come from the mock OAuth server, and one database is PostgreSQL on loopback.
pytestmark = pytest.mark.network

LOST = {"reason": "lost", "policy_form": "electronic"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
        upgrade(url)
        yield url
        return
    with fresh_schema(request.getfixturevalue("postgresql_server")) as url:
        upgrade(url)
        yield url


@pytest.fixture
def gateway(database_url: str, mocks_server: RunningMocks) -> Iterator[Gateway]:
    engine = make_engine(database_url, pool_size=8)
    store = SqlApplicationStore(engine)
    fund = FakeFund()
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"},
        store=store,
        fund=fund,
        insurers=FakeInsurers({code: FakeInsurer(code) for code in ("77001", "77002", "50001")}),
        kz_fund=FakeKzFund(),
    )
    found = Gateway(app, app.test_client(), store, fund, mocks_server)
    insure(found, MINE, SNILS)
    yield found
    engine.dispose()


def at_once(gateway: Gateway, headers: list[dict[str, str]]) -> list[tuple[int, Any]]:
    """POST the same replacement from as many threads as there are header sets, released together."""
    barrier = threading.Barrier(len(headers))
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def send(extra: dict[str, str]) -> None:
        client = gateway.app.test_client()
        barrier.wait()
        answer = client.post(f"/api/v1/policies/{MINE}/replacements", json=LOST, headers=extra)
        with lock:
            answers.append((answer.status_code, answer.get_json()))

    threads = [threading.Thread(target=send, args=(extra,)) for extra in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(answers, key=lambda answer: answer[0])


def test_two_replacements_at_once_without_a_key_give_one_application(gateway: Gateway) -> None:
    token = gateway.auth(sub="anna", snils=SNILS)

    answers = at_once(gateway, [token, token, token])

    assert [status for status, _ in answers] == [202, 409, 409]
    for _, body in answers[1:]:
        assert [(r["code"], r["source"]) for r in body["errors"]] == [("DUPLICATE_APPLICATION", "gateway")]
    assert len(gateway.store.list_for_owner("anna", 10, None).items) == 1


def test_a_replacement_while_one_is_in_flight_is_refused_and_its_key_answers_the_same(gateway: Gateway) -> None:
    token = gateway.auth(sub="anna", snils=SNILS)
    first = gateway.client.post(f"/api/v1/policies/{MINE}/replacements", json=LOST, headers=token)
    assert first.status_code == 202

    keyed = {**token, "Idempotency-Key": "second-try"}
    second = gateway.client.post(f"/api/v1/policies/{MINE}/replacements", json=LOST, headers=keyed)
    again = gateway.client.post(f"/api/v1/policies/{MINE}/replacements", json=LOST, headers=keyed)

    assert second.status_code == again.status_code == 409
    assert again.get_json() == second.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(gateway.store.list_for_owner("anna", 10, None).items) == 1
