"""Engines for the gateway's database: an SQLite file (embedded default) or PostgreSQL (scale-out)."""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

# How long an SQLite writer waits for the write lock before it gives up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000

# The execution option that tells our SQLite BEGIN hook which kind of transaction to open.
_SQLITE_BEGIN = "epolicy_sqlite_begin"
_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    connect_args: Mapping[str, Any] | None = None,
    echo: bool = False,
    isolation_level: str | None = None,
    pre_ping: bool = True,
) -> Engine:
    """An engine for `url`, safe to share between threads; in a forked child it opens its own connections."""
    parsed = make_url(url)
    args: dict[str, Any] = dict(connect_args or {})
    # Non-ASCII (Cyrillic names) stays readable in the JSON columns.
    options: dict[str, Any] = {"echo": echo, "json_serializer": partial(json.dumps, ensure_ascii=False)}
    if isolation_level is not None:
        options["isolation_level"] = isolation_level
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # One shared connection, or every checkout would see its own empty in-memory database. Its one
            # transaction is shared too: fit for single-threaded tests only; threads need a file.
            options["poolclass"] = StaticPool
            args.setdefault("check_same_thread", False)
        else:
            # The embedded database's folder (the instance folder) on a first start: SQLite makes the file only.
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
            options.update(pool_size=pool_size, max_overflow=max_overflow)
        engine = create_engine(parsed, connect_args=args, **options)
        _tune_sqlite(engine)
    else:
        # pre_ping: a connection the server or a proxy closed while idle is replaced, not handed out broken.
        engine = create_engine(
            parsed,
            connect_args=args,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=pre_ping,
            **options,
        )
    _forget_connections_after_fork(engine)
    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that intends to write: on SQLite it takes the write lock at once (BEGIN IMMEDIATE)."""
    # A deferred SQLite transaction that reads first and writes later cannot wait for the lock: it fails with
    # "database is locked" when another writer got in between. Taking the lock up front makes writers queue.
    with engine.connect() as connection:
        connection.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        with connection.begin():
            yield connection


def _tune_sqlite(engine: Engine) -> None:
    """Pragmas on every new connection, and our own BEGIN in place of the sqlite3 module's."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # The sqlite3 module would BEGIN lazily, only before DML; SQLAlchemy's "begin" hook below does it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never block the writer nor the writer the readers.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        if mode not in _SQLITE_BEGIN_MODES:
            raise ValueError(f"not an SQLite transaction mode: {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _forget_connections_after_fork(engine: Engine) -> None:
    """A forked child (gunicorn, worker processes) must not reuse the parent's sockets or file handles."""
    reference = weakref.ref(engine)

    def _in_child() -> None:
        forked = reference()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=_in_child)
