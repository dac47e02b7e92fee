"""The store's outbox figures for the metrics, on SQLite, PostgreSQL and the fake (as the other storage tests)."""

from __future__ import annotations

from gateway.domain.applications import Application, Status, Step
from gateway.ports import ApplicationStore, OutboxStats
from tests.support.storage import accepted, at


def _stored(store: ApplicationStore, application_id: str) -> Application:
    found = store.get(application_id)
    assert found is not None
    return found


def test_an_empty_outbox_has_no_oldest_entry(store: ApplicationStore) -> None:
    assert store.outbox_stats(at(0)) == OutboxStats(due=0, scheduled=0, stalled=0, oldest_pending_since=None)


def test_entries_are_counted_as_due_scheduled_or_stalled_and_the_oldest_live_one_named(
    store: ApplicationStore,
) -> None:
    store.add(accepted("app_stalled", when=at(0)))
    store.add(accepted("app_retried", when=at(10)))
    store.add(accepted("app_due", when=at(20)))
    store.add(accepted("app_done", when=at(30)))
    retried = _stored(store, "app_retried").move(Status.VERIFYING, Step.VERIFY, at(40))
    store.retry_later(retried, at(500), "fund:VerifyPerson")
    stalled = _stored(store, "app_stalled").move(Status.VERIFYING, Step.VERIFY, at(40))
    store.stall(stalled, at(40), "fund:VerifyPerson")
    store.save(_stored(store, "app_done"), None)  # nothing left to do: no outbox entry

    stats = store.outbox_stats(at(60))

    assert (stats.due, stats.scheduled, stats.stalled) == (1, 1, 1)
    assert stats.oldest_pending_since == at(10), "the stalled one is counted apart, not as the oldest"
    assert store.outbox_stats(at(600)).due == 2
