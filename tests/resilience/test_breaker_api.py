"""A back-end down for the API's reads: 503 with Retry-After, at once while the breaker is open, then recovery."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask import Flask

from gateway.app import create_app
from gateway.domain.model import Source
from gateway.ports import BackendUnavailable
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore, unavailable
from tests.support.services import RunningMocks

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fund() -> FakeFund:
    return FakeFund()


@pytest.fixture
def app(mocks_server: RunningMocks, fund: FakeFund) -> Flask:
    config = {
        "TESTING": True,
        "WORKER_THREADS": 0,
        "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth",
        "BREAKER_FAILURES": 3,
        "BREAKER_COOLDOWN_SECONDS": 30,
        "READINESS_INTERVAL_SECONDS": 0,  # every /readyz checks again
    }
    insurers = FakeInsurers({"77001": FakeInsurer("77001")})
    return create_app(config, store=FakeStore(), fund=fund, insurers=insurers, kz_fund=FakeKzFund())


@pytest.fixture
def clock(app: Flask) -> Clock:
    clock = Clock()
    app.extensions["epolicy"].breakers["fund"].clock = clock
    return clock


@pytest.fixture
def headers(mocks_server: RunningMocks) -> dict[str, str]:
    body: dict[str, Any] = {"sub": "user-1", "snils": "11223344595", "scope": "epolicy.read"}
    answer = requests.post(f"{mocks_server.base_url}/oauth/test/token", json=body, timeout=10)
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def insurers(app: Flask, headers: dict[str, str]) -> Any:
    return app.test_client().get("/api/v1/insurers?region_code=77", headers=headers)


def test_once_open_the_breaker_answers_503_at_once_and_closes_when_the_fund_is_back(
    app: Flask, fund: FakeFund, clock: Clock, headers: dict[str, str]
) -> None:
    fund.fail("list_insurers", unavailable(Source.FUND, "ListInsurers"), count=3)
    for _ in range(3):
        assert insurers(app, headers).status_code == 503
    reached = fund.calls.count("list_insurers")

    clock.now += 10
    fast = insurers(app, headers)
    assert fast.status_code == 503
    assert fast.mimetype == "application/problem+json"
    assert fast.headers["Retry-After"] == "20"
    assert fund.calls.count("list_insurers") == reached, "the open breaker did not call the fund"
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["breaker fund"] == "open"
    assert ready.get_json()["checks"]["fund"].startswith("unavailable: circuit open")

    clock.now += 20
    assert app.extensions["epolicy"].breakers["fund"].state.value == "half-open"
    assert insurers(app, headers).status_code == 200, "the trial call reached the fund, now back"
    ready = app.test_client().get("/readyz")
    assert (ready.status_code, ready.get_json()["checks"]["breaker fund"]) == (200, "closed")


def test_the_workers_use_the_fund_without_the_breaker(app: Flask, fund: FakeFund) -> None:
    services = app.extensions["epolicy"]
    # Both are the fake behind the guards (gateway.guard); only the API's is behind the breaker.
    assert services.worker_context.fund is services.worker_fund
    assert services.worker_fund.port is services.fund.port is fund
    fund.fail("find_person", unavailable(Source.FUND, "FindPerson"), count=10)
    for number in range(services.breakers["fund"].failures + 1):
        with pytest.raises(BackendUnavailable):
            services.fund.find_person(f"rd_{number}", "7754900882000015")
    calls = len(fund.calls)
    with pytest.raises(BackendUnavailable):
        services.fund.find_person("rd_open", "7754900882000015")
    assert len(fund.calls) == calls, "the API's reads stop at the open breaker"
    with pytest.raises(BackendUnavailable):
        services.worker_fund.find_person("app_1", "7754900882000015")
    assert len(fund.calls) == calls + 1, "the workers still reach the fund, and retry with backoff"
