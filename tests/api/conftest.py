"""The gateway app with fakes for the store and the back-ends, real tokens from the mock OAuth server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from tests.conftest import RunningMocks
from tests.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore


@dataclass
class Gateway:
    app: Flask
    client: FlaskClient
    store: FakeStore
    fund: FakeFund
    mocks: RunningMocks

    def token(
        self,
        sub: str = "user-1",
        snils: str | None = "11223344595",
        scope: str = "epolicy.apply epolicy.read epolicy.replace",
    ) -> str:
        body: dict[str, Any] = {"sub": sub, "scope": scope}
        if snils:
            body["snils"] = snils
        answer = requests.post(f"{self.mocks.base_url}/oauth/test/token", json=body, timeout=10)
        token: str = answer.json()["access_token"]
        return token

    def auth(self, **token: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**token)}"}


@pytest.fixture
def gateway(mocks_server: RunningMocks) -> Gateway:
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
