"""The services the tests need: the mocks on a loopback port (with faults injected), and what is missing."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server

from mocks.app import create_app
from tests.support.signing import mocks_config


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing_service(reason: str, *, module: bool = False) -> NoReturn:
    """A service the tests need is not there: skip on a developer's machine, fail in CI (`CI=true`), which has it.

    `module`: skip the calling test module as a whole (at import time).
    """
    if in_ci():
        pytest.fail(f"must run in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


@dataclass(frozen=True)
class RunningMocks:
    """The mocks listening on a loopback port."""

    base_url: str
    server: BaseWSGIServer

    @property
    def fund_url(self) -> str:
        return f"{self.base_url}/fund"

    def insurer_url(self, code: str) -> str:
        return f"{self.base_url}/insurers/{code}"


def serve_mocks() -> tuple[BaseWSGIServer, threading.Thread]:
    """Start a fresh mocks app on a free loopback port, in a daemon thread."""
    server = make_server("127.0.0.1", 0, create_app({"TESTING": True, **mocks_config()}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="mocks", daemon=True)
    thread.start()
    return server, thread


@contextmanager
def own_mocks() -> Iterator[RunningMocks]:
    """A mocks server of one module's own, so the faults it injects never reach other tests."""
    server, thread = serve_mocks()
    try:
        yield RunningMocks(f"http://127.0.0.1:{server.port}", server)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def inject(mocks: RunningMocks, **rule: Any) -> None:
    """Inject a fault (README: QA, the mocks)."""
    answer = requests.post(f"{mocks.base_url}/mock/faults", json=rule, timeout=5)
    assert answer.status_code == 201, answer.text


def clear_faults(mocks: RunningMocks) -> None:
    """Remove every injected fault."""
    assert requests.delete(f"{mocks.base_url}/mock/faults", timeout=5).status_code == 204
