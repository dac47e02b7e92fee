"""The `epolicy` command: serve, worker, db, stalled, idle, retry, openapi; and those installed distributions add.

A start that cannot go on (a bad setting, a database that cannot be made or reached, a port in use) ends with exit
code 1 and one line for each reason on stderr, naming the variable or the address and what to change: never a
traceback. A value a command's option cannot take, from the command line or its `EPOLICY_*` variable, is one line
too (exit code 2).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from gateway.config import Settings, SettingsError, unknown_variables
from gateway.logs import LOG_FORMATS, LOG_LEVELS, configure_logging

if TYPE_CHECKING:
    from gateway.bootstrap import Services
    from gateway.worker import WorkerPool

log = logging.getLogger("epolicy")
F = TypeVar("F", bound=Callable[..., Any])
DISTRIBUTION = "epolicy-gateway"
CONNECT_TIMEOUT = 10  # seconds a PostgreSQL that does not answer (a dropped SYN) may take before the start gives up


class StartupError(click.ClickException):
    """A start that cannot go on: a line for each reason, each saying what to change; no traceback."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines

    def show(self, file: IO[Any] | None = None) -> None:
        """Each reason on a line of its own, on stderr."""
        for line in self.lines:
            click.echo(f"Error: {line}", file=file, err=True)


def _logging(level: str | None = None, log_format: str | None = None) -> None:
    # Text unless asked (--log-format, EPOLICY_LOG_FORMAT): JSON lines are for a log collector, not a terminal.
    # The commands without the options read the variables themselves, and refuse a value as click would.
    chosen_level = (level or os.environ.get("EPOLICY_LOG_LEVEL") or "INFO").upper()
    chosen_format = log_format or os.environ.get("EPOLICY_LOG_FORMAT") or "text"
    problems = []
    if chosen_level not in LOG_LEVELS:
        problems.append(
            f"EPOLICY_LOG_LEVEL={level or os.environ.get('EPOLICY_LOG_LEVEL')!r}: write one of {', '.join(LOG_LEVELS)}"
        )
    if chosen_format not in LOG_FORMATS:
        problems.append(f"EPOLICY_LOG_FORMAT={chosen_format!r}: write {' or '.join(LOG_FORMATS)}")
    if problems:
        raise StartupError(*problems)
    configure_logging(chosen_level, chosen_format)


def _settings() -> Settings:
    """The environment's settings, after a warning for each `EPOLICY_*` variable that is none; every bad value
    ends the start, each on its line."""
    for warning in unknown_variables():
        log.warning("%s", warning)
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise StartupError(*error.problems) from None


def _signing(settings: Settings) -> Settings:
    """The settings of a command that calls the back-ends, if it can sign: one that would send unsigned ends the
    start before the database is opened or a port taken, unless signing is switched off."""
    problems = settings.signing_problems()
    if problems:
        raise StartupError(*problems)
    return settings


# `--log-format json`: one JSON object a line with request, correlation and application ids (gateway/logs.py).
_log_format = click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    envvar="EPOLICY_LOG_FORMAT",
    show_envvar=True,
    help="json: one object a line, for a log collector",
)


def _log_options(command: F) -> F:
    """`--log-level` and `--log-format`, for every command that runs a server or workers."""
    level = click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default="INFO",
        show_default=True,
        envvar="EPOLICY_LOG_LEVEL",
        show_envvar=True,
        help="DEBUG: masked SOAP messages too",
    )
    return level(_log_format(command))


