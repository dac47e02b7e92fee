"""Idempotency-Key reservations: new, replayed, mismatched, in progress, stale, finished and released."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from gateway.domain.model import Reason, Source
from gateway.ports import ApplicationStore, IdempotencyKey, Reservation, ReservationState
from gateway.storage import SqlApplicationStore, make_engine
from tests.support.storage import accepted, at

KEY = IdempotencyKey("user-1", "key-1", "fingerprint-a")
# Reasons of every shape a refusal keeps: a field or none, details or none, the gateway's or a back-end's.
REASONS = (
    Reason("FIELD_REQUIRED", Source.GATEWAY, "Не заполнено поле.", "Заполните его.", "person.last_name"),
    Reason("DUPLICATE_APPLICATION", Source.GATEWAY, "Уже подано.", "Дождитесь.", None, (("enp", "7754900882000015"),)),
    Reason(
        "PERSON_NOT_FOUND",
        Source.FUND,
        "Человек не найден «в регистре».",
        "Проверьте данные.",
        None,
        (("code", "E-17"), ("text", 'кавычки " и \\ обратная черта')),
    ),
)


def test_a_key_seen_for_the_first_time_is_reserved_as_new(store: ApplicationStore) -> None:
    assert store.reserve(KEY, at(0)) == Reservation(ReservationState.NEW)


def test_a_retry_while_the_first_request_runs_is_in_progress(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))

    assert store.reserve(KEY, at(59)).state is ReservationState.IN_PROGRESS


def test_a_key_finished_with_a_refusal_replays_its_reasons(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))
    store.finish(KEY, REASONS)

    assert store.reserve(KEY, at(1)) == Reservation(ReservationState.REPLAY, reasons=REASONS)


def test_the_reasons_of_a_refusal_outlive_the_process_that_kept_them(database: str) -> None:
    first = make_engine(database, pool_size=1)
    try:
        SqlApplicationStore(first).reserve(KEY, at(0))
        SqlApplicationStore(first).finish(KEY, REASONS)
    finally:
        first.dispose()
    second = make_engine(database, pool_size=1)
    try:
        replayed = SqlApplicationStore(second).reserve(KEY, at(1))
    finally:
        second.dispose()

    assert replayed == Reservation(ReservationState.REPLAY, reasons=REASONS)


def test_an_added_application_finishes_its_key_with_it(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))

    store.add(accepted("app_1"), KEY)

    # The application is the answer, as it is when asked again: nothing of it is kept with the key.
    assert store.reserve(KEY, at(1)) == Reservation(ReservationState.REPLAY, application_id="app_1")


def test_an_application_added_with_a_key_never_reserved_records_the_key_as_done(store: ApplicationStore) -> None:
    store.add(accepted("app_1"), KEY)

    assert store.reserve(KEY, at(1)) == Reservation(ReservationState.REPLAY, application_id="app_1")


def test_the_same_key_with_another_body_is_a_mismatch(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))
    other_body = IdempotencyKey("user-1", "key-1", "fingerprint-b")

    assert store.reserve(other_body, at(1)).state is ReservationState.MISMATCH
    store.finish(KEY, REASONS)
    assert store.reserve(other_body, at(2)).state is ReservationState.MISMATCH


def test_keys_of_different_owners_never_meet(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))

    assert store.reserve(IdempotencyKey("user-2", "key-1", "fingerprint-b"), at(1)).state is ReservationState.NEW


def test_a_reservation_in_progress_for_over_a_minute_is_taken_over(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))

    assert store.reserve(KEY, at(61)).state is ReservationState.NEW
    # Taken over now: in progress again for the next minute.
    assert store.reserve(KEY, at(62)).state is ReservationState.IN_PROGRESS


def test_a_released_key_can_be_reserved_again(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))

    store.release(KEY)

    assert store.reserve(KEY, at(1)).state is ReservationState.NEW


def test_releasing_leaves_a_finished_key_alone(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))
    store.finish(KEY, REASONS)

    store.release(KEY)

    assert store.reserve(KEY, at(1)).state is ReservationState.REPLAY


def test_of_requests_racing_with_one_key_exactly_one_goes_on(store: ApplicationStore) -> None:
    start = threading.Barrier(4)

    def reserve(_: int) -> ReservationState:
        start.wait()
        return store.reserve(KEY, at(0)).state

    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(reserve, range(4)))

    assert sorted(states) == sorted([ReservationState.NEW] + [ReservationState.IN_PROGRESS] * 3)


def test_of_retries_racing_for_a_stale_key_exactly_one_takes_it_over(store: ApplicationStore) -> None:
    store.reserve(KEY, at(0))
    start = threading.Barrier(4)

    def reserve(_: int) -> ReservationState:
        start.wait()
        return store.reserve(KEY, at(120)).state

    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(reserve, range(4)))

    assert sorted(states) == sorted([ReservationState.NEW] + [ReservationState.IN_PROGRESS] * 3)


def test_keys_made_before_the_cut_off_are_forgotten_and_newer_ones_kept(store: ApplicationStore) -> None:
    old, new = KEY, IdempotencyKey("user-1", "key-2", "fingerprint-a")
    store.reserve(old, at(0))
    store.finish(old, REASONS)
    store.reserve(new, at(100))
    store.finish(new, REASONS)

    assert store.purge_idempotency_keys(at(50)) == 1

    assert store.reserve(old, at(101)).state is ReservationState.NEW, "a forgotten key is a new request"
    assert store.reserve(new, at(101)).state is ReservationState.REPLAY
    assert store.purge_idempotency_keys(at(50)) == 0
