"""The whole stack started as `make run` starts it (`epolicy stack`), on free loopback ports, over real HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

EPOLICY = Path(sys.executable).with_name("epolicy")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Stack:
    """Addresses of the running stack, and helpers to act as its users."""

    gateway: str
    mocks: str
    log: Path

    def token(
        self, sub: str, snils: str | None = None, scope: str = "epolicy.apply epolicy.read epolicy.replace"
    ) -> str:
        body: dict[str, Any] = {"sub": sub, "scope": scope, "expires_in": 600}
        if snils:
            body["snils"] = snils
        answer = requests.post(f"{self.mocks}/oauth/test/token", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def clinic_token(self) -> str:
        answer = requests.post(
            f"{self.mocks}/oauth/token",
            data={"grant_type": "client_credentials", "scope": "epolicy.eligibility"},
            auth=("clinic-demo", "clinic-demo-secret"),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


@contextlib.contextmanager
def running_stack(folder: Path, *options: str, **env: str) -> Iterator[Stack]:
    """`epolicy stack` in a subprocess with its own SQLite file in `folder`, more command-line `options` and
    `EPOLICY_*` settings; stopped with Ctrl-C (SIGINT) at the end, which it must obey within 15 s."""
    port, mocks_port = free_port(), free_port()
    environment = dict(
        os.environ,
        EPOLICY_DATABASE_URL=f"sqlite:///{folder}/epolicy.sqlite3",
        EPOLICY_WORKER_POLL_SECONDS="0.05",
        EPOLICY_RETRY_BASE_SECONDS="0.2",
        EPOLICY_RETRY_MAX_SECONDS="2",
        EPOLICY_BACKEND_TIMEOUT="3",
        **env,
    )
    log = folder / "stack.log"
    command = [str(EPOLICY), "stack", "--port", str(port), "--mocks-port", str(mocks_port), *options]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    gateway = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{gateway}/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the stack did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    try:
        yield Stack(gateway, f"http://127.0.0.1:{mocks_port}", log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("the stack did not stop on Ctrl-C") from None


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack, shared by the e2e tests."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