def _wait_for(stop: threading.Event) -> None:
    """Block until `stop` is set, waking twice a second so that a signal's handler always gets to run."""
    # Python runs signal handlers in the main thread between bytecodes: a wait without a timeout leaves the
    # handler to the platform's interrupting the lock, which Ctrl-C was once seen not to reach in 15 s.
    while not stop.wait(0.5):
        pass


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C and a service manager's TERM both end every server and worker cleanly.
    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _open_database(settings: Settings, *, migrate: bool) -> None:
    """Make the embedded database's folder, reach the database, and bring it to the latest revision (`migrate`, and
    always the embedded one) or check that it is there; else one line naming the database and what to change."""
    from sqlalchemy import make_url, text
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.storage.database import make_engine
    from gateway.storage.migrate import current, head, upgrade

    url = make_url(settings.database)
    shown = url.render_as_string(hide_password=True)
    variable = "EPOLICY_DATABASE_URL" if settings.database_url else "EPOLICY_INSTANCE_PATH"
    path = url.database if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else None
    if path is not None:
        _make_folder(os.path.dirname(os.path.abspath(path)), variable)
    # The embedded database is this machine's own: every command brings it up to date, so that any of them works on
    # a first start. A configured one is migrated by `serve` and `db upgrade` alone, when its operator says so.
    migrate = migrate or settings.database_url is None
    timeout = {"connect_timeout": CONNECT_TIMEOUT} if url.get_backend_name() == "postgresql" else {}
    try:
        engine = make_engine(settings.database, pool_size=1, connect_args=timeout)
    except ImportError as error:
        raise StartupError(
            f"the driver of the database {shown} is not installed ({error.name}): install it, "
            "or set EPOLICY_DATABASE_URL to a postgresql+psycopg:// or sqlite:// URL"
        ) from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if migrate:
            upgrade(settings.database)
        elif (found := current(settings.database)) != (needed := head()):
            raise StartupError(
                f"the database {shown} is at revision {found or 'none (never migrated)'}, this version needs "
                f"{needed}: run `epolicy db upgrade` first"
            )
    except SQLAlchemyError as error:
        cause = " ".join(str(getattr(error, "orig", None) or error).split())
        if path is not None:
            raise StartupError(
                f"cannot open the database {path} ({cause}): set {variable} to a folder this user may write"
            ) from None
        raise StartupError(
            f"cannot reach the database {shown} ({cause}): start it, or set EPOLICY_DATABASE_URL to one that answers"
        ) from None
    finally:
        engine.dispose()


def _make_folder(folder: str, variable: str) -> None:
    """The embedded database's folder, made on a first start; one line naming it and `variable` when it cannot be."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        reason = _not_made(folder, error)
        raise StartupError(
            f"cannot make the database's folder {folder} ({reason}): set {variable} to a folder this user may write"
        ) from None


def _not_made(folder: str, error: OSError) -> str:
    """Why `folder` could not be made: a file where a folder of its path should be, or the system's reason."""
    parent = folder
    while not os.path.lexists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    if os.path.lexists(parent) and not os.path.isdir(parent):
        return f"{parent} is a file, not a folder"
    return error.strerror or str(error)


def _listening(host: str, port: int, port_setting: str, host_setting: str) -> socket.socket:
    """A socket listening on `host`:`port` for a server, or one line saying which setting to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise StartupError(_listen_problem(host, port, error, port_setting, host_setting)) from None


def _listen_problem(host: str, port: int, error: OSError, port_setting: str, host_setting: str) -> str:
    """What to change when a server cannot listen on `host`:`port` (the settings as "VARIABLE (or --option)")."""
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use: set {port_setting} to a free port"
    if error.errno == errno.EACCES:
        return f"this user may not listen on port {port}: set {port_setting} to a port above 1023"
    return (
        f"cannot listen on {host}:{port} ({error.strerror or error}): set {host_setting} to an address of this machine"
    )


def _services(settings: Settings) -> Services:
    """The services of a command that serves no HTTP: no Flask app, the same objects `create_app` would build."""
    from gateway.bootstrap import build_services

    try:
        return build_services(settings)
    except SettingsError as error:
        raise StartupError(*error.problems) from None


def _pool(services: Services, threads: int) -> WorkerPool:
    from gateway.worker import worker_pool

    settings = services.settings
    context = services.worker_context
    return worker_pool(
        context, threads, settings.worker_poll_seconds, settings.worker_lease_seconds, settings.worker_batch
    )


class _Commands(click.Group):
    """The gateway's commands and those other installed distributions add (entry points `epolicy.commands`).

    The mocks' distribution adds `stack`, `mocks` and `demo`; the gateway's own wheel ships none of them. Added
    commands are loaded only when named (or listed by --help), so that `epolicy worker` imports none of them.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_added()))

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a value one of its options cannot take is one line naming the option and its variable."""
        try:
            return super().invoke(ctx)
        except click.BadParameter as error:
            # Without its context click prints the message alone, not the usage too: the value often came from an
            # EPOLICY_* variable set long ago, and the line names it ("(env var: 'EPOLICY_LOG_LEVEL')").
            raise click.UsageError(error.format_message()) from None

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
@click.version_option(package_name=DISTRIBUTION, prog_name="epolicy", message="%(prog)s %(version)s")
def main() -> None:
    """Integration gateway for ОМС e-policies."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="EPOLICY_HOST", show_envvar=True)
