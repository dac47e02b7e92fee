"""A policy's history, its holder's visits and clinic: read from the fund and, for the clinic, chosen through it."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from gateway.domain.clinics import Attachment, AttachmentReason, Clinic, Period, PolicyEvent, Visit, period_violations
from gateway.domain.registry import AttachmentRequest
from gateway.usecases.errors import InputRejected
from gateway.usecases.policies import PolicyContext, Reader, ask_fund, check_enp, ensure_visible

T = TypeVar("T")


def policy_history(enp: str, reader: Reader, context: PolicyContext) -> list[PolicyEvent]:
    """The events of the policies of an ЕНП the reader may see, oldest first."""
    check_enp(enp, context.catalogue)
    ensure_visible(enp, reader, context)
    return ask_fund(context.catalogue, enp, lambda: context.fund.policy_history(context.new_message_id(), enp))


def visits(enp: str, period: Period, reader: Reader, context: PolicyContext) -> list[Visit]:
    """The care ОМС paid for in a period, for an ЕНП the reader may see, oldest first."""
    check_enp(enp, context.catalogue)
    violations = period_violations(period)
    if violations:
        raise InputRejected(tuple(context.catalogue.reason(violation) for violation in violations))
    ensure_visible(enp, reader, context)
    return ask_fund(context.catalogue, enp, lambda: context.fund.visits(context.new_message_id(), enp, period))


def clinics_in(region_code: str, context: PolicyContext) -> list[Clinic]:
    """The clinics admitted in a region, as the fund lists them."""
    fund = context.fund
    return ask_fund(context.catalogue, region_code, lambda: fund.list_clinics(context.new_message_id(), region_code))


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
    attachment = ask_fund(context.catalogue, enp, lambda: context.fund.attach_to_clinic(message_id, request))
    if context.status_cache is not None:
        context.status_cache.forget(enp)  # the status shows the clinic: this process shows the new one at once
    return attachment
