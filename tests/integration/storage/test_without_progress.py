"""Applications without progress: unfinished and unchanged for a while, found whether the outbox holds them or not."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from gateway.domain.applications import Application, Status, Step
from gateway.ports import ApplicationStore, Idle
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from gateway.storage.tables import UNFINISHED_INDEX
from tests.integration.storage.conftest import BACKENDS
from tests.support.databases import fresh_schema
from tests.support.storage import accepted, at


def _stored(store: ApplicationStore, application_id: str) -> Application:
    found = store.get(application_id)
    assert found is not None
    return found


def test_unfinished_applications_unchanged_since_before_a_time_are_listed_longest_unchanged_first(
    store: ApplicationStore,
) -> None:
    store.add(accepted("app_late", when=at(30)))
    store.add(accepted("app_early", when=at(10)))
    store.add(accepted("app_recent", when=at(100)))

    idle = store.without_progress(at(60))

    assert idle == [
        Idle("app_early", Status.ACCEPTED, at(10), stalled=False),
        Idle("app_late", Status.ACCEPTED, at(30), stalled=False),
    ]
    assert store.without_progress(at(10)) == [], "unchanged since before the time, not at it"


def test_a_step_or_a_retry_noted_is_progress(store: ApplicationStore) -> None:
    store.add(accepted("app_1", when=at(0)))
    store.add(accepted("app_2", when=at(0)))
    store.claim("w1", at(1), 30, 10)
    store.advance(_stored(store, "app_1").move(Status.VERIFYING, Step.VERIFY, at(50)))
    store.retry_later(_stored(store, "app_2").note_retry(at(55), "повтор"), at(60), "fund:VerifyPerson")

    assert store.without_progress(at(50)) == []
    assert [item.application_id for item in store.without_progress(at(56))] == ["app_1", "app_2"]
    assert [item.status for item in store.without_progress(at(56))] == [Status.VERIFYING, Status.ACCEPTED]


def test_finished_applications_are_never_without_progress(store: ApplicationStore) -> None:
    store.add(accepted("app_done", when=at(0)))
    store.add(accepted("app_cancelled", when=at(0)))
    store.save(_stored(store, "app_done").reject((), at(1)), None)
    store.save(_stored(store, "app_cancelled").cancel(at(1)), None)

    assert store.without_progress(at(1_000)) == []


def test_a_stalled_application_is_listed_as_stalled(store: ApplicationStore) -> None:
    store.add(accepted("app_1", when=at(0)))
    parked = _stored(store, "app_1").move(Status.VERIFYING, Step.VERIFY, at(5)).stall(at(5), "приостановлено")
    store.stall(parked, at(5), "gateway:verify:TypeError")

    assert store.without_progress(at(100)) == [Idle("app_1", Status.VERIFYING, at(5), stalled=True)]


def test_an_application_whose_outbox_entry_is_gone_is_found_all_the_same(store: ApplicationStore) -> None:
    store.add(accepted("app_1", when=at(0)))
    store.save(_stored(store, "app_1"), None)  # no outbox entry left, and still accepted: nobody would carry it

    assert store.outbox_stats(at(100)).due == 0
    assert [item.application_id for item in store.without_progress(at(100))] == ["app_1"]


def test_the_unfinished_statuses_of_the_index_are_the_state_machines() -> None:
    from gateway.domain.model import ApplicationStatus
    from gateway.storage.tables import UNFINISHED, UNFINISHED_WHERE

    expected = {status.value for status in ApplicationStatus if not status.is_final}
    assert set(UNFINISHED) == expected
    assert str(UNFINISHED_WHERE) == "status IN (" + ", ".join(f"'{value}'" for value in UNFINISHED) + ")"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_idle_query_reads_the_partial_index_not_the_table(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        context: contextlib.AbstractContextManager[str] = contextlib.nullcontext(f"sqlite:///{tmp_path / 'plan.db'}")
    else:
        context = fresh_schema(request.getfixturevalue("postgresql_server"))
    with context as url:
        upgrade(url)
        engine = make_engine(url)
        seen: list[tuple[str, Any]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if "FROM applications" in statement:
                seen.append((statement, parameters))

        SqlApplicationStore(engine).without_progress(datetime(2026, 12, 7, tzinfo=UTC))
        event.remove(engine, "before_cursor_execute", keep)
        assert seen, "the idle query was not seen"
        statement, parameters = seen[-1]
        with engine.connect() as connection:
            if backend == "sqlite":
                rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            else:
                connection.exec_driver_sql("SET enable_seqscan = off")  # an empty table would be scanned anyway
                rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        engine.dispose()
    plan = " ".join(str(value) for row in rows for value in row)
    assert UNFINISHED_INDEX in plan, plan
