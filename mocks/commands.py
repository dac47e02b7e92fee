"""`epolicy stack`, `epolicy mocks` and `epolicy demo`: the developer's commands this distribution adds to `epolicy`.

They reach the gateway's command through the `epolicy.commands` entry points (mocks/pyproject.toml), so that the
gateway's own distribution ships no mock server and no token-minting OAuth endpoint. Like the rest of the mocks they
import nothing of the gateway: the stack runs it as a program (`python -m gateway serve`), pointed at the mocks.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

import click

log = logging.getLogger("mocks.stack")
LOG_FORMATS = ("text", "json")
STOP_SECONDS = 15  # how long the gateway gets to finish its requests and workers after Ctrl-C


class _JsonLines(logging.Formatter):
    """One JSON object a line, the fields the gateway's own JSON logs begin with."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps(entry, ensure_ascii=False)


def _logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        _JsonLines() if log_format == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, envvar="EPOLICY_PORT")
@click.option("--mocks-port", default=8090, show_default=True, envvar="EPOLICY_MOCKS_PORT")
@click.option("--log-level", default="INFO", show_default=True, envvar="EPOLICY_LOG_LEVEL", help="DEBUG: masked SOAP")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    envvar="EPOLICY_LOG_FORMAT",
    help="json: one object a line, for a log collector",
)
def stack(host: str, port: int, mocks_port: int, log_level: str, log_format: str) -> None:
    """The whole local stack: mocks and mock OAuth here, the gateway (migrations, API, workers) beside them."""
    from werkzeug.serving import make_server

    from mocks.app import create_app

    _logging(log_level, log_format)
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    base = f"http://{host}:{mocks_port}"
    mocks = make_server(host, mocks_port, create_app(), threaded=True)
    threading.Thread(target=mocks.serve_forever, name="mocks", daemon=True).start()
    log.info("mocks on %s (fund /fund, insurers /insurers/<code>, OAuth /oauth, faults /mock/faults)", base)
    environment = dict(
        os.environ,
        EPOLICY_OAUTH_ISSUER=f"{base}/oauth",
        EPOLICY_FUND_URL=f"{base}/fund",
        EPOLICY_KZ_FUND_URL=f"{base}/kz/fund",
        EPOLICY_INSURER_URL_TEMPLATE=f"{base}/insurers/{{code}}",
        EPOLICY_DEMO_MARK=os.environ.get("EPOLICY_DEMO_MARK", "true"),  # the mocks' data: documents say «ДЕМО»
    )
    command = [sys.executable, "-m", "gateway", "serve", "--host", host, "--port", str(port)]
    command += ["--log-level", log_level, "--log-format", log_format]
    gateway = subprocess.Popen(command, env=environment)  # noqa: S603 - our own interpreter and arguments
    try:
        # Until Ctrl-C or TERM, or until the gateway ends by itself (its port taken, a bad setting).
        while not stop.wait(0.2) and gateway.poll() is None:
            pass
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
    if not stop.is_set():
        raise SystemExit(gateway.returncode or 1)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, envvar="EPOLICY_MOCKS_PORT")
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
