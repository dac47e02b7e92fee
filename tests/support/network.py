"""The guard that keeps tests off the network unless they say they use it (`@pytest.mark.network`).

While a test without the marker runs, connecting an IP socket (and psycopg's own connect, which libpq makes in C)
raises NetworkBlocked naming the test and the address. Unix sockets, binding and listening stay free: a guarded test
may start a server, it just may not call one. The marker is for tests that talk to real servers on loopback: the
mocks, PostgreSQL, Redis, a stack in a subprocess, a browser.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

MARKER = "network"


class NetworkBlocked(RuntimeError):
    """A test that did not opt in to the network tried to connect (not an OSError: no client may retry it away)."""


def _refuse(test: str, address: object) -> NetworkBlocked:
    return NetworkBlocked(
        f"{test} connected to {address!r} without opting in to the network: mark it @pytest.mark.{MARKER}"
        " (it talks to a real server on loopback), or give it a fake"
    )


def block_network(test: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every IP connection (and every psycopg connection) fail with NetworkBlocked until the test ends."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                self.close()  # the caller sees no OSError, so it would not close it: no ResourceWarning later
                raise _refuse(test, address)
            return real(self, address)

        return connect

    def psycopg_connect(*args: Any, **kwargs: Any) -> Any:
        raise _refuse(test, kwargs.get("host") or (args[0] if args else "PostgreSQL"))

    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
    monkeypatch.setattr(psycopg, "connect", psycopg_connect)
    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(lambda cls, *a, **k: psycopg_connect(*a, **k)))
