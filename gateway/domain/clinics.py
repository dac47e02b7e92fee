"""What the fund tells of a policy beyond its status: its history, the clinic its holder is attached to, visits.

Attachment (прикрепление) to a clinic for primary care, as the fund's contract models it (contracts/fund/fund-v2.xsd):
a clinic of the region of the policy, with room left; by choice once a year, on relocation at any time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from gateway.domain.model import Policy, RegistryPolicyForm, RegistryReason, Violation


class PolicyEventType(StrEnum):
    """What happened to a policy (the fund's f:PolicyEventType)."""

    ISSUED = "issued"
    INSURER_CHANGED = "insurer_changed"
    REISSUED = "reissued"
    DUPLICATE_ISSUED = "duplicate_issued"
    DATA_CHANGED = "data_changed"
    EXPIRED = "expired"
    ANNULLED = "annulled"


class CareKind(StrEnum):
    """Conditions of care (323-ФЗ art. 32)."""

    OUTPATIENT = "outpatient"  # амбулаторно
    DAY_HOSPITAL = "day_hospital"  # в дневном стационаре
    INPATIENT = "inpatient"  # стационарно
    EMERGENCY = "emergency"  # скорая помощь, вне медицинской организации


class AttachmentReason(StrEnum):
    """Why a person attaches to a clinic: their choice (once a year) or a change of residence (any time)."""

    CHOICE = "choice"
    RELOCATION = "relocation"


@dataclass(frozen=True)
class PolicyEvent:
    """One event of a person's policies, as the fund's registry lists it."""

    date: date
    type: PolicyEventType
    insurer_code: str
    region_code: str
    policy_form: RegistryPolicyForm
    reason: RegistryReason | None = None  # the registry's application reason (first_choice, own_wish, loss, ...)


@dataclass(frozen=True)
class Clinic:
    """A clinic (medical organisation) admitted to work in ОМС in a region."""

    code: str
    name: str
    region_code: str
    accepts_attachment: bool
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Attachment:
    """The clinic a person is attached to for primary care, and since when."""

    enp: str
    clinic_code: str
    clinic_name: str
    since: date
    reason: AttachmentReason
    attachment_id: str | None = None


@dataclass(frozen=True)
class PolicyCard:
    """What a status page shows of a policy: the policy as the fund has it, and the holder's clinic."""

    policy: Policy
    attachment: Attachment | None


@dataclass(frozen=True)
class Visit:
    """Care a person received that ОМС paid for. The diagnosis group is health data: never logged."""

    visit_id: str
    date: date
    clinic_code: str
    clinic_name: str
    care_kind: CareKind
    service: str
    amount_paid: Decimal
    diagnosis_group: str | None = None


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included; an open end is the start of the insurance, or today."""

    start: date | None = None
    end: date | None = None


def period_violations(period: Period, start_field: str = "from") -> list[Violation]:
    """A period that ends before it starts."""
    if period.start is not None and period.end is not None and period.start > period.end:
        return [Violation("VISITS_PERIOD_INVALID", start_field)]
    return []


def total_paid(visits: Iterable[Visit]) -> Decimal:
    """What ОМС paid for the visits, in roubles with kopecks."""
    return sum((visit.amount_paid for visit in visits), Decimal("0.00"))
