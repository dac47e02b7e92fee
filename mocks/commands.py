"""`epolicy stack`, `epolicy mocks` and `epolicy demo`: the developer's commands this distribution adds to `epolicy`.

They reach the gateway's command through the `epolicy.commands` entry points (mocks/pyproject.toml), so that the
gateway's own distribution ships no mock server and no token-minting OAuth endpoint. Like the rest of the mocks they
import nothing of the gateway: the stack runs it as a program (`python -m gateway serve`), pointed at the mocks.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
import requests

log = logging.getLogger("mocks.stack")
F = TypeVar("F", bound=Callable[..., Any])
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # the gateway's text lines (gateway/logs.py)
STOP_SECONDS = 15  # how long the gateway gets to finish its requests and workers after Ctrl-C
PATIENCE_SECONDS = 20  # how long the gateway may answer /healthz but not yet /readyz before the stack says so


class JsonLines(logging.Formatter):
    """One JSON object a line with the fields every line of the gateway's JSON logs has, the timestamp as theirs:
    RFC 3339 in UTC to the millisecond (2026-12-07T08:05:11.956+00:00). The mocks know none of the gateway's ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str | None] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None,
            "correlation_id": None,
            "application_id": None,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str) -> None:
    """Log to stderr at `level`, as the gateway does: text lines, or JSON lines for a log collector."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def listen(host: str, port: int, port_setting: str) -> socket.socket:
    """A socket listening on `host`:`port`, for a server; when it cannot be, one line saying what to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            problem = f"port {port} on {host} is in use: set {port_setting} to a free port"
        elif error.errno == errno.EACCES:
            problem = f"this user may not listen on port {port}: set {port_setting} to a port above 1023"
        else:
            reason = (error.strerror or str(error)).split(" (while attempting")[0]  # create_server's addition
            problem = f"cannot listen on {host}:{port} ({reason}): set EPOLICY_HOST (or --host) to an address here"
        raise click.ClickException(problem) from None


def _log_options(command: F) -> F:
    """`--log-level` and `--log-format`, as the gateway's commands take them."""
    level = click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default="INFO",
        show_default=True,
        envvar="EPOLICY_LOG_LEVEL",
        show_envvar=True,
        help="DEBUG: masked SOAP, and a line for each request the mocks answer",
    )
    log_format = click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        default="text",
        show_default=True,
        envvar="EPOLICY_LOG_FORMAT",
        show_envvar=True,
        help="json: one object a line, for a log collector",
    )
    return level(log_format(command))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="EPOLICY_HOST", show_envvar=True)
