"""Applicants and registrations for the adapters' tests, and message ids no other call of the session uses.

Applicants are made up from a counter, so a run is the same every time and never meets the seed's persons.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from gateway.domain.model import (
    Document,
    DocumentType,
    Person,
    PolicyForm,
    RegistryApplicationType,
    RegistryReason,
    Sex,
)
from gateway.domain.registry import Registration
from tests.support.people import snils_check

_serial = itertools.count(1)


def new_person(**changes: Any) -> Person:
    """An adult citizen of the RF with a passport, unknown to the registry (a new СНИЛС and passport each call)."""
    serial = next(_serial)
    first_nine = f"{700_000_000 + serial * 7919:09d}"
    person = Person(
        last_name="Тестова",
        first_name="Мария",
        middle_name="Петровна",
        birth_date=date(1991, 4, 12),
        sex=Sex.FEMALE,
        citizenship="RUS",
        birth_place="г. Тверь",
        snils=first_nine + snils_check(first_nine),
        inn="500100732259",
        identity_document=Document(
            type=DocumentType.PASSPORT_RF,
            series="2811",
            number=f"{900_000 + serial:06d}",
            issue_date=date(2011, 5, 20),
            issuer="УФМС России по Тверской области",
        ),
    )
    return replace(person, **changes)


def message_id(label: str) -> str:
    """A MessageId no other call of the session uses (back-ends answer a repeated one as the first time)."""
    return f"it-{label}-{uuid.uuid4().hex[:16]}"


def first_choice(person: Person, insurer_code: str = "77001", on: date | None = None, **changes: Any) -> Registration:
    """The registration of a first choice of insurer in region 77."""
    registration = Registration(
        application_date=on or date.today(),
        type=RegistryApplicationType.INSURER_CHOICE,
        reason=RegistryReason.FIRST_CHOICE,
        person=person,
        insurer_code=insurer_code,
        region_code="77",
        policy_form=PolicyForm.ELECTRONIC,
    )
    return replace(registration, **changes)
