"""A deadline for a whole back-end exchange: connecting, sending, and every byte of the answer, head and body.

`requests` and urllib3 time each socket operation alone: a server that sends its answer a byte at a time, each
byte within the read timeout, holds the caller as long as it likes. Here every read of an answer first sets the
socket's timeout to what is left of the call's deadline, and fails once nothing is left; `DeadlineAdapter` puts
that reader under every response of a session. The deadline is the context's (`within`), so a caller such as the
readiness check may narrow it for the calls it makes, and each thread has its own.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection

_DEADLINE: ContextVar[float | None] = ContextVar("epolicy_backend_deadline", default=None)


class DeadlineExceeded(TimeoutError):
    """The answer was not complete when the call's deadline came (a socket timeout to urllib3 and requests)."""


@contextmanager
def within(seconds: float) -> Iterator[float]:
    """Calls made in the block must be done `seconds` from now, or by the deadline already set if that is sooner."""
    deadline = time.monotonic() + seconds
    outer = _DEADLINE.get()
    if outer is not None:
        deadline = min(deadline, outer)
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the context's deadline (0 once it has passed), or None when there is none."""
    deadline = _DEADLINE.get()
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


class _DeadlineReader(io.RawIOBase):
    """A socket's reads, each one given only what is left before the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)  # counted by the socket, as http.client's own file is
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the whole answer did not arrive before the deadline")
        self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading its status line, headers and body within the context's deadline, if any."""

    def __init__(self, sock: socket.socket, debuglevel: int = 0, method: str | None = None, url: str | None = None):
        super().__init__(sock, debuglevel, method, url)
        deadline = _DEADLINE.get()
        if deadline is not None:
            self.fp.close()
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


POOLS = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' HTTP adapter whose connections read every answer within the context's deadline (`within`); a call
    made outside one is given its own timeout as the deadline of the whole exchange, not of each read."""

    def send(self, request: Any, stream: bool = False, timeout: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Send within the context's deadline, or within `timeout` (connect and read together) when none is set."""
        if _DEADLINE.get() is not None or timeout is None:
            return super().send(request, stream, timeout, *args, **kwargs)
        total = sum(part for part in timeout if part is not None) if isinstance(timeout, tuple) else timeout
        with within(float(total)):
            return super().send(request, stream, timeout, *args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Make the pool manager as requests does, with connections that keep to the deadline."""
        super().init_poolmanager(*args, **kwargs)
        _keep_to_deadlines(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        """The pool manager for an HTTP(S) proxy, with the same connections."""
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS managers bring connection classes of their own
            _keep_to_deadlines(manager)
        return manager


def _keep_to_deadlines(manager: PoolManager) -> None:
    manager.pool_classes_by_scheme = dict(POOLS)
