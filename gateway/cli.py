"""The `epolicy` command: serve, worker, db, stalled, idle, retry, openapi; and those installed distributions add."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gateway.config import Settings
from gateway.logs import LOG_FORMATS, configure_logging

if TYPE_CHECKING:
    from gateway.bootstrap import Services
    from gateway.worker import WorkerPool

log = logging.getLogger("epolicy")
F = TypeVar("F", bound=Callable[..., Any])


def _logging(level: str = "INFO", log_format: str | None = None) -> None:
    # Text unless asked (--log-format, EPOLICY_LOG_FORMAT): JSON lines are for a log collector, not a terminal.
    configure_logging(level, log_format or os.environ.get("EPOLICY_LOG_FORMAT", "text"))


# `--log-format json`: one JSON object a line with request, correlation and application ids (gateway/logs.py).
_log_format = click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    envvar="EPOLICY_LOG_FORMAT",
    help="json: one object a line, for a log collector",
)


def _log_options(command: F) -> F:
    """`--log-level` and `--log-format`, for every command that runs a server or workers."""
    level = click.option(
        "--log-level",
        default="INFO",
        show_default=True,
        envvar="EPOLICY_LOG_LEVEL",
        help="DEBUG: masked SOAP messages too",
    )
    return level(_log_format(command))


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C and a service manager's TERM both end every server and worker cleanly.
    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _migrate(settings: Settings) -> None:
    from gateway.storage.migrate import upgrade

    upgrade(settings.database)


def _services(settings: Settings) -> Services:
    """The services of a command that serves no HTTP: no Flask app, the same objects `create_app` would build."""
    from gateway.bootstrap import build_services

    return build_services(settings)


def _pool(services: Services, threads: int) -> WorkerPool:
    from gateway.worker import worker_pool

    settings = services.settings
    return worker_pool(
        services, threads, settings.worker_poll_seconds, settings.worker_lease_seconds, settings.worker_batch
    )


class _Commands(click.Group):
    """The gateway's commands and those other installed distributions add (entry points `epolicy.commands`).

    The mocks' distribution adds `stack`, `mocks` and `demo`; the gateway's own wheel ships none of them. Added
    commands are loaded only when named (or listed by --help), so that `epolicy worker` imports none of them.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_added()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        entry = None if command is not None else _added().get(name)
        if entry is not None:
            loaded = entry.load()
            command = loaded if isinstance(loaded, click.Command) else None
        return command


def _added() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group="epolicy.commands")}


@click.group(cls=_Commands)
def main() -> None:
    """Integration gateway for ОМС e-policies."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, envvar="EPOLICY_PORT")
@click.option("--threads", default=16, show_default=True, help="request threads of the WSGI server")
@_log_options
def serve(host: str, port: int, threads: int, log_level: str, log_format: str) -> None:
    """Serve the API with waitress (and the in-process workers, if EPOLICY_WORKER_THREADS > 0)."""
    _logging(log_level.upper(), log_format)
    stop = threading.Event()
    _stop_on_signals(stop)
    _run_gateway(Settings.from_env(), host, port, threads, stop)


@main.command()
@click.option("--threads", default=2, show_default=True, help="worker threads in this process")
@_log_options
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    envvar="EPOLICY_WORKER_METRICS_PORT",
    help="serve this process's Prometheus metrics on this port (default: none)",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True, envvar="EPOLICY_WORKER_METRICS_HOST")
def worker(threads: int, log_level: str, log_format: str, metrics_port: int | None, metrics_host: str) -> None:
    """Drain the outbox; run any number of these, on any number of machines, against one database."""
    _logging(log_level.upper(), log_format)
    services = _services(Settings.from_env())
    pool = _pool(services, threads)
    stop = threading.Event()
    _stop_on_signals(stop)
    exporter = None
    if metrics_port is not None:
        from prometheus_client import start_http_server

        # Back-end calls of this process, the outbox; PROMETHEUS_MULTIPROC_DIR is for gunicorn's processes only.
        exporter, _ = start_http_server(metrics_port, metrics_host, registry=services.metrics.registry)
        log.info("worker metrics on http://%s:%s/metrics", metrics_host, exporter.server_port)
    pool.start()
    stop.wait()
    pool.stop()
    if exporter is not None:
        exporter.shutdown()
        exporter.server_close()


def _run_gateway(settings: Settings, host: str, port: int, threads: int, stop: threading.Event) -> None:
    from waitress.server import create_server

    from gateway.app import create_app

    _migrate(settings)
    app = create_app(settings=settings)
    pool = _pool(app.extensions["epolicy"], settings.worker_threads)
    pool.start()
    server = create_server(app, host=host, port=port, threads=threads, ident="epolicy-gateway")
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    log.info("gateway on http://%s:%s (%d worker threads)", host, port, len(pool.workers))
    stop.wait()
    log.info("stopping")
    server.close()
    pool.stop()


@main.group()
def db() -> None:
    """The gateway's database."""


@db.command()
def upgrade() -> None:
    """Apply every migration (Alembic) to the configured database."""
    _logging()
    _migrate(Settings.from_env())
    click.echo("database is at the latest revision")


@main.command()
def stalled() -> None:
    """List the applications parked after too many failed attempts (resume them with `epolicy retry`)."""
    services = _services(Settings.from_env())
    entries = services.store.stalled()
    for entry in entries:
        # Ids, counts and the technical cause only: never personal data.
        click.echo(
            f"{entry.application_id}\t{entry.attempts}\t{entry.stalled_at.isoformat()}\t{entry.last_error or ''}"
        )
    click.echo(f"{len(entries)} stalled", err=True)


@main.command()
@click.option(
    "--minutes",
    type=click.FloatRange(min=0),
    default=None,
    help="unchanged for longer than this  [default: EPOLICY_IDLE_AFTER_MINUTES, 30]",
)
def idle(minutes: float | None) -> None:
    """List the unfinished applications that have not changed for a while, stalled or not, longest first."""
    settings = Settings.from_env()
    services = _services(settings)
    now = services.clock()
    limit = settings.idle_after_minutes if minutes is None else minutes
    entries = services.store.without_progress(now - timedelta(minutes=limit))
    for entry in entries:
        # Ids, states and times only: never personal data.
        age = int((now - entry.updated_at).total_seconds() // 60)
        stalled_mark = "stalled" if entry.stalled else ""
        click.echo(f"{entry.application_id}\t{entry.status}\t{entry.updated_at.isoformat()}\t{age}\t{stalled_mark}")
    click.echo(f"{len(entries)} unchanged for more than {limit:g} minutes", err=True)


@main.command()
@click.argument("application_ids", nargs=-1)
@click.option("--all-stalled", is_flag=True, help="resume every stalled application")
def retry(application_ids: tuple[str, ...], all_stalled: bool) -> None:
    """Make applications due now with their attempts reset, noting "resumed by operator" in their history."""
    from gateway.usecases.processing import resume

    if not application_ids and not all_stalled:
        raise click.UsageError("name APPLICATION_ID ... or pass --all-stalled")
    services = _services(Settings.from_env())
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
