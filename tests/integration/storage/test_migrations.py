"""Migrations: an empty database upgrades to head and downgrades to nothing; head matches the tables in code."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, update

from gateway.storage import SqlApplicationStore, current, downgrade, head, make_engine, upgrade
from gateway.storage.tables import applications, metadata, outbox
from tests.support.storage import accepted, at, replacement_request

TABLES = {"alembic_version", "applications", "application_history", "outbox", "idempotency_keys"}


def test_an_empty_database_upgrades_to_head(empty_database: str) -> None:
    assert current(empty_database) is None

    upgrade(empty_database)

    assert current(empty_database) == head() == "0006"
    assert _tables(empty_database) == TABLES


def test_upgrading_a_database_at_head_changes_nothing(empty_database: str) -> None:
    upgrade(empty_database)

    upgrade(empty_database)

    assert current(empty_database) == head()


def test_a_downgrade_to_base_removes_every_table(empty_database: str) -> None:
    upgrade(empty_database)

    downgrade(empty_database, "base")

    assert current(empty_database) is None
    assert _tables(empty_database) == {"alembic_version"}


def test_the_migrated_schema_matches_the_tables_in_code(empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_the_applications_parked_before_0005_are_stalled_after_it(empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        store = SqlApplicationStore(engine)
        for name, enp in (("app_parked", "7754900882000015"), ("app_due", "7748410819000012")):
            store.add(accepted(name, request=replacement_request(enp)))
        with engine.begin() as connection:
            connection.execute(update(outbox).where(outbox.c.application_id == "app_parked").values(stalled_at=at(60)))
        engine.dispose()
        downgrade(empty_database, "0004")  # as a database of 0004 with an entry parked
        upgrade(empty_database)
        with engine.connect() as connection:
            rows = connection.execute(select(applications.c.id, applications.c.stalled)).all()
            stalled = {row.id: row.stalled for row in rows}
    finally:
        engine.dispose()

    assert stalled == {"app_parked": True, "app_due": False}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
