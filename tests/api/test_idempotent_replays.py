"""A refusal kept under an Idempotency-Key is answered again byte for byte: by another gateway process over the
same database, and from a key kept in the form of before migration 0007 (status and rendered problem+json).

Run over real SQL stores (an SQLite file, a PostgreSQL schema): the reasons come back from the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.test import TestResponse

from gateway.api.common import fingerprint
from gateway.app import create_app
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from tests.support.bodies import body
from tests.support.databases import fresh_schema
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund
from tests.support.gateway import MINE, SNILS, Gateway, insure
from tests.support.services import RunningMocks

# Tokens come from the mock OAuth server, and one database is PostgreSQL on loopback.
pytestmark = pytest.mark.network

APPLY = "/api/v1/applications"
REPLACE = f"/api/v1/policies/{MINE}/replacements"
LOST = {"reason": "lost", "policy_form": "electronic"}
# The headers a refusal's answer carries apart from the ids of its request, which differ on every request.
PER_REQUEST = {"X-Request-ID", "X-Correlation-ID"}

# What the gateway answered before 0007 to `refused_by_the_schema()` under a key, as it kept it in the database.
OLD_FORM_BODY = (
    '{"detail": "Запрос не прошёл проверку: исправьте данные в отмеченных полях.", "errors": [{"code": '
    '"FIELD_REQUIRED", "details": {}, "field": "person.last_name", "message": "В заявлении не заполнено '
    'обязательное поле.", "recommendation": "Заполните поле, отмеченное в форме, и отправьте заявление ещё раз.", '
    '"source": "gateway"}, {"code": "SNILS_CHECKSUM", "details": {}, "field": "person.snils", "message": '
    '"Контрольное число СНИЛС не совпадает: проверьте номер.", "recommendation": "Сверьте СНИЛС с документом '
    '(страховым свидетельством или выпиской из СФР) и введите его ещё раз.", "source": "gateway"}], "instance": '
    '"/api/v1/applications", "status": 422, "title": "Данные заявления не прошли проверку", "type": '
    '"https://epolicy.example/problems/validation"}'
)


def refused_by_the_schema() -> dict[str, Any]:
    """A body the schema refuses (no last name), with a rule broken too (the СНИЛС's check digits)."""
    data = body(snils="112-233-445 00")
    del data["person"]["last_name"]
    return data


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
        return
    with fresh_schema(request.getfixturevalue("postgresql_server")) as url:
        yield url


@pytest.fixture
def start(database_url: str, mocks_server: RunningMocks) -> Iterator[Any]:
    """Start a gateway process over the database (migrated to head first); each start is a process of its own."""
    engines = []

    def started() -> Gateway:
        upgrade(database_url)
        engine = make_engine(database_url, pool_size=2)
        engines.append(engine)
        store, fund = SqlApplicationStore(engine), FakeFund()
        app: Flask = create_app(
            {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"},
            store=store,
            fund=fund,
            insurers=FakeInsurers({code: FakeInsurer(code) for code in ("77001", "77002", "50001")}),
            kz_fund=FakeKzFund(),
        )
        found = Gateway(app, app.test_client(), store, fund, mocks_server)  # type: ignore[arg-type]
        insure(found, MINE, SNILS)
        return found

    yield started
    for engine in engines:
        engine.dispose()


def answer_of(response: TestResponse) -> tuple[int, dict[str, str], bytes]:
    headers = {name: value for name, value in response.headers.items() if name not in PER_REQUEST}
    return response.status_code, headers, response.data


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        (APPLY, refused_by_the_schema(), 422),
        (APPLY, body(snils="112-233-445 00"), 422),  # loads, and breaks a rule
        (REPLACE, {**LOST, "policy_form": "hologram"}, 422),
    ],
    ids=["schema", "rule", "replacement"],
)
def test_a_refusal_is_answered_again_the_same_by_a_gateway_started_anew(
    start: Any, path: str, data: dict[str, Any], status: int
) -> None:
    first_process = start()
    headers = {**first_process.auth(sub="anna", snils=SNILS), "Idempotency-Key": "refused-1"}
    first = first_process.client.post(path, json=data, headers=headers)

    again = start().client.post(path, json=data, headers=headers)

    assert first.status_code == status
    assert "Idempotent-Replayed" not in first.headers
    replayed_status, replayed_headers, replayed_body = answer_of(again)
    assert replayed_headers.pop("Idempotent-Replayed") == "true"
    assert (replayed_status, replayed_headers, replayed_body) == answer_of(first)


def test_a_duplicate_replacement_refused_under_a_key_is_answered_again_the_same(start: Any) -> None:
    gateway = start()
    token = gateway.auth(sub="anna", snils=SNILS)
    assert gateway.client.post(REPLACE, json=LOST, headers=token).status_code == 202
    keyed = {**token, "Idempotency-Key": "second-try"}
    second = gateway.client.post(REPLACE, json=LOST, headers=keyed)

    again = start().client.post(REPLACE, json=LOST, headers=keyed)

    assert second.status_code == 409
    assert second.get_json()["errors"][0]["details"] == {"enp": MINE}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.data == second.data


def test_a_refusal_kept_before_0007_is_answered_as_it_was_then(database_url: str, start: Any) -> None:
    upgrade(database_url, "0006")
    data = refused_by_the_schema()
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO idempotency_keys (owner_sub, key, fingerprint, state, status_code, body, created_at) "
                    "VALUES ('user-1', 'kept-before', :fingerprint, 'done', 422, :body, :created_at)"
                ),
                {
                    "fingerprint": fingerprint(data, f"POST {APPLY}"),
                    "body": OLD_FORM_BODY,
                    "created_at": datetime.now(UTC).replace(tzinfo=None),
                },
            )
    finally:
        engine.dispose()
    gateway = start()  # migrates to head

    again = gateway.client.post(APPLY, json=data, headers={**gateway.auth(), "Idempotency-Key": "kept-before"})

    assert (again.status_code, again.mimetype) == (422, "application/problem+json")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data(as_text=True) == OLD_FORM_BODY
    assert gateway.store.list_for_owner("user-1", 10, None).items == []
