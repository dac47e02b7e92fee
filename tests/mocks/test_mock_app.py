"""The mocks as QA uses them over HTTP: WSDLs served, operations answered, faults injected, attacks refused."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault, TransportError

import contracts
from mocks.signing import SigningKey
from tests.mocks.conftest import sign_request, signed_client
from tests.support.people import message_id, person
from tests.support.services import RunningMocks
from tests.support.soap import COMMON_NS, SERVICES, SOAP_ENV, ServiceUnderTest, fault_info

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

SAMPLES = contracts.path("samples")


@pytest.fixture(scope="module")
def mocks(signed_mocks: tuple[RunningMocks, SigningKey]) -> RunningMocks:
    """A mocks server of this module's own, so injected faults never reach other tests."""
    return signed_mocks[0]


@pytest.fixture(scope="module")
def key(signed_mocks: tuple[RunningMocks, SigningKey]) -> SigningKey:
    """The client key that server trusts."""
    return signed_mocks[1]


def inject(mocks: RunningMocks, **rule: Any) -> dict[str, Any]:
    answer = requests.post(f"{mocks.base_url}/mock/faults", json=rule, timeout=5)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def list_insurers(fund: ServiceUnderTest) -> dict[str, Any]:
    return fund.call("ListInsurers", MessageId=message_id("list"), RegionCode="77")


def post_xml(url: str, body: bytes, key: SigningKey | None = None) -> requests.Response:
    data = sign_request(body, key) if key else body
    return requests.post(url, data=data, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10)


def answer_payload(response: requests.Response) -> etree._Element:
    root = etree.fromstring(response.content)
    return root.find(f"{{{SOAP_ENV}}}Body")[0]


def fault_code(response: requests.Response) -> str | None:
    payload = answer_payload(response)
    return payload.findtext(f"detail/{{{COMMON_NS}}}BusinessFault/{{{COMMON_NS}}}Code")


# --- WSDLs and operations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "path"), [("fund", "/fund"), ("insurer", "/insurers/77002")])
def test_each_service_serves_a_wsdl_pointing_at_itself_that_zeep_loads_over_http(
    mocks: RunningMocks, kind: str, path: str
) -> None:
    url = mocks.base_url + path
    served = etree.fromstring(requests.get(url, params={"wsdl": ""}, timeout=5).content)
    address = served.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None
    assert address.get("location") == url
    client = Client(f"{url}?wsdl")
    local = Client(str(contracts.path(SERVICES[kind][0])))
    binding = SERVICES[kind][2]
    assert sorted(client.wsdl.bindings[binding]._operations) == sorted(local.wsdl.bindings[binding]._operations)


@pytest.mark.parametrize(("kind", "path"), [("fund", "/fund"), ("insurer", "/insurers/77001")])
def test_every_wsdl_operation_is_served(mocks: RunningMocks, kind: str, path: str, key: SigningKey) -> None:
    client = Client(str(contracts.path(SERVICES[kind][0])))
    for operation in client.wsdl.bindings[SERVICES[kind][2]]._operations:
        body = (SAMPLES / kind / f"{operation}.request.xml").read_bytes()
        response = post_xml(mocks.base_url + path, body, key)
        payload = answer_payload(response)
        if response.status_code == 200:
            assert etree.QName(payload).localname == f"{operation}Response"
        else:
            # A business refusal still shows the operation is served; a schema refusal of a valid sample does not.
            assert fault_code(response) not in (None, "SCHEMA_VIOLATION"), response.text


def test_an_unknown_insurer_code_is_not_found(mocks: RunningMocks) -> None:
    assert requests.get(f"{mocks.base_url}/insurers/99999?wsdl", timeout=5).status_code == 404


def test_a_soap_call_with_a_non_xml_content_type_is_refused(mocks: RunningMocks) -> None:
    answer = requests.post(f"{mocks.base_url}/fund", json={"x": 1}, timeout=5)
    assert answer.status_code == 415


