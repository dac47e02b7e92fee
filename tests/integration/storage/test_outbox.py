"""The outbox: claims of due entries under a lease, retries later, removal when nothing is left to do."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.applications import Application, Status, Step
from gateway.ports import ApplicationStore, ConcurrentUpdate
from tests.support.storage import OutboxEntry, accepted, at

LEASE = 30.0


def test_a_new_application_is_due_at_once(store: ApplicationStore) -> None:
    store.add(accepted("app_1", when=at(0)))

    assert [claim.application_id for claim in store.claim("w1", at(0), LEASE, 10)] == ["app_1"]


def test_only_due_entries_are_claimed_oldest_first(store: ApplicationStore) -> None:
    for number, accepted_at in enumerate([5, 1, 3, 60]):
        store.add(accepted(f"app_{number}", when=at(accepted_at)))

    claims = store.claim("w1", at(10), LEASE, 10)

    assert [claim.application_id for claim in claims] == ["app_1", "app_2", "app_0"]
    assert all(claim.attempts == 0 for claim in claims)


def test_entries_due_at_the_same_moment_are_claimed_in_the_order_of_their_ids(store: ApplicationStore) -> None:
    for application_id in ("app_c", "app_a", "app_b"):
        store.add(accepted(application_id, when=at(1)))

    assert [claim.application_id for claim in store.claim("w1", at(1), LEASE, 2)] == ["app_a", "app_b"]


def test_a_claim_takes_no_more_than_the_limit(store: ApplicationStore) -> None:
    for number in range(5):
        store.add(accepted(f"app_{number}", when=at(number)))

    assert [claim.application_id for claim in store.claim("w1", at(10), LEASE, 2)] == ["app_0", "app_1"]
    assert [claim.application_id for claim in store.claim("w2", at(10), LEASE, 2)] == ["app_2", "app_3"]


def test_an_entry_under_lease_is_not_claimed_again(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    store.claim("w1", at(1), LEASE, 10)

    assert store.claim("w2", at(2), LEASE, 10) == []
    assert store.claim("w2", at(1 + LEASE), LEASE, 10) == []


def test_an_entry_whose_lease_ended_is_claimed_again(store: ApplicationStore, outbox_entry: OutboxEntry) -> None:
    store.add(accepted("app_1"))
    store.claim("w1", at(1), LEASE, 10)

    claims = store.claim("w2", at(2 + LEASE), LEASE, 10)

    assert [claim.application_id for claim in claims] == ["app_1"]
    assert _entry(outbox_entry, "app_1")["claimed_by"] == "w2"


def test_retry_later_makes_the_entry_due_later_with_one_more_attempt(
    store: ApplicationStore, outbox_entry: OutboxEntry
) -> None:
    store.add(accepted("app_1"))
    store.claim("w1", at(1), LEASE, 10)
    waiting = _stored(store, "app_1").move(Status.VERIFYING, Step.VERIFY, at(2)).note_retry(at(2), "фонд недоступен")

    store.retry_later(waiting, at(60), "fund:VerifyPerson timeout")

    assert store.claim("w1", at(59), LEASE, 10) == []
    (claim,) = store.claim("w1", at(60), LEASE, 10)
    assert (claim.application_id, claim.attempts) == ("app_1", 1)
    assert _entry(outbox_entry, "app_1")["last_error"] == "fund:VerifyPerson timeout"
    assert _stored(store, "app_1").history[-1].note == "фонд недоступен"


def test_every_retry_counts_and_a_successful_step_starts_the_count_again(
    store: ApplicationStore, outbox_entry: OutboxEntry
) -> None:
    store.add(accepted("app_1"))
    for attempt in range(3):
        store.retry_later(_stored(store, "app_1").note_retry(at(attempt), "повтор"), at(attempt), "x" * 1000)
    assert store.claim("w1", at(10), LEASE, 10)[0].attempts == 3
    assert len(_entry(outbox_entry, "app_1")["last_error"]) == 500

    store.save(_stored(store, "app_1").move(Status.VERIFYING, Step.ISSUE, at(11)), at(11))

    assert store.claim("w1", at(11), LEASE, 10)[0].attempts == 0
    assert _entry(outbox_entry, "app_1")["last_error"] is None


def test_saving_with_a_next_attempt_frees_the_lease_and_reschedules(
    store: ApplicationStore, outbox_entry: OutboxEntry
) -> None:
    store.add(accepted("app_1"))
    store.claim("w1", at(1), LEASE, 10)

    store.save(_stored(store, "app_1").move(Status.VERIFYING, Step.VERIFY, at(2)), at(5))

    entry = _entry(outbox_entry, "app_1")
    assert (entry["claimed_by"], entry["lease_until"], entry["available_at"]) == (None, None, at(5))
    assert [claim.application_id for claim in store.claim("w2", at(5), LEASE, 10)] == ["app_1"]


def test_saving_with_no_next_attempt_removes_the_entry(store: ApplicationStore, outbox_entry: OutboxEntry) -> None:
    store.add(accepted("app_1"))
    store.claim("w1", at(1), LEASE, 10)

    store.save(_stored(store, "app_1").cancel(at(2)), None)

    assert outbox_entry("app_1") is None
    assert store.claim("w1", at(3600), LEASE, 10) == []
    assert _stored(store, "app_1").status is Status.CANCELLED


def test_saving_a_finished_application_with_a_next_attempt_puts_it_back(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    store.save(_stored(store, "app_1").move(Status.VERIFYING, Step.VERIFY, at(1)), None)

    store.save(_stored(store, "app_1").note_retry(at(2), "ещё раз"), at(3))

    assert [claim.application_id for claim in store.claim("w1", at(3), LEASE, 10)] == ["app_1"]


def test_a_step_stored_on_the_way_keeps_the_lease_and_returns_the_stored_application(
    store: ApplicationStore, outbox_entry: OutboxEntry
) -> None:
    store.add(accepted("app_1"))
    store.claim("w1", at(1), LEASE, 10)
    verifying = _stored(store, "app_1").move(Status.VERIFYING, Step.VERIFY, at(2))

    advanced = store.advance(verifying)

    assert advanced == _stored(store, "app_1")
    assert advanced.version == verifying.version + 1
    assert [entry.status for entry in advanced.history] == [Status.ACCEPTED, Status.VERIFYING]
    assert _entry(outbox_entry, "app_1")["claimed_by"] == "w1"
    assert store.claim("w2", at(3), LEASE, 10) == [], "still leased to the worker going on with it"
    store.advance(advanced.move(Status.ISSUING, Step.ISSUE, at(4)))  # the version it returned is the one stored


def test_a_step_stored_after_failures_starts_their_count_again(
    store: ApplicationStore, outbox_entry: OutboxEntry
) -> None:
    store.add(accepted("app_1"))
    store.retry_later(_stored(store, "app_1").note_retry(at(1), "повтор"), at(1), "fund:VerifyPerson timeout")
    (claim,) = store.claim("w1", at(2), LEASE, 10)
    assert claim.attempts == 1

    store.advance(_stored(store, "app_1").move(Status.VERIFYING, Step.ISSUE, at(3)), failures_cleared=True)

    entry = _entry(outbox_entry, "app_1")
    assert (entry["attempts"], entry["last_error"], entry["claimed_by"]) == (0, None, "w1")


def test_a_step_stored_on_a_stale_copy_is_refused(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    stale = _stored(store, "app_1")
    store.advance(stale.move(Status.VERIFYING, Step.VERIFY, at(1)))

    with pytest.raises(ConcurrentUpdate):
        store.advance(stale.cancel(at(2)))


def _stored(store: ApplicationStore, application_id: str) -> Application:
    application = store.get(application_id)
    assert application is not None
    return application


def _entry(outbox_entry: OutboxEntry, application_id: str) -> dict[str, Any]:
    entry = outbox_entry(application_id)
    assert entry is not None
    return entry
