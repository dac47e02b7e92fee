"""The probes: /healthz from the process alone, /readyz at most once an interval, one run at a time, each check bounded.

/readyz is anonymous: if every call fanned out to the back-ends, anyone could keep them, and the gateway's threads,
busy with probes. Here the back-ends hang (a loopback server that never answers, or a fake that blocks until the test
lets it go), and the tests count what reached them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.domain.model import Source
from gateway.domain.registry import InsurerResult
from gateway.ports import BackendUnavailable
from tests.support.auth import FakeClock
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore
from tests.support.gateway import Gateway
from tests.support.loopback import LoopbackBackend, loopback_backend
from tests.support.ops import MakeGateway
from tests.support.services import RunningMocks

# The tests take tokens from the mock OAuth server and call back-ends on loopback.
pytestmark = pytest.mark.network

INSURERS = ("77001", "77002", "50001")
BACKENDS = ("/fund", *(f"/insurers/{code}" for code in INSURERS), "/kz/fund")
WAIT = 30.0  # seconds a test waits for something it is sure to see; never reached when all is well


@dataclass
class BlockingInsurer(FakeInsurer):
    """An insurer whose state reads wait, while `gate` is closed, until the test opens it."""

    gate: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    reads: int = 0

    def application_state(self, message_id: str, application_message_id: str) -> InsurerResult | None:
        self.reads += 1
        self.entered.set()
        assert self.gate.wait(WAIT), "the test never let the insurer answer"
        return super().application_state(message_id, application_message_id)


def base_config(mocks_server: RunningMocks, **config: Any) -> dict[str, Any]:
    return {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth", **config}


def hanging_gateway(mocks_server: RunningMocks, server: LoopbackBackend, **config: Any) -> Gateway:
    """The gateway's real adapters, every back-end at `server`; a fake store and fund for the API's own reads."""
    settings = base_config(
        mocks_server,
        FUND_URL=f"{server.base_url}/fund",
        INSURER_URL_TEMPLATE=f"{server.base_url}/insurers/{{code}}",
        KZ_FUND_URL=f"{server.base_url}/kz/fund",
        BACKEND_TIMEOUT=WAIT,
        **config,
    )
    store = FakeStore()
    app = create_app(settings, store=store)
    return Gateway(app, app.test_client(), store, FakeFund(), mocks_server)


@pytest.fixture
def hanging() -> Iterator[LoopbackBackend]:
    """A back-end that reads every request and never answers, until the test ends."""
    with loopback_backend() as server:
        yield server


def at_once(app: Flask, count: int, path: str = "/readyz") -> list[Future[TestResponse]]:
    """`count` calls of `path` at the same time, each with a client of its own."""
    pool = ThreadPoolExecutor(count)
    futures = [pool.submit(lambda: app.test_client().get(path)) for _ in range(count)]
    pool.shutdown(wait=False)
    return futures


def wait_for(condition: Any, what: str) -> None:
    """Wait until `condition()` holds, or fail naming `what`."""
    stop = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        stop.wait(0.01)
    raise AssertionError(f"never saw {what}")


def test_twenty_probes_at_once_reach_each_back_end_once_and_the_api_answers_meanwhile(
    mocks_server: RunningMocks, hanging: LoopbackBackend
) -> None:
    gateway = hanging_gateway(mocks_server, hanging, READINESS_INTERVAL_SECONDS=60, READINESS_CHECK_SECONDS=WAIT)
    probes = at_once(gateway.app, 20)
    # Every back-end is asked before any has answered (none ever does): the checks run at the same time.
    wait_for(lambda: all(hanging.calls(path) for path in BACKENDS), "a probe of every back-end")

    assert gateway.client.get("/healthz").status_code == 200
    assert gateway.client.get("/api/v1/applications", headers=gateway.auth()).status_code == 200
    assert not any(probe.done() for probe in probes), "the probes are still waiting for the run in flight"

    hanging.close()  # every connection dropped: each check ends
    answers = [probe.result(WAIT) for probe in probes]
    assert {answer.status_code for answer in answers} == {503}
    assert {answer.get_json()["checked_at"] for answer in answers} == {answers[0].get_json()["checked_at"]}
    assert {path: hanging.calls(path) for path in BACKENDS} == dict.fromkeys(BACKENDS, 1)


def test_a_check_that_hangs_gives_up_at_its_deadline_as_a_timeout(
    mocks_server: RunningMocks, hanging: LoopbackBackend
) -> None:
    gateway = hanging_gateway(mocks_server, hanging, READINESS_CHECK_SECONDS=1)

    started = time.monotonic()
    answer = gateway.client.get("/readyz")
    waited = time.monotonic() - started

    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    # The back-end call itself ended at the check's deadline, well before the adapters' own 30 s.
    assert {checks[name] for name in ("fund", "insurer 77001", "insurer 50001", "kz fund")} == {"unavailable: timeout"}
    # A bound, not a speed: five checks one after the other, each waiting the adapters' 30 s, would take minutes.
    assert waited < 10, f"the checks took {waited:.1f} s, each with a deadline of 1 s"


def test_healthz_answers_while_every_back_end_hangs(mocks_server: RunningMocks, hanging: LoopbackBackend) -> None:
    gateway = hanging_gateway(mocks_server, hanging, READINESS_CHECK_SECONDS=WAIT)
    probe = at_once(gateway.app, 1)[0]
    wait_for(lambda: all(hanging.calls(path) for path in BACKENDS), "a probe of every back-end")

    answer = gateway.client.get("/healthz")

    assert (answer.status_code, answer.get_json()) == (200, {"status": "ok"})
    assert not probe.done()
    hanging.close()
    assert probe.result(WAIT).status_code == 503


@pytest.fixture
def blocking() -> BlockingInsurer:
    insurer = BlockingInsurer("77001")
    insurer.gate.set()
    return insurer


@pytest.fixture
def fund() -> FakeFund:
    return FakeFund()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A database for the check of the database (the store itself is a fake)."""
    engine = create_engine(f"sqlite:///{tmp_path}/probe.sqlite3")
    yield engine
    engine.dispose()


