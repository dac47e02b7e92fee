"""The adapters' transport: each address worked out once (proxies, session headers), and a deadline per call."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

import contracts
from adapters.fund import FundAdapter
from adapters.insurer import InsurerDirectory
from adapters.kz import KzFundAdapter
from gateway.app import create_app
from gateway.ports import BackendUnavailable
from tests.support.auth import bearer, issue
from tests.support.fakes import FakeInsurers, FakeKzFund, FakeStore
from tests.support.loopback import Drip, loopback_backend
from tests.support.services import RunningMocks

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
    return FundAdapter(address, timeout=5, signing=None, session=session)


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
    FundAdapter("http://fund.example/fund", timeout=5, signing=None, session=session).insurance_status("m-1", ENP)

    (sent,) = recording.sent
    assert sent["request"].headers["X-Fund-Client"] == "gateway-1"
    assert sent["request"].headers["SOAPAction"] == '"urn:epolicy:fund:v1/GetInsuranceStatus"'
    sent_as_requests_prepares_it(session, sent["request"])


def test_cookies_a_server_set_are_sent_back(recording: Recording) -> None:
    session = requests.Session()
    session.mount("http://", recording)
    fund = FundAdapter("http://fund.example/fund", timeout=5, signing=None, session=session)
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
    FundAdapter("http://fund.example/fund", timeout=5, signing=None, session=session).insurance_status("m-1", ENP)

    (sent,) = recording.sent
    assert sent["request"].headers["Authorization"].startswith("Basic ")
    sent_as_requests_prepares_it(session, sent["request"])


# A whole answer dripped by a real server on loopback: every byte arrives well within the per-read timeout, so only a
# deadline for the whole call ends the wait. The answers below would take 30 s or more; the deadline is 1 s.
DEADLINE = 1.0
SLOW = Drip(ANSWER, interval=30 / len(ANSWER))  # status line, headers and body, a byte at a time
SLOW_BODY = Drip(ANSWER, interval=30 / len(ANSWER), head=False)  # the head at once, then the body
BOUND = 5.0  # far under the 30 s of the answer; not a speed target


def fund_status(address: str) -> None:
    fund = FundAdapter(f"{address}/fund", timeout=DEADLINE, signing=None)
    try:
        fund.insurance_status("m-1", ENP)
    finally:
        fund.close()


def insurer_state(address: str) -> None:
    insurers = InsurerDirectory({"77001": f"{address}/insurers/77001"}, timeout=DEADLINE, signing=None)
    try:
        port = insurers.get("77001")
        assert port is not None
        port.application_state("m-1", "m-0")
    finally:
        insurers.close()


def kz_status(address: str) -> None:
    kz_fund = KzFundAdapter(f"{address}/kz/fund", timeout=DEADLINE, signing=None)
    try:
        kz_fund.insurance_status("m-1", "791028302728")
    finally:
        kz_fund.close()


@pytest.mark.network
@pytest.mark.parametrize(
    ("drip", "calling"),
    [(SLOW, fund_status), (SLOW_BODY, fund_status), (SLOW, insurer_state), (SLOW_BODY, kz_status)],
    ids=["fund, dripped head", "fund, dripped body", "insurer", "kazakh fund"],
)
def test_an_answer_dripped_a_byte_at_a_time_fails_as_a_timeout_at_the_deadline(
    drip: Drip, calling: Callable[[str], None]
) -> None:
    with loopback_backend(drip) as server:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as failure:
            calling(server.base_url)
        waited = time.monotonic() - started

        assert failure.value.reason == "timeout"
        assert server.hung_up.wait(10), "the adapter let go of the connection before the answer was complete"
        assert not server.finished.is_set()
        assert waited < BOUND, f"the call lasted {waited:.1f} s against a deadline of {DEADLINE} s"


@pytest.mark.network
def test_an_answer_in_many_small_pieces_that_ends_within_the_deadline_is_read_whole() -> None:
    # Ten reads at least, head and body split anywhere: the deadline checks between them lose nothing.
    drip = Drip(ANSWER, interval=0.01, chunk=len(ANSWER) // 10)
    with loopback_backend(drip) as server:
        fund = FundAdapter(f"{server.base_url}/fund", timeout=30, signing=None)
        try:
            status = fund.insurance_status("m-1", ENP)
        finally:
            fund.close()

    assert status.enp == ENP
    assert server.finished.is_set()


@pytest.mark.network
def test_a_back_end_that_never_answers_fails_as_a_timeout() -> None:
    with loopback_backend() as server, pytest.raises(BackendUnavailable) as failure:
        fund_status(server.base_url)

    assert failure.value.reason == "timeout"
    assert server.calls("/fund") == 1


@pytest.mark.network
def test_a_status_read_from_a_fund_that_drips_its_answer_is_503_at_the_deadline(mocks_server: RunningMocks) -> None:
    with loopback_backend(SLOW_BODY) as server:
        config = {
            "TESTING": True,
            "WORKER_THREADS": 0,
            "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth",
            "FUND_URL": f"{server.base_url}/fund",
            "BACKEND_TIMEOUT": DEADLINE,
        }
        app = create_app(config, store=FakeStore(), insurers=FakeInsurers({}), kz_fund=FakeKzFund())
        token = issue(mocks_server, sub="clinic-demo", client_id="clinic-demo", scope="epolicy.eligibility")
        started = time.monotonic()
        answer = app.test_client().get(f"/api/v1/policies/{ENP}", headers=bearer(token))
        waited = time.monotonic() - started

        assert answer.status_code == 503
        assert answer.mimetype == "application/problem+json"
        assert [error["code"] for error in answer.get_json()["errors"]] == ["TECHNICAL_ERROR"]
        assert server.calls("/fund") == 1
        assert not server.finished.is_set()
        assert waited < BOUND, f"the read lasted {waited:.1f} s against a deadline of {DEADLINE} s"