@click.option("--port", default=8080, show_default=True, envvar="EPOLICY_PORT", show_envvar=True)
@click.option("--threads", default=16, show_default=True, help="request threads of the WSGI server")
@_log_options
def serve(host: str, port: int, threads: int, log_level: str, log_format: str) -> None:
    """Serve the API with waitress (and the in-process workers, if EPOLICY_WORKER_THREADS > 0)."""
    _logging(log_level, log_format)
    settings = _signing(_settings())
    _open_database(settings, migrate=True)
    _run_gateway(settings, host, port, threads)


@main.command()
@click.option("--threads", default=2, show_default=True, help="worker threads in this process")
@_log_options
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    envvar="EPOLICY_WORKER_METRICS_PORT",
    show_envvar=True,
    help="serve this process's Prometheus metrics on this port (default: none)",
)
@click.option(
    "--metrics-host", default="127.0.0.1", show_default=True, envvar="EPOLICY_WORKER_METRICS_HOST", show_envvar=True
)
def worker(threads: int, log_level: str, log_format: str, metrics_port: int | None, metrics_host: str) -> None:
    """Drain the outbox; run any number of these, on any number of machines, against one database."""
    _logging(log_level, log_format)
    settings = _signing(_settings())
    _open_database(settings, migrate=False)
    services = _services(settings)
    exporter = None
    if metrics_port is not None:
        from prometheus_client import start_http_server

        # Back-end calls of this process, the outbox; PROMETHEUS_MULTIPROC_DIR is for gunicorn's processes only.
        try:
            exporter, _ = start_http_server(metrics_port, metrics_host, registry=services.metrics.registry)
        except OSError as error:
            port_setting, host_setting = "EPOLICY_WORKER_METRICS_PORT (or --metrics-port)", "--metrics-host"
            raise StartupError(_listen_problem(metrics_host, metrics_port, error, port_setting, host_setting)) from None
        log.info("worker metrics on http://%s:%s/metrics", metrics_host, exporter.server_port)
    pool = _pool(services, threads)
    stop = threading.Event()
    _stop_on_signals(stop)
    pool.start()
    _wait_for(stop)
    pool.stop()
    if services.journal is not None:
        services.journal.close()  # the notes of the last messages, written before the process ends
    if exporter is not None:
        exporter.shutdown()
        exporter.server_close()


def _run_gateway(settings: Settings, host: str, port: int, threads: int) -> None:
    from gateway.app import create_app

    # Bound before the app is built and any worker starts: a port in use ends the start at once, nothing to stop.
    listening = _listening(host, port, "EPOLICY_PORT (or --port)", "EPOLICY_HOST (or --host)")
    try:
        app = create_app(settings=settings)
    except SettingsError as error:
        listening.close()
        raise StartupError(*error.problems) from None
    server = waitress_server(app, listening, threads)
    port = listening.getsockname()[1]
    stop = threading.Event()
    _stop_on_signals(stop)
    pool = _pool(app.extensions["epolicy"], settings.worker_threads)
    pool.start()
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    log.info("gateway on http://%s:%s (%d worker threads)", host, port, len(pool.workers))
    _wait_for(stop)
    log.info("stopping")
    _close_in_loop(server, thread)
    pool.stop()
    journal = app.extensions["epolicy"].journal
    if journal is not None:
        journal.close()  # the notes of the last messages, written before the process ends


def waitress_server(app: Any, listening: socket.socket, threads: int) -> Any:
    """The waitress server `epolicy serve` runs `app` with (bench/served.py serves its bare endpoint with it too)."""
    from waitress.server import create_server

    return create_server(app, sockets=[listening], threads=threads, ident="epolicy-gateway")


def _close_in_loop(server: Any, thread: threading.Thread) -> None:
    """Close waitress's listening socket from its own loop thread.

    Closed from another thread, the socket goes while the loop may be waiting on it, and the loop dies with
    "Bad file descriptor"; the loop's trigger runs the close between two of its rounds instead.
    """
    closed = threading.Event()

    def close() -> None:
        try:
            server.close()
        finally:
            closed.set()

    if thread.is_alive():
        server.trigger.pull_trigger(close)
        if closed.wait(5):
            return  # open connections keep the daemon loop alive: the process ends it once the workers stop
    server.close()


@main.group()
def db() -> None:
    """The gateway's database."""


@db.command()
def upgrade() -> None:
    """Apply every migration (Alembic) to the configured database."""
    _logging()
    _open_database(_settings(), migrate=True)
    click.echo("database is at the latest revision")


