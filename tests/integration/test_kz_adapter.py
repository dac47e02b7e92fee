"""KzFundAdapter against the mock Kazakh fund over a real socket, and recorded envelopes on the wire of zeep."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest
import responses
from lxml import etree

import contracts
from adapters.kz import KzFundAdapter
from adapters.plugins import masked_xml
from gateway.correlation import correlation_id, set_correlation_id
from gateway.domain.model import Source
from gateway.kz.domain import InsurancePeriod, PackageCode
from gateway.ports import BackendRefusal, BackendUnavailable, NotFound
from mocks.calendar import almaty_today
from tests.support.applicants import message_id
from tests.support.services import RunningMocks, inject
from tests.support.signing import kz_signing

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

# Seed persons of mocks/data/kz.yaml.
EMPLOYEE = "791028302728"
UNPAID = "850314401236"
UNKNOWN = "900517300019"
WIRE_URL = "http://kz-fund.test/ws"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
STATUS = contracts.path("samples", "kz", "GetInsuranceStatus.response.xml").read_bytes()
SAMPLE_IIN = "850314401236"


@pytest.fixture(scope="module")
def kz_fund(mocks_server: RunningMocks) -> Iterator[KzFundAdapter]:
    adapter = KzFundAdapter(f"{mocks_server.base_url}/kz/fund", timeout=5, signing=kz_signing(mocks_server.base_url))
    yield adapter
    adapter.close()


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def on_wire() -> Iterator[KzFundAdapter]:
    adapter = KzFundAdapter(WIRE_URL, timeout=5, signing=None)
    yield adapter
    adapter.close()


# --- against the mock ----------------------------------------------------------------------------------------


def test_an_insured_person_is_read_with_gobmp_and_osms_and_an_open_period(kz_fund: KzFundAdapter) -> None:
    status = kz_fund.insurance_status(message_id("kz"), EMPLOYEE)

    assert (status.iin, status.insured, status.package) == (EMPLOYEE, True, PackageCode.GOBMP_OSMS)
    assert status.period == InsurancePeriod(date(2020, 1, 1), None)
    assert status.on == almaty_today()  # the Kazakh registry works in Almaty days


def test_a_person_with_unpaid_contributions_is_read_as_not_insured_with_gobmp(kz_fund: KzFundAdapter) -> None:
    status = kz_fund.insurance_status(message_id("kz"), UNPAID)

    assert (status.insured, status.package, status.period) == (False, PackageCode.GOBMP, None)


def test_an_iin_unknown_to_the_fund_is_not_found(kz_fund: KzFundAdapter) -> None:
    with pytest.raises(NotFound):
        kz_fund.insurance_status(message_id("kz"), UNKNOWN)


def test_a_wrong_check_digit_is_the_funds_refusal_on_the_iin(kz_fund: KzFundAdapter) -> None:
    with pytest.raises(BackendRefusal) as refused:
        kz_fund.insurance_status(message_id("kz"), "900517300010")

    assert (refused.value.source, refused.value.code, refused.value.field) == (Source.FUND, "IIN_CHECKSUM", "iin")


def test_an_iin_the_schema_forbids_is_a_schema_violation_refusal(kz_fund: KzFundAdapter) -> None:
    with pytest.raises(BackendRefusal) as refused:
        kz_fund.insurance_status(message_id("kz"), "90051730001")

    assert refused.value.code == "SCHEMA_VIOLATION"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("technical_fault", "technical fault SERVICE_UNAVAILABLE"),
        ("http_500", "fault without a contract detail"),
        ("malformed_xml", "unreadable answer"),
        ("drop", "connection failed"),
    ],
)
def test_a_back_end_failure_is_an_outage_never_a_refusal(faulty: RunningMocks, fault: str, reason: str) -> None:
    inject(faulty, target="kz/fund", operation="GetInsuranceStatus", fault=fault, count=1)
    adapter = KzFundAdapter(f"{faulty.base_url}/kz/fund", timeout=5, signing=kz_signing(faulty.base_url))

    with pytest.raises(BackendUnavailable) as failed:
        adapter.insurance_status(message_id("kz"), EMPLOYEE)

    assert (failed.value.source, failed.value.operation) == (Source.FUND, "GetInsuranceStatus")
    assert reason in failed.value.reason
    assert adapter.insurance_status(message_id("kz"), EMPLOYEE).insured, "the next call goes through"
    adapter.close()


def test_a_technical_fault_says_when_to_retry(faulty: RunningMocks) -> None:
    inject(faulty, target="kz/fund", operation="*", fault="technical_fault", count=1)
    adapter = KzFundAdapter(f"{faulty.base_url}/kz/fund", timeout=5, signing=kz_signing(faulty.base_url))

    with pytest.raises(BackendUnavailable) as failed:
        adapter.insurance_status(message_id("kz"), EMPLOYEE)

    assert failed.value.retry_after == 5.0
    adapter.close()


def test_an_answer_later_than_the_timeout_is_an_outage(faulty: RunningMocks) -> None:
    inject(faulty, target="kz/fund", operation="*", fault="timeout", count=1, delay_ms=1000)
    adapter = KzFundAdapter(f"{faulty.base_url}/kz/fund", timeout=0.2, signing=kz_signing(faulty.base_url))

    with pytest.raises(BackendUnavailable) as failed:
        adapter.insurance_status(message_id("kz"), EMPLOYEE)

    assert failed.value.reason == "timeout"
    adapter.close()


def test_the_log_masks_the_iin_of_requests_and_answers(
    mocks_server: RunningMocks, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = KzFundAdapter(f"{mocks_server.base_url}/kz/fund", timeout=5, signing=kz_signing(mocks_server.base_url))
    caplog.set_level(logging.DEBUG)  # every logger, zeep's and urllib3's included

    adapter.insurance_status(message_id("kz"), EMPLOYEE)
    adapter.close()

    assert "SOAP GetInsuranceStatus request" in caplog.text
    assert "SOAP GetInsuranceStatus answer" in caplog.text
    assert EMPLOYEE not in caplog.text
    assert "**********28" in caplog.text


def test_masking_leaves_the_envelope_itself_untouched() -> None:
    envelope = etree.fromstring(STATUS)

    masked = masked_xml(envelope)

    assert SAMPLE_IIN not in masked
    assert SAMPLE_IIN.encode() in etree.tostring(envelope)


# --- recorded envelopes on the wire --------------------------------------------------------------------------


def answer(wire: responses.RequestsMock, body: bytes, status: int = 200) -> None:
    wire.add(responses.POST, WIRE_URL, body=body, status=status, content_type="text/xml; charset=utf-8")


def test_the_request_is_sent_as_its_sample_with_correlation_headers(
    wire: responses.RequestsMock, on_wire: KzFundAdapter
) -> None:
    answer(wire, STATUS)
    token = set_correlation_id("corr-kz-1")
    try:
        on_wire.insurance_status("kz-status-0001", SAMPLE_IIN)
    finally:
        correlation_id.reset(token)

    sent = wire.calls[0].request
    assert sent.headers["X-Correlation-ID"] == "corr-kz-1"
    assert sent.headers["X-Message-ID"] == "kz-status-0001"
    body = etree.fromstring(sent.body).find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    request = body[0]
    assert etree.QName(request).localname == "GetInsuranceStatusRequest"
    assert [etree.QName(child).localname for child in request] == ["MessageId", "Iin"]


def test_the_response_sample_is_read_with_its_closed_period(
    wire: responses.RequestsMock, on_wire: KzFundAdapter
) -> None:
    answer(wire, STATUS)

    status = on_wire.insurance_status("kz-status-0001", SAMPLE_IIN)

    assert status.on == date(2023, 1, 15)
    assert status.period == InsurancePeriod(date(2020, 1, 1), date(2023, 6, 30))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(STATUS.replace(b"<k:Package>gobmp_osms", b"<k:Package>gobmp"), id="package not of the insured"),
        pytest.param(STATUS.replace(b"<k:Insured>true", b"<k:Insured>false"), id="period of someone not insured"),
        pytest.param(STATUS.replace(b"<k:Package>gobmp_osms", b"<k:Package>osms"), id="unknown package"),
        pytest.param(STATUS.replace(b"<k:Iin>850314401236", b"<k:Iin>791028302728"), id="another person's answer"),
        pytest.param(STATUS.replace(b"2023-01-15", b"15.01.2023"), id="unreadable date"),
        pytest.param(STATUS.replace(b"GetInsuranceStatusResponse", b"GetStatusResponse"), id="wrong answer"),
        pytest.param(STATUS[: len(STATUS) // 2], id="truncated"),
    ],
)
def test_an_answer_that_breaks_the_contract_is_an_outage_never_a_refusal(
    wire: responses.RequestsMock, on_wire: KzFundAdapter, body: bytes
) -> None:
    answer(wire, body)

    with pytest.raises(BackendUnavailable) as failed:
        on_wire.insurance_status("kz-status-0001", SAMPLE_IIN)

    assert failed.value.operation == "GetInsuranceStatus"


def test_a_hostile_answer_with_a_doctype_is_an_outage(wire: responses.RequestsMock, on_wire: KzFundAdapter) -> None:
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + STATUS.split(b"?>", 1)[1]
    answer(wire, hostile)

    with pytest.raises(BackendUnavailable):
        on_wire.insurance_status("kz-status-0001", SAMPLE_IIN)
