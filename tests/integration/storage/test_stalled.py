"""Stalled outbox entries: parked after the last attempt, never claimed, listed, and resumed by an operator."""

from __future__ import annotations

from gateway.domain.applications import Application, Status, Step
from gateway.ports import ApplicationStore
from tests.support.storage import accepted, at

LEASE = 30.0


def _stored(store: ApplicationStore, application_id: str) -> Application:
    found = store.get(application_id)
    assert found is not None
    return found


def _stall(store: ApplicationStore, application_id: str, when: float) -> None:
    store.add(accepted(application_id, when=at(when)))
    store.claim("w1", at(when), LEASE, 10)
    waiting = _stored(store, application_id).move(Status.VERIFYING, Step.VERIFY, at(when + 1))
    store.retry_later(waiting.note_retry(at(when + 1), "повтор"), at(when + 2), "fund:VerifyPerson")
    parked = _stored(store, application_id).stall(at(when + 2), "обработка приостановлена")
    store.stall(parked, at(when + 2), "fund:VerifyPerson")


def test_a_stalled_entry_is_never_claimed_and_is_listed_with_its_attempts(store: ApplicationStore) -> None:
    _stall(store, "app_2", when=10)
    _stall(store, "app_1", when=0)
    store.add(accepted("app_3", when=at(0)))

    assert [claim.application_id for claim in store.claim("w2", at(10_000), LEASE, 10)] == ["app_3"]
    listed = store.stalled()
    assert [(entry.application_id, entry.attempts) for entry in listed] == [("app_1", 2), ("app_2", 2)]
    assert listed[0].stalled_at == at(2)
    assert listed[0].last_error == "fund:VerifyPerson"
    assert _stored(store, "app_1").history[-1].note == "обработка приостановлена"
    assert (_stored(store, "app_1").stalled, _stored(store, "app_3").stalled) == (True, False)


def test_a_resumed_entry_is_due_at_once_with_its_attempts_reset(store: ApplicationStore) -> None:
    _stall(store, "app_1", when=0)

    store.resume(_stored(store, "app_1").resume(at(100), "возобновлено оператором"), at(100))

    assert store.stalled() == []
    assert store.claim("w1", at(99), LEASE, 10) == []
    (claim,) = store.claim("w1", at(100), LEASE, 10)
    assert (claim.application_id, claim.attempts) == ("app_1", 0)
    assert _stored(store, "app_1").history[-1].note == "возобновлено оператором"
    assert not _stored(store, "app_1").stalled


def test_a_resumed_entry_whose_outbox_row_was_gone_is_scheduled_again(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    store.save(_stored(store, "app_1"), None)  # no outbox entry left

    store.resume(_stored(store, "app_1").note_retry(at(5), "возобновлено оператором"), at(5))

    assert [claim.application_id for claim in store.claim("w1", at(5), LEASE, 10)] == ["app_1"]
