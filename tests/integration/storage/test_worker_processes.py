"""`epolicy worker` processes, two of them, drain one database's outbox; Ctrl-C stops them cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.domain.applications import Application, Owner
from gateway.domain.model import NewPolicyRequest, PolicyForm, Relation
from gateway.ids import new_application_id
from gateway.storage import SqlApplicationStore, make_engine
from tests.support.services import RunningMocks
from tests.support.workers import applicant, calls, stats

# The tests talk to the mocks over HTTP, from worker processes.
pytestmark = pytest.mark.network

EPOLICY = Path(sys.executable).with_name("epolicy")
APPLICATIONS = 20


def test_worker_processes_share_one_outbox_and_stop_on_ctrl_c(
    database: str, mocks_server: RunningMocks, tmp_path: Path
) -> None:
    engine = make_engine(database)
    try:
        run_two_worker_processes(SqlApplicationStore(engine), database, mocks_server, tmp_path)
    finally:
        engine.dispose()


def run_two_worker_processes(
    sql_store: SqlApplicationStore, database: str, mocks_server: RunningMocks, tmp_path: Path
) -> None:
    ids = []
    for _ in range(APPLICATIONS):
        request = NewPolicyRequest(Relation.SELF, applicant(), "77", "77001", PolicyForm.ELECTRONIC)
        application = Application.accept(new_application_id(), Owner("user-p"), request, datetime.now(UTC))
        sql_store.add(application)
        ids.append(application.id)
    before = stats(mocks_server)
    env = dict(
        os.environ,
        EPOLICY_DATABASE_URL=database,
        EPOLICY_FUND_URL=mocks_server.fund_url,
        EPOLICY_INSURER_URL_TEMPLATE=f"{mocks_server.base_url}/insurers/{{code}}",
        EPOLICY_WORKER_POLL_SECONDS="0.05",
    )
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    processes = []
    for log in logs:
        with log.open("wb") as output:
            processes.append(
                subprocess.Popen(
                    [str(EPOLICY), "worker", "--threads", "2"], env=env, stdout=output, stderr=subprocess.STDOUT
                )
            )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            finished = all((app := sql_store.get(app_id)) is not None and app.status.is_final for app_id in ids)
            # Ctrl-C before a process has set up its handler aborts it: stop them only once both have started.
            started = sum(log.read_text(errors="replace").count("started") for log in logs)
            if finished and started == 4:
                break
            time.sleep(0.1)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        codes = [process.wait(timeout=15) for process in processes]
    output = "\n".join(log.read_text(errors="replace") for log in logs)
    assert codes == [0, 0], output
    statuses = [sql_store.get(app_id).status.value for app_id in ids]  # type: ignore[union-attr]
    assert statuses == ["issued"] * APPLICATIONS, output
    after = stats(mocks_server)
    assert calls(after, "fund", "RegisterPolicy") - calls(before, "fund", "RegisterPolicy") == APPLICATIONS
    assert output.count("started") == 4, "two processes of two worker threads each"
