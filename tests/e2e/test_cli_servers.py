"""`epolicy db upgrade`, `epolicy mocks` and `epolicy serve` as an operator runs them, each in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from gateway.storage import current, head
from tests.support.signing import mocks_environment, signing_environment
from tests.support.stack import EPOLICY, free_port

# The tests talk to servers started by the CLI.
pytestmark = pytest.mark.network


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path, ready: str) -> Iterator[None]:
    """`epolicy` `command` in a subprocess until `ready` answers 200; stopped with Ctrl-C, which it must obey."""
    with log.open("wb") as output:
        process = subprocess.Popen([str(EPOLICY), *command], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(ready, timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=15) == 0, log.read_text(errors="replace")
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def test_an_upgraded_database_served_by_serve_against_the_mocks_is_ready(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/epolicy.sqlite3"
    mocks_port, port = free_port(), free_port()
    mocks = f"http://127.0.0.1:{mocks_port}"
    env = dict(
        os.environ,
        **mocks_environment(),
        EPOLICY_DATABASE_URL=database,
        EPOLICY_WORKER_THREADS="0",
        EPOLICY_OAUTH_ISSUER=f"{mocks}/oauth",
        EPOLICY_FUND_URL=f"{mocks}/fund",
        EPOLICY_KZ_FUND_URL=f"{mocks}/kz/fund",
        EPOLICY_INSURER_URL_TEMPLATE=f"{mocks}/insurers/{{code}}",
    )

    upgraded = subprocess.run([str(EPOLICY), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert upgraded.returncode == 0, upgraded.stderr
    assert current(database) == head()

    with (
        running(["mocks", "--port", str(mocks_port)], env, tmp_path / "mocks.log", f"{mocks}/oauth/jwks"),
        running(["serve", "--port", str(port)], env, tmp_path / "serve.log", f"http://127.0.0.1:{port}/healthz"),
    ):
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text


def test_a_worker_and_serve_start_from_an_instance_folder_not_made_yet(tmp_path: Path) -> None:
    instance = tmp_path / "not" / "made" / "yet"
    env = {name: value for name, value in os.environ.items() if not name.startswith("EPOLICY_")}
    env.update(signing_environment(), EPOLICY_INSTANCE_PATH=str(instance), EPOLICY_WORKER_THREADS="0")
    metrics, port = free_port(), free_port()
    worker = ["worker", "--metrics-port", str(metrics)]
    with running(worker, env, tmp_path / "worker.log", f"http://127.0.0.1:{metrics}/metrics"):
        # The worker made the folder and brought the embedded database up to date: it is the machine's own.
        assert current(f"sqlite:///{instance}/epolicy.sqlite3") == head()
        with running(["serve", "--port", str(port)], env, tmp_path / "serve.log", f"http://127.0.0.1:{port}/healthz"):
            pass
    assert "Error" not in (tmp_path / "worker.log").read_text() + (tmp_path / "serve.log").read_text()
