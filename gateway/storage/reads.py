"""The status page's hot reads: one SELECT each, compiled once, run on a pooled DBAPI connection in autocommit.

A read through a SQLAlchemy Connection pays for the Connection, its events, a transaction (BEGIN and, on
PostgreSQL, a ROLLBACK round trip when it goes back to the pool) and a Result around a single value. These reads
are one statement each and change nothing, so they run in autocommit on the pool's own DBAPI connection: the
statement SQLAlchemy compiled once for the database, its parameters and results converted by the columns' own
types. `tests/integration/storage/test_reads.py` holds them to the same statements run through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select

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
        # PostgreSQL: autocommit for the read (no BEGIN, no ROLLBACK round trip), restored before the connection
        # goes back to the pool. SQLite connections are in autocommit already (gateway.storage.database).
        self._toggle_autocommit = engine.dialect.name == "postgresql"
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
        connection = self._engine.raw_connection()
        try:
            fetched = self._run(connection, read.sql, parameters)
        except dialect.loaded_dbapi.Error as error:
            # Never back to the pool in an unknown state; raised as SQLAlchemy raises it, for the callers' handlers.
            connection.invalidate(error)
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

    def _run(self, connection: Any, sql: str, parameters: Any) -> list[Any]:
        driver = connection.driver_connection
        if self._toggle_autocommit:
            driver.autocommit = True
        cursor = connection.cursor()
        try:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()
            if self._toggle_autocommit:
                driver.autocommit = False

    def scalar(self, read: Read, **values: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self.rows(read, **values)
        return found[0][0] if found else None
