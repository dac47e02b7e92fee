"""Fixtures of the operations tests: gateways with fakes and any settings, reading their metrics and logs."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.app import create_app
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore
from tests.support.gateway import Gateway
from tests.support.ops import MakeGateway
from tests.support.services import RunningMocks


@pytest.fixture
def make_gateway(mocks_server: RunningMocks) -> MakeGateway:
    """A gateway with fakes for the store and the back-ends, real tokens, and any settings as keywords."""

    def make(**config: Any) -> Gateway:
        store, fund = FakeStore(), FakeFund()
        insurers = FakeInsurers({code: FakeInsurer(code) for code in ("77001", "77002", "50001")})
        settings = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth", **config}
        app = create_app(settings, store=store, fund=fund, insurers=insurers, kz_fund=FakeKzFund())
        return Gateway(app, app.test_client(), store, fund, mocks_server)

    return make


@pytest.fixture
def gateway(make_gateway: MakeGateway) -> Gateway:
    return make_gateway()
