"""Submitting, reading and cancelling applications."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.catalogue import Catalogue
from gateway.domain.applications import Application, Owner, TransitionError
from gateway.domain.eligibility import check_new_application, check_replacement
from gateway.domain.model import NewPolicyRequest, Reason, ReplacementRequest
from gateway.domain.reference import Reference
from gateway.ports import ApplicationStore, ConcurrentUpdate, Page
from gateway.usecases.errors import Conflict, InputRejected, NotVisible
from gateway.usecases.processing import MOSCOW


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
    reasons = reasons_against(request, context)
    if reasons:
        raise InputRejected(reasons)
    return Application.accept(context.new_id(), owner, request, context.clock())


def visible_application(application_id: str, owner: Owner, store: ApplicationStore) -> Application:
    """The owner's application; anyone else's, or none, is NotVisible."""
    application = store.get(application_id)
    if application is None or application.owner.sub != owner.sub:
        raise NotVisible(application_id)
    return application


def list_applications(owner: Owner, store: ApplicationStore, limit: int, cursor: str | None) -> Page:
    """The owner's applications, newest first."""
    return store.list_for_owner(owner.sub, limit, cursor)


def cancel_application(application_id: str, owner: Owner, context: Context) -> Application:
    """Cancel an application that has not reached the insurer yet."""
    application = visible_application(application_id, owner, context.store)
    try:
        cancelled = application.cancel(context.clock())
    except TransitionError as error:
        raise Conflict(str(error)) from error
    try:
        context.store.save(cancelled, None)
    except ConcurrentUpdate as race:
        # A worker moved it on meanwhile: the client may read it again and decide.
        raise Conflict("Заявление изменилось во время отзыва; запросите его состояние и повторите.") from race
    return cancelled
