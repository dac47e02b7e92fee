"""The fund's policy history and its version 2 elements (fund-v2.xsd: clinics, attachment, visits) to domain values.

Answers come in as zeep objects read by attribute; every reader returns a domain value or raises InvalidAnswer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from adapters.mapping import InvalidAnswer
from gateway.domain.clinics import (
    Attachment,
    AttachmentReason,
    CareKind,
    Clinic,
    Period,
    PolicyEvent,
    PolicyEventType,
    Visit,
)
from gateway.ports import AttachmentRequest

E = TypeVar("E", bound=StrEnum)


# --- requests -----------------------------------------------------------------------------------------------


def attachment_payload(request: AttachmentRequest) -> dict[str, Any]:
    """The body of an f2:AttachToClinicRequest, without its MessageId."""
    return {
        "Enp": request.enp,
        "ClinicCode": request.clinic_code,
        "ApplicationDate": request.application_date,
        "Reason": request.reason.value,
    }


def period_payload(period: Period) -> dict[str, Any]:
    """The From and To of an f2:GetVisitsRequest (None leaves one out)."""
    return {"From": period.start, "To": period.end}


# --- answers ------------------------------------------------------------------------------------------------


def read_policy_event(value: Any) -> PolicyEvent:
    """An f:PolicyEvent."""
    return PolicyEvent(
        date=_date(value.Date),
        type=_enum(PolicyEventType, value.Type),
        insurer_code=value.InsurerCode,
        region_code=value.RegionCode,
        policy_form=value.PolicyForm,
        reason=value.Reason,
    )


def read_clinic(value: Any) -> Clinic:
    """An f2:Clinic."""
    return Clinic(
        code=value.Code,
        name=value.Name,
        region_code=value.RegionCode,
        accepts_attachment=bool(value.AcceptsAttachment),
        address=value.Address,
        phone=value.Phone,
    )


def read_attachment(value: Any) -> Attachment:
    """An f2:Attachment."""
    return Attachment(
        enp=value.Enp,
        clinic_code=value.ClinicCode,
        clinic_name=value.ClinicName,
        since=_date(value.Since),
        reason=_enum(AttachmentReason, value.Reason),
        attachment_id=value.AttachmentId,
    )


def read_visit(value: Any) -> Visit:
    """An f2:Visit."""
    amount = value.AmountPaid
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAnswer("a visit's amount is missing or unreadable")
    return Visit(
        visit_id=value.VisitId,
        date=_date(value.Date),
        clinic_code=value.ClinicCode,
        clinic_name=value.ClinicName,
        care_kind=_enum(CareKind, value.CareKind),
        service=value.Service,
        diagnosis_group=value.DiagnosisGroup,
        amount_paid=amount.quantize(Decimal("0.01")),
    )


def _date(value: Any) -> date:
    # zeep reads an xs:date it cannot parse as None; the XSD check makes that rare, this makes it loud.
    if not isinstance(value, date):
        raise InvalidAnswer("a required date is missing or unreadable")
    return value


def _enum(kind: type[E], value: Any) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidAnswer(f"{kind.__name__} has no value {value!r}") from None
