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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
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
        dialect = self._engine.dialect
        for attempt in (1, 2):
            connection = self._pool.raw_connection()
            try:
                fetched = self._run(connection, read.sql, parameters)
                break
            except dialect.loaded_dbapi.Error as error:
                # Never back to the pool in an unknown state; raised as SQLAlchemy raises it, for the callers.
                closed = dialect.is_disconnect(error, connection.driver_connection, None)
                connection.invalidate(error)
                if not (self._separate and closed and attempt == 1):
                    raise DBAPIError.instance(read.sql, parameters, error, dialect.loaded_dbapi.Error) from None
            finally:
                connection.close()  # back to the pool (or away, if invalidated)
        if not any(read.results):
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if process is None else process(value) for process, value in zip(read.results, row, strict=True)
            )
            for row in fetched
        ]

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
