"""Send a request element to a mock SOAP service in an envelope, and read its answer or its business fault."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from lxml import etree

from mocks.soap import SoapService

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
COMMON = "urn:epolicy:common:v1"


@dataclass
class Answer:
    """A response element, or the detail of a business fault."""

    ok: bool
    element: etree._Element

    def get(self, path: str) -> str | None:
        """Text at a path of local names."""
        found = self.element.find("/".join("{*}" + step for step in path.split("/")))
        return None if found is None else found.text

    def all(self, path: str) -> list[str | None]:
        """Texts at a path of local names."""
        return [node.text for node in self.element.iterfind("/".join("{*}" + s for s in path.split("/")))]

    @property
    def refusal(self) -> tuple[str | None, str | None]:
        """The fault's code and field."""
        assert not self.ok, f"expected a refusal, got {etree.tostring(self.element, encoding='unicode')}"
        return self.get("Code"), self.get("Field")


def send(
    service: SoapService, request: etree._Element, schema: etree.XMLSchema, catalogue: Collection[str] = ()
) -> Answer:
    """Send one request; a technical fault or an answer outside the schema fails the test."""
    envelope = etree.Element(f"{{{SOAP}}}Envelope")
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(request)
    response = service.handle(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))
    body = etree.fromstring(response.body).find(f"{{{SOAP}}}Body")
    assert body is not None
    payload = body[0]
    if payload.tag == f"{{{SOAP}}}Fault":
        detail = payload.find("detail")
        assert detail is not None
        fault = detail[0]
        assert etree.QName(fault).localname == "BusinessFault", etree.tostring(fault, encoding="unicode")
        assert response.status == 500
        schema.assertValid(etree.ElementTree(fault))
        if catalogue:
            assert fault.findtext(f"{{{COMMON}}}Code") in catalogue
        return Answer(False, fault)
    assert response.status == 200
    schema.assertValid(etree.ElementTree(payload))
    return Answer(True, payload)
