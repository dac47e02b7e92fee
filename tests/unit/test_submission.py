"""The submission use case: an application accepted once for every Idempotency-Key, whatever the retries."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gateway.catalogue import Catalogue
from gateway.domain.applications import Application, Owner
from gateway.domain.model import NewPolicyRequest, PolicyForm, Relation, Violation
from gateway.domain.reference import load_reference
from gateway.ports import ApplicationInFlight, IdempotencyKey, Reservation, ReservationState
from gateway.usecases.errors import InputRejected, KeyInProgress, KeyReused
from gateway.usecases.submission import Context, submit_application
from tests.support.fakes import FakeStore
from tests.support.persons import ANNA

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWNER = Owner("user-1", "11223344595")
KEY = IdempotencyKey(OWNER.sub, "key-1", "fingerprint-a")
CATALOGUE = Catalogue.load()
# What the edge hands over for a body its schema refused.
SHAPE_REFUSED = InputRejected((CATALOGUE.reason(Violation("FIELD_REQUIRED", "person.last_name")),))


@pytest.fixture
def context() -> Context:
    counter = itertools.count(1)
    return Context(FakeStore(), CATALOGUE, load_reference(), lambda: NOW, lambda: f"app_{next(counter)}")


def request() -> NewPolicyRequest:
    return NewPolicyRequest(Relation.SELF, ANNA, "77", "77001", PolicyForm.ELECTRONIC)


def breaking_a_rule() -> NewPolicyRequest:
    return replace(request(), person=replace(ANNA, snils="11223344500"))


def test_a_submission_without_a_key_is_accepted_and_its_refusal_raised(context: Context) -> None:
    submission = submit_application(request(), OWNER, None, context)
    assert not submission.replayed
    assert context.store.get(submission.application.id) == submission.application
    with pytest.raises(InputRejected) as refused:
        submit_application(breaking_a_rule(), OWNER, None, context)
    assert [reason.code for reason in refused.value.reasons] == ["SNILS_CHECKSUM"]
    assert not refused.value.replayed
    with pytest.raises(InputRejected) as refused:
        submit_application(SHAPE_REFUSED, OWNER, None, context)
    assert refused.value.reasons == SHAPE_REFUSED.reasons


def test_a_repeated_key_answers_the_application_first_accepted_as_it_is_now(context: Context) -> None:
    first = submit_application(request(), OWNER, KEY, context)
    assert not first.replayed
    cancelled = first.application.cancel(NOW)
    context.store.save(cancelled, None)

    again = submit_application(request(), OWNER, KEY, context)

    assert again.replayed
    assert (again.application.id, again.application.status) == (first.application.id, cancelled.status)
    assert len(context.store.applications) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("refused", [breaking_a_rule(), SHAPE_REFUSED], ids=["rule", "schema"])
def test_a_refusal_is_kept_under_its_key_with_its_reasons_and_raised_again_as_replayed(
    context: Context, refused: NewPolicyRequest | InputRejected
) -> None:
    with pytest.raises(InputRejected) as first:
        submit_application(refused, OWNER, KEY, context)
    assert not first.value.replayed
    assert context.store.reserve(KEY, NOW) == Reservation(ReservationState.REPLAY, reasons=first.value.reasons)

    with pytest.raises(InputRejected) as again:
        submit_application(request(), OWNER, KEY, context)  # a retry is the same request: its key decides

    assert again.value.replayed
    assert again.value.reasons == first.value.reasons
    assert context.store.applications == {}  # type: ignore[attr-defined]


class InFlight(FakeStore):
    """A store holding a replacement of the policy in flight, as the SQL store's unique index tells it."""

    def add(self, application: Application, key: IdempotencyKey | None = None) -> None:
        raise ApplicationInFlight("7754900882000015")


def test_a_replacement_while_another_is_in_flight_is_kept_as_a_duplicate(context: Context) -> None:
    busy = replace(context, store=InFlight())

    with pytest.raises(InputRejected) as refused:
        submit_application(request(), OWNER, KEY, busy)

    assert [(r.code, r.details) for r in refused.value.reasons] == [
        ("DUPLICATE_APPLICATION", (("enp", "7754900882000015"),))
    ]
    assert busy.store.reserve(KEY, NOW) == Reservation(ReservationState.REPLAY, reasons=refused.value.reasons)


def test_a_key_sent_with_another_request_or_still_running_is_refused(context: Context) -> None:
    context.store.reserve(KEY, NOW)
    with pytest.raises(KeyInProgress):
        submit_application(request(), OWNER, KEY, context)
    with pytest.raises(KeyReused):
        submit_application(SHAPE_REFUSED, OWNER, IdempotencyKey(OWNER.sub, KEY.key, "fingerprint-b"), context)


def test_a_submission_that_fails_unexpectedly_frees_its_key_for_a_retry(context: Context) -> None:
    store: FakeStore = context.store  # type: ignore[assignment]
    working_add = store.add

    def database_gone(*_: object) -> None:
        raise RuntimeError("the database went away")

    store.add = database_gone  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        submit_application(request(), OWNER, KEY, context)
    store.add = working_add  # type: ignore[method-assign]

    submission = submit_application(request(), OWNER, KEY, context)
    assert not submission.replayed
