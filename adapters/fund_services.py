"""The fund's policy history and its version 2 elements (fund-v2.xsd: clinics, attachment, visits) to domain values.

Answers come in as zeep objects read by attribute; every reader returns a domain value or raises InvalidAnswer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.mapping import InvalidAnswer, read_date, read_enum
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
from gateway.domain.model import RegistryPolicyForm, RegistryReason
from gateway.domain.registry import AttachmentRequest

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
        date=read_date(value.Date),
        type=read_enum(PolicyEventType, value.Type),
        insurer_code=value.InsurerCode,
        region_code=value.RegionCode,
        policy_form=read_enum(RegistryPolicyForm, value.PolicyForm),
        reason=read_enum(RegistryReason, value.Reason) if value.Reason is not None else None,
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
        since=read_date(value.Since),
        reason=read_enum(AttachmentReason, value.Reason),
        attachment_id=value.AttachmentId,
    )


def read_visit(value: Any) -> Visit:
    """An f2:Visit."""
    amount = value.AmountPaid
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAnswer("a visit's amount is missing or unreadable")
    return Visit(
        visit_id=value.VisitId,
        date=read_date(value.Date),
        clinic_code=value.ClinicCode,
        clinic_name=value.ClinicName,
        care_kind=read_enum(CareKind, value.CareKind),
        service=value.Service,
        diagnosis_group=value.DiagnosisGroup,
        amount_paid=amount.quantize(Decimal("0.01")),
    )