# --- XML attacks ----------------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request, to prove the mocks fetch nothing."""
    seen: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY x "fetched">')

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def envelope_with(prolog: str, snils: str) -> bytes:
    return f"""<?xml version="1.0"?>{prolog}
<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:f="urn:epolicy:fund:v1">
  <soap:Body><f:FindPersonRequest><f:MessageId>xxe-1</f:MessageId><f:Snils>{snils}</f:Snils></f:FindPersonRequest></soap:Body>
</soap:Envelope>""".encode()


def test_xml_attacks_get_a_fault_and_are_never_expanded_or_fetched(
    mocks: RunningMocks, listener: tuple[str, list[str]]
) -> None:
    address, seen = listener
    attacks = {
        "external entity (file)": envelope_with('<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
        "external entity (http)": envelope_with(f'<!DOCTYPE e [<!ENTITY x SYSTEM "{address}/entity">]>', "&x;"),
        "external DTD": envelope_with(f'<!DOCTYPE e SYSTEM "{address}/evil.dtd">', "11223344595"),
        "parameter entity": envelope_with(
            f'<!DOCTYPE e [<!ENTITY % p SYSTEM "{address}/param.dtd"> %p;]>', "11223344595"
        ),
        "billion laughs": envelope_with(
            "<!DOCTYPE e ["
            + '<!ENTITY l0 "lol">'
            + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
            + "]>",
            "&l9;",
        ),
    }
    for name, body in attacks.items():
        started = time.monotonic()
        response = post_xml(f"{mocks.base_url}/fund", body)
        assert time.monotonic() - started < 2, name
        assert response.status_code == 500, name
        assert fault_code(response) == "SCHEMA_VIOLATION", name
        assert b"root:" not in response.content, name
        assert b"lollol" not in response.content, name
    assert seen == [], "the mock fetched something it was told to"


def test_a_request_that_breaks_the_schema_gets_a_fault_naming_the_error(mocks: RunningMocks, key: SigningKey) -> None:
    body = (SAMPLES / "fund" / "SchemaViolation.request.xml").read_bytes()
    response = post_xml(f"{mocks.base_url}/fund", body, key)
    assert response.status_code == 500
    assert fault_code(response) == "SCHEMA_VIOLATION"
    message = answer_payload(response).findtext(f"detail/{{{COMMON_NS}}}BusinessFault/{{{COMMON_NS}}}Message")
    assert message is not None
    assert "Enp" in message
    field = answer_payload(response).findtext(f"detail/{{{COMMON_NS}}}BusinessFault/{{{COMMON_NS}}}Field")
    assert field == "Enp"


# --- fault injection ------------------------------------------------------------------------------------


def test_http_500_is_injected_for_the_chosen_operation_only(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url)
    inject(mocks, target="fund", operation="ListInsurers", fault="http_500", count=1)
    fund.call("FindPerson", MessageId=message_id("find"), Snils="11223344595")
    body = (SAMPLES / "fund" / "ListInsurers.request.xml").read_bytes()
    answer = post_xml(mocks.fund_url, body, key)
    assert answer.status_code == 500
    assert answer.headers["Content-Type"].startswith("text/html"), "as a proxy in front of a service answers"
    assert list_insurers(fund)["Insurer"], "count 1 means the next call succeeds"


def test_a_technical_fault_is_a_soap_server_fault_with_a_retry_hint(mocks: RunningMocks, key: SigningKey) -> None:
    insurer = signed_client(key, "insurer", mocks.insurer_url("77001"))
    inject(mocks, target="insurers/77001", operation="*", fault="technical_fault", count=1)
    with pytest.raises(Fault) as caught:
        insurer.call("GetApplicationState", MessageId=message_id("s"), ApplicationMessageId="nothing")
    info = fault_info(caught.value)
    assert (info.kind, info.code) == ("TechnicalFault", "SERVICE_UNAVAILABLE")
    assert info.faultcode.endswith("Server")


def test_malformed_xml_is_answered_as_injected(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url)
    inject(mocks, target="fund", operation="ListInsurers", fault="malformed_xml", count=1)
    with pytest.raises(TransportError, match="invalid XML"):
        list_insurers(fund)


def test_a_timeout_carries_out_the_operation_but_answers_too_late(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url, timeout=0.5)
    inject(mocks, target="fund", operation="RegisterPolicy", fault="timeout", count=1, delay_ms=1500)
    mid = message_id("timeout")
    request = {
        "MessageId": mid,
        "ApplicationDate": time.strftime("%Y-%m-%d"),
        "ApplicationType": "insurer_choice",
        "Reason": "first_choice",
        "Person": person(),
        "InsurerCode": "77001",
        "RegionCode": "77",
        "PolicyForm": "electronic",
    }
    with pytest.raises(requests.exceptions.Timeout):
        fund.call("RegisterPolicy", **request)
    registered = f"{mocks.base_url}/mock/registrations/{mid}"
    assert requests.get(registered, timeout=5).json()["count"] == 1
    retried = signed_client(key, "fund", mocks.fund_url).call("RegisterPolicy", **request)
    assert retried["Enp"]
    assert requests.get(registered, timeout=5).json()["count"] == 1, "a retry must not register twice"


def test_a_dropped_connection_gets_no_answer(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url)
    inject(mocks, target="fund", operation="*", fault="drop", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        list_insurers(fund)
    assert list_insurers(fund)["Insurer"]


def test_a_slow_answer_comes_after_the_delay(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url)
    inject(mocks, target="fund", operation="ListInsurers", fault="slow", count=1, delay_ms=400)
    started = time.monotonic()
    assert list_insurers(fund)["Insurer"]
    assert time.monotonic() - started >= 0.4


def test_a_fault_without_count_lasts_until_reset_and_is_listed(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url)
    rule = inject(mocks, target="fund", operation="ListInsurers", fault="http_500", count=None)
    for _ in range(3):
        with pytest.raises((TransportError, Fault)):
            list_insurers(fund)
    listed = requests.get(f"{mocks.base_url}/mock/faults", timeout=5).json()["faults"]
    assert [entry["id"] for entry in listed] == [rule["id"]]
    assert listed[0]["count"] is None
    assert requests.delete(f"{mocks.base_url}/mock/faults", timeout=5).status_code == 204
    assert list_insurers(fund)["Insurer"]


def test_a_counted_fault_shows_its_remaining_calls(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url)
    inject(mocks, target="fund", operation="ListInsurers", fault="http_500", count=2)
    with pytest.raises((TransportError, Fault)):
        list_insurers(fund)
    listed = requests.get(f"{mocks.base_url}/mock/faults", timeout=5).json()["faults"]
    assert listed[0]["count"] == 1
    with pytest.raises((TransportError, Fault)):
        list_insurers(fund)
    assert requests.get(f"{mocks.base_url}/mock/faults", timeout=5).json()["faults"] == []


@pytest.mark.parametrize(
    ("rule", "mentions"),
    [
        ({"target": "insurers/99999", "fault": "http_500"}, "target"),
        ({"target": "fund", "operation": "IssuePolicy", "fault": "http_500"}, "operation"),
        ({"target": "fund", "fault": "explode"}, "fault"),
        ({"target": "fund", "fault": "http_500", "count": 0}, "count"),
        ({"target": "fund", "fault": "http_500", "delay_ms": -1}, "delay_ms"),
        ({"target": "fund", "fault": "http_500", "colour": "red"}, "colour"),
    ],
)
def test_a_fault_request_that_cannot_be_taken_is_refused_with_the_reason(
    mocks: RunningMocks, rule: dict[str, Any], mentions: str
) -> None:
    answer = requests.post(f"{mocks.base_url}/mock/faults", json=rule, timeout=5)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert mentions in answer.json()["detail"]


def test_stats_count_calls_and_real_registrations(mocks: RunningMocks, key: SigningKey) -> None:
    fund = signed_client(key, "fund", mocks.fund_url)
    before = requests.get(f"{mocks.base_url}/mock/stats", timeout=5).json()
    list_insurers(fund)
    after = requests.get(f"{mocks.base_url}/mock/stats", timeout=5).json()
    assert after["calls"]["fund"]["ListInsurers"] == before["calls"].get("fund", {}).get("ListInsurers", 0) + 1
    assert set(after["issues"]) >= {"77001", "77002", "50001"}
