"""The adapters' transport works out each address once (proxy settings, session headers) and honours them."""

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
        self.sent.append({"url": request.url, "request": request, **kwargs})
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


def sent_as_requests_prepares_it(session: requests.Session, sent: requests.PreparedRequest) -> None:
    own = {name: sent.headers[name] for name in ("SOAPAction", "Content-Type", "X-Message-ID")}
    prepared = session.prepare_request(requests.Request("POST", sent.url, data=sent.body, headers=own))
    assert (sent.method, sent.url, sent.body) == (prepared.method, prepared.url, prepared.body)
    assert dict(sent.headers) == dict(prepared.headers)


def test_a_request_is_prepared_as_requests_prepares_it_with_the_sessions_headers(recording: Recording) -> None:
    session = requests.Session()
    session.mount("http://", recording)
    session.headers["User-Agent"] = "epolicy-gateway"
    session.headers["X-Fund-Client"] = "gateway-1"
    FundAdapter("http://fund.example/fund", timeout=5, session=session).insurance_status("m-1", ENP)

    (sent,) = recording.sent
    assert sent["request"].headers["X-Fund-Client"] == "gateway-1"
    assert sent["request"].headers["SOAPAction"] == '"urn:epolicy:fund:v1/GetInsuranceStatus"'
    sent_as_requests_prepares_it(session, sent["request"])


def test_cookies_a_server_set_are_sent_back(recording: Recording) -> None:
    session = requests.Session()
    session.mount("http://", recording)
    fund = FundAdapter("http://fund.example/fund", timeout=5, session=session)
    fund.insurance_status("m-1", ENP)
    session.cookies.set("route", "node-2", domain="fund.example", path="/")  # a load balancer's sticky session
    fund.insurance_status("m-2", ENP)

    first, second = (sent["request"] for sent in recording.sent)
    assert "Cookie" not in first.headers
    assert second.headers["Cookie"] == "route=node-2"
    sent_as_requests_prepares_it(session, second)


def test_credentials_of_the_session_are_sent(recording: Recording) -> None:
    session = requests.Session()
    session.mount("http://", recording)
    session.auth = ("gateway", "secret")
    FundAdapter("http://fund.example/fund", timeout=5, session=session).insurance_status("m-1", ENP)

    (sent,) = recording.sent
    assert sent["request"].headers["Authorization"].startswith("Basic ")
    sent_as_requests_prepares_it(session, sent["request"])