@click.option("--port", default=8080, show_default=True, envvar="EPOLICY_PORT", show_envvar=True)
@click.option("--mocks-port", default=8090, show_default=True, envvar="EPOLICY_MOCKS_PORT", show_envvar=True)
@_log_options
def stack(host: str, port: int, mocks_port: int, log_level: str, log_format: str) -> None:
    """The whole local stack: mocks and mock OAuth here, the gateway (migrations, API, workers) beside them."""
    from werkzeug.serving import make_server

    from mocks.app import create_app, make_target_keys

    configure_logging(log_level, log_format)
    keys = development_keys([sys.executable, "-m", "gateway", "development-keys"])
    if log_level.upper() != "DEBUG":
        # A line for each SOAP call the workers make, each readiness probe: the gateway logs its own calls.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Both ports before anything starts: one taken ends the stack with the one line saying which to change.
    listen(host, port, "EPOLICY_PORT (or --port)").close()
    listening = listen(host, mocks_port, "EPOLICY_MOCKS_PORT (or --mocks-port)")
    app = create_app({"SIGNING_KEYS": str(keys), "TRUSTED_CERTIFICATES": [str(keys / "gateway.pem")]})
    make_target_keys(app)  # before the gateway starts: it pins the mocks' certificates from its first call
    mocks = make_server(host, mocks_port, app, threaded=True, fd=listening.fileno())
    listening.close()  # the server holds its own copy of the socket
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    base = f"http://{host}:{mocks_port}"
    threading.Thread(target=mocks.serve_forever, name="mocks", daemon=True).start()
    log.debug("mocks on %s", base)
    environment = dict(
        os.environ,
        EPOLICY_OAUTH_ISSUER=f"{base}/oauth",
        EPOLICY_FUND_URL=f"{base}/fund",
        EPOLICY_KZ_FUND_URL=f"{base}/kz/fund",
        EPOLICY_INSURER_URL_TEMPLATE=f"{base}/insurers/{{code}}",
        EPOLICY_DEMO_MARK=os.environ.get("EPOLICY_DEMO_MARK", "true"),  # the mocks' data: documents say «ДЕМО»
        **signing_settings(keys, os.environ),
    )
    command = [sys.executable, "-m", "gateway", "serve", "--host", host, "--port", str(port)]
    command += ["--log-level", log_level, "--log-format", log_format]
    gateway = subprocess.Popen(command, env=environment)  # noqa: S603 - our own interpreter and arguments
    addresses = _Addresses(_address(host, port), _address(host, mocks_port))
    try:
        _until_stopped(gateway, stop, addresses)
    finally:
        if gateway.poll() is None:
            gateway.send_signal(signal.SIGINT)
            try:
                gateway.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                gateway.kill()
                gateway.wait()
        mocks.shutdown()
        mocks.server_close()
    if stop.is_set() or gateway.returncode == 0:
        click.echo(f"Stopped the gateway and its workers ({addresses.gateway}) and the mocks ({addresses.mocks}).")
        return
    # Ended by itself: before it was up it said why itself (a bad setting, its database), one line each.
    raise SystemExit(gateway.returncode or 1)


def development_keys(command: list[str]) -> Path:
    """Run the gateway's `development-keys` command: it makes the gateway's key and certificate in the instance
    folder's keys/ when missing and prints that folder; the mocks make theirs beside them."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own command
    if done.returncode != 0:
        reason = done.stderr.strip() or f"exit code {done.returncode}"
        raise click.ClickException(f"cannot make the development keys ({' '.join(command[-2:])}): {reason}")
    lines = done.stdout.strip().splitlines()
    if len(lines) != 1 or not Path(lines[0]).is_absolute():
        raise click.ClickException(f"{' '.join(command[-2:])} printed no keys folder: {done.stdout.strip()!r}")
    return Path(lines[0])


def signing_settings(keys: Path, environment: os._Environ[str] | dict[str, str]) -> dict[str, str]:
    """The gateway's signing settings for the local stack: its development key, and the mocks' certificates to
    trust. Nothing when the user has set EPOLICY_SIGNING_KEY: then the signing settings are all theirs."""
    if environment.get("EPOLICY_SIGNING_KEY"):
        return {}
    return {
        "EPOLICY_SIGNING_KEY": str(keys / "gateway.key"),
        "EPOLICY_SIGNING_CERTIFICATE": str(keys / "gateway.pem"),
        "EPOLICY_FUND_TRUSTED_CERTIFICATES": str(keys / "fund.pem"),
        "EPOLICY_KZ_FUND_TRUSTED_CERTIFICATES": str(keys / "kz-fund.pem"),
        "EPOLICY_INSURER_TRUSTED_CERTIFICATES_TEMPLATE": str(keys / "insurers-{code}.pem"),
    }


@dataclass(frozen=True)
class _Addresses:
    """Where the stack's gateway and mocks answer, as a browser on this machine reaches them."""

    gateway: str
    mocks: str


def _address(host: str, port: int) -> str:
    reachable = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - only shown
    return f"http://[{reachable}]:{port}" if ":" in reachable else f"http://{reachable}:{port}"


