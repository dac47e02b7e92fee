"""A policy's history, its holder's visits and clinic: read from the fund and, for the clinic, chosen through it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from gateway.domain.clinics import Attachment, AttachmentReason, Clinic, Period, PolicyEvent, Visit, period_violations
from gateway.ports import AttachmentRequest, BackendRefusal, BackendUnavailable, NotFound
from gateway.usecases.errors import InputRejected, NotVisible, ServiceUnavailable
from gateway.usecases.policies import DEFAULT_RETRY_AFTER, PolicyContext, Reader, check_enp, ensure_visible

T = TypeVar("T")


def policy_history(enp: str, reader: Reader, context: PolicyContext) -> list[PolicyEvent]:
    """The events of the policies of an ЕНП the reader may see, oldest first."""
    check_enp(enp, context.catalogue)
    ensure_visible(enp, reader, context)
    return _ask(context, enp, lambda: context.fund.policy_history(context.new_message_id(), enp))


def visits(enp: str, period: Period, reader: Reader, context: PolicyContext) -> list[Visit]:
    """The care ОМС paid for in a period, for an ЕНП the reader may see, oldest first."""
    check_enp(enp, context.catalogue)
    violations = period_violations(period)
    if violations:
        raise InputRejected(tuple(context.catalogue.reason(violation) for violation in violations))
    ensure_visible(enp, reader, context)
    return _ask(context, enp, lambda: context.fund.visits(context.new_message_id(), enp, period))


def clinics_in(region_code: str, context: PolicyContext) -> list[Clinic]:
    """The clinics admitted in a region, as the fund lists them."""
    return _ask(context, region_code, lambda: context.fund.list_clinics(context.new_message_id(), region_code))


def current_attachment(enp: str, context: PolicyContext) -> Attachment | None:
    """The clinic the holder of an ЕНП is attached to; the caller has already checked they may see it."""
    return _ask(context, enp, lambda: context.fund.attachment(context.new_message_id(), enp))


def attach(
    enp: str,
    clinic_code: str,
    reason: AttachmentReason,
    reader: Reader,
    context: PolicyContext,
    *,
    message_id: str,
    today: date,
) -> Attachment:
    """Attach the holder of an ЕНП the reader may see to a clinic; the fund decides, at once."""
    check_enp(enp, context.catalogue)
    ensure_visible(enp, reader, context)
    request = AttachmentRequest(enp, clinic_code, today, reason)
    attachment = _ask(context, enp, lambda: context.fund.attach_to_clinic(message_id, request))
    if context.status_cache is not None:
        context.status_cache.forget(enp)  # the status shows the clinic: this process shows the new one at once
    return attachment


def _ask(context: PolicyContext, subject: str, call: Callable[[], T]) -> T:
    # One translation of the fund's answers for every read and write here: an unknown ЕНП is "not found", an
    # outage "try later", a refusal the catalogue's reason with the request field it concerns.
    try:
        return call()
    except NotFound as missing:
        raise NotVisible(subject) from missing
    except BackendUnavailable as outage:
        raise ServiceUnavailable(int(outage.retry_after or DEFAULT_RETRY_AFTER)) from outage
    except BackendRefusal as refusal:
        catalogue = context.catalogue
        # The adapter maps only the fields of the application's request; the catalogue knows the usual one.
        field = refusal.field or (catalogue.entry(refusal.code).field if refusal.code in catalogue else None)
        extra = {"allowed_from": refusal.allowed_from.isoformat()} if refusal.allowed_from else None
        reason = catalogue.backend_reason(refusal.source, refusal.code, refusal.message, field, extra)
        raise InputRejected((reason,)) from refusal
