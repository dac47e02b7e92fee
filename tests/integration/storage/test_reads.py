"""The hot reads run on the pool's DBAPI connection give what the same statements give through SQLAlchemy."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError

from gateway.domain.applications import Status, Step
from gateway.storage import SqlApplicationStore, make_engine
from gateway.storage.reads import Reads
from gateway.storage.store import _GRANTED_ENPS, _POLICY_CHANGED_AT
from gateway.storage.tables import applications
from tests.support.storage import accepted, at, replacement_request

ENP = "7754900882000015"
OTHER = "5099000000000011"


@pytest.fixture
def filled(sql_store: SqlApplicationStore) -> SqlApplicationStore:
    sql_store.add(accepted("app_1", request=replacement_request(ENP)))
    sql_store.add(accepted("app_2", request=replacement_request(OTHER)))
    application = sql_store.get("app_1")
    assert application is not None
    sql_store.save(application.move(Status.VERIFYING, Step.ISSUE, at(7)), at(7))
    return sql_store


def test_each_read_answers_what_sqlalchemy_answers_for_the_same_statement(
    filled: SqlApplicationStore, engine: Engine
) -> None:
    reads = Reads(engine)
    with engine.connect() as connection:
        for enp in (ENP, OTHER, "0000000000000000"):
            through_sqlalchemy = connection.execute(_POLICY_CHANGED_AT, {"enp": enp}).scalar()
            assert reads.scalar(reads.compile(_POLICY_CHANGED_AT), enp=enp) == through_sqlalchemy
        owners = connection.execute(select(applications.c.owner_sub).distinct()).scalars().all()
        for owner in [*owners, "nobody"]:
            expected = set(connection.execute(_GRANTED_ENPS, {"owner_sub": owner}).scalars())
            assert {row[0] for row in reads.rows(reads.compile(_GRANTED_ENPS), owner_sub=owner)} == expected


def test_values_the_statement_holds_itself_are_sent_with_those_given(
    filled: SqlApplicationStore, engine: Engine
) -> None:
    reads = Reads(engine)
    statement = (
        select(applications.c.id)
        .where(applications.c.enp == bindparam("enp"), applications.c.kind == "replacement")
        .order_by(applications.c.id)
        .limit(5)
    )
    assert reads.rows(reads.compile(statement), enp=ENP) == [("app_1",)]


def test_a_time_is_read_as_the_aware_utc_datetime_it_was_stored_as(filled: SqlApplicationStore) -> None:
    changed = filled.policy_changed_at(ENP)
    assert changed == at(7)
    assert changed is not None and changed.utcoffset() is not None


def test_a_read_leaves_its_connection_in_the_pool_as_it_found_it(filled: SqlApplicationStore, engine: Engine) -> None:
    filled.policy_changed_at(ENP)
    filled.granted_enps("user-1")
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            assert connection.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
        # A write through SQLAlchemy on the same pool still runs in its own transaction, rolled back here.
        with connection.begin() as transaction:
            connection.execute(applications.delete())
            transaction.rollback()
    assert filled.policy_changed_at(ENP) == at(7)


def test_a_failing_read_raises_as_sqlalchemy_does_and_leaves_no_broken_connection(engine: Engine) -> None:
    reads = Reads(engine)
    broken = reads.compile(select(func.count()).select_from(text("no_such_table")))
    for _ in range(engine.pool.size() + 1):  # type: ignore[attr-defined]
        with pytest.raises(DBAPIError):
            reads.rows(broken)
    assert reads.scalar(reads.compile(select(func.count()).select_from(applications))) == 0


def test_every_statement_is_shown_to_an_observer_with_its_parameters(filled: SqlApplicationStore) -> None:
    seen: list[tuple[str, object]] = []
    filled.reads.observer = lambda sql, parameters: seen.append((sql, parameters))
    filled.policy_changed_at(ENP)
    ((sql, parameters),) = seen
    assert "max" in sql.lower()
    assert ENP in (list(parameters.values()) if isinstance(parameters, dict) else list(parameters))


@pytest.mark.network
def test_a_read_whose_connection_the_server_closed_is_made_again_on_a_new_one(postgresql_schema: str) -> None:
    # PostgreSQL only: SQLite has no server to close a connection, and its reads share the main pool.
    engine = make_engine(postgresql_schema, pool_size=2)
    try:
        store = SqlApplicationStore(engine)
        assert store.policy_changed_at(ENP) is None  # a connection of the reads' pool, now idle in it
        idle = store.reads._pool.raw_connection()
        backend = idle.driver_connection.info.backend_pid  # type: ignore[union-attr]
        idle.close()
        with engine.connect() as connection:
            # What a restart of the server, or a proxy's idle timeout, does to a pooled connection.
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        assert store.policy_changed_at(ENP) is None
        assert store.granted_enps("nobody") == frozenset()
    finally:
        engine.dispose()


def test_the_reads_pool_is_disposed_with_the_engine(database: str) -> None:
    engine = make_engine(database, pool_size=2)
    store = SqlApplicationStore(engine)
    store.policy_changed_at(ENP)
    engine.dispose()
    assert store.reads._pool.pool.checkedin() == 0  # type: ignore[attr-defined]


def test_the_fast_path_of_an_sqlite_files_reads_answers_as_the_pool_does(
    filled: SqlApplicationStore, engine: Engine
) -> None:
    reads = Reads(engine)
    if engine.dialect.name != "sqlite":
        assert reads._kept is None, "PostgreSQL's reads keep their own pool, with its retry on a closed connection"
        return
    assert reads._kept is not None
    changed, granted = reads.compile(_POLICY_CHANGED_AT), reads.compile(_GRANTED_ENPS)
    for enp in (ENP, OTHER, "0000000000000000"):
        parameters = changed.parameters({"enp": enp})
        assert reads.fast_fetch(changed.sql, parameters) == reads.fetch(changed.sql, parameters)
    for owner in ("user-1", "nobody"):
        parameters = granted.parameters({"owner_sub": owner})
        assert reads.fast_fetch(granted.sql, parameters) == reads.fetch(granted.sql, parameters)


def test_a_kept_connection_serves_the_next_read_and_goes_with_the_engine(database: str) -> None:
    engine = make_engine(database, pool_size=2)
    reads = Reads(engine)
    if reads._kept is None:
        assert engine.dialect.name == "postgresql"
        engine.dispose()
        return
    count = reads.compile(select(func.count()).select_from(applications))
    assert reads.scalar(count) == 0
    (connection,) = reads._kept._idle
    assert reads.scalar(count) == 0
    assert reads._kept._idle == [connection], "the same one again, not a second"
    assert connection.dbapi_connection.execute("PRAGMA foreign_keys").fetchone() == (1,), "made with the pragmas"
    with pytest.raises(DBAPIError):
        reads.rows(reads.compile(select(func.count()).select_from(text("no_such_table"))))
    assert len(reads._kept) == 0, "a connection that failed is closed, not kept"
    reads._kept._pid = -1  # as a forked child sees its parent's
    assert reads.scalar(count) == 0
    assert len(reads._kept) == 1
    engine.dispose()
    assert len(reads._kept) == 0
