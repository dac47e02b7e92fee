"""zeep clients for the conformance suite: built from the local WSDL, every answer checked against the XSD."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from zeep import Client, Plugin, Settings
from zeep.exceptions import Fault
from zeep.helpers import serialize_object
from zeep.transports import Transport

import contracts
from adapters.signing import MessageSigning, Signing

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
COMMON_NS = "urn:epolicy:common:v1"
SERVICES = {
    "fund": ("fund/fund.wsdl", "fund/fund-all.xsd", "{urn:epolicy:fund:v1}FundBinding"),
    "insurer": ("insurer/insurer.wsdl", "insurer/insurer-v2.xsd", "{urn:epolicy:insurer:v1}InsurerBinding"),
}


def load_schema(kind: str) -> etree.XMLSchema:
    """The XSD of a service, with its imports, loaded from `contracts/`."""
    return etree.XMLSchema(etree.parse(str(contracts.path(SERVICES[kind][1]))))


@dataclass
class SchemaCheck(Plugin):  # type: ignore[misc]
    """A zeep plugin checking every answer's body (payload or fault detail) against the service's XSD."""

    schema: etree.XMLSchema
    answers: list[etree._Element] = field(default_factory=list)

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            return envelope, http_headers  # not SOAP at all: zeep itself raises a TransportError for it
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        assert body is not None, "answer without soap:Body"
        payload = body[0]
        if payload.tag == f"{{{SOAP_ENV}}}Fault":
            detail = payload.find("detail")
            assert detail is not None and len(detail) == 1, "a fault must carry BusinessFault or TechnicalFault"
            payload = detail[0]
        document = etree.ElementTree(etree.fromstring(etree.tostring(payload)))
        if not self.schema.validate(document):
            raise AssertionError(f"answer fails the XSD: {self.schema.error_log}")
        self.answers.append(payload)
        return envelope, http_headers


@dataclass
class ServiceUnderTest:
    """A zeep service proxy bound to an address, plus the plugin that saw its answers."""

    service: Any
    check: SchemaCheck
    url: str
    signing: Signing  # the suite's key, and the certificates trusted to answer from `url`

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Call an operation and return its answer as plain data."""
        result = getattr(self.service, operation)(**kwargs)
        data: dict[str, Any] = serialize_object(result, dict)
        return data


def client_for(kind: str, url: str, signing: Signing, timeout: float = 10) -> ServiceUnderTest:
    """A strict zeep client for the fund or an insurer at `url`, its WSDL read from the local file.

    It signs every request with the suite's key and believes an answer only when it is signed by a certificate
    `signing` trusts for `url` (contracts/signing/README.md): an unsigned answer fails the test that made it.
    """
    wsdl, _, binding = SERVICES[kind]
    session = requests.Session()
    transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
    check = SchemaCheck(load_schema(kind))
    client = Client(
        str(contracts.path(wsdl)),
        transport=transport,
        settings=Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True),
        plugins=[MessageSigning(signing), check],
    )
    return ServiceUnderTest(client.create_service(binding, url), check, url, signing)


@dataclass(frozen=True)
class FaultInfo:
    """What a SOAP fault said, read from its detail."""

    kind: str  # BusinessFault | TechnicalFault
    faultcode: str
    code: str
    field: str | None
    message: str
    allowed_from: str | None


def fault_info(fault: Fault) -> FaultInfo:
    """Read a zeep Fault's detail element."""
    assert fault.detail is not None, "fault without detail"
    detail = fault.detail[0]

    def child(name: str) -> str | None:
        found = detail.find(f"{{{COMMON_NS}}}{name}")
        return None if found is None else found.text

    code = child("Code")
    message = child("Message")
    assert code and message is not None
    return FaultInfo(
        kind=etree.QName(detail).localname,
        faultcode=str(fault.code),
        code=code,
        field=child("Field"),
        message=message,
        allowed_from=child("AllowedFrom"),
    )


def body_payload(path: Path) -> etree._Element:
    """The element inside soap:Body, or the detail element inside a soap:Fault."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{{{SOAP_ENV}}}Envelope", path
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    assert len(body) == 1
    payload = body[0]
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        detail = payload.find("detail")
        assert detail is not None
        return detail[0]
    return payload


def shape(elem: etree._Element) -> tuple[Any, ...]:
    """A structural view of an element: tag, text and children, without prefixes or whitespace."""
    text = (elem.text or "").strip()
    return (elem.tag, text, tuple(shape(child) for child in elem if isinstance(child.tag, str)))
