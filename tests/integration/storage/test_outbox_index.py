"""The outbox index of the workers' claim (migration 0003): parked entries left out, the claim's order kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, inspect

from gateway.storage import SqlApplicationStore, downgrade, make_engine, upgrade
from tests.support.storage import accepted, at

LEASE = 30.0


def test_the_claim_reads_the_due_index_in_its_own_order_without_sorting(
    sql_store: SqlApplicationStore, engine: Engine
) -> None:
    for number in range(3):
        sql_store.add(accepted(f"app_{number}", when=at(number)))

    plan = _plan(engine, *_claim_select(sql_store, engine))

    assert "ix_outbox_due" in plan, plan
    assert "sort" not in plan.lower() and "b-tree" not in plan.lower(), plan


def test_the_due_index_leaves_parked_entries_out(database: str) -> None:
    indexes = _outbox_indexes(database)

    assert set(indexes) == {"ix_outbox_due"}, "the plain index on available_at is replaced"
    assert indexes["ix_outbox_due"]["column_names"] == ["available_at", "application_id"]
    predicate = next(str(value) for key, value in indexes["ix_outbox_due"]["dialect_options"].items()
                     if key.endswith("_where"))  # fmt: skip
    assert predicate.strip("()").lower() == "stalled_at is null"


def test_a_downgrade_to_0002_brings_back_the_plain_index_and_an_upgrade_replaces_it(empty_database: str) -> None:
    upgrade(empty_database)

    downgrade(empty_database, "0002")

    assert set(_outbox_indexes(empty_database)) == {"ix_outbox_available_at"}
    upgrade(empty_database)
    assert set(_outbox_indexes(empty_database)) == {"ix_outbox_due"}


def _claim_select(store: SqlApplicationStore, engine: Engine) -> tuple[str, Any]:
    """The SELECT a claim sends, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        store.claim("w1", at(100), LEASE, 10)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(sent) == 1
    return sent[0]


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        # On a table this small a sequential scan is cheaper; the question is whether the index can serve the claim.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
        connection.rollback()
        return plan


def _outbox_indexes(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {index["name"]: index for index in inspect(connection).get_indexes("outbox")}
    finally:
        engine.dispose()