@main.command()
def stalled() -> None:
    """List the applications parked after too many failed attempts (resume them with `epolicy retry`)."""
    _logging()
    settings = _settings()
    _open_database(settings, migrate=False)
    services = _services(settings)
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
    _logging()
    settings = _settings()
    _open_database(settings, migrate=False)
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
    _logging()
    settings = _settings()
    _open_database(settings, migrate=False)
    services = _services(settings)
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


@main.command("development-keys")
def development_keys() -> None:
    """Make the gateway's development signing key and certificate in <instance folder>/keys, if missing.

    Prints the folder. For the local stack (`epolicy stack` runs it); never for production.
    """
    from adapters.signing import development_keys as make

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise StartupError(*error.problems) from None
    folder = Path(settings.instance_folder) / "keys"
    try:
        make(folder, "gateway", settings.signing_algorithm)
    except OSError as error:
        raise StartupError(f"cannot make the development keys in {folder}: {error.strerror or error}") from None
    click.echo(str(folder))


@main.command()
@click.argument("message_id")
def journal(message_id: str) -> None:
    """Show every SOAP message of one application (or read) id: when, which way, and who signed it."""
    from gateway.storage.database import make_engine
    from gateway.storage.journal import SqlJournal

    settings = _settings()
    _open_database(settings, migrate=False)
    kept = SqlJournal(make_engine(settings.database, pool_size=1), timedelta(days=settings.journal_days))
    entries = kept.entries(message_id)
    if not entries:
        click.echo(f"no message of {message_id} in the journal")
        return
    for entry in entries:
        seal = f"signed by {entry.signer} (SHA-256 {entry.fingerprint})" if entry.fingerprint else ""
        when = entry.at.isoformat(timespec="milliseconds")
        line = f"{when} {entry.direction:8} {entry.operation:22} {entry.outcome:8} {entry.address}"
        click.echo(f"{line} {seal}".rstrip())
        if entry.signature:
            click.echo(f"    signature {entry.signature}")
        if entry.reason:
            click.echo(f"    {entry.reason}")


@main.command()
@click.argument("envelope", type=click.File("rb"))
@click.option("--key", envvar="EPOLICY_SIGNING_KEY", show_envvar=True, help="[default: <instance>/keys/gateway.key]")
@click.option(
    "--certificate",
    envvar="EPOLICY_SIGNING_CERTIFICATE",
    show_envvar=True,
    help="[default: <instance>/keys/gateway.pem]",
)
@click.option("--relates-to", default=None, help="the wsa:MessageID of the request, to sign an answer to it")
def sign(envelope: IO[bytes], key: str | None, certificate: str | None, relates_to: str | None) -> None:
    """Sign a SOAP envelope (a file, or - for standard input) by the signing profile; print it signed.

    With the development keys of `epolicy stack` by default: what the local stack's mocks take as the gateway's.
    """
    from lxml import etree

    from adapters.signing import Identity, SigningError
    from adapters.signing import sign as sign_envelope

    folder = Path(_settings().instance_folder) / "keys"
    try:
        identity = Identity.load(key or str(folder / "gateway.key"), certificate or str(folder / "gateway.pem"))
        root = etree.fromstring(envelope.read(), etree.XMLParser(resolve_entities=False, no_network=True))
        sign_envelope(root, identity, relates_to=relates_to)
    except (SigningError, etree.XMLSyntaxError, ValueError) as error:
        raise StartupError(f"cannot sign {envelope.name}: {error}") from None
    click.echo(etree.tostring(root, xml_declaration=True, encoding="utf-8"), nl=False)


@main.command()
@click.argument("envelope", type=click.File("rb"))
@click.option("--trust", "trusted", required=True, help="the signer's certificates: PEM files, comma-separated")
@click.option("--relates-to", default=None, help="the wsa:MessageID of the request this answers")
def verify(envelope: IO[bytes], trusted: str, relates_to: str | None) -> None:
    """Check a signed SOAP message by the signing profile against trusted certificates: who signed it, or why not."""
    from lxml import etree

    from adapters.signing import SignatureRefused, SigningError, TrustStore, check

    try:
        store = TrustStore.load(trusted, "--trust")
        root = etree.fromstring(envelope.read(), etree.XMLParser(resolve_entities=False, no_network=True))
        seal = check(root, store, relates_to=relates_to)
    except (SigningError, SignatureRefused, etree.XMLSyntaxError) as error:
        raise StartupError(f"{envelope.name} is not believed: {error}") from None
    click.echo(f"signed by {seal.signer} (SHA-256 {seal.fingerprint}), message {seal.message_id}")
