"""A back-end on a loopback socket that answers as badly as a test needs: a byte at a time, or never.

`requests` times each socket read alone, so a server that keeps sending, slowly, is what shows whether a caller's
deadline covers the whole answer. The server counts the requests it gets by path, so that a test can tell how often
the gateway called it.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True)
class Drip:
    """Answer `chunk` bytes at a time, `interval` seconds apart; with `head`, its status line and headers too."""

    answer: bytes
    interval: float
    chunk: int = 1
    head: bool = True


class LoopbackBackend:
    """A TCP server on a free loopback port: it reads each request, then drips an answer or leaves it hanging."""

    def __init__(self, drip: Drip | None = None) -> None:
        self.drip = drip  # None: never answer, until the server is closed
        self.requests: Counter[str] = Counter()
        self.finished = threading.Event()  # some answer was sent to its last byte
        self.hung_up = threading.Event()  # a caller closed its connection before its answer was complete
        self.arrived = threading.Event()  # some request was read
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="loopback-backend", daemon=True)
        self._acceptor.start()

    @property
    def base_url(self) -> str:
        """The server's address, `http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def calls(self, path: str) -> int:
        """How many requests came for `path`."""
        with self._lock:
            return self.requests[path]

    def close(self) -> None:
        """Stop answering, close every connection and the listener."""
        self._stop.set()
        self._acceptor.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), name="loopback-call", daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(0.1)
            path = self._read_request(connection)
            if path is None:
                return
            with self._lock:
                self.requests[path] += 1
            self.arrived.set()
            if self.drip is None:
                self._stop.wait()
                return
            self._send(connection, self.drip)

    def _read_request(self, connection: socket.socket) -> str | None:
        received = b""
        while HEAD_END not in received:
            data = self._receive(connection)
            if not data:
                return None
            received += data
        head, _, body = received.partition(HEAD_END)
        lines = head.decode("latin-1").split("\r\n")
        length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
        while len(body) < length:
            data = self._receive(connection)
            if not data:
                return None
            body += data
        return lines[0].split(" ")[1]

    def _receive(self, connection: socket.socket) -> bytes:
        while not self._stop.is_set():
            try:
                return connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return b""
        return b""

    def _send(self, connection: socket.socket, drip: Drip) -> None:
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
            b"Content-Length: " + str(len(drip.answer)).encode() + b"\r\nConnection: close\r\n\r\n"
        )
        if not drip.head:
            connection.sendall(head)
        message = head + drip.answer if drip.head else drip.answer
        for start in range(0, len(message), drip.chunk):
            if self._stop.wait(drip.interval):
                return
            try:
                connection.sendall(message[start : start + drip.chunk])
            except OSError:  # the caller closed the connection: a reset, or a broken pipe
                self.hung_up.set()
                return
        self.finished.set()


@contextmanager
def loopback_backend(drip: Drip | None = None) -> Iterator[LoopbackBackend]:
    """A LoopbackBackend for the length of the block."""
    server = LoopbackBackend(drip)
    try:
        yield server
    finally:
        server.close()
