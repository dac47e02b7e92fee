"""`make run-pg`: mocks, migrations, gunicorn and a separate worker on PostgreSQL, all stopped by one Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.bodies import BODY
from tests.support.databases import fresh_schema
from tests.support.ops import value, wait_until_healthy
from tests.support.stack import free_port

# The tests talk to the production stack on PostgreSQL.
pytestmark = pytest.mark.network

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "deploy" / "production_stack.py"


def test_the_production_stack_issues_a_policy_through_its_worker_process_and_stops_on_ctrl_c(
    postgresql_server: str, tmp_path: Path
) -> None:
    port, mocks_port, worker_port = free_port(), free_port(), free_port()
    log = tmp_path / "stack.log"
    with fresh_schema(postgresql_server) as database:
        env = dict(
            os.environ,
            EPOLICY_WEB_WORKERS="2",
            EPOLICY_WEB_THREADS="4",
            EPOLICY_WORKER_POLL_SECONDS="0.05",
            EPOLICY_LOG_FORMAT="json",
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = [sys.executable, str(SCRIPT), "--database-url", database, "--port", str(port)]
        command += ["--mocks-port", str(mocks_port), "--worker-metrics-port", str(worker_port)]
        with log.open("wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            gateway, mocks = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{mocks_port}"
            wait_until_healthy(gateway, process, log)
            token = requests.post(
                f"{mocks}/oauth/test/token",
                json={"sub": "run-pg", "snils": "11223344595", "scope": "epolicy.apply epolicy.read"},
                timeout=10,
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            answer = requests.post(f"{gateway}/api/v1/applications", json=BODY, headers=headers, timeout=10)
            assert answer.status_code == 202, answer.text
            done = until_final(f"{gateway}{answer.headers['Location']}", headers)
            assert done["status"] == "issued", done
            worker_metrics = requests.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=10).text
            gateway_metrics = requests.get(f"{gateway}/metrics", timeout=10).text
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    text = log.read_text(errors="replace")
    assert process.returncode == 0, text[-3000:]

    calls = {"name": "epolicy_backend_calls_total", "outcome": "ok"}
    assert value(worker_metrics, **calls, backend="fund", operation="verify_person") == 1
    assert value(worker_metrics, **calls, backend="insurer", operation="issue_policy") == 1
    assert value(gateway_metrics, **calls, backend="fund", operation="verify_person") == 0, "the gateway has none"
    posted = {"method": "POST", "endpoint": "/api/v1/applications", "status": "202"}
    assert value(gateway_metrics, "epolicy_http_requests_total", **posted) == 1
    for listening in (port, mocks_port, worker_port):
        assert not is_open(listening), f"something still listens on {listening} after Ctrl-C"
    assert "production_stack: stopped" in text
    logged = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    carried = [line for line in logged if line["application_id"] == done["id"]]
    assert {line["logger"] for line in carried} >= {"epolicy.request"}
    assert "11223344595" not in text and "Иванова" not in text


def until_final(url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        found: dict[str, Any] = requests.get(url, headers=headers, timeout=10).json()
        if found["status"] in ("issued", "rejected") or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def is_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
