"""The submission use case: an application accepted once for every Idempotency-Key, whatever the retries."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from gateway.catalogue import Catalogue
from gateway.domain.applications import Owner
from gateway.domain.model import NewPolicyRequest, PolicyForm, Reason, Relation, Violation
from gateway.domain.reference import load_reference
from gateway.ports import IdempotencyKey
from gateway.usecases.errors import InputRejected, KeyInProgress, KeyReused
from gateway.usecases.submission import Context, submit_application
from tests.support.fakes import FakeStore
from tests.support.persons import ANNA

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWNER = Owner("user-1", "11223344595")
KEY = IdempotencyKey(OWNER.sub, "key-1", "fingerprint-a")
CATALOGUE = Catalogue.load()


@pytest.fixture
def context() -> Context:
    counter = itertools.count(1)
    return Context(FakeStore(), CATALOGUE, load_reference(), lambda: NOW, lambda: f"app_{next(counter)}")


def request() -> NewPolicyRequest:
    return NewPolicyRequest(Relation.SELF, ANNA, "77", "77001", PolicyForm.ELECTRONIC)


def refused() -> NewPolicyRequest:
    raise InputRejected((CATALOGUE.reason(Violation("SNILS_CHECKSUM", "person.snils")),))


def render(reasons: tuple[Reason, ...]) -> tuple[int, str]:
    return 422, '{"codes": "' + ",".join(reason.code for reason in reasons) + '"}'


def test_a_submission_without_a_key_is_accepted_and_its_refusal_raised(context: Context) -> None:
    outcome = submit_application(request, OWNER, None, context, render)
    assert outcome.status_code == 202
    assert outcome.application is not None
    assert context.store.get(outcome.application.id) == outcome.application
    with pytest.raises(InputRejected):
        submit_application(refused, OWNER, None, context, render)


def test_a_repeated_key_answers_the_application_first_accepted_as_it_is_now(context: Context) -> None:
    first = submit_application(request, OWNER, KEY, context, render)
    assert first.application is not None and not first.replayed
    cancelled = first.application.cancel(NOW)
    context.store.save(cancelled, None)

    again = submit_application(request, OWNER, KEY, context, render)

    assert again.replayed
    assert again.status_code == 202
    assert again.application is not None
    assert (again.application.id, again.application.status) == (first.application.id, cancelled.status)
    assert len(context.store.applications) == 1  # type: ignore[attr-defined]


def test_a_refusal_is_kept_under_its_key_and_answered_again_as_first_rendered(context: Context) -> None:
    rendered: list[tuple[Reason, ...]] = []

    def render_once(reasons: tuple[Reason, ...]) -> tuple[int, str]:
        rendered.append(reasons)
        return render(reasons)

    first = submit_application(refused, OWNER, KEY, context, render_once)
    again = submit_application(request, OWNER, KEY, context, render_once)  # a retry is the same request

    assert (first.status_code, first.refusal, first.replayed) == (422, '{"codes": "SNILS_CHECKSUM"}', False)
    assert (again.status_code, again.refusal, again.replayed) == (422, first.refusal, True)
    assert len(rendered) == 1, "rendered once, answered twice"
    assert context.store.applications == {}  # type: ignore[attr-defined]


def test_a_key_sent_with_another_request_or_still_running_is_refused(context: Context) -> None:
    context.store.reserve(KEY, NOW)
    with pytest.raises(KeyInProgress):
        submit_application(request, OWNER, KEY, context, render)
    with pytest.raises(KeyReused):
        submit_application(request, OWNER, IdempotencyKey(OWNER.sub, KEY.key, "fingerprint-b"), context, render)


def test_a_submission_that_fails_unexpectedly_frees_its_key_for_a_retry(context: Context) -> None:
    def broken() -> NewPolicyRequest:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        submit_application(broken, OWNER, KEY, context, render)

    outcome = submit_application(request, OWNER, KEY, context, render)
    assert outcome.application is not None and not outcome.replayed
