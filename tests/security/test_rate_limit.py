"""Rate limits per token subject, per OAuth client and per address: 429 problem+json with Retry-After."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.test import TestResponse

from gateway.app import create_app
from tests.conftest import RunningMocks, missing_service
from tests.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore

REDIS_URL = os.environ.get("EPOLICY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SMALL = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_PER_SUBJECT": "3/minute",
    "RATELIMIT_PER_CLIENT": "5/minute",
    "RATELIMIT_PER_ADDRESS": "2/minute",
}
READ = "/api/v1/applications"


def limited_app(mocks: RunningMocks, **config: Any) -> Flask:
    settings = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks.base_url}/oauth", **SMALL, **config}
    insurers = FakeInsurers({code: FakeInsurer(code) for code in ("77001",)})
    return create_app(settings, store=FakeStore(), fund=FakeFund(), insurers=insurers, kz_fund=FakeKzFund())


def bearer(mocks: RunningMocks, sub: str, client_id: str = "citizen-app") -> dict[str, str]:
    body = {"sub": sub, "scope": "epolicy.read", "client_id": client_id}
    answer = requests.post(f"{mocks.base_url}/oauth/test/token", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def assert_too_many(answer: TestResponse) -> None:
    assert (answer.status_code, answer.mimetype) == (429, "application/problem+json")
    problem = answer.get_json()
    assert (problem["status"], problem["type"]) == (429, "https://epolicy.example/problems/rate-limited")
    assert 1 <= int(answer.headers["Retry-After"]) <= 61, "at most the rest of the one-minute window"
    assert answer.headers["X-Content-Type-Options"] == "nosniff", "a refusal is secured like any answer"


@pytest.fixture
def app(mocks_server: RunningMocks) -> Flask:
    return limited_app(mocks_server)


def test_a_subject_over_its_limit_gets_429_with_retry_after(app: Flask, mocks_server: RunningMocks) -> None:
    client, anna = app.test_client(), bearer(mocks_server, "anna")
    statuses = [client.get(READ, headers=anna).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert_too_many(client.get(READ, headers=anna))
    assert client.get(READ, headers=bearer(mocks_server, "boris")).status_code == 200, "another citizen is not slowed"


def test_the_subject_limit_counts_every_endpoint_together(app: Flask, mocks_server: RunningMocks) -> None:
    client, anna = app.test_client(), bearer(mocks_server, "anna")
    client.get(READ, headers=anna)
    client.get("/api/v1/me/family", headers=anna)
    client.get("/api/v1/applications/app_unknown", headers=anna)
    assert_too_many(client.get("/api/v1/me/family", headers=anna))


def test_a_client_over_its_limit_gets_429_whoever_its_users_are(app: Flask, mocks_server: RunningMocks) -> None:
    client = app.test_client()
    for index in range(5):
        assert client.get(READ, headers=bearer(mocks_server, f"user-{index}")).status_code == 200
    assert_too_many(client.get(READ, headers=bearer(mocks_server, "user-new")))
    other = bearer(mocks_server, "user-new", client_id="another-app")
    assert client.get(READ, headers=other).status_code == 200, "another client keeps its own allowance"


def test_requests_without_a_token_are_limited_by_address(app: Flask) -> None:
    client = app.test_client()
    assert [client.get("/api/v1/rejection-reasons").status_code for _ in range(2)] == [200, 200]
    assert_too_many(client.get("/api/v1/rejection-reasons"))
    other = client.get("/api/v1/rejection-reasons", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200, "another address keeps its own allowance"


def test_forged_tokens_count_against_the_address_not_against_a_subject(app: Flask, mocks_server: RunningMocks) -> None:
    client, forged = app.test_client(), {"Authorization": "Bearer forged.token.value"}
    assert [client.get(READ, headers=forged).status_code for _ in range(2)] == [401, 401]
    assert_too_many(client.get(READ, headers=forged))
    assert client.get(READ, headers=bearer(mocks_server, "anna")).status_code == 200


def test_health_probes_are_never_limited(app: Flask) -> None:
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(10)} == {200}


def test_limits_are_off_in_unit_tests_unless_a_test_turns_them_on(mocks_server: RunningMocks) -> None:
    unit = create_app({"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"})
    statuses = {unit.test_client().get("/api/v1/rejection-reasons").status_code for _ in range(70)}
    assert statuses == {200}


def test_the_limits_are_on_by_default_outside_tests() -> None:
    from gateway import config

    app = create_app({"WORKER_THREADS": 0, "DATABASE_URL": "sqlite://"})
    assert app.config["RATELIMIT_ENABLED"] is True
    assert (config.DEFAULTS["RATELIMIT_PER_SUBJECT"], config.DEFAULTS["RATELIMIT_PER_CLIENT"]) == (
        "60/minute",
        "600/minute",
    )


# --- Redis storage ------------------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test run on the real Redis; its keys are deleted at the end."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as error:
        missing_service(f"Redis at {REDIS_URL} is unreachable ({error}); start one to test the shared storage")
    prefix = f"epolicy-test-{uuid.uuid4().hex}"
    yield prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


def test_two_gateway_processes_share_the_counters_in_redis(mocks_server: RunningMocks, redis_prefix: str) -> None:
    settings = {"RATELIMIT_STORAGE_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first, second = limited_app(mocks_server, **settings), limited_app(mocks_server, **settings)
    anna = bearer(mocks_server, "anna")
    assert first.test_client().get(READ, headers=anna).status_code == 200
    assert second.test_client().get(READ, headers=anna).status_code == 200
    assert first.test_client().get(READ, headers=anna).status_code == 200
    assert_too_many(second.test_client().get(READ, headers=anna))
    import redis

    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))
    assert keys, "the counters are in Redis, under this run's prefix"
