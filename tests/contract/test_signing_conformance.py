"""Conformance of a service to the signing profile (contracts/signing/README.md): it signs every answer, and it
refuses a request that is unsigned, signed by a key it does not trust, changed after signing, or stale.

Run against another implementation with its certificate: `pytest tests/contract -m conformance --fund-url URL
--fund-certificate fund.pem --suite-key suite.key --suite-certificate suite.pem` (the service trusting suite.pem).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from lxml import etree

import contracts
from adapters.signing import (
    MESSAGE_EXPIRED,
    SECURITY_MISSING,
    SIGNATURE_INVALID,
    SIGNER_UNTRUSTED,
    WSA,
    WSSE,
    Identity,
    Seal,
    check,
    fingerprint,
    sign,
)
from tests.support.conformance import InsurerUnderTest
from tests.support.people import message_id
from tests.support.signing import STRANGER, identity
from tests.support.soap import COMMON_NS, SOAP_ENV, ServiceUnderTest

# The tests talk to the service under test (the mocks over HTTP by default).
pytestmark = [pytest.mark.conformance, pytest.mark.network]


@dataclass(frozen=True)
class Target:
    """A service under test and a read its contract has, to send signed and unsigned."""

    service: ServiceUnderTest
    sample: str  # contracts/samples/<sample>.request.xml

    def request(self) -> etree._Element:
        """The sample request with a MessageId of its own."""
        root = etree.fromstring(contracts.path("samples", f"{self.sample}.request.xml").read_bytes())
        found = root.find(f"{{{SOAP_ENV}}}Body/*/{{*}}MessageId")
        assert found is not None
        found.text = message_id("sig")
        return root


@pytest.fixture(params=["fund", "insurer"])
def target(request: pytest.FixtureRequest, fund: ServiceUnderTest, insurers: list[InsurerUnderTest]) -> Target:
    if request.param == "fund":
        return Target(fund, "fund/GetInsuranceStatus")
    return Target(insurers[0].soap, "insurer/GetApplicationState")


def post(target: Target, envelope: etree._Element) -> requests.Response:
    return requests.post(
        target.service.url,
        data=etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        timeout=10,
    )


def believed(target: Target, answer: requests.Response, relates_to: str | None) -> Seal:
    """The answer's seal, checked against the certificates trusted for the service: it fails the test if not."""
    trust = target.service.signing.trust[target.service.url]
    return check(etree.fromstring(answer.content), trust, relates_to=relates_to)


def signed(target: Target, signer: Identity, **options: datetime) -> tuple[etree._Element, str]:
    envelope = target.request()
    return envelope, sign(envelope, signer, **options).message_id


def test_a_signed_request_is_answered_signed_by_the_services_certificate_for_that_request(target: Target) -> None:
    envelope, sent = signed(target, target.service.signing.identity)

    answer = post(target, envelope)

    seal = believed(target, answer, relates_to=sent)
    trusted = target.service.signing.trust[target.service.url].certificates
    assert seal.fingerprint in {fingerprint(certificate) for certificate in trusted}
    assert seal.relates_to == sent and seal.message_id != sent


def refused(target: Target, envelope: etree._Element, sent: str | None) -> str:
    """The code of the security refusal a request got; the refusal itself signed, and believed."""
    answer = post(target, envelope)
    assert answer.status_code == 500, answer.text
    root = etree.fromstring(answer.content)
    # A refusal relates to the request when it could tell the request's id, as any answer does.
    relates = root.find(f"{{{SOAP_ENV}}}Header/{{{WSA}}}RelatesTo") is not None
    believed(target, answer, relates_to=sent if relates else None)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    prefix, _, _ = (fault.findtext("faultcode") or "").strip().partition(":")
    assert fault.nsmap.get(prefix) == WSSE, "a security refusal's faultcode is one of WS-Security's"
    code = fault.findtext(f"detail/{{{COMMON_NS}}}TechnicalFault/{{{COMMON_NS}}}Code")
    assert code is not None, etree.tostring(fault)
    return code


def test_an_unsigned_request_is_refused_as_missing_its_security(target: Target) -> None:
    assert refused(target, target.request(), None) == SECURITY_MISSING


def test_a_request_signed_by_a_key_the_service_does_not_trust_is_refused(target: Target) -> None:
    envelope, sent = signed(target, identity(STRANGER))
    assert refused(target, envelope, sent) == SIGNER_UNTRUSTED


Tamper = Callable[[etree._Element], None]


def changed_body(envelope: etree._Element) -> None:
    found = envelope.find(f"{{{SOAP_ENV}}}Body/*/{{*}}MessageId")
    assert found is not None
    found.text = message_id("forged")


def wrapped_body(envelope: etree._Element) -> None:
    body, header = envelope.find(f"{{{SOAP_ENV}}}Body"), envelope.find(f"{{{SOAP_ENV}}}Header")
    assert body is not None and header is not None
    forged = etree.fromstring(etree.tostring(body))
    changed_body_of = forged.find("*/{*}MessageId")
    assert changed_body_of is not None
    changed_body_of.text = message_id("forged")
    etree.SubElement(header, "{urn:conformance}Wrapper").append(body)
    envelope.append(forged)


@pytest.mark.parametrize("tamper", [changed_body, wrapped_body], ids=["changed body", "wrapped body"])
def test_a_request_changed_after_it_was_signed_is_refused(target: Target, tamper: Tamper) -> None:
    envelope, sent = signed(target, target.service.signing.identity)
    tamper(envelope)
    assert refused(target, envelope, sent) == SIGNATURE_INVALID


def test_a_stale_request_is_refused_as_expired(target: Target) -> None:
    envelope, sent = signed(target, target.service.signing.identity, now=datetime.now(UTC) - timedelta(hours=1))
    assert refused(target, envelope, sent) == MESSAGE_EXPIRED