@pytest.fixture
def fake_gateway(mocks_server: RunningMocks, fund: FakeFund, blocking: BlockingInsurer, engine: Engine) -> MakeGateway:
    """A gateway on fakes (insurer 77001 the blocking one) and a real database, with any settings as keywords."""

    def make(**config: Any) -> Gateway:
        store = FakeStore()
        insurers = FakeInsurers({blocking.code: blocking, "77002": FakeInsurer("77002")})
        app = create_app(
            base_config(mocks_server, **config),
            store=store,
            engine=engine,
            fund=fund,
            insurers=insurers,
            kz_fund=FakeKzFund(),
        )
        return Gateway(app, app.test_client(), store, fund, mocks_server)

    return make


def test_while_a_run_is_in_flight_other_probes_get_the_last_result_at_once(
    fake_gateway: MakeGateway, fund: FakeFund, blocking: BlockingInsurer
) -> None:
    # An interval of 0 asks for a run on every call: only the one in flight holds the others back.
    gateway = fake_gateway(READINESS_INTERVAL_SECONDS=0, READINESS_CHECK_SECONDS=WAIT)
    first = gateway.client.get("/readyz")
    assert first.status_code == 200
    blocking.gate.clear()
    blocking.entered.clear()
    running = at_once(gateway.app, 1)[0]
    assert blocking.entered.wait(WAIT)

    meanwhile = [probe.result(WAIT) for probe in at_once(gateway.app, 10)]

    assert not running.done(), "the insurer still holds the run in flight"
    assert {answer.status_code for answer in meanwhile} == {200}
    assert {answer.get_json()["checked_at"] for answer in meanwhile} == {first.get_json()["checked_at"]}
    assert blocking.reads == 2, "no probe started a second run"
    assert gateway.client.get("/healthz").status_code == 200
    assert gateway.client.get("/api/v1/applications", headers=gateway.auth()).status_code == 200
    blocking.gate.set()
    later = running.result(WAIT)
    assert later.status_code == 200
    assert datetime.fromisoformat(later.get_json()["checked_at"]) >= datetime.fromisoformat(
        first.get_json()["checked_at"]
    )


def test_the_checks_run_at_most_once_an_interval(
    fake_gateway: MakeGateway, fund: FakeFund, blocking: BlockingInsurer
) -> None:
    gateway = fake_gateway(READINESS_INTERVAL_SECONDS=5)
    clock = FakeClock()
    gateway.app.extensions["epolicy"].readiness.clock = clock

    for step in (0, 1, 2, 1):  # 4 s in all: the first result
        clock.advance(step)
        assert gateway.client.get("/readyz").status_code == 200
    assert (fund.calls.count("list_insurers"), blocking.reads) == (1, 1)

    clock.advance(1)  # 5 s after the first run began
    assert gateway.client.get("/readyz").status_code == 200
    assert (fund.calls.count("list_insurers"), blocking.reads) == (2, 2)


def test_a_back_end_down_is_a_problem_naming_every_check_and_when(
    fake_gateway: MakeGateway, fund: FakeFund, blocking: BlockingInsurer
) -> None:
    gateway = fake_gateway()
    fund.fail("list_insurers", BackendUnavailable(Source.FUND, "ListInsurers", "timeout"))

    answer = gateway.client.get("/readyz")

    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["type"] == "https://epolicy.example/problems/not-ready"
    assert body["status"] == 503
    assert body["title"] and body["detail"]
    assert body["checks"] == {
        "database": "ok",
        "fund": "unavailable: timeout",
        "insurer 77001": "ok",
        "insurer 77002": "ok",
        "kz fund": "ok",
        "breaker fund": "closed",
        "breaker kz fund": "closed",
    }
    assert datetime.fromisoformat(body["checked_at"]).tzinfo is not None
    assert answer.headers["Retry-After"] == "5"


def test_a_ready_gateway_says_so_with_its_checks_and_when(
    fake_gateway: MakeGateway, fund: FakeFund, blocking: BlockingInsurer
) -> None:
    answer = fake_gateway().client.get("/readyz")

    assert (answer.status_code, answer.mimetype) == (200, "application/json")
    body = answer.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"].values()) == {"ok", "closed"}
    assert datetime.fromisoformat(body["checked_at"]).tzinfo is not None
