"""Rate limits by who calls: per citizen, per service client, per address without a token; 429 with Retry-After."""

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
from tests.support.auth import PORTAL_CLIENT_ID, portal_login, service_token
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore
from tests.support.services import RunningMocks, missing_service

# The tests talk to the mock OAuth server and Redis.
pytestmark = pytest.mark.network

REDIS_URL = os.environ.get("EPOLICY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SMALL = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_PER_SUBJECT": "3/minute",
    "RATELIMIT_PER_CLIENT": "5/minute",
    "RATELIMIT_PER_ADDRESS": "2/minute",
}
READ = "/api/v1/applications"
INSURERS = "/api/v1/insurers?region_code=77"  # open to any valid token: citizens and clinics alike
CLINIC = ("clinic-demo", "clinic-demo-secret")
QA_CLIENT = ("qa-client", "qa-client-secret")  # registered for both grants: citizens and a service of its own


def limited_app(mocks: RunningMocks, **config: Any) -> Flask:
    settings = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": issuer(mocks), **SMALL, **config}
    return gateway_app(settings)


def gateway_app(settings: dict[str, Any]) -> Flask:
    insurers = FakeInsurers({code: FakeInsurer(code) for code in ("77001",)})
    return create_app(settings, store=FakeStore(), fund=FakeFund(), insurers=insurers, kz_fund=FakeKzFund())


def issuer(mocks: RunningMocks) -> str:
    return f"{mocks.base_url}/oauth"


def citizen(mocks: RunningMocks, sub: str, client_id: str = PORTAL_CLIENT_ID) -> dict[str, str]:
    """A citizen's token, as a portal client holds it for them (the QA endpoint, to make many people quickly)."""
    body = {"sub": sub, "scope": "epolicy.read", "client_id": client_id}
    answer = requests.post(f"{mocks.base_url}/oauth/test/token", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def service(mocks: RunningMocks, client: tuple[str, str]) -> dict[str, str]:
    """A new token of a service client, from the client credentials grant."""
    return {"Authorization": f"Bearer {service_token(issuer(mocks), *client)}"}


def assert_too_many(answer: TestResponse) -> None:
    assert (answer.status_code, answer.mimetype) == (429, "application/problem+json")
    problem = answer.get_json()
    assert (problem["status"], problem["type"]) == (429, "https://epolicy.example/problems/rate-limited")
    assert 1 <= int(answer.headers["Retry-After"]) <= 61, "at most the rest of the one-minute window"
    assert answer.headers["X-Content-Type-Options"] == "nosniff", "a refusal is secured like any answer"


@pytest.fixture
def app(mocks_server: RunningMocks) -> Flask:
    return limited_app(mocks_server)


def test_a_citizen_over_their_limit_gets_429_while_another_citizen_of_the_portal_does_not(
    app: Flask, mocks_server: RunningMocks
) -> None:
    client, anna, boris = app.test_client(), citizen(mocks_server, "anna"), citizen(mocks_server, "boris")
    assert [client.get(READ, headers=anna).status_code for _ in range(3)] == [200, 200, 200]
    assert_too_many(client.get(READ, headers=anna))
    statuses = [client.get(READ, headers=boris).status_code for _ in range(3)]
    assert statuses == [200, 200, 200], "the same portal client, but another person with an allowance of her own"


def test_the_citizen_limit_counts_every_endpoint_together(app: Flask, mocks_server: RunningMocks) -> None:
    client, anna = app.test_client(), citizen(mocks_server, "anna")
    client.get(READ, headers=anna)
    client.get("/api/v1/me/family", headers=anna)
    client.get("/api/v1/applications/app_unknown", headers=anna)
    assert_too_many(client.get("/api/v1/me/family", headers=anna))


def test_citizens_who_log_in_through_the_portal_are_counted_apart(app: Flask, mocks_server: RunningMocks) -> None:
    # Tokens of the real code flow: both carry client_id epolicy-portal, each its own person's sub.
    client = app.test_client()
    ivanova = {"Authorization": f"Bearer {portal_login(issuer(mocks_server), 'ivanova', 'ivanova-test')}"}
    petrov = {"Authorization": f"Bearer {portal_login(issuer(mocks_server), 'petrov', 'petrov-test')}"}
    assert [client.get(READ, headers=ivanova).status_code for _ in range(3)] == [200, 200, 200]
    assert_too_many(client.get(READ, headers=ivanova))
    assert [client.get(READ, headers=petrov).status_code for _ in range(3)] == [200, 200, 200]


def test_a_service_client_is_limited_per_client_id_across_all_its_tokens(
    app: Flask, mocks_server: RunningMocks
) -> None:
    client, tokens = app.test_client(), [service(mocks_server, CLINIC) for _ in range(2)]
    statuses = [client.get(INSURERS, headers=tokens[number % 2]).status_code for number in range(5)]
    assert statuses == [200] * 5, "the client's 5, more than a citizen's 3: a clinic speaks for many patients"
    assert_too_many(client.get(INSURERS, headers=service(mocks_server, CLINIC)))
    other = service(mocks_server, QA_CLIENT)
    assert client.get(INSURERS, headers=other).status_code == 200, "another client keeps its own allowance"


def test_citizens_of_a_client_leave_that_clients_own_service_allowance_alone(
    app: Flask, mocks_server: RunningMocks
) -> None:
    client = app.test_client()
    for number in range(6):
        assert client.get(READ, headers=citizen(mocks_server, f"user-{number}", QA_CLIENT[0])).status_code == 200
    qa_service = service(mocks_server, QA_CLIENT)
    assert [client.get(INSURERS, headers=qa_service).status_code for _ in range(5)] == [200] * 5


def test_an_optional_ceiling_holds_every_citizen_of_one_portal_together(mocks_server: RunningMocks) -> None:
    client = limited_app(mocks_server, RATELIMIT_PER_PORTAL="4/minute").test_client()
    for number in range(4):
        assert client.get(READ, headers=citizen(mocks_server, f"user-{number}")).status_code == 200
    assert_too_many(client.get(READ, headers=citizen(mocks_server, "user-new")))
    other_portal = citizen(mocks_server, "user-new", client_id="another-portal")
    assert client.get(READ, headers=other_portal).status_code == 200, "another portal has a ceiling of its own"
    assert client.get(INSURERS, headers=service(mocks_server, CLINIC)).status_code == 200, "services are apart"


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
    assert client.get(READ, headers=citizen(mocks_server, "anna")).status_code == 200


def test_health_probes_are_never_limited(app: Flask) -> None:
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(10)} == {200}


