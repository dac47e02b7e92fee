"""Where the conformance suite sends its requests: `--fund-url` / `--insurer-url`, or the mocks by default.

Every request is signed with the suite's key (`--suite-key`, `--suite-certificate`; by default the session's
"suite" key, which the mocks trust) and every answer is believed only when signed by the service's certificate
(`--fund-certificate`, `--insurer-certificate`; for the mocks, each target's own).
"""

from __future__ import annotations

import pytest

from adapters.signing import Identity, Signing, TrustStore
from tests.support.conformance import HOME_REGION, OTHER_REGION, InsurerUnderTest, admitted_insurers
from tests.support.signing import SUITE, identity, trust
from tests.support.soap import ServiceUnderTest, client_for


@pytest.fixture(scope="session")
def suite_identity(request: pytest.FixtureRequest) -> Identity:
    """The key the suite signs its requests with."""
    key, certificate = request.config.getoption("--suite-key"), request.config.getoption("--suite-certificate")
    if (key is None) != (certificate is None):
        raise pytest.UsageError("--suite-key and --suite-certificate go together")
    return identity(SUITE) if key is None else Identity.load(key, certificate)


def _trusted(request: pytest.FixtureRequest, option: str, url_option: str, default: str) -> TrustStore:
    given = request.config.getoption(option)
    if given is not None:
        return TrustStore.load(given, option)
    if request.config.getoption(url_option) is not None:
        raise pytest.UsageError(f"{url_option} needs {option}: the certificate its answers are signed with")
    return trust(default)


@pytest.fixture(scope="session")
def fund(request: pytest.FixtureRequest, suite_identity: Identity) -> ServiceUnderTest:
    """The fund service under test."""
    url = request.config.getoption("--fund-url")
    if url is None:
        url = request.getfixturevalue("mocks_server").fund_url
    trusted = _trusted(request, "--fund-certificate", "--fund-url", "fund")
    return client_for("fund", url, Signing(suite_identity, {url: trusted}))


@pytest.fixture(scope="session")
def insurers(
    request: pytest.FixtureRequest, fund: ServiceUnderTest, suite_identity: Identity
) -> list[InsurerUnderTest]:
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
    under_test = []
    for code, address in sorted(chosen.items()):
        trusted = _trusted(request, "--insurer-certificate", "--insurer-url", f"insurers-{code}")
        soap = client_for("insurer", address, Signing(suite_identity, {address: trusted}))
        under_test.append(InsurerUnderTest(code, listed[code]["RegionCode"], tuple(listed[code]["PolicyForm"]), soap))
    return under_test
