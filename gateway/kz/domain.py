"""The Kazakh profile (ОСМС): the ИИН and what it tells, the packages of medical care and which one applies.

Plain Python like gateway/domain: the rules of DOMAIN.md ("Kazakhstan ИИН") and of the seed text on ОСМС.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from gateway.domain.model import Sex, Violation

DEFAULT_PACKAGES = Path(__file__).resolve().parent.parent / "data" / "kz_packages.yaml"

_IIN = re.compile(r"[0-9]{12}")
FIRST_WEIGHTS = tuple(range(1, 12))
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# The 7th digit: the century of birth (1/2 the 19th, 3/4 the 20th, 5/6 the 21st), odd for men, even for women.
CENTURY_OF_DIGIT = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


# All of Kazakhstan keeps UTC+5 all year since 1 March 2024 (Almaty moved from UTC+6 then).
ALMATY = timezone(timedelta(hours=5), "ALMT")


def kz_today(now: datetime) -> date:
    """The calendar day in Kazakhstan (Almaty time) at an instant: what "today" means for an ИИН's birth date."""
    return now.astimezone(ALMATY).date()


# --- the ИИН -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IinFacts:
    """What a valid ИИН says of its holder."""

    iin: str
    birth_date: date
    sex: Sex


def iin_check_digit(first_eleven: str) -> int | None:
    """The check digit of an ИИН from its first 11 digits, or None when no check digit is possible."""
    digits = [int(char) for char in first_eleven]
    check = sum(d * w for d, w in zip(digits, FIRST_WEIGHTS, strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, SECOND_WEIGHTS, strict=True)) % 11
    # Numbers whose sums give 10 twice are never issued.
    return None if check == 10 else check


def iin_birth_date(iin: str) -> date | None:
    """The birth date an ИИН of 12 digits carries, or None when its date or century digit is impossible."""
    century = CENTURY_OF_DIGIT.get(int(iin[6]))
    if century is None:
        return None
    try:
        return date(century + int(iin[:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def iin_violations(value: str, field: str = "iin", today: date | None = None) -> list[Violation]:
    """IIN_FORMAT unless 12 digits with a real past birth date and a century digit 1–6; else IIN_CHECKSUM."""
    if not _IIN.fullmatch(value):
        return [Violation("IIN_FORMAT", field, (("reason", "length"),))]
    birth_date = iin_birth_date(value)
    if birth_date is None:
        return [Violation("IIN_FORMAT", field, (("reason", "birth_date"),))]
    if today is not None and birth_date > today:
        return [Violation("IIN_FORMAT", field, (("reason", "birth_date"),))]
    if iin_check_digit(value[:11]) != int(value[11]):
        return [Violation("IIN_CHECKSUM", field)]
    return []


def iin_facts(iin: str) -> IinFacts:
    """The birth date and sex of a valid ИИН (check it with iin_violations first)."""
    birth_date = iin_birth_date(iin)
    if birth_date is None or not _IIN.fullmatch(iin):
        raise ValueError("not a valid ИИН")
    return IinFacts(iin, birth_date, Sex.MALE if int(iin[6]) % 2 else Sex.FEMALE)


def make_iin(birth_date: date, sex: Sex, serial: int) -> str | None:
    """The ИИН of a birth date, sex and 4-digit serial with its check digit; None if no check digit exists."""
    century_digit = {1800: 1, 1900: 3, 2000: 5}[birth_date.year // 100 * 100] + (0 if sex is Sex.MALE else 1)
    body = f"{birth_date:%y%m%d}{century_digit}{serial:04d}"
    check = iin_check_digit(body)
    return None if check is None else f"{body}{check}"


# --- packages ------------------------------------------------------------------------------------------------


class PackageCode(StrEnum):
    """The package of medical care that applies to a person (osms.xsd k:PackageCode)."""

    GOBMP = "gobmp"  # the guaranteed volume of free medical care, for everyone
    GOBMP_OSMS = "gobmp_osms"  # ГОБМП and the ОСМС package, for the insured


# The parts each applicable package is made of, by their codes in the reference data.
PARTS_OF = {PackageCode.GOBMP: ("gobmp",), PackageCode.GOBMP_OSMS: ("gobmp", "osms")}


def package_for(insured: bool) -> PackageCode:
    """ГОБМП for everyone; ГОБМП + ОСМС for a person insured in ОСМС."""
    return PackageCode.GOBMP_OSMS if insured else PackageCode.GOBMP


@dataclass(frozen=True)
class InsurancePeriod:
    """The period of insurance covering a day; `end` None when it is open (contributions paid by the state)."""

    start: date
    end: date | None = None


@dataclass(frozen=True)
class InsuranceStatus:
    """What the fund says of an ИИН on a day."""

    iin: str
    on: date
    insured: bool
    package: PackageCode
    period: InsurancePeriod | None = None

    def __post_init__(self) -> None:
        # The package follows from being insured; an answer that says otherwise cannot be shown to anyone.
        if self.package is not package_for(self.insured):
            raise ValueError(f"package {self.package} does not go with insured={self.insured}")
        if self.insured != (self.period is not None):
            raise ValueError("a period goes with being insured, and only with it")


@dataclass(frozen=True)
class Package:
    """A package of medical care and the services in it, as reference data."""

    code: str
    short_name: str
    name: str
    for_whom: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Packages:
    """The packages by code (`gobmp`, `osms`), in the file's order."""

    by_code: Mapping[str, Package]

    def parts(self, package: PackageCode) -> list[Package]:
        """The packages that make up an applicable package."""
        return [self.by_code[code] for code in PARTS_OF[package]]

    def name_of(self, package: PackageCode) -> str:
        """The short Russian name of an applicable package: «ГОБМП» or «ГОБМП + ОСМС»."""
        return " + ".join(part.short_name for part in self.parts(package))


def load_packages(path: Path = DEFAULT_PACKAGES) -> Packages:
    """Read the packages file; a malformed or incomplete one raises ValueError naming what is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("packages")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: `packages` must be a list")
    packages = [_package(entry, path) for entry in entries]
    by_code = {package.code: package for package in packages}
    if len(by_code) != len(packages):
        raise ValueError(f"{path}: a package code is listed twice")
    needed = {code for parts in PARTS_OF.values() for code in parts}
    if needed - set(by_code):
        raise ValueError(f"{path}: packages {', '.join(sorted(needed - set(by_code)))} are missing")
    return Packages(MappingProxyType(by_code))


def _package(entry: Any, path: Path) -> Package:
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: every package must be a mapping")
    code = str(entry.get("code", ""))
    services = entry.get("services")
    if not isinstance(services, list) or not services or not all(isinstance(s, str) and s for s in services):
        raise ValueError(f"{path}: package {code!r} must list its services as non-empty strings")
    try:
        return Package(
            code=code,
            short_name=str(entry["short_name"]),
            name=str(entry["name"]),
            for_whom=str(entry["for_whom"]),
            services=tuple(services),
        )
    except KeyError as missing:
        raise ValueError(f"{path}: package {code!r} has no {missing.args[0]}") from None