def test_limits_are_off_in_unit_tests_unless_a_test_turns_them_on(mocks_server: RunningMocks) -> None:
    unit = create_app({"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"})
    statuses = {unit.test_client().get("/api/v1/rejection-reasons").status_code for _ in range(70)}
    assert statuses == {200}


def test_the_limits_are_on_by_default_outside_tests() -> None:
    from gateway.config import Settings

    app = create_app({"WORKER_THREADS": 0, "DATABASE_URL": "sqlite://"})
    assert app.config["RATELIMIT_ENABLED"] is True
    defaults = Settings()
    assert (
        defaults.ratelimit_per_subject,
        defaults.ratelimit_per_portal,  # no ceiling on a portal's citizens together unless an operator sets one
        defaults.ratelimit_per_client,
        defaults.ratelimit_per_address,
    ) == ("60/minute", None, "600/minute", "60/minute")


@pytest.mark.parametrize(
    ("setting", "callers"),
    [
        ("EPOLICY_RATELIMIT_PER_SUBJECT", "one citizen twice"),
        ("EPOLICY_RATELIMIT_PER_PORTAL", "two citizens of one portal"),
        ("EPOLICY_RATELIMIT_PER_CLIENT", "two tokens of one service client"),
        ("EPOLICY_RATELIMIT_PER_ADDRESS", "no token twice"),
    ],
)
def test_each_kind_of_limit_is_set_by_its_environment_setting(
    monkeypatch: pytest.MonkeyPatch, mocks_server: RunningMocks, setting: str, callers: str
) -> None:
    monkeypatch.setenv(setting, "1/minute")  # the others keep their defaults, far above two requests
    app = gateway_app(
        {"TESTING": True, "RATELIMIT_ENABLED": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": issuer(mocks_server)}
    )
    first, second = {
        "one citizen twice": lambda: [citizen(mocks_server, "anna")] * 2,
        "two citizens of one portal": lambda: [citizen(mocks_server, "anna"), citizen(mocks_server, "boris")],
        "two tokens of one service client": lambda: [service(mocks_server, CLINIC) for _ in range(2)],
        "no token twice": lambda: [{}, {}],
    }[callers]()
    client = app.test_client()
    assert client.get("/api/v1/rejection-reasons", headers=first).status_code == 200
    assert_too_many(client.get("/api/v1/rejection-reasons", headers=second))


def test_a_limit_that_cannot_be_read_stops_the_app_at_start_naming_the_setting(mocks_server: RunningMocks) -> None:
    with pytest.raises(ValueError, match="RATELIMIT_PER_PORTAL='6000 a minute' is no rate limit"):
        limited_app(mocks_server, RATELIMIT_PER_PORTAL="6000 a minute")


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
    anna = citizen(mocks_server, "anna")
    assert first.test_client().get(READ, headers=anna).status_code == 200
    assert second.test_client().get(READ, headers=anna).status_code == 200
    assert first.test_client().get(READ, headers=anna).status_code == 200
    assert_too_many(second.test_client().get(READ, headers=anna))
    import redis

    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))
    assert keys, "the counters are in Redis, under this run's prefix"


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> dict[str, str]:
    """The counters in each process's memory, or in the real Redis under a prefix of this test's own."""
    if request.param == "memory":
        return {}
    prefix: str = request.getfixturevalue("redis_prefix")
    return {"RATELIMIT_STORAGE_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}


def test_fifty_citizens_of_one_portal_are_not_throttled_together(
    mocks_server: RunningMocks, storage: dict[str, str]
) -> None:
    # Each uses all of their own allowance (3): 150 requests of one client id, thirty times its service limit (5).
    client = limited_app(mocks_server, **storage).test_client()
    citizens = [citizen(mocks_server, f"citizen-{number}") for number in range(50)]
    statuses = [client.get(READ, headers=headers).status_code for headers in citizens for _ in range(3)]
    assert statuses == [200] * 150
    assert_too_many(client.get(READ, headers=citizens[0]))
    assert client.get(READ, headers=citizen(mocks_server, "citizen-50")).status_code == 200, "the 51st one too"
