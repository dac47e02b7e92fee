"""Read the clinics part of the mock registry's seed (mocks/data/registry.yaml): clinics, attachments, visits."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from mocks.fund.clinic_model import CHOICE, RELOCATION, AttachmentRecord, ClinicRecord, ClinicSeed, VisitRecord
from mocks.fund.seed import SeedError

CLINIC_CODE = re.compile(r"[0-9]{6}")
CARE_KINDS = frozenset({"outpatient", "day_hospital", "inpatient", "emergency"})


def load_clinic_seed(path: Path) -> ClinicSeed:
    """Return the clinics, the attachments and the fixed visits of a seed file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    clinics = tuple(_clinic(entry) for entry in data.get("clinics") or ())
    codes = {clinic.code for clinic in clinics}
    if len(codes) != len(clinics):
        raise SeedError("В seed-файле повторяется код медицинской организации.")
    attachments = tuple(
        _attachment(number, entry, codes) for number, entry in enumerate(data.get("attachments") or (), start=1)
    )
    visits: dict[str, tuple[VisitRecord, ...]] = {}
    for entry in data.get("visits") or ():
        enp = str(entry["enp"])
        items = entry.get("items") or ()
        visits[enp] = tuple(_visit(enp, number, item, codes) for number, item in enumerate(items, start=1))
    return ClinicSeed(clinics, attachments, visits)


def _clinic(entry: dict[str, Any]) -> ClinicRecord:
    clinic = ClinicRecord(
        code=str(entry["code"]),
        name=str(entry["name"]),
        region_code=str(entry["region_code"]),
        capacity=int(entry["capacity"]),
        attached=int(entry.get("attached") or 0),
        address=_optional_str(entry.get("address")),
        phone=_optional_str(entry.get("phone")),
    )
    if not CLINIC_CODE.fullmatch(clinic.code) or not 0 <= clinic.attached <= clinic.capacity:
        raise SeedError(f"Медицинская организация {clinic.code}: код из 6 цифр, прикреплённых не больше мест.")
    return clinic


def _attachment(number: int, entry: dict[str, Any], codes: set[str]) -> AttachmentRecord:
    attachment = AttachmentRecord(
        attachment_id=f"SEED-AT-{number:04d}",
        enp=str(entry["enp"]),
        clinic_code=str(entry["clinic_code"]),
        since=_date(entry["since"]),
        reason=str(entry.get("reason") or CHOICE),
    )
    if attachment.clinic_code not in codes or attachment.reason not in (CHOICE, RELOCATION):
        raise SeedError(f"Прикрепление ЕНП {attachment.enp}: неизвестная организация или причина.")
    return attachment


def _visit(enp: str, number: int, entry: dict[str, Any], codes: set[str]) -> VisitRecord:
    try:
        amount = Decimal(str(entry["amount_paid"]))
    except InvalidOperation:
        raise SeedError(f"Посещение {number} ЕНП {enp}: сумма не число.") from None
    visit = VisitRecord(
        visit_id=f"SEED-V-{enp}-{number:03d}",
        date=_date(entry["date"]),
        clinic_code=str(entry["clinic_code"]),
        care_kind=str(entry["care_kind"]),
        service=str(entry["service"]),
        diagnosis_group=_optional_str(entry.get("diagnosis_group")),
        amount_paid=amount,
    )
    if visit.clinic_code not in codes or visit.care_kind not in CARE_KINDS or amount < 0:
        raise SeedError(f"Посещение {number} ЕНП {enp}: неизвестная организация, вид помощи или сумма меньше нуля.")
    return visit


def _date(value: Any) -> date:
    # YAML reads an unquoted 2023-02-01 as a date and a quoted one as a string; both are fine in the seed.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
