"""The production profile on one machine (`make run-pg`): mocks, migrations, gunicorn and a separate worker.

    .venv/bin/python deploy/production_stack.py [--database-url URL] [--port 8080] [--mocks-port 8090]

The database is `EPOLICY_DATABASE_URL`, by default the local PostgreSQL (`postgres@127.0.0.1:5432/test`). The
mocks stand in for the fund, the insurers and the OAuth server; the gateway runs under gunicorn with
deploy/gunicorn.conf.py, and `epolicy worker` drains the outbox in a process of its own, its metrics on
`--worker-metrics-port`. Logs are JSON lines unless `EPOLICY_LOG_FORMAT=text`. Ctrl-C (or TERM) stops the
gateway, then the worker, then the mocks, each cleanly. What stops the start (a port in use, a bad setting, a
database that does not answer) is said in one line each, naming what to change, before anything is started.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing
from pathlib import Path
from types import FrameType

from mocks.commands import signing_settings  # the local stack's own, so that both trust alike

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STOP_TIMEOUT = 40.0  # gunicorn's graceful timeout (30 s) and a little more


def main(argv: list[str] | None = None) -> int:
    """Start everything, wait for Ctrl-C or for a process to end, stop everything."""
    args = _parser().parse_args(argv)
    keys = _development_keys()
    if keys is None:
        return 1
    mocks = f"http://{args.host}:{args.mocks_port}"
    env = dict(
        os.environ,
        EPOLICY_DATABASE_URL=args.database_url,
        EPOLICY_HOST=args.host,
        EPOLICY_PORT=str(args.port),
        EPOLICY_WORKER_THREADS="0",  # the outbox is the worker process's
        EPOLICY_OAUTH_ISSUER=f"{mocks}/oauth",
        EPOLICY_FUND_URL=f"{mocks}/fund",
        EPOLICY_KZ_FUND_URL=f"{mocks}/kz/fund",
        EPOLICY_INSURER_URL_TEMPLATE=f"{mocks}/insurers/{{code}}",
        EPOLICY_DEMO_MARK=os.environ.get("EPOLICY_DEMO_MARK", "true"),  # the mocks' data: documents say «ДЕМО»
    )
    env.update(signing_settings(keys))  # the mocks trust the development key and no other: replaces the user's
    env.setdefault("EPOLICY_LOG_FORMAT", "json")
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)

    ports = [(args.port, "EPOLICY_PORT (or --port)"), (args.mocks_port, "EPOLICY_MOCKS_PORT (or --mocks-port)")]
    ports.append((args.worker_metrics_port, "EPOLICY_WORKER_METRICS_PORT (or --worker-metrics-port)"))
    taken = [problem for port, setting in ports if (problem := _taken(args.host, port, setting))]
    for problem in taken:
        _say(problem)
    if taken or not _migrate(env):
        return 1
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        mocks_argv = [str(BIN / "python"), "-m", "mocks", "--host", args.host, "--port", str(args.mocks_port)]
        mocks_argv += ["--keys", str(keys), "--trust", str(keys / "gateway.pem")]
        started["mocks"] = _start(mocks_argv, env)
        if not _wait_for_port(args.host, args.mocks_port, started["mocks"], stop):
            return 1
        worker = [str(BIN / "epolicy"), "worker", "--threads", str(args.worker_threads)]
        worker += ["--metrics-host", args.host, "--metrics-port", str(args.worker_metrics_port)]
        started["worker"] = _start(worker, env)
        started["gateway"] = _start([str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")], env)
        _say(
            f"gateway http://{args.host}:{args.port} (metrics at /metrics), worker metrics "
            f"http://{args.host}:{args.worker_metrics_port}/metrics, mocks {mocks}; Ctrl-C stops everything"
        )
        while not stop.wait(0.2):
            ended = [(name, process) for name, process in started.items() if process.poll() is not None]
            if ended:
                _say(f"the {ended[0][0]} ended with {ended[0][1].returncode}: stopping the rest")
                return 1
        return 0
    finally:
        _stop(started)


def _development_keys() -> Path | None:
    """`epolicy development-keys`: the gateway's development key in the instance folder's keys/, made when missing;
    the folder, where the mocks make theirs too. None when it cannot, having said why."""
    command = [str(BIN / "epolicy"), "development-keys"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    folder = done.stdout.strip()
    if done.returncode != 0 or not folder or "\n" in folder:
        _say(f"cannot make the development keys (epolicy development-keys): {done.stderr.strip() or folder}")
        return None
    return Path(folder)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="production_stack.py", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("EPOLICY_DATABASE_URL") or DEFAULT_DATABASE)
    parser.add_argument("--host", default="127.0.0.1")
    # Defaults as text: argparse reads them with `type`, so that a bad variable is refused as a bad option is.
    for option, variable, default in (
        ("--port", "EPOLICY_PORT", "8080"),
        ("--mocks-port", "EPOLICY_MOCKS_PORT", "8090"),
        ("--worker-metrics-port", "EPOLICY_WORKER_METRICS_PORT", "8091"),
    ):
        parser.add_argument(option, type=_port(f"{variable} (or {option})"), default=os.environ.get(variable, default))
    parser.add_argument("--worker-threads", type=int, default=2)
    return parser


class _Parser(argparse.ArgumentParser):
    """Refuses an option in one line, like every other start error of the stack."""

    def error(self, message: str) -> typing.NoReturn:
        _say(f"{message} (--help lists the options)")
        sys.exit(2)


def _port(setting: str) -> typing.Callable[[str], int]:
    def read(text: str) -> int:
        if not text.strip().isdigit() or not 0 < int(text) < 65536:
            raise argparse.ArgumentTypeError(f"{text!r} is no port: set {setting} to a number from 1 to 65535")
        return int(text)

    return read


def _say(message: str) -> None:
    print(f"production_stack: {message}", file=sys.stderr, flush=True)


def _taken(host: str, port: int, setting: str) -> str | None:
    """Why a server cannot listen on `host`:`port` (None: it can), saying which setting to change."""
    try:
        socket.create_server((host, port)).close()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is in use: set {setting} to a free port"
        reason = (error.strerror or str(error)).split(" (while attempting")[0]  # create_server's addition
        return f"cannot listen on {host}:{port} ({reason}): set --host or {setting}"
    return None


def _migrate(env: dict[str, str]) -> bool:
    """`epolicy db upgrade` with the stack's settings: False when it cannot, having said why in one line each (a bad
    setting, a database that does not answer)."""
    upgrade = [str(BIN / "epolicy"), "db", "upgrade"]
    return subprocess.run(upgrade, cwd=ROOT, env=env, check=False).returncode == 0  # noqa: S603


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches this script alone, which stops the processes in order.
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], stop: threading.Event) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not stop.is_set() and process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    _say(f"nothing listens on {host}:{port}")
    return False


def _stop(started: dict[str, subprocess.Popen[bytes]]) -> None:
    """TERM to each in turn, the last started first (the gateway, the worker, the mocks); KILL after a timeout."""
    for name, process in reversed(started.items()):
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _say(f"the {name} did not stop in time: killed")
            process.kill()
            process.wait()
    if started:
        _say("stopped")


if __name__ == "__main__":
    sys.exit(main())
