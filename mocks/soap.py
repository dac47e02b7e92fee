"""A small SOAP 1.1 document/literal server on lxml: parse safely, validate both ways, dispatch, fault.

No SOAP framework: the mocks are a second implementation of `contracts/`, so they read the XSDs themselves and
refuse what does not match them, the way a strict registry does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
COMMON_NS = "urn:epolicy:common:v1"
PREFIXES = {
    "c": COMMON_NS,
    "f": "urn:epolicy:fund:v1",
    "f2": "urn:epolicy:fund:v2",
    "i": "urn:epolicy:insurer:v1",
    "i2": "urn:epolicy:insurer:v2",
}
MAX_REQUEST_BYTES = 1_000_000

log = logging.getLogger(__name__)

Element = etree._Element
Handler = Callable[[Element], Element]


class BusinessFault(Exception):
    """The request is understood and refused: answered as soap:Client with a catalogue reason code."""

    def __init__(self, code: str, message: str, field: str | None = None, allowed_from: date | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.allowed_from = allowed_from


class TechnicalFault(Exception):
    """The service cannot answer now; the same request may be retried (soap:Server)."""

    def __init__(self, code: str, message: str, retry_after: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after


def safe_parser(*, keep_blank_text: bool = False) -> etree.XMLParser:
    """Return a parser with entities, DTDs and network access off (a new one: parsers are not shared).

    `keep_blank_text`: keep the whitespace between elements, as a signature's digests were computed over it.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=not keep_blank_text,
    )


