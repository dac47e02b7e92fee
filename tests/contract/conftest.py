"""Where the conformance suite sends its requests: `--fund-url` / `--insurer-url`, or the mocks by default."""

from __future__ import annotations

import pytest

from tests.support.conformance import HOME_REGION, OTHER_REGION, InsurerUnderTest, admitted_insurers
from tests.support.soap import ServiceUnderTest, client_for


@pytest.fixture(scope="session")
def fund(request: pytest.FixtureRequest) -> ServiceUnderTest:
    """The fund service under test."""
    url = request.config.getoption("--fund-url")
    if url is None:
        url = request.getfixturevalue("mocks_server").fund_url
    return client_for("fund", url)


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
