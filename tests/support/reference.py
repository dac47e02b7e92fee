"""A small reference book of insurers and regions for the domain's rules."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from gateway.domain.reference import InsurerInfo, Reference

ALL_FORMS = ("electronic", "paper", "plastic")
REFERENCE = Reference(
    regions=MappingProxyType({"77": "Москва", "50": "Московская область"}),
    insurers=MappingProxyType(
        {
            "77001": InsurerInfo("77001", "СМО 1", "77", date(2011, 1, 1), policy_forms=ALL_FORMS),
            "77002": InsurerInfo("77002", "СМО 2", "77", date(2015, 1, 1), policy_forms=ALL_FORMS),
            "77003": InsurerInfo("77003", "СМО 3", "77", date(2012, 1, 1), date(2024, 12, 31), ("paper",)),
            "50001": InsurerInfo("50001", "СМО 4", "50", date(2013, 1, 1), policy_forms=("electronic", "paper")),
        }
    ),
)
