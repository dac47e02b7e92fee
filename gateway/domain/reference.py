"""Reference data the rules look up: the subjects of the Russian Federation and the insurers admitted in them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from gateway.domain.model import Insurer, PolicyForm, RegistryPolicyForm

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_INSURERS = DATA_DIR / "insurers.yaml"
DEFAULT_REGIONS = DATA_DIR / "regions.yaml"


@dataclass(frozen=True)
class InsurerInfo:
    """An insurer (СМО) and its admission to work in ОМС in one region."""

    code: str
    name: str
    region_code: str
    admitted_from: date
    admitted_to: date | None = None
    policy_forms: tuple[PolicyForm, ...] = ()
    phone: str | None = None
    website: str | None = None

    def admitted_on(self, day: date, region: str) -> bool:
        """Whether the insurer may take applications in the region on the day (admitted_to is its last day)."""
        ended = self.admitted_to is not None and day > self.admitted_to
        return region == self.region_code and self.admitted_from <= day and not ended

    def issues(self, policy_form: PolicyForm) -> bool:
        """Whether the insurer issues policies in that form."""
        return policy_form in self.policy_forms

    def as_insurer(self) -> Insurer:
        """The insurer as the API lists it."""
        return Insurer(
            code=self.code,
            name=self.name,
            region_code=self.region_code,
            policy_forms=tuple(RegistryPolicyForm(form) for form in self.policy_forms),
            phone=self.phone,
            website=self.website,
        )


@dataclass(frozen=True)
class Reference:
    """Regions by code (code → Russian name) and insurers by code."""

    regions: Mapping[str, str]
    insurers: Mapping[str, InsurerInfo]

    def contract_ended(self, insurer_code: str, day: date) -> bool:
        """Whether a known insurer no longer works in ОМС in its region on the day (its contract ended): a change
        of insurer it forces is then no change by wish, and not held to the once-a-year limit (326-ФЗ art. 16)."""
        info = self.insurers.get(insurer_code)
        return info is not None and not info.admitted_on(day, info.region_code)

    def insurers_in(self, region: str, day: date) -> list[InsurerInfo]:
        """The insurers admitted in the region on the day, by code."""
        return sorted(
            (insurer for insurer in self.insurers.values() if insurer.admitted_on(day, region)),
            key=lambda insurer: insurer.code,
        )


def load_reference(insurers_path: Path = DEFAULT_INSURERS, regions_path: Path = DEFAULT_REGIONS) -> Reference:
    """Read the insurer and region files; a malformed entry raises ValueError naming it."""
    regions = _read(regions_path)["regions"]
    if not isinstance(regions, dict):
        raise ValueError(f"{regions_path}: `regions` must map codes to names")
    region_names = {str(code): str(name) for code, name in regions.items()}
    insurers: dict[str, InsurerInfo] = {}
    for raw in _read(insurers_path)["insurers"]:
        insurer = _insurer(raw, insurers_path)
        if insurer.code in insurers:
            raise ValueError(f"{insurers_path}: insurer {insurer.code} is listed twice")
        if insurer.region_code not in region_names:
            raise ValueError(f"{insurers_path}: insurer {insurer.code} is in unknown region {insurer.region_code}")
        insurers[insurer.code] = insurer
    # Read-only views: a Reference is shared by every request.
    return Reference(regions=MappingProxyType(region_names), insurers=MappingProxyType(insurers))


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top")
    return data


def _insurer(raw: Mapping[str, Any], path: Path) -> InsurerInfo:
    try:
        admitted_to = raw.get("admitted_to")
        return InsurerInfo(
            code=str(raw["code"]),
            name=str(raw["name"]),
            region_code=str(raw["region_code"]),
            admitted_from=_date(raw["admitted_from"]),
            admitted_to=None if admitted_to is None else _date(admitted_to),
            policy_forms=tuple(PolicyForm(str(form)) for form in raw.get("policy_forms", ())),
            phone=raw.get("phone"),
            website=raw.get("website"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: insurer {raw.get('code', '?')}: {error!r}") from error


def _date(value: object) -> date:
    # YAML reads an unquoted 2011-01-01 as a date and a quoted one as text: accept both.
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
