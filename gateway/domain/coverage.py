"""Coverage for clinics: is a person covered today, and under which programme of ОМС in the clinic's region.

326-ФЗ art. 16 part 1: an insured person has the right to free care within the basic programme of ОМС anywhere in
the Russian Federation, and within the territorial programme in the subject where the policy was issued. The
territorial programme contains the basic one, so a clinic in the policy's region works under the territorial
programme, a clinic anywhere else under the basic one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from gateway.domain.identifiers import enp_violations, snils_violations
from gateway.domain.model import Policy, PolicyStatus, Violation

_REGION = re.compile(r"[0-9]{2}")


class Programme(StrEnum):
    """The programme of state guarantees under which a clinic treats an insured person."""

    TERRITORIAL = "territorial"
    BASIC = "basic"


# Why a policy that the registry knows does not cover its holder today, as catalogue codes.
NOT_COVERED_REASONS: Mapping[PolicyStatus, str] = MappingProxyType(
    {
        PolicyStatus.EXPIRED: "POLICY_EXPIRED",
        PolicyStatus.ANNULLED: "POLICY_ANNULLED",
        PolicyStatus.SUSPENDED: "POLICY_SUSPENDED",
        PolicyStatus.PENDING: "POLICY_PENDING",
    }
)


@dataclass(frozen=True)
class CoverageQuery:
    """What a clinic asks: one identifier of the person (ЕНП or СНИЛС) and the clinic's region."""

    region_code: str
    enp: str | None = None
    snils: str | None = None  # 11 digits once checked; as typed before


@dataclass(frozen=True)
class Coverage:
    """The answer: the policy as the registry has it today, and what it means for the clinic."""

    policy: Policy
    clinic_region_code: str
    covered: bool
    programme: Programme | None
    reason_code: str | None  # a catalogue code when not covered


def query_violations(query: CoverageQuery, regions: Collection[str]) -> list[Violation]:
    """Everything wrong with a query before asking the registry: one identifier, its check digits, the region."""
    violations: list[Violation] = []
    given = [name for name, value in (("enp", query.enp), ("snils", query.snils)) if value]
    if len(given) != 1:
        violations.append(Violation("COVERAGE_IDENTIFIER_REQUIRED", None, (("given", "both" if given else "none"),)))
    elif query.enp:
        violations.extend(enp_violations(query.enp, "enp"))
    elif query.snils:
        violations.extend(snils_violations(query.snils, "snils"))
    if not query.region_code:
        violations.append(Violation("FIELD_REQUIRED", "region_code"))
    elif not _REGION.fullmatch(query.region_code) or query.region_code not in regions:
        violations.append(Violation("REGION_UNKNOWN", "region_code"))
    return violations


def programme_in(policy_region: str, clinic_region: str) -> Programme:
    """The territorial programme in the policy's own region, the basic programme everywhere else in the RF."""
    return Programme.TERRITORIAL if policy_region == clinic_region else Programme.BASIC


def assess(policy: Policy, clinic_region: str) -> Coverage:
    """Whether the policy covers its holder today (the registry's status of today) and under which programme."""
    if policy.status is PolicyStatus.ACTIVE:
        return Coverage(policy, clinic_region, True, programme_in(policy.region_code, clinic_region), None)
    return Coverage(policy, clinic_region, False, None, NOT_COVERED_REASONS[policy.status])
