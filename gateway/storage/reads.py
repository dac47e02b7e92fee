"""The status page's hot reads: one SELECT each, compiled once, run on a pooled DBAPI connection in autocommit.

A read through a SQLAlchemy Connection pays for the Connection, its events, a transaction (BEGIN and, on
PostgreSQL, a ROLLBACK round trip when it goes back to the pool) and a Result around a single value. These reads
are one statement each and change nothing, so they run in autocommit on a pooled DBAPI connection: the statement
SQLAlchemy compiled once for the database, its parameters and results converted by the columns' own types. On
PostgreSQL they have a pool of their own, in autocommit and without the pre-ping round trip the main pool makes
on every checkout: a connection found closed is dropped and the read made once more on a new one (a read changes
nothing). `tests/integration/storage/test_reads.py` holds them to the same statements run through SQLAlchemy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import Select

from gateway.storage.database import make_engine

Processor = Callable[[Any], Any]
Observer = Callable[[str, Any], None]


@dataclass(frozen=True)
class Read:
    """A SELECT as the database's driver takes it."""

    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional driver takes them
    positional: bool
    defaults: tuple[tuple[str, Any], ...]  # the values the statement itself holds (literals, a fixed limit)
    binds: tuple[tuple[str, Processor], ...]  # the parameters a column type converts before sending
    results: tuple[Processor | None, ...]  # one per column: how its type reads what the driver returns

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for these values."""
        converted = dict(self.defaults)
        converted.update(values)
        for name, process in self.binds:
            converted[name] = process(converted[name])
        return [converted[name] for name in self.names] if self.positional else converted


class Reads:
    """Compiles SELECTs for one engine's database and runs them; safe to share between threads."""

    def __init__(self, engine: Engine, observer: Observer | None = None):
        self._engine = engine
        # SQLite connections are in autocommit already and have no round trip to save (gateway.storage.database).
        self._separate = engine.dialect.name == "postgresql"
        self._pool = read_pool(engine) if self._separate else engine
        self.observer = observer  # sees every statement run (the growth benchmark EXPLAINs them)
        # An SQLite file's reads skip the pool's checkout and return (in-memory databases share one connection).
        self._kept = KeptConnections(engine) if not self._separate and isinstance(engine.pool, QueuePool) else None

    def compile(self, statement: Select[Any]) -> Read:
        """The statement compiled for this engine's database, once."""
        dialect = self._engine.dialect
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
        binds = []
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds.append((name, process))
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
        )
        defaults = tuple((name, bind.value) for name, bind in compiled.binds.items() if not bind.required)
        return Read(compiled.string, names, compiled.positional, defaults, tuple(binds), results)

    def rows(self, read: Read, **values: Any) -> list[tuple[Any, ...]]:
        """Every row of the read, each value as its column's type reads it."""
        parameters = read.parameters(values)
        if self.observer is not None:
            self.observer(read.sql, parameters)
        fetch = self.fetch if self._kept is None else self.fast_fetch
        fetched = fetch(read.sql, parameters)
        if not any(read.results):
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if process is None else process(value) for process, value in zip(read.results, row, strict=True)
            )
            for row in fetched
        ]

    def fetch(self, sql: str, parameters: Any) -> list[Any]:
        """The rows of `sql` on a connection of the pool (the reference of `fast_fetch`)."""
        dialect = self._engine.dialect
        for attempt in (1, 2):
            connection = self._pool.raw_connection()
            try:
                fetched = self._run(connection, sql, parameters)
                break
            except dialect.loaded_dbapi.Error as error:
                # Never back to the pool in an unknown state; raised as SQLAlchemy raises it, for the callers.
                closed = dialect.is_disconnect(error, connection.driver_connection, None)
                connection.invalidate(error)
                if not (self._separate and closed and attempt == 1):
                    raise DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error) from None
            finally:
                connection.close()  # back to the pool (or away, if invalidated)
        return fetched

    def fast_fetch(self, sql: str, parameters: Any) -> list[Any]:
        """The fast path of `fetch` for an SQLite file: the same statement on a connection kept by `KeptConnections`
        instead of one checked out of the pool and returned (events, a rollback on return: 7 µs of a 15 µs read).
        A connection that fails is closed, never kept; tests/integration/storage/test_reads.py holds the two equal."""
        kept = self._kept
        assert kept is not None
        dialect = self._engine.dialect
        connection = kept.take()
        try:
            fetched = self._run(connection, sql, parameters)
        except dialect.loaded_dbapi.Error as error:
            connection.close()
            raise DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error) from None
        except BaseException:
            connection.close()
            raise
        kept.give(connection)
        return fetched

    @staticmethod
    def _run(connection: Any, sql: str, parameters: Any) -> list[Any]:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def scalar(self, read: Read, **values: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self.rows(read, **values)
        return found[0][0] if found else None


class KeptConnections:
    """DBAPI connections for the reads of an SQLite file, made by the engine's pool and let go of by it.

    Each is made by a checkout (so the engine's connect events, its pragmas, ran on it) and detached from the pool
    at once: the pool makes another when it needs one, and this keeps it, last in first out, each used by one read
    at a time. Closed when the engine is disposed; in a forked child the parent's are forgotten, never used.
    """

    def __init__(self, engine: Engine, most: int = 32):
        self._engine = engine
        self._most = most
        self._idle: list[Any] = []
        self._pid = os.getpid()
        event.listen(engine, "engine_disposed", lambda _: self.close())

    def take(self) -> Any:
        """An idle kept connection, or a new one."""
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()  # the parent's: its handles are not this process's to use
        try:
            return self._idle.pop()  # atomic: no two threads get the same one
        except IndexError:
            connection = self._engine.raw_connection()
            connection.detach()
            return connection

    def give(self, connection: Any) -> None:
        """Keep `connection` for the next read (or close it, when as many are idle as may be)."""
        if len(self._idle) < self._most and self._pid == os.getpid():
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        """Close every idle connection (the engine was disposed); in a forked child, forget them."""
        idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for connection in idle:
                connection.close()

    def __len__(self) -> int:
        return len(self._idle)


def read_pool(engine: Engine) -> Engine:
    """PostgreSQL: an engine for the reads of `engine`'s database, in autocommit, without pre-ping; disposed with it."""
    reads = make_engine(
        engine.url.render_as_string(hide_password=False),
        pool_size=engine.pool.size(),  # type: ignore[attr-defined]
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        pre_ping=False,
    )
    event.listen(engine, "engine_disposed", lambda _: reads.dispose())
    return reads
