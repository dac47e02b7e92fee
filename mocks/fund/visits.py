"""Visits of persons the seed gives none: derived from a hash of the ЕНП, so every call answers the same.

Each year of insurance (counted from the first policy's start) holds one to three visits, on days the hash picks,
in clinics of the region of the policy in force that day; nothing after today and nothing while uninsured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from mocks.fund.clinic_model import ClinicRecord, VisitRecord, policy_on
from mocks.fund.model import PersonRecord

# Blocks of ICD-10 codes, and typical entries of a territorial tariff: conditions of care, service, diagnosis, payment.
ARI = "J00-J06 Острые респираторные инфекции верхних дыхательных путей"
REFRACTION = "H49-H52 Болезни мышц глаза, нарушения содружественного движения глаз, аккомодации и рефракции"
GALLBLADDER = "K80-K87 Болезни желчного пузыря, желчевыводящих путей и поджелудочной железы"
DORSOPATHY = "M40-M54 Дорсопатии"
HYPERTENSION = "I10-I15 Болезни, характеризующиеся повышенным кровяным давлением"
FLU_PNEUMONIA = "J09-J18 Грипп и пневмония"
SERVICES: tuple[tuple[str, str, str | None, Decimal], ...] = (
    ("outpatient", "Приём врача-терапевта участкового", ARI, Decimal("1250.00")),
    ("outpatient", "Профилактический медицинский осмотр", None, Decimal("1870.00")),
    ("outpatient", "Диспансеризация, первый этап", None, Decimal("2950.00")),
    ("outpatient", "Приём врача-офтальмолога", REFRACTION, Decimal("980.00")),
    ("outpatient", "Ультразвуковое исследование органов брюшной полости", GALLBLADDER, Decimal("1430.00")),
    ("outpatient", "Приём врача-невролога", DORSOPATHY, Decimal("1160.00")),
    ("day_hospital", "Лечение в дневном стационаре", HYPERTENSION, Decimal("23540.00")),
    ("emergency", "Вызов скорой медицинской помощи", FLU_PNEUMONIA, Decimal("3900.00")),
    ("inpatient", "Лечение в круглосуточном стационаре", FLU_PNEUMONIA, Decimal("48720.00")),
)
DAYS_IN_YEAR = 365
MAX_VISITS_A_YEAR = 3


def derived_visits(
    person: PersonRecord, clinics_in: Callable[[str], tuple[ClinicRecord, ...]], today: date
) -> list[VisitRecord]:
    """The person's visits up to today, the same on every call."""
    if not person.policies:
        return []
    start = person.policies[0].valid_from
    visits: list[VisitRecord] = []
    year = 0
    while start + timedelta(days=DAYS_IN_YEAR * year) <= today:
        year_start = start + timedelta(days=DAYS_IN_YEAR * year)
        digest = hashlib.sha256(f"{person.enp}:{year}".encode()).digest()
        for number in range(1 + digest[0] % MAX_VISITS_A_YEAR):
            # Four bytes of the digest per visit: two for the day, one for the clinic, one for the service.
            chunk = digest[1 + 4 * number : 5 + 4 * number]
            # Never on the first day of a year of insurance: a policy issued today has no visits yet.
            day = year_start + timedelta(days=1 + int.from_bytes(chunk[:2], "big") % (DAYS_IN_YEAR - 1))
            policy = policy_on(person, day)
            clinics = clinics_in(policy.region_code) if policy is not None and day <= today else ()
            if not clinics:
                continue
            clinic = clinics[chunk[2] % len(clinics)]
            care_kind, service, diagnosis_group, amount = SERVICES[chunk[3] % len(SERVICES)]
            visits.append(
                VisitRecord(
                    visit_id=f"V-{person.enp}-{year:02d}{number}",
                    date=day,
                    clinic_code=clinic.code,
                    care_kind=care_kind,
                    service=service,
                    diagnosis_group=diagnosis_group,
                    amount_paid=amount,
                )
            )
        year += 1
    return visits
