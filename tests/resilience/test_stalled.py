"""An application whose back-end stays down is parked after the last attempt, shown, and resumed by an operator."""

from __future__ import annotations

from datetime import timedelta

from gateway.api import responses as out
from gateway.catalogue import Catalogue
from gateway.domain.model import ApplicationStatus, Source
from gateway.usecases.processing import RESUMED_NOTE, STALLED_NOTE, Processor, RetryPolicy, resume
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeStore, unavailable
from tests.support.processing import Clock, new_request, submit


def world(max_attempts: int) -> tuple[Processor, FakeStore, FakeFund, Clock]:
    store, fund, clock = FakeStore(), FakeFund(), Clock()
    insurers = FakeInsurers({"77001": FakeInsurer("77001")})
    processor = Processor(store, fund, insurers, Catalogue.load(), clock, RetryPolicy(1, 60, max_attempts))
    return processor, store, fund, clock


def attempt(processor: Processor, store: FakeStore) -> None:
    """What a worker does: claim the entry when due (far in the future is fine) and run its step."""
    claims = store.claim("w", processor.clock() + timedelta(days=1), 60, 10)
    for claim in claims:
        processor.run(claim.application_id, claim.attempts)


def test_the_last_failed_attempt_parks_the_application_instead_of_retrying() -> None:
    processor, store, fund, _ = world(max_attempts=3)
    fund.fail("verify_person", unavailable(Source.FUND, "VerifyPerson"), count=10)
    submit(store, new_request())
    for _ in range(5):
        attempt(processor, store)
    assert fund.calls.count("verify_person") == 3, "no attempt after the third"
    application = store.get("app_1")
    assert application is not None
    assert application.status is ApplicationStatus.VERIFYING, "never rejected for a technical reason"
    assert application.stalled
    assert STALLED_NOTE in (application.history[-1].note or "")
    assert [entry.application_id for entry in store.stalled()] == ["app_1"]
    assert store.stalled()[0].attempts == 3
    assert store.stalled()[0].last_error == "fund:VerifyPerson"
    assert out.dump(out.ApplicationOut, application)["stalled"] is True


def test_an_operator_resumes_a_stalled_application_and_it_finishes() -> None:
    processor, store, fund, clock = world(max_attempts=2)
    fund.fail("verify_person", unavailable(Source.FUND, "VerifyPerson"), count=2)
    submit(store, new_request())
    for _ in range(3):
        attempt(processor, store)
    assert store.stalled()

    resumed = resume(store, "app_1", clock())
    assert resumed is not None
    assert resumed.history[-1].note == RESUMED_NOTE
    assert not resumed.stalled
    assert store.stalled() == []
    assert store.outbox["app_1"].attempts == 0, "a resumed application has all its attempts again"
    for _ in range(5):
        attempt(processor, store)
    done = store.get("app_1")
    assert done is not None
    assert done.status is ApplicationStatus.ISSUED
    assert out.dump(out.ApplicationOut, done)["stalled"] is False
    assert fund.calls.count("register_policy") == 1


def test_a_success_before_the_last_attempt_starts_the_count_again() -> None:
    processor, store, fund, _ = world(max_attempts=3)
    fund.fail("verify_person", unavailable(Source.FUND, "VerifyPerson"), count=2)
    fund.fail("register_policy", unavailable(Source.FUND, "RegisterPolicy"), count=2)
    submit(store, new_request())
    for _ in range(10):
        attempt(processor, store)
    done = store.get("app_1")
    assert done is not None
    assert done.status is ApplicationStatus.ISSUED
    assert store.stalled() == []


def test_a_finished_or_unknown_application_is_not_resumed() -> None:
    processor, store, _, clock = world(max_attempts=3)
    submit(store, new_request())
    for _ in range(5):
        attempt(processor, store)
    assert resume(store, "app_1", clock()) is None
    assert resume(store, "app_unknown", clock()) is None
