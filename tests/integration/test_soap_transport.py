"""The adapters' transport reads the proxy settings of the environment once per address, and honours them."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

import contracts
from adapters.fund import FundAdapter

ENP = "7754900882000015"
ANSWER = contracts.path("samples", "fund", "GetInsuranceStatus.response.xml").read_bytes()


class Recording(BaseAdapter):  # type: ignore[misc]
    """Answers the recorded GetInsuranceStatus envelope and notes the settings each request was sent with."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append({"url": request.url, **kwargs})
        response = requests.Response()
        response.status_code = 200
        response._content = ANSWER
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        response.request = request
        return response

    def close(self) -> None:
        return None


@pytest.fixture
def recording() -> Recording:
    return Recording()


def adapter(recording: Recording, address: str) -> FundAdapter:
    session = requests.Session()
    session.mount("http://", recording)
    return FundAdapter(address, timeout=5, session=session)


def test_an_environment_proxy_is_used_and_no_proxy_is_honoured(
    recording: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "fund.internal")
    adapter(recording, "http://fund.example/fund").insurance_status("m-1", ENP)
    adapter(recording, "http://fund.internal/fund").insurance_status("m-2", ENP)

    through, direct = recording.sent
    assert through["proxies"].get("http") == "http://proxy.test:3128"
    assert "http" not in direct["proxies"]
    assert through["timeout"] == direct["timeout"] == 5


def test_the_environment_is_read_once_per_address(recording: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    fund = adapter(recording, "http://fund.example/fund")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    fund.insurance_status("m-1", ENP)
    monkeypatch.setenv("HTTP_PROXY", "http://other.test:3128")
    fund.insurance_status("m-2", ENP)

    assert [sent["proxies"].get("http") for sent in recording.sent] == ["http://proxy.test:3128"] * 2
