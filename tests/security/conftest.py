"""Fixtures of the security tests: the API gateway with fakes, and the whole stack in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.api.conftest import gateway
from tests.e2e.conftest import EPOLICY, Stack, free_port

__all__ = ["gateway", "running_stack"]


@contextlib.contextmanager
def running_stack(folder: Path, *options: str, **env: str) -> Iterator[Stack]:
    """`epolicy stack` as the e2e fixture starts it, with more command-line `options` and `EPOLICY_*` settings."""
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