def parse_xml(data: bytes, *, keep_blank_text: bool = False) -> Element:
    """Parse untrusted XML; anything with a DOCTYPE or an entity is refused before it is looked at."""
    if len(data) > MAX_REQUEST_BYTES:
        raise BusinessFault("SCHEMA_VIOLATION", f"Сообщение больше {MAX_REQUEST_BYTES} байт.")
    try:
        root = etree.fromstring(data, parser=safe_parser(keep_blank_text=keep_blank_text))
    except etree.XMLSyntaxError as exc:
        raise BusinessFault("SCHEMA_VIOLATION", f"Сообщение не является корректным XML: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    # lxml-stubs 0.5 lacks DocInfo.doctype and the iteration of _ErrorLog; both exist in lxml.
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:  # type: ignore[union-attr]
        raise BusinessFault("SCHEMA_VIOLATION", "Объявления DOCTYPE и сущностей в сообщениях запрещены.")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise BusinessFault("SCHEMA_VIOLATION", "Ссылки на сущности в сообщениях запрещены.")
    return root


def load_schema(xsd: Path) -> etree.XMLSchema:
    """Load an XSD with its local imports (files only, no network)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(xsd), parser=parser))


# --- reading requests --------------------------------------------------------------------------------------


def _path(path: str) -> str:
    # Local elements of types declared in common.xsd are in the common namespace, the rest in the service's:
    # the schema has already checked which, so lookups match any namespace.
    return "/".join("{*}" + step for step in path.split("/"))


def find(elem: Element, path: str) -> Element | None:
    """Return the child element at a slash-separated path of local names, or None."""
    return elem.find(_path(path))


def find_all(elem: Element, path: str) -> list[Element]:
    """Return every element at a slash-separated path of local names."""
    return list(elem.iterfind(_path(path)))


def text(elem: Element, path: str) -> str | None:
    """Return the stripped text at a path, or None when the element is absent."""
    found = elem.find(_path(path))
    if found is None:
        return None
    return (found.text or "").strip()


def required_text(elem: Element, path: str) -> str:
    """Return the text at a path that the schema makes mandatory."""
    value = text(elem, path)
    if value is None:
        raise BusinessFault("FIELD_REQUIRED", f"Не заполнен элемент {path}.", field=path)
    return value


def date_at(elem: Element, path: str) -> date | None:
    """Return the xs:date at a path (the schema has checked its lexical form), or None."""
    value = text(elem, path)
    # xs:date may carry a time zone suffix; the registry works in calendar dates.
    return date.fromisoformat(value[:10]) if value else None


# --- building responses --------------------------------------------------------------------------------------


class Builder:
    """Build elements in one namespace: `b("Policy", b.c("Enp", "..."))`."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def __call__(self, tag: str, *children: Element | str | date | datetime | bool | int | None) -> Element:
        return build(self.namespace, tag, *children)

    def c(self, tag: str, *children: Element | str | date | datetime | bool | int | None) -> Element:
        """An element in the common namespace."""
        return build(COMMON_NS, tag, *children)


def build(namespace: str, tag: str, *children: Element | str | date | datetime | bool | int | None) -> Element:
    """Return an element whose children are elements, text values, or None (left out)."""
    elem = etree.Element(f"{{{namespace}}}{tag}")
    for child in children:
        if child is None:
            continue
        if isinstance(child, etree._Element):
            elem.append(child)
        else:
            elem.text = format_value(child)
    return elem


def format_value(value: str | date | datetime | bool | int) -> str:
    """Render a value in its XSD lexical form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def optional(namespace: str, tag: str, value: str | date | bool | int | None) -> Element | None:
    """An element when the value is present, else None (so `build` leaves it out)."""
    return None if value is None else build(namespace, tag, value)


# --- the service ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoapResponse:
    """What goes back on the wire."""

    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """An answer not yet on the wire: its HTTP status and its envelope, to be signed before it is serialized."""

    status: int
    envelope: Element

    def serialized(self) -> SoapResponse:
        """The reply as it goes back on the wire, as it is."""
        return SoapResponse(self.status, serialize(self.envelope))


class SoapService:
    """One SOAP endpoint: a WSDL, its schema and a handler per operation, keyed by operation name."""

    def __init__(self, name: str, wsdl: Path, xsd: Path, handlers: Mapping[str, Handler]):
        self.name = name
        self.wsdl = wsdl
        self.schema = load_schema(xsd)
        self.handlers = dict(handlers)
        self._schema_lock = threading.Lock()  # libxml2 schema validation contexts are not shared across threads

    @property
    def operations(self) -> list[str]:
        """Names of the operations this endpoint serves."""
        return sorted(self.handlers)

    def operation_of(self, body: bytes) -> str | None:
        """Name of the operation a request body asks for, if it can be told (for fault injection)."""
        try:
            request = self._request_element(parse_xml(body))
        except BusinessFault:
            return None
        return _operation_name(request)

    def handle(self, body: bytes) -> SoapResponse:
        """Answer one SOAP request: a response envelope, or a fault envelope with HTTP 500 (unsigned)."""
        return self.reply(body).serialized()

    def reply(self, body: bytes) -> Reply:
        """Carry out one SOAP request (its signature already checked) and build its answer or its fault."""
        message_id: str | None = None
        try:
            request = self._request_element(parse_xml(body))
            message_id = text(request, "MessageId")
            operation = _operation_name(request)
            handler = self.handlers.get(operation)
            if handler is None:
                raise BusinessFault("SCHEMA_VIOLATION", f"Операция {operation} не описана в контракте {self.name}.")
            self._validate(request)
            response = handler(request)
            self._check_response(response)
            return Reply(200, envelope_element(response))
        except BusinessFault as fault:
            return Reply(500, business_fault_element(fault, message_id))
        except TechnicalFault as fault:
            return Reply(500, technical_fault_element(fault, message_id))

    def _request_element(self, root: Element) -> Element:
        if root.tag != f"{{{SOAP_ENV}}}Envelope":
            raise BusinessFault("SCHEMA_VIOLATION", "Ожидался конверт SOAP 1.1 (soap:Envelope).")
        body = root.find(f"{{{SOAP_ENV}}}Body")
        if body is None:
            raise BusinessFault("SCHEMA_VIOLATION", "В конверте нет soap:Body.")
        children = [child for child in body if isinstance(child.tag, str)]
        if len(children) != 1:
            raise BusinessFault("SCHEMA_VIOLATION", "soap:Body должен содержать ровно один элемент запроса.")
        return children[0]

    def _validate(self, request: Element) -> None:
        document = etree.ElementTree(_detached(request))
        with self._schema_lock:
            valid = self.schema.validate(document)
            errors = list(self.schema.error_log)  # type: ignore[call-overload]
        if not valid:
            first = errors[0]
            raise BusinessFault(
                "SCHEMA_VIOLATION",
                f"Запрос не соответствует XML-схеме: {first.message}",
                field=_field_of(first.path),
            )

    def _check_response(self, response: Element) -> None:
        with self._schema_lock:
            valid = self.schema.validate(etree.ElementTree(response))
            # Paths and error types only: the values may be personal data, which never goes to a log.
            errors = [f"{error.path}: {error.type_name}" for error in self.schema.error_log]  # type: ignore[attr-defined]
        if not valid:
            # A mock answering outside its own contract is a bug in the mock, never a refusal of the request.
            log.error("%s produced a response that fails its schema: %s", self.name, errors)
            raise TechnicalFault("INTERNAL_ERROR", "Ответ сервиса не прошёл проверку по схеме.")


def _operation_name(request: Element) -> str:
    local = etree.QName(request).localname
    return local.removesuffix("Request")


def _detached(elem: Element) -> Element:
    # Validate the request element as the root of its own document, as the XSD declares it.
    return etree.fromstring(etree.tostring(elem), parser=safe_parser())


def _field_of(xpath: str | None) -> str | None:
    # "/f:RegisterPolicyRequest/f:Person/c:Snils" -> "Person/Snils"
    if not xpath:
        return None
    steps = [step.split(":")[-1].split("[")[0] for step in xpath.strip("/").split("/")]
    return "/".join(steps[1:]) or None


# --- envelopes -----------------------------------------------------------------------------------------------


def envelope_element(payload: Element) -> Element:
    """A SOAP 1.1 envelope around a body element."""
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    _tidy(env)
    return env


def _tidy(env: Element) -> None:
    # Declare the contract namespaces once, with the prefixes the samples and the XSDs use; the wsse prefix of a
    # security fault's faultcode is used in text only, so it is kept by name.
    etree.cleanup_namespaces(env, top_nsmap=PREFIXES, keep_ns_prefixes=["soap", "wsse"])


def serialize(env: Element) -> bytes:
    """An envelope as bytes on the wire, unchanged (a signed one must stay as it was signed)."""
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def _fault_element(faultcode: str, faultstring: str, detail: Element) -> Element:
    # `faultcode` is prefixed: soap:Client, soap:Server, or wsse:... for a refusal of the signing profile.
    nsmap = {"soap": SOAP_ENV, "wsse": WSSE} if faultcode.startswith("wsse:") else {"soap": SOAP_ENV}
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    # SOAP 1.1: faultcode, faultstring and detail are unqualified.
    etree.SubElement(fault, "faultcode").text = faultcode
    etree.SubElement(fault, "faultstring").text = faultstring
    etree.SubElement(fault, "detail").append(detail)
    _tidy(env)
    return env


def business_fault_element(fault: BusinessFault, message_id: str | None) -> Element:
    """A soap:Client fault carrying c:BusinessFault."""
    detail = build(
        COMMON_NS,
        "BusinessFault",
        optional(COMMON_NS, "MessageId", _valid_message_id(message_id)),
        build(COMMON_NS, "Code", fault.code),
        optional(COMMON_NS, "Field", fault.field),
        build(COMMON_NS, "Message", fault.message),
        optional(COMMON_NS, "AllowedFrom", fault.allowed_from),
    )
    return _fault_element("soap:Client", fault.message, detail)


def technical_fault_element(fault: TechnicalFault, message_id: str | None, faultcode: str = "soap:Server") -> Element:
    """A fault carrying c:TechnicalFault: soap:Server, or the wsse: code of a refusal of the signing profile."""
    detail = build(
        COMMON_NS,
        "TechnicalFault",
        optional(COMMON_NS, "MessageId", _valid_message_id(message_id)),
        build(COMMON_NS, "Code", fault.code),
        build(COMMON_NS, "Message", fault.message),
        optional(COMMON_NS, "RetryAfterSeconds", fault.retry_after),
    )
    return _fault_element(faultcode, fault.message, detail)


def _valid_message_id(message_id: str | None) -> str | None:
    # Echo the caller's MessageId only when it is one: a fault must itself match the schema.
    if message_id and 0 < len(message_id) <= 64 and all(ch.isalnum() or ch in "_.:-" for ch in message_id):
        return message_id if message_id.isascii() else None
    return None
