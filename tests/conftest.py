"""Fixtures shared by every test folder: the mocks served on a real socket."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from mocks.app import create_app


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
    server = make_server("127.0.0.1", 0, create_app({"TESTING": True}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="mocks", daemon=True)
    thread.start()
    return server, thread


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the SOAP conformance suite: point it at another implementation of the contracts."""
    group = parser.getgroup("epolicy", "e-policy contract conformance")
    group.addoption("--fund-url", help="address of the fund service under test (default: the mocks)")
    group.addoption("--insurer-url", help="address of the insurer service under test (default: the mocks)")
    group.addoption("--insurer-code", help="code of the insurer at --insurer-url (as the fund lists it)")


@pytest.fixture(scope="session")
def mocks_server() -> Iterator[RunningMocks]:
    """The mocks served over real HTTP for the whole session."""
    server, thread = serve_mocks()
    yield RunningMocks(f"http://127.0.0.1:{server.port}", server)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
