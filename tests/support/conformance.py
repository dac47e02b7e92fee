"""The SOAP conformance suite's regions and insurers under test, as the fund lists them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.people import message_id
from tests.support.soap import ServiceUnderTest

# Regions whose admitted insurers the suite uses; the contract's test registry has insurers in both.
HOME_REGION = "77"


OTHER_REGION = "50"


@dataclass(frozen=True)
class InsurerUnderTest:
    """An insurer's service and what the fund says of it."""

    code: str
    region_code: str
    policy_forms: tuple[str, ...]
    soap: ServiceUnderTest


def admitted_insurers(fund: ServiceUnderTest, region: str) -> list[dict[str, Any]]:
    """Insurers the fund lists as admitted in a region today."""
    answer = fund.call("ListInsurers", MessageId=message_id("list"), RegionCode=region)
    insurers: list[dict[str, Any]] = answer["Insurer"]
    return insurers
