"""Fixtures of the operations tests: gateways with fakes and any settings, reading their metrics and logs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from tests.api.conftest import Gateway
from tests.conftest import RunningMocks
from tests.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore

MakeGateway = Callable[..., Gateway]


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


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(exposition: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is not there yet (as Prometheus reads an absent counter)."""
    return samples(exposition).get((name, frozenset(labels.items())), 0.0)


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 90) -> None:
    """Wait for `base`/healthz to answer 200; kill `process` and fail with the tail of its log if it does not."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            # The port is open before the processes have booted: a long read timeout waits for them.
            if requests.get(f"{base}/healthz", timeout=30).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{base} did not start:\n{log.read_text(errors='replace')[-5000:]}")
        time.sleep(0.1)
