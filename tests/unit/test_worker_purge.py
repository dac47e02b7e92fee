"""A worker forgets expired Idempotency-Keys now and then, and only the pool's first worker does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.bootstrap import Services
from gateway.catalogue import Catalogue
from gateway.domain.reference import load_reference
from gateway.ports import IdempotencyKey, ReservationState
from gateway.worker import PURGE_EVERY_SECONDS, Worker, worker_pool
from tests.support.fakes import FakeFund, FakeInsurers, FakeStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def services(store: FakeStore, now: list[datetime]) -> Services:
    fund = FakeFund()
    return Services(
        catalogue=Catalogue.load(),
        reference=load_reference(),
        store=store,
        fund=fund,
        worker_fund=fund,
        insurers=FakeInsurers({}),
        clock=lambda: now[0],
        idempotency_key_ttl=timedelta(hours=24),
    )


def key(name: str) -> IdempotencyKey:
    return IdempotencyKey("user-1", name, "fingerprint")


def test_a_purging_worker_forgets_keys_past_their_time_to_live_at_its_interval() -> None:
    store, now = FakeStore(), [T0]
    worker = Worker(services(store, now).worker_context, "w", purge_every=600)
    store.reserve(key("old"), T0)
    store.reserve(key("new"), T0 + timedelta(hours=20))

    now[0] = T0 + timedelta(hours=25)
    assert worker.purge_if_due() == 1
    store.reserve(key("older"), T0)  # made long ago, seen only now: the next purge takes it
    now[0] += timedelta(seconds=599)
    assert worker.purge_if_due() == 0, "not again before the interval"
    now[0] += timedelta(seconds=1)
    assert worker.purge_if_due() == 1

    # Kept: the key is still held with its first body (a reservation that old is in progress no more).
    other_body = IdempotencyKey("user-1", "new", "another fingerprint")
    assert store.reserve(other_body, now[0]).state is ReservationState.MISMATCH, "younger than 24 h: kept"


def test_only_the_first_worker_of_a_pool_purges() -> None:
    pool = worker_pool(services(FakeStore(), [T0]).worker_context, 3, 0.5, 60, 10)
    assert [worker.purge_every for worker in pool.workers] == [PURGE_EVERY_SECONDS, None, None]
