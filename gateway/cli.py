"""The `epolicy` command: serve, worker, stack, mocks, db, stalled, retry, openapi."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click
from flask import Flask

from gateway import config as settings
from gateway.app import create_app

log = logging.getLogger("epolicy")


def _logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic narrates every plugin it loads; its warnings are enough.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C and a service manager's TERM both end every server and worker cleanly.
    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _migrate(app: Flask) -> None:
    from gateway.storage.migrate import upgrade

    upgrade(settings.database_url(app.config, app.instance_path))


@click.group()
def main() -> None:
    """Integration gateway for ОМС e-policies."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, envvar="EPOLICY_PORT")
@click.option("--threads", default=16, show_default=True, help="request threads of the WSGI server")
@click.option(
    "--log-level", default="INFO", show_default=True, envvar="EPOLICY_LOG_LEVEL", help="DEBUG: masked SOAP messages too"
)
def serve(host: str, port: int, threads: int, log_level: str) -> None:
    """Serve the API with waitress (and the in-process workers, if EPOLICY_WORKER_THREADS > 0)."""
    _logging(log_level.upper())
    stop = threading.Event()
    _stop_on_signals(stop)
    _run_gateway(create_app(), host, port, threads, stop)


@main.command()
@click.option("--threads", default=2, show_default=True, help="worker threads in this process")
@click.option(
    "--log-level", default="INFO", show_default=True, envvar="EPOLICY_LOG_LEVEL", help="DEBUG: masked SOAP messages too"
)
def worker(threads: int, log_level: str) -> None:
    """Drain the outbox; run any number of these, on any number of machines, against one database."""
    _logging(log_level.upper())
    from gateway.worker import worker_pool

    app = create_app({"WORKER_THREADS": 0})
    config = app.config
    pool = worker_pool(
        app.extensions["epolicy"],
        threads,
        float(config["WORKER_POLL_SECONDS"]),
        float(config["WORKER_LEASE_SECONDS"]),
        int(config["WORKER_BATCH"]),
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    pool.start()
    stop.wait()
    pool.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, envvar="EPOLICY_PORT")
@click.option("--mocks-port", default=8090, show_default=True, envvar="EPOLICY_MOCKS_PORT")
@click.option(
    "--log-level", default="INFO", show_default=True, envvar="EPOLICY_LOG_LEVEL", help="DEBUG: masked SOAP messages too"
)
def stack(host: str, port: int, mocks_port: int, log_level: str) -> None:
    """The whole local stack in one process: mocks, mock OAuth, migrations, gateway and workers."""
    _logging(log_level.upper())
    from werkzeug.serving import make_server

    from mocks.app import create_app as create_mocks

    stop = threading.Event()
    _stop_on_signals(stop)
    mocks_base = f"http://{host}:{mocks_port}"
    mocks = make_server(host, mocks_port, create_mocks(), threaded=True)
    threading.Thread(target=mocks.serve_forever, name="mocks", daemon=True).start()
    log.info("mocks on %s (fund /fund, insurers /insurers/<code>, OAuth /oauth, faults /mock/faults)", mocks_base)
    app = create_app(
        {
            "OAUTH_ISSUER": f"{mocks_base}/oauth",
            "FUND_URL": f"{mocks_base}/fund",
            "KZ_FUND_URL": f"{mocks_base}/kz/fund",
            "INSURER_URL_TEMPLATE": f"{mocks_base}/insurers/{{code}}",
        }
    )
    try:
        _run_gateway(app, host, port, 16, stop)
    finally:
        mocks.shutdown()
        mocks.server_close()


def _run_gateway(app: Flask, host: str, port: int, threads: int, stop: threading.Event) -> None:
    from waitress.server import create_server

    from gateway.worker import worker_pool

    _migrate(app)
    config = app.config
    pool = worker_pool(
        app.extensions["epolicy"],
        int(config["WORKER_THREADS"]),
        float(config["WORKER_POLL_SECONDS"]),
        float(config["WORKER_LEASE_SECONDS"]),
        int(config["WORKER_BATCH"]),
    )
    pool.start()
    server = create_server(app, host=host, port=port, threads=threads, ident="epolicy-gateway")
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    log.info("gateway on http://%s:%s (%d worker threads)", host, port, len(pool.workers))
    stop.wait()
    log.info("stopping")
    server.close()
    pool.stop()


@main.command()
@click.option("--port", default=8090, show_default=True, envvar="EPOLICY_MOCKS_PORT")
def mocks(port: int) -> None:
    """Only the mock back-ends and the mock OAuth server."""
    from mocks.__main__ import main as mocks_main

    sys.exit(mocks_main(["--port", str(port)]))


@main.group()
def db() -> None:
    """The gateway's database."""


@db.command()
def upgrade() -> None:
    """Apply every migration (Alembic) to the configured database."""
    _logging()
    app = create_app({"WORKER_THREADS": 0})
    _migrate(app)
    click.echo("database is at the latest revision")


@main.command()
def stalled() -> None:
    """List the applications parked after too many failed attempts (resume them with `epolicy retry`)."""
    services = create_app({"WORKER_THREADS": 0}).extensions["epolicy"]
    entries = services.store.stalled()
    for entry in entries:
        # Ids, counts and the technical cause only: never personal data.
        click.echo(
            f"{entry.application_id}\t{entry.attempts}\t{entry.stalled_at.isoformat()}\t{entry.last_error or ''}"
        )
    click.echo(f"{len(entries)} stalled", err=True)


@main.command()
@click.argument("application_ids", nargs=-1)
@click.option("--all-stalled", is_flag=True, help="resume every stalled application")
def retry(application_ids: tuple[str, ...], all_stalled: bool) -> None:
    """Make applications due now with their attempts reset, noting "resumed by operator" in their history."""
    from gateway.usecases.processing import resume

    if not application_ids and not all_stalled:
        raise click.UsageError("name APPLICATION_ID ... or pass --all-stalled")
    services = create_app({"WORKER_THREADS": 0}).extensions["epolicy"]
    ids = list(application_ids) + ([entry.application_id for entry in services.store.stalled()] if all_stalled else [])
    missed = 0
    for application_id in dict.fromkeys(ids):
        if resume(services.store, application_id, services.clock()) is None:
            missed += 1
            click.echo(f"{application_id}: not found or already finished", err=True)
        else:
            click.echo(f"{application_id}: resumed")
    if missed:
        sys.exit(1)


@main.command()
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="file to write (default: stdout)"
)
def openapi(output: Path | None) -> None:
    """Write the OpenAPI document generated from the code (contracts/openapi.yaml is this output)."""
    from gateway.openapi import render_yaml

    text = render_yaml()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
