"""The whole stack started as `make run` starts it (`epolicy stack`), and its users' requests over real HTTP."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import requests

from tests.support.ops import wait_until_healthy
from tests.support.people import new_snils
from tests.support.signing import signing_environment

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
    # As a person starts it: the stack makes its own development keys in its instance folder and trusts them, so
    # none of the session's signing settings (tests/support/signing.py) goes with it.
    environment = {name: value for name, value in os.environ.items() if name not in signing_environment()}
    environment |= {
        "EPOLICY_INSTANCE_PATH": str(folder),
        "EPOLICY_DATABASE_URL": f"sqlite:///{folder}/epolicy.sqlite3",
        "EPOLICY_WORKER_POLL_SECONDS": "0.05",
        "EPOLICY_RETRY_BASE_SECONDS": "0.2",
        "EPOLICY_RETRY_MAX_SECONDS": "2",
        "EPOLICY_BACKEND_TIMEOUT": "3",
    } | env
    log = folder / "stack.log"
    command = [str(EPOLICY), "stack", "--port", str(port), "--mocks-port", str(mocks_port), *options]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    gateway = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(gateway, process, log, seconds=30)
    except BaseException:
        process.kill()  # nothing may outlive the test that started it, whatever stopped the wait
        process.wait()
        raise
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


class Api:
    """A small client acting as one token's holder."""

    def __init__(self, stack: Stack, token: str):
        self.base = stack.gateway
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=10, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10, **kwargs)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(self.base + path, timeout=10)

    def until_final(self, location: str, seconds: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            body: dict[str, Any] = self.get(location).json()
            if body["status"] in ("issued", "rejected", "cancelled"):
                return body
            time.sleep(0.1)
        raise AssertionError(f"{location} did not finish: {body}")


def adult(snils: str, **changes: Any) -> dict[str, Any]:
    person: dict[str, Any] = {
        "last_name": "Иванова",
        "first_name": "Анна",
        "middle_name": "Сергеевна",
        "birth_date": "1990-05-17",
        "sex": "female",
        "birth_place": "г. Москва",
        "citizenship": "RUS",
        "snils": snils,
        "identity_document": passport(date(2010, 6, 1)),
    }
    person.update(changes)
    return person


def application(person: dict[str, Any], insurer: str = "77001", region: str = "77", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "relation": "self",
        "person": person,
        "region_code": region,
        "insurer_code": insurer,
        "policy_form": "electronic",
        "contacts": {"phone": "+79161234567", "email": "anna@example.ru"},
    }
    body.update(changes)
    return body


def citizen(stack: Stack) -> tuple[Api, str]:
    snils = new_snils()
    return Api(stack, stack.token(f"user-{uuid.uuid4().hex[:8]}", snils)), snils


def apply_and_wait(api: Api, body: dict[str, Any], seconds: float = 20) -> dict[str, Any]:
    answer = api.post("/api/v1/applications", body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted"
    return api.until_final(answer.headers["Location"], seconds)


def passport(issued: date) -> dict[str, Any]:
    return {
        "type": "passport_rf",
        "series": f"{random.randint(1, 9999):04d}",
        "number": f"{random.randint(1, 999_999):06d}",
        "issue_date": issued.isoformat(),
        "issuer": "ГУ МВД России по г. Москве",
    }
