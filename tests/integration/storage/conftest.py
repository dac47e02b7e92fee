"""Databases for the storage tests: an SQLite file per test, a PostgreSQL schema per test module."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from gateway.storage import SqlApplicationStore, make_engine, upgrade
from gateway.storage.tables import metadata
from tests.conftest import missing_service

POSTGRESQL_URL = os.environ.get("EPOLICY_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgresql_server() -> str:
    """The PostgreSQL URL, once it answers; unreachable, the tests skip (and fail on CI, where it must be there)."""
    engine = create_engine(POSTGRESQL_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        cause = " ".join(str(error.orig).split())
        reason = f"PostgreSQL is unreachable at {engine.url!r} (set EPOLICY_TEST_POSTGRESQL_URL): {cause}"
        missing_service(reason)
    finally:
        engine.dispose()
    return POSTGRESQL_URL


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; the schema is dropped afterwards."""
    schema = f"epolicy_t_{secrets.token_hex(6)}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        # In the URL, not only in connect_args, so that `upgrade(url)` migrates the same schema.
        yield f"{server_url}?options=-csearch_path%3D{schema}"
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def postgresql_schema(postgresql_server: str) -> Iterator[str]:
    """A migrated schema for the tests of one module."""
    with fresh_schema(postgresql_server) as url:
        upgrade(url)
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.sqlite'}"
    else:
        with fresh_schema(request.getfixturevalue("postgresql_server")) as url:
            yield url


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a migrated database holding no rows."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gateway.sqlite'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("postgresql_schema")
    yield url
    _empty(url)


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    engine = make_engine(database, pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> SqlApplicationStore:
    return SqlApplicationStore(engine)


def _empty(url: str) -> None:
    """Delete every row, so that the next test of the module starts from a clean outbox."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            tables = ", ".join(table.name for table in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables}"))
    finally:
        engine.dispose()
