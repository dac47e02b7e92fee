"""The mock fund's SOAP endpoint: osms.wsdl's one operation over the registry."""

from __future__ import annotations

from lxml import etree

import contracts
from mocks.kz.registry import KzRegistry, Status
from mocks.soap import Builder, Element, SoapService, date_at, required_text

NS = "urn:epolicy:kz:osms:v1"
b = Builder(NS)


def create_kz_service(registry: KzRegistry) -> SoapService:
    """The SOAP service of the mock ФСМС over a registry."""
    return SoapService(
        "kz fund",
        contracts.path("kz", "osms.wsdl"),
        contracts.path("kz", "osms.xsd"),
        {"GetInsuranceStatus": lambda request: get_insurance_status(registry, request)},
    )


def get_insurance_status(registry: KzRegistry, request: Element) -> Element:
    """GetInsuranceStatus: insured or not on a day, and the package that applies."""
    message_id = required_text(request, "MessageId")
    status = registry.status(required_text(request, "Iin"), date_at(request, "OnDate"))
    return status_xml(message_id, status)


def status_xml(message_id: str, status: Status) -> Element:
    """A GetInsuranceStatusResponse element."""
    # The prefix the samples use; Builder's children take it over when appended.
    response = etree.Element(f"{{{NS}}}GetInsuranceStatusResponse", nsmap={"k": NS})
    period = None
    if status.period is not None:
        end = status.period.end
        period = b("Period", b("From", status.period.start), None if end is None else b("To", end))
    for child in (
        b("MessageId", message_id),
        b("Iin", status.iin),
        b("OnDate", status.on),
        b("Insured", status.insured),
        b("Package", status.package),
        period,
    ):
        if child is not None:
            response.append(child)
    return response
