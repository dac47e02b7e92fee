"""Clinics of the mock fund: which are admitted where, who is attached to which, and the visits ОМС paid for.

Attachment as the mock models it (fund-v2.xsd says the same): a person whose policy is in force on the application
date attaches to a clinic of their policy's region that has room; by choice once a year (a year from their last
attachment by choice), on relocation at any time. A policy moved to another region ends the attachment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from mocks.calendar import anniversary
from mocks.fund.clinic_model import CHOICE, AttachmentRecord, ClinicRecord, VisitRecord
from mocks.fund.clinic_seed import load_clinic_seed
from mocks.fund.model import PersonRecord, PolicyRecord
from mocks.fund.visits import derived_visits
from mocks.soap import BusinessFault


class Clinics:
    """Clinics, attachments and visits of the registry's persons; safe to share between threads."""

    def __init__(self, seed_path: Path, person_of: Callable[[str], PersonRecord | None], today: Callable[[], date]):
        self._seed_path = seed_path
        self._person_of = person_of
        self._today = today
        self._lock = threading.RLock()
        self._clinics: dict[str, ClinicRecord] = {}
        self._attachments: dict[str, list[AttachmentRecord]] = {}
        self._answers: dict[str, AttachmentRecord] = {}
        self._visits: dict[str, tuple[VisitRecord, ...]] = {}

    def reset(self) -> None:
        """Back to the seed file (read again): its clinics, its attachments and nothing recorded since."""
        seed = load_clinic_seed(self._seed_path)
        with self._lock:
            self._clinics = {clinic.code: clinic for clinic in seed.clinics}
            self._attachments = {}
            for attachment in seed.attachments:
                self._attachments.setdefault(attachment.enp, []).append(attachment)
            self._answers = {}
            self._visits = dict(seed.visits)

    # --- reading ---------------------------------------------------------------------------------------------

    def clinic(self, code: str) -> ClinicRecord | None:
        """The clinic with this code."""
        with self._lock:
            return self._clinics.get(code)

    def in_region(self, region_code: str) -> tuple[ClinicRecord, ...]:
        """The clinics admitted in a region, by code."""
        with self._lock:
            found = [clinic for clinic in self._clinics.values() if clinic.region_code == region_code]
        return tuple(sorted(found, key=lambda clinic: clinic.code))

    def accepts(self, clinic: ClinicRecord) -> bool:
        """Tell whether the clinic has room for one more person."""
        return self._occupancy(clinic) < clinic.capacity

    def current(self, enp: str) -> AttachmentRecord | None:
        """The person's attachment to a clinic of their current policy's region, if any."""
        person = self._known(enp)
        policy = person.current_policy
        with self._lock:
            recorded = self._attachments.get(enp)
            latest = recorded[-1] if recorded else None
            clinic = None if latest is None else self._clinics.get(latest.clinic_code)
        if latest is None or clinic is None or policy is None or clinic.region_code != policy.region_code:
            return None
        return latest

    def visits(self, enp: str, start: date | None, end: date | None) -> tuple[VisitRecord, ...]:
        """The person's visits in a period (both ends included; to today when no end), oldest first."""
        person = self._known(enp)
        if start is not None and end is not None and start > end:
            raise BusinessFault("VISITS_PERIOD_INVALID", "Начало периода позже его окончания.", field="From")
        today = self._today()
        with self._lock:
            seeded = self._visits.get(enp)
        found = list(seeded) if seeded is not None else derived_visits(person, self.in_region, today)
        last = min(end, today) if end is not None else today
        chosen = [visit for visit in found if (start is None or visit.date >= start) and visit.date <= last]
        return tuple(sorted(chosen, key=lambda visit: visit.date))

    # --- attaching -------------------------------------------------------------------------------------------

    def attach(self, message_id: str, enp: str, clinic_code: str, on: date, reason: str) -> AttachmentRecord:
        """Attach a person to a clinic; the same MessageId again answers the first result and changes nothing."""
        with self._lock:
            done = self._answers.get(message_id)
            if done is not None:
                return done
            person = self._known(enp)
            clinic = self._clinics.get(clinic_code)
            if on > self._today():
                raise BusinessFault(
                    "APPLICATION_DATE_INVALID", "Дата заявления позже текущей даты.", field="ApplicationDate"
                )
            if clinic is None:
                raise BusinessFault(
                    "CLINIC_UNKNOWN", f"Медицинская организация {clinic_code} не найдена.", field="ClinicCode"
                )
            policy = _policy_in_force(person, on)
            if policy is None:
                raise BusinessFault("POLICY_NOT_ACTIVE", "Полис застрахованного не действует.", field="Enp")
            if clinic.region_code != policy.region_code:
                raise BusinessFault(
                    "CLINIC_OTHER_REGION",
                    f"Медицинская организация {clinic.code} работает в регионе {clinic.region_code},"
                    f" полис оформлен в регионе {policy.region_code}.",
                    field="ClinicCode",
                )
            current = self.current(enp)
            if current is not None and current.clinic_code == clinic.code:
                raise BusinessFault(
                    "CLINIC_ALREADY_ATTACHED",
                    f"Застрахованный уже прикреплён к медицинской организации {clinic.code}.",
                    field="ClinicCode",
                )
            if reason == CHOICE:
                self._check_yearly_choice(enp, on)
            if not self.accepts(clinic):
                raise BusinessFault(
                    "CLINIC_FULL",
                    f"Медицинская организация {clinic.code} не принимает на прикрепление: мест нет.",
                    field="ClinicCode",
                )
            recorded = sum(len(items) for items in self._attachments.values())
            attachment = AttachmentRecord(f"AT-{on:%Y%m%d}-{recorded + 1:06d}", enp, clinic.code, on, reason)
            self._attachments.setdefault(enp, []).append(attachment)
            self._answers[message_id] = attachment
            return attachment

    def attachment_count(self) -> int:
        """How many attachments were really made since the last reset (repeats not counted)."""
        with self._lock:
            return len(self._answers)

    # --- internals -------------------------------------------------------------------------------------------

    def _check_yearly_choice(self, enp: str, on: date) -> None:
        choices = [item for item in self._attachments.get(enp, ()) if item.reason == CHOICE]
        if not choices:
            return
        allowed_from = anniversary(choices[-1].since, 1)
        if on < allowed_from:
            raise BusinessFault(
                "CLINIC_CHANGE_LIMIT",
                f"Медицинскую организацию по выбору меняли {choices[-1].since:%d.%m.%Y}:"
                " следующий выбор — не раньше чем через год.",
                field="Reason",
                allowed_from=allowed_from,
            )

    def _occupancy(self, clinic: ClinicRecord) -> int:
        # A person holds a place where they last attached; attaching elsewhere frees it.
        with self._lock:
            latest = [items[-1] for items in self._attachments.values() if items]
        return clinic.attached + sum(1 for item in latest if item.clinic_code == clinic.code)

    def _known(self, enp: str) -> PersonRecord:
        person = self._person_of(enp)
        if person is None:
            raise BusinessFault("ENP_NOT_FOUND", "ЕНП не найден в регистре.", field="Enp")
        return person


def _policy_in_force(person: PersonRecord, on: date) -> PolicyRecord | None:
    policy = person.current_policy
    return policy if policy is not None and policy.status_on(on) == "active" else None
