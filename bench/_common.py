"""Shared helpers of the benchmarks that run the stack in subprocesses over loopback.

The mocks and the gateway run under gunicorn with gthread workers, each server in its own process group on a free
loopback port, the gateway's SQLite file in a temporary folder; `Stack` stops them all, whatever happens.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KNOWN_ENP = "7748410819000012"  # insured with 77001 and attached to clinic 770101 in mocks/data/registry.yaml


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def gunicorn_argv(app: str, port: int, workers: int, threads: int) -> list[str]:
    """The command line of gunicorn serving `app` on loopback with gthread workers, quiet."""
    argv = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    argv += ["--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning"]
    from gunicorn.config import KNOWN_SETTINGS  # type: ignore[import-untyped]

    # Newer gunicorn opens a control socket at a fixed path in the home folder: two servers would share it.
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        argv.append("--no-control-socket")
    return argv


class Server:
    """A server in a subprocess of its own process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log: Path, base: str):
        self.name = name
        self.base = base
        self.port = int(base.rsplit(":", 1)[1])
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                argv, env=dict(env), cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, path: str, seconds: float = 30) -> None:
        """Until `path` answers 200; raises with the log's tail if the server died or never answered."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                status, _ = request_once(self.port, "GET", path)
                if status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} did not start ({self.base}{path}):\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Graceful stop of the whole process group (TERM), then KILL if it lingers."""
        # TERM, not INT: gunicorn's gthread workers take about 10 s to leave on INT after they served keep-alive
        # connections, and well under a second on TERM.
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        # Workers left behind by a master that died: the group goes in any case.
        self._signal(signal.SIGKILL)
        self.process.wait()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


class Stack:
    """The mocks and one or more gateways under gunicorn on free loopback ports; always stopped on leaving.

    `gateways` names each gateway and the `EPOLICY_*` settings it gets on top of the common ones (the back-ends on
    the mocks, rate limits off, one SQLite file in a temporary folder shared by all of them).
    """

    def __init__(
        self,
        gateway_workers: int,
        gateway_threads: int,
        gateways: Mapping[str, Mapping[str, str]] | None = None,
        mocks_threads: int = 8,
    ):
        self.folder = Path(tempfile.mkdtemp(prefix="epolicy-bench-"))
        self.mocks_port = free_port()
        self.mocks_base = f"http://127.0.0.1:{self.mocks_port}"
        self.gateway_workers = gateway_workers
        self.gateway_threads = gateway_threads
        self.variants = dict(gateways or {"gateway": {}})
        self.mocks_threads = mocks_threads
        self.servers: list[Server] = []
        self.gateways: dict[str, Server] = {}

    @property
    def gateway(self) -> Server:
        """The first gateway."""
        return next(iter(self.gateways.values()))

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _start(self) -> None:
        from gateway.storage.migrate import upgrade

        database = f"sqlite:///{self.folder}/epolicy.sqlite3"
        upgrade(database)  # gateway.wsgi does not migrate; `epolicy db upgrade` does the same
        base = self.mocks_base
        common = dict(
            os.environ,
            EPOLICY_DATABASE_URL=database,
            EPOLICY_FUND_URL=f"{base}/fund",
            EPOLICY_KZ_FUND_URL=f"{base}/kz/fund",
            EPOLICY_INSURER_URL_TEMPLATE=f"{base}/insurers/{{code}}",
            EPOLICY_OAUTH_ISSUER=f"{base}/oauth",
            EPOLICY_RATELIMIT_ENABLED="false",
        )
        # One mocks worker: the mock fund keeps its registry and its call counts in memory.
        mocks_argv = gunicorn_argv("mocks.app:create_app()", self.mocks_port, 1, self.mocks_threads)
        self.mocks = Server("mocks", mocks_argv, os.environ, self.folder / "mocks.log", base)
        self.servers.append(self.mocks)
        for index, (name, settings) in enumerate(self.variants.items()):
            port = free_port()
            argv = gunicorn_argv("gateway.wsgi:app", port, self.gateway_workers, self.gateway_threads)
            env = {**common, **settings}
            server = Server(name, argv, env, self.folder / f"gateway-{index}.log", f"http://127.0.0.1:{port}")
            self.servers.append(server)
            self.gateways[name] = server
        self.mocks.wait_ready("/oauth/jwks")
        for server in self.gateways.values():
            server.wait_ready("/healthz")

    def close(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def token(self, sub: str, scope: str, snils: str | None = None) -> str:
        """A signed access token from the mock OAuth server's QA endpoint, valid for a day."""
        body: dict[str, Any] = {"sub": sub, "scope": scope, "expires_in": 86400}
        if snils:
            body["snils"] = snils
        status, answer = request_once(self.mocks_port, "POST", "/oauth/test/token", json.dumps(body).encode())
        if status != 200:
            raise RuntimeError(f"no token from the mock OAuth server: {status} {answer[:200]!r}")
        token: str = json.loads(answer)["access_token"]
        return token

    def mock_stats(self) -> dict[str, Any]:
        """The mocks' call counts by target and operation (GET /mock/stats)."""
        status, answer = request_once(self.mocks_port, "GET", "/mock/stats")
        if status != 200:
            raise RuntimeError(f"GET /mock/stats answered {status}")
        stats: dict[str, Any] = json.loads(answer)
        return stats


def request_once(
    port: int, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    """One request on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class KeepAlive:
    """An HTTP/1.1 client on one keep-alive connection, reopened when the server closes it."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.connects = 0

    def request(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.connects += 1
            try:
                self.connection.request(method, path, body=body, headers=dict(headers))
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of unsorted samples (fraction 0.5: median, 0.99: p99)."""
    ordered = sorted(samples)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
