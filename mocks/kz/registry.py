"""The mock fund's registry of persons in ОСМС: who is insured on which days, read from mocks/data/kz.yaml."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from mocks.calendar import almaty_today
from mocks.kz import iin as iins
from mocks.soap import BusinessFault

GOBMP = "gobmp"
GOBMP_OSMS = "gobmp_osms"


class SeedError(ValueError):
    """The seed file says something the registry cannot hold; the message names the entry."""


@dataclass(frozen=True)
class Period:
    """Days covered by contributions, `end` included; None for an open period."""

    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        """Whether the day falls in the period."""
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Status:
    """The fund's answer for one ИИН on one day."""

    iin: str
    on: date
    insured: bool
    package: str
    period: Period | None


class KzRegistry:
    """Persons by ИИН with their periods of insurance; safe to share between threads."""

    def __init__(self, seed_path: Path, today: Callable[[], date] = almaty_today):
        self._seed_path = seed_path
        self._today = today
        self._lock = threading.Lock()
        self._persons: dict[str, tuple[Period, ...]] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the seed file (read again, so edits to it apply)."""
        persons = load_seed(self._seed_path)
        with self._lock:
            self._persons = persons

    def today(self) -> date:
        """The registry's current date."""
        return self._today()

    def status(self, iin: str, on: date | None) -> Status:
        """Whether the holder of an ИИН is insured on a day (today by default); refuses a wrong or unknown ИИН."""
        if iins.birth_date(iin) is None:
            raise BusinessFault("IIN_FORMAT", "ИИН не содержит возможной даты рождения.", field="Iin")
        if iins.check_digit(iin[:11]) != int(iin[11]):
            raise BusinessFault("IIN_CHECKSUM", "Контрольный разряд ИИН не совпадает.", field="Iin")
        day = on or self.today()
        with self._lock:
            periods = self._persons.get(iin)
        if periods is None:
            raise BusinessFault("IIN_NOT_FOUND", "Лицо с таким ИИН не найдено.", field="Iin")
        covering = next((period for period in periods if period.covers(day)), None)
        insured = covering is not None
        return Status(iin, day, insured, GOBMP_OSMS if insured else GOBMP, covering)


def load_seed(path: Path) -> dict[str, tuple[Period, ...]]:
    """The persons of a seed file, by ИИН."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    persons: dict[str, tuple[Period, ...]] = {}
    for entry in data.get("persons") or ():
        iin = str(entry["iin"])
        # A seed typo would otherwise surface as a puzzling refusal in some test far away.
        if not iins.is_valid(iin):
            raise SeedError(f"ИИН {iin} с неверной датой рождения или контрольным разрядом.")
        if iin in persons:
            raise SeedError(f"ИИН {iin} повторяется в seed-файле.")
        persons[iin] = tuple(_period(iin, raw) for raw in entry.get("periods") or ())
    return persons


def _period(iin: str, raw: dict[str, Any]) -> Period:
    period = Period(_date(raw["from"]), None if raw.get("to") is None else _date(raw["to"]))
    if period.end is not None and period.end < period.start:
        raise SeedError(f"ИИН {iin}: период заканчивается раньше, чем начинается.")
    return period


def _date(value: Any) -> date:
    # YAML reads an unquoted 2020-01-01 as a date and a quoted one as a string; both are fine in the seed.
    return value if isinstance(value, date) else date.fromisoformat(str(value))
