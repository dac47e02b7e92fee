"""Fixtures shared by every test folder: the mocks on a real socket, PostgreSQL, the gateway app on fakes.

What tests share besides fixtures (data, builders, fakes, helpers) lives in tests/support/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from gateway.app import create_app
from tests.support.databases import POSTGRESQL_URL
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore
from tests.support.gateway import Gateway
from tests.support.network import MARKER, block_network
from tests.support.services import RunningMocks, missing_service, serve_mocks
from tests.support.signing import install_environment


def pytest_configure(config: pytest.Config) -> None:
    """Every gateway the tests start signs with the session's keys and trusts the mocks' (tests/support/signing.py)."""
    install_environment()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the SOAP conformance suite: point it at another implementation of the contracts."""
    group = parser.getgroup("epolicy", "e-policy contract conformance")
    group.addoption("--fund-url", help="address of the fund service under test (default: the mocks)")
    group.addoption("--insurer-url", help="address of the insurer service under test (default: the mocks)")
    group.addoption("--insurer-code", help="code of the insurer at --insurer-url (as the fund lists it)")
    group.addoption(
        "--fund-certificate", help="PEM file(s), comma-separated, the fund at --fund-url signs its answers with"
    )
    group.addoption(
        "--insurer-certificate", help="PEM file(s), comma-separated, the insurer at --insurer-url signs with"
    )
    group.addoption("--suite-key", help="the suite's signing key (PEM); the service under test must trust its")
    group.addoption("--suite-certificate", help="  certificate, --suite-certificate (default: a key of the mocks')")


@pytest.fixture(autouse=True)
def network_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches a server unless it opts in with `@pytest.mark.network` (tests/support/network.py)."""
    if request.node.get_closest_marker(MARKER) is None:
        block_network(request.node.nodeid, monkeypatch)


@pytest.fixture(scope="session")
def mocks_server() -> Iterator[RunningMocks]:
    """The mocks served over real HTTP for the whole session."""
    server, thread = serve_mocks()
    yield RunningMocks(f"http://127.0.0.1:{server.port}", server)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def postgresql_server() -> str:
    """The PostgreSQL URL, once it answers; unreachable, the tests skip (and fail on CI, where it must be there)."""
    engine = create_engine(POSTGRESQL_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        cause = " ".join(str(error.orig).split())
        reason = f"PostgreSQL is unreachable at {engine.url!r} (set EPOLICY_TEST_POSTGRESQL_URL): {cause}"
        missing_service(reason)
    finally:
        engine.dispose()
    return POSTGRESQL_URL


@pytest.fixture
def gateway(mocks_server: RunningMocks) -> Gateway:
    """The gateway app with fakes for the store and the back-ends, real tokens from the mock OAuth server."""
    store, fund = FakeStore(), FakeFund()
    insurers = FakeInsurers({code: FakeInsurer(code) for code in ("77001", "77002", "50001")})
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"},
        store=store,
        fund=fund,
        insurers=insurers,
        kz_fund=FakeKzFund(),
    )
    return Gateway(app, app.test_client(), store, fund, mocks_server)
