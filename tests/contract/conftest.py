"""Where the conformance suite sends its requests: `--fund-url` / `--insurer-url`, or the mocks by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.contract.people import message_id
from tests.contract.soap import ServiceUnderTest, client_for

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


@pytest.fixture(scope="session")
def fund(request: pytest.FixtureRequest) -> ServiceUnderTest:
    """The fund service under test."""
    url = request.config.getoption("--fund-url")
    if url is None:
        url = request.getfixturevalue("mocks_server").fund_url
    return client_for("fund", url)


def admitted_insurers(fund: ServiceUnderTest, region: str) -> list[dict[str, Any]]:
    """Insurers the fund lists as admitted in a region today."""
    answer = fund.call("ListInsurers", MessageId=message_id("list"), RegionCode=region)
    insurers: list[dict[str, Any]] = answer["Insurer"]
    return insurers


@pytest.fixture(scope="session")
def insurers(request: pytest.FixtureRequest, fund: ServiceUnderTest) -> list[InsurerUnderTest]:
    """Every insurer under test: the one at --insurer-url, or each admitted mock insurer."""
    listed = {
        entry["Code"]: entry for region in (HOME_REGION, OTHER_REGION) for entry in admitted_insurers(fund, region)
    }
    url = request.config.getoption("--insurer-url")
    if url is not None:
        code = request.config.getoption("--insurer-code")
        if code not in listed:
            raise pytest.UsageError("--insurer-url needs --insurer-code of an insurer the fund lists in 77 or 50")
        chosen = {code: url}
    else:
        mocks = request.getfixturevalue("mocks_server")
        chosen = {code: mocks.insurer_url(code) for code in listed}
    return [
        InsurerUnderTest(
            code, listed[code]["RegionCode"], tuple(listed[code]["PolicyForm"]), client_for("insurer", url)
        )
        for code, url in sorted(chosen.items())
    ]
