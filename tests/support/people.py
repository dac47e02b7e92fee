"""Made-up applicants for the conformance suite: valid identifiers, never colliding with a registry's data."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from stdnum import luhn

LAST_NAMES = {
    "female": ["Смирнова", "Кузнецова", "Попова", "Васильева", "Соколова", "Морозова"],
    "male": ["Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Морозов"],
}
FIRST_NAMES = {"female": ["Анна", "Мария", "Елена", "Ольга"], "male": ["Иван", "Пётр", "Сергей", "Алексей"]}
MIDDLE_NAMES = {"female": ["Ивановна", "Петровна"], "male": ["Иванович", "Петрович"]}

_random = random.Random()


def snils_check(digits9: str) -> str:
    """Check number of a СНИЛС (the fund's algorithm, small numbers included)."""
    total = sum(int(d) * w for d, w in zip(digits9, range(9, 0, -1), strict=True))
    if total < 100:
        return f"{total:02d}"
    if total in (100, 101):
        return "00"
    rest = total % 101
    return "00" if rest == 100 else f"{rest:02d}"


def new_snils() -> str:
    """A random valid СНИЛС above the small-number range."""
    first9 = str(_random.randint(2_000_000, 999_999_999)).zfill(9)
    return first9 + snils_check(first9)


def bad_snils() -> str:
    """A СНИЛС with a wrong check number."""
    valid = new_snils()
    wrong = (int(valid[-2:]) + 1) % 100
    return valid[:9] + f"{wrong:02d}"


def new_enp() -> str:
    """A random ЕНП with a valid check digit (almost surely unknown to any registry)."""
    body = "99" + "".join(str(_random.randint(0, 9)) for _ in range(13))
    return body + luhn.calc_check_digit(body)


def message_id(label: str) -> str:
    """A unique MessageId."""
    return f"qa-{label}-{uuid.uuid4().hex[:20]}"


def person(sex: str | None = None, birth_date: date | None = None, **overrides: Any) -> dict[str, Any]:
    """An adult citizen of the RF with a passport, as zeep kwargs of c:Person."""
    sex = sex or _random.choice(["female", "male"])
    born = birth_date or date(1960, 1, 1) + timedelta(days=_random.randint(0, 365 * 40))
    issued = born.replace(year=born.year + 20) + timedelta(days=30) if born.year >= 1980 else date(2015, 3, 1)
    data: dict[str, Any] = {
        "LastName": _random.choice(LAST_NAMES[sex]),
        "FirstName": _random.choice(FIRST_NAMES[sex]),
        "MiddleName": _random.choice(MIDDLE_NAMES[sex]),
        "BirthDate": born,
        "Sex": sex,
        "BirthPlace": "г. Москва",
        "Citizenship": "RUS",
        "Category": "citizen",
        "Snils": new_snils(),
        "IdentityDocument": {
            "Type": "passport_rf",
            "Series": f"{_random.randint(1, 9999):04d}",
            "Number": f"{_random.randint(1, 999_999):06d}",
            "IssueDate": issued,
            "Issuer": "ГУ МВД России по г. Москве",
        },
    }
    data.update(overrides)
    return data


def enp_facet(birth: date, sex: str) -> str:
    """The 8-digit birth facet of an ЕНП (DOMAIN.md), to check what a fund assigns."""
    month = birth.month + (20 if birth.year <= 1950 else 40 if birth.year <= 2000 else 0)
    day = birth.day + (50 if sex == "male" else 0)
    raw = f"{month:02d}{str(birth.year)[::-1]}{day:02d}"
    return "".join(str(9 - int(d)) for d in raw)
