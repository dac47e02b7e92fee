"""Submitting, reading and cancelling applications.

A submission with an Idempotency-Key (IETF draft semantics) is answered once: the key is reserved before anything
else, and finished in the same transaction as the application it accepted, or with the reasons it was refused
with. A repeated request is answered as the first was: the application it accepted (as it is now), or the same
reasons. How either is rendered is the edge's business; the key keeps what the request came to, not an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.catalogue import Catalogue
from gateway.domain.applications import Application, Owner, TransitionError, applicant_violations
from gateway.domain.calendar import MOSCOW
from gateway.domain.eligibility import check_new_application, check_replacement
from gateway.domain.model import NewPolicyRequest, Reason, ReplacementRequest, Violation
from gateway.domain.reference import Reference
from gateway.ports import (
    ApplicationInFlight,
    Applications,
    ApplicationStore,
    ConcurrentUpdate,
    IdempotencyKey,
    Page,
    ReservationState,
)
from gateway.usecases.errors import Conflict, InputRejected, KeyInProgress, KeyReused, NotVisible


@dataclass(frozen=True)
class Context:
    """What the submission use cases need."""

    store: ApplicationStore
    catalogue: Catalogue
    reference: Reference
    clock: Callable[[], datetime]
    new_id: Callable[[], str]


def reasons_against(request: NewPolicyRequest | ReplacementRequest, context: Context) -> tuple[Reason, ...]:
    """Every rule of the gateway's own that the request breaks, as catalogue reasons."""
    today = context.clock().astimezone(MOSCOW).date()
    if isinstance(request, NewPolicyRequest):
        violations = check_new_application(request, today, context.reference)
    else:
        violations = check_replacement(request, today, context.reference)
    errors = [v for v in violations if context.catalogue.entry(v.code).severity == "error"]
    return tuple(context.catalogue.reason(violation) for violation in errors)


def new_application(request: NewPolicyRequest | ReplacementRequest, owner: Owner, context: Context) -> Application:
    """An application accepted for processing, or InputRejected with every reason."""
    caller = tuple(context.catalogue.reason(v) for v in applicant_violations(request, owner.snils))
    reasons = caller + reasons_against(request, context)
    if reasons:
        raise InputRejected(reasons)
    return Application.accept(context.new_id(), owner, request, context.clock())


Submitted = NewPolicyRequest | ReplacementRequest


@dataclass(frozen=True)
class Submission:
    """An application accepted: by this request, or (`replayed`) by the first one with the same Idempotency-Key."""

    application: Application
    replayed: bool = False


def submit_application(
    request: Submitted | InputRejected,
    owner: Owner,
    key: IdempotencyKey | None,
    context: Context,
) -> Submission:
    """Accept the request and store it, once for every Idempotency-Key; raise InputRejected for a refusal.

    `request` is what the edge read from the body: the request, or its refusal when the body did not load. Either
    goes through the key, because the key decides first: a retry is answered as its first request was, and a body
    refused is kept under its key as any other refusal. A replayed refusal is InputRejected with `replayed` set.
    KeyReused and KeyInProgress answer a key sent with another request, or whose first request is still running.
    """
    if key is None:
        return Submission(_accept(request, owner, context, None))
    store = context.store
    reservation = store.reserve(key, context.clock())
    if reservation.state is ReservationState.MISMATCH:
        raise KeyReused(key.key)
    if reservation.state is ReservationState.IN_PROGRESS:
        raise KeyInProgress(key.key)
    if reservation.state is ReservationState.REPLAY:
        if reservation.application_id is None:
            raise InputRejected(reservation.reasons, replayed=True)
        return Submission(visible_application(reservation.application_id, owner, store), replayed=True)
    try:
        return Submission(_accept(request, owner, context, key))
    except InputRejected as rejected:
        store.finish(key, rejected.reasons)
        raise
    except Exception:
        store.release(key)  # failed for no reason of the request's: a retry may go through
        raise


def _accept(
    request: Submitted | InputRejected, owner: Owner, context: Context, key: IdempotencyKey | None
) -> Application:
    """The application accepted and stored (its key finished with it), or InputRejected."""
    if isinstance(request, InputRejected):
        raise request
    application = new_application(request, owner, context)
    _store(application, key, context)
    return application


def _store(application: Application, key: IdempotencyKey | None, context: Context) -> None:
    """Add the application; a second replacement of a policy while one is in flight is refused, stored as nothing."""
    try:
        context.store.add(application, key)
    except ApplicationInFlight as busy:
        duplicate = Violation("DUPLICATE_APPLICATION", None, (("enp", busy.enp),))
        raise InputRejected((context.catalogue.reason(duplicate),)) from busy


def visible_application(application_id: str, owner: Owner, store: Applications) -> Application:
    """The owner's application; anyone else's, or none, is NotVisible."""
    application = store.get(application_id)
    if application is None or application.owner.sub != owner.sub:
        raise NotVisible(application_id)
    return application


def list_applications(owner: Owner, store: Applications, limit: int, cursor: str | None) -> Page:
    """The owner's applications, newest first."""
    return store.list_for_owner(owner.sub, limit, cursor)


def cancel_application(application_id: str, owner: Owner, context: Context) -> Application:
    """Cancel an application that has not reached the insurer yet."""
    application = visible_application(application_id, owner, context.store)
    try:
        cancelled = application.cancel(context.clock())
    except TransitionError as error:
        # The state machine's words are for the log; the citizen reads why, and in which status it is.
        raise Conflict(f"Заявление в статусе {application.status.value} отозвать уже нельзя.") from error
    try:
        context.store.save(cancelled, None)
    except ConcurrentUpdate as race:
        # A worker moved it on meanwhile: the client may read it again and decide.
        raise Conflict("Заявление изменилось во время отзыва; запросите его состояние и повторите.") from race
    return cancelled
