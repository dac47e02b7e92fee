"""Stores for the storage tests: the SQL store on an SQLite file per test or a PostgreSQL schema per test module,
and FakeStore, which the tests of the port hold to the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from gateway.ports import ApplicationStore
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from gateway.storage.tables import metadata, outbox
from tests.support.databases import fresh_schema
from tests.support.fakes import FakeStore
from tests.support.storage import OutboxEntry

# PostgreSQL is a server on loopback: the tests on it opt in to the network (tests/support/network.py).
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.network)]
STORES = [*BACKENDS, "fake"]


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


@contextmanager
def _migrated_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a migrated database holding no rows: a new SQLite file, or the module's PostgreSQL schema."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'gateway.sqlite'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("postgresql_schema")
    yield url
    _empty(url)


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a migrated database holding no rows."""
    with _migrated_database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    engine = make_engine(database, pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture
def sql_store(engine: Engine) -> SqlApplicationStore:
    """The SQL store alone, for what only a database has: statements, plans, pools, other processes."""
    return SqlApplicationStore(engine)


@dataclass(frozen=True)
class StoreUnderTest:
    """A store, and a look at its outbox entries that the port does not give (claimed by, last error...)."""

    store: ApplicationStore
    outbox_entry: OutboxEntry


@pytest.fixture(params=STORES)
def store_under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    """The SQL store on each database, and the in-memory fake that the unit tests use in its place."""
    if request.param == "fake":
        fake = FakeStore()

        def fake_entry(application_id: str) -> dict[str, Any] | None:
            entry = fake.outbox.get(application_id)
            return None if entry is None else asdict(entry)

        yield StoreUnderTest(fake, fake_entry)
        return
    with _migrated_database(request.param, request, tmp_path) as url:
        engine = make_engine(url, pool_size=5)

        def sql_entry(application_id: str) -> dict[str, Any] | None:
            with engine.connect() as connection:
                query = select(outbox).where(outbox.c.application_id == application_id)
                row = connection.execute(query).one_or_none()
            return None if row is None else {k: v for k, v in row._mapping.items() if k != "application_id"}

        try:
            yield StoreUnderTest(SqlApplicationStore(engine), sql_entry)
        finally:
            engine.dispose()


@pytest.fixture
def store(store_under_test: StoreUnderTest) -> ApplicationStore:
    """The `ApplicationStore` port: the same tests hold for the SQL store and for FakeStore."""
    return store_under_test.store


@pytest.fixture
def outbox_entry(store_under_test: StoreUnderTest) -> OutboxEntry:
    """The outbox entry of an application in the store under test, as a dict (None: there is none)."""
    return store_under_test.outbox_entry


def _empty(url: str) -> None:
    """Delete every row, so that the next test of the module starts from a clean outbox."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            tables = ", ".join(table.name for table in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables}"))
    finally:
        engine.dispose()
