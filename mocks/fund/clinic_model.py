"""What the mock fund knows of clinics: the clinics, the attachments of persons to them, the visits ОМС paid for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from mocks.fund.model import PersonRecord, PolicyRecord

CHOICE = "choice"
RELOCATION = "relocation"


@dataclass(frozen=True)
class ClinicRecord:
    """A clinic admitted to work in ОМС in one region, and how many persons it can take."""

    code: str
    name: str
    region_code: str
    capacity: int
    attached: int = 0  # persons attached outside what the mock records (the rest of the population)
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class AttachmentRecord:
    """One attachment of a person to a clinic."""

    attachment_id: str
    enp: str
    clinic_code: str
    since: date
    reason: str


@dataclass(frozen=True)
class VisitRecord:
    """Care a person received that ОМС paid for."""

    visit_id: str
    date: date
    clinic_code: str
    care_kind: str
    service: str
    amount_paid: Decimal
    diagnosis_group: str | None = None


@dataclass(frozen=True)
class ClinicSeed:
    """What the seed file says of clinics: the clinics, who is attached from the start, fixed visits by ЕНП."""

    clinics: tuple[ClinicRecord, ...] = ()
    attachments: tuple[AttachmentRecord, ...] = ()
    visits: dict[str, tuple[VisitRecord, ...]] = field(default_factory=dict)


def policy_on(person: PersonRecord, day: date) -> PolicyRecord | None:
    """The person's policy in force on a day, if any."""
    for policy in reversed(person.policies):
        if policy.status_on(day) == "active":
            return policy
    return None