def _until_stopped(gateway: subprocess.Popen[bytes], stop: threading.Event, addresses: _Addresses) -> None:
    """Wait for Ctrl-C or TERM, or for the gateway to end by itself (a bad setting, its database); say once, when
    it is up, where everything is."""
    started, alive_since = time.monotonic(), None
    announced = silent_said = False
    while not stop.wait(0.2) and gateway.poll() is None:
        if announced:
            continue
        answered, failing = _readiness(addresses.gateway)
        if answered and alive_since is None:
            alive_since = time.monotonic()
        waited = alive_since is not None and time.monotonic() - alive_since > PATIENCE_SECONDS
        if answered and (not failing or waited):
            click.echo(_summary(addresses, failing))
            announced = True
        elif not answered and not silent_said and time.monotonic() - started > 3 * PATIENCE_SECONDS:
            click.echo(
                f"the gateway does not answer at {addresses.gateway} yet; still waiting (Ctrl-C stops)", err=True
            )
            silent_said = True
    if announced and not stop.is_set() and gateway.returncode != 0:
        click.echo(f"the gateway ended with exit code {gateway.returncode}: the mocks are stopped too", err=True)


def _readiness(gateway: str) -> tuple[bool, list[str]]:
    """Whether the gateway answers, and the checks its /readyz says fail (none: it is ready)."""
    try:
        answer = requests.get(f"{gateway}/readyz", timeout=10)
    except requests.RequestException:
        return False, []
    if answer.status_code == 200:
        return True, []
    try:
        checks = answer.json().get("checks", {})
    except ValueError:
        checks = {}
    failing = [name for name, state in checks.items() if state not in ("ok", "closed")]
    return True, failing or [f"/readyz answers {answer.status_code}"]


def _summary(addresses: _Addresses, failing: list[str]) -> str:
    """Where the portal, the docs, the API and the mocks are, who logs in, and how to stop: printed once."""
    from mocks.oauth.directory import load_directory

    gateway, mocks = addresses.gateway, addresses.mocks
    citizen = load_directory().citizens[0]
    rows = [
        ("portal", f"{gateway}/portal/", f"log in as {citizen.login}, password {citizen.password}"),
        ("API docs", f"{gateway}/docs", "the OpenAPI document at /docs/openapi.yaml"),
        ("API", f"{gateway}/api/v1/", "a token from the mock OAuth server: README.md, Walk-through"),
        ("mocks", mocks, "fund /fund, insurers /insurers/<code>, Kazakh fund /kz/fund, faults /mock/faults"),
        ("mock OAuth", f"{mocks}/oauth", "test users in mocks/data/oauth.yaml"),
    ]
    width = max(len(url) for _, url, _ in rows)
    lines = ["", "The stack is up:", *(f"  {label:<11} {url:<{width}}  {note}" for label, url, note in rows)]
    if failing:
        lines.append(f"  not ready yet: {', '.join(failing)} ({gateway}/readyz)")
    lines += ["Ctrl-C stops it.", ""]
    return "\n".join(lines)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="EPOLICY_HOST", show_envvar=True)
@click.option("--port", default=8090, show_default=True, envvar="EPOLICY_MOCKS_PORT", show_envvar=True)
def mocks(host: str, port: int) -> None:
    """Only the mock back-ends and the mock OAuth server."""
    from mocks.__main__ import main

    sys.exit(main(["--host", host, "--port", str(port)]))


@click.command()
@click.option("--gateway-url", default=None, help="the gateway [default: http://127.0.0.1:8080, or EPOLICY_PORT]")
@click.option(
    "--mocks-url", default=None, help="mocks and mock OAuth [default: http://127.0.0.1:8090, or EPOLICY_MOCKS_PORT]"
)
@click.option("--timeout", default=60.0, show_default=True, help="seconds to wait for each application to finish")
def demo(gateway_url: str | None, mocks_url: str | None, timeout: float) -> None:
    """Walk through apply → status → replace → a refusal on a running stack (`make run`), printing each step."""
    from mocks.demo import DemoError, default_urls, run_demo

    gateway, mocks = default_urls()
    try:
        run_demo(gateway_url or gateway, mocks_url or mocks, click.echo, timeout)
    except DemoError as error:
        click.echo(f"Ошибка: {error}", err=True)
        sys.exit(1)
