"""A worker process killed with SIGKILL in the middle of a step: another finishes the application, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine

from gateway.domain.applications import Application, Owner
from gateway.domain.model import NewPolicyRequest, PolicyForm, Relation
from gateway.ids import new_application_id
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from tests.support.report import REPORT
from tests.support.services import RunningMocks, serve_mocks
from tests.support.workers import adult, calls, stats

# The tests talk to the mocks and worker processes.
pytestmark = pytest.mark.network

EPOLICY = Path(sys.executable).with_name("epolicy")
LEASE_SECONDS = 2
SLOW_MS = 3000  # longer than the lease: the second worker takes over while the first call is still answered


@pytest.fixture(scope="module")
def mocks() -> Iterator[RunningMocks]:
    server, thread = serve_mocks()
    yield RunningMocks(f"http://127.0.0.1:{server.port}", server)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    upgrade(url)
    engine = make_engine(url, pool_size=2)
    yield url, engine
    engine.dispose()


def start_worker(url: str, mocks: RunningMocks, log: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        EPOLICY_DATABASE_URL=url,
        EPOLICY_FUND_URL=mocks.fund_url,
        EPOLICY_INSURER_URL_TEMPLATE=f"{mocks.base_url}/insurers/{{code}}",
        EPOLICY_WORKER_POLL_SECONDS="0.05",
        EPOLICY_WORKER_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(EPOLICY), "worker", "--threads", "1"], env=env, stdout=output, stderr=subprocess.STDOUT
        )


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(
    ("operation", "target"),
    [("VerifyPerson", "fund"), ("IssuePolicy", "insurers/77001"), ("RegisterPolicy", "fund")],
)
def test_a_worker_killed_mid_step_is_replaced_and_the_application_finishes_once(
    operation: str, target: str, database: tuple[str, Engine], mocks: RunningMocks, tmp_path: Path
) -> None:
    url, engine = database
    store = SqlApplicationStore(engine)
    rule = {"target": target, "operation": operation, "fault": "slow", "count": 1, "delay_ms": SLOW_MS}
    assert requests.post(f"{mocks.base_url}/mock/faults", json=rule, timeout=5).status_code == 201
    request = NewPolicyRequest(Relation.SELF, adult(), "77", "77001", PolicyForm.ELECTRONIC)
    application = Application.accept(new_application_id(), Owner("crash"), request, datetime.now(UTC))
    before = stats(mocks)
    store.add(application)
    log = tmp_path / "workers.log"
    first = start_worker(url, mocks, log)
    try:
        # The call has reached the back-end, whose answer is held back: the worker is in the middle of the step.
        wait_for(lambda: calls(stats(mocks), target, operation) > calls(before, target, operation), 30, operation)
        held_until = time.monotonic() + SLOW_MS / 1000 + 0.3
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=10)
    second = start_worker(url, mocks, log)
    try:
        wait_for(lambda: (found := store.get(application.id)) is not None and found.status.is_final, 60, "the end")
    finally:
        second.send_signal(signal.SIGINT)
        code = second.wait(timeout=15)
        requests.delete(f"{mocks.base_url}/mock/faults", timeout=5)
    finished = store.get(application.id)
    assert finished is not None
    output = log.read_text(errors="replace")
    assert finished.status.value == "issued", (finished.rejection, output)
    assert [entry.status.value for entry in finished.history if entry.note is None] == [
        "accepted",
        "verifying",
        "issuing",
        "issued",
    ]
    time.sleep(max(0.0, held_until - time.monotonic()))  # the killed worker's held-back call is carried out too
    registered = requests.get(f"{mocks.base_url}/mock/registrations/{application.id}", timeout=5).json()["count"]
    assert registered == 1, "one registration at the fund, whoever asked for it"
    assert stats(mocks)["issues"]["77001"] - before["issues"]["77001"] == 1, "one policy issued by the insurer"
    assert code == 0, output
    REPORT.append(f"crash: worker SIGKILLed during {operation}: finished issued, registrations at the fund: 1")
