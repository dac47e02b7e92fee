"""Engines: SQLite tuned for a writer among readers, PostgreSQL checked before use, both shared by threads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from gateway.storage import make_engine
from gateway.storage.database import SQLITE_BUSY_TIMEOUT_MS, writing


def test_an_sqlite_file_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.sqlite'}")
    try:
        with engine.connect() as connection:
            pragmas = [
                connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
    finally:
        engine.dispose()

    assert pragmas == ["wal", 1, SQLITE_BUSY_TIMEOUT_MS]


def test_an_sqlite_write_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.sqlite'}")
    try:
        with writing(engine) as connection:
            # in_transaction() of SQLite itself: false unless our BEGIN IMMEDIATE went out.
            assert connection.connection.dbapi_connection is not None
            assert connection.connection.dbapi_connection.in_transaction
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_database_is_one_database_for_every_checkout() -> None:
    engine = make_engine("sqlite://")
    try:
        with writing(engine) as connection:
            connection.execute(text("CREATE TABLE seen (n INTEGER)"))
            connection.execute(text("INSERT INTO seen VALUES (1)"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM seen")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.network
def test_a_postgresql_engine_pings_connections_and_sizes_its_pool(postgresql_server: str) -> None:
    engine = make_engine(postgresql_server, pool_size=3)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool._pre_ping
        assert engine.pool.size() == 3
    finally:
        engine.dispose()
