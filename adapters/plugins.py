"""zeep plugins for what every SOAP call needs: correlation headers, a masked message log, a check of the answer.

The gateway sets the correlation id of the work in hand (gateway.correlation); every SOAP call made in that
context sends it as `X-Correlation-ID`, next to `X-Message-ID` (the request's own MessageId).
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from typing import Any

from lxml import etree
from zeep import Plugin

from adapters.mapping import InvalidAnswer
from gateway.correlation import correlation_id

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
COMMON_NS = "urn:epolicy:common:v1"

log = logging.getLogger("epolicy.soap")

# A header value must not carry CR/LF or anything requests refuses: a bad id from a client's request would
# otherwise fail every call made for it, and look like an outage.
_HEADER_SAFE = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


class CorrelationHeaders(Plugin):
    """Send `X-Correlation-ID` (from the context) and `X-Message-ID` (from the envelope) with every request."""

    def egress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        current = correlation_id.get()
        if current is not None and _HEADER_SAFE.fullmatch(current):
            http_headers["X-Correlation-ID"] = current
        message_id = _message_id(envelope)
        if message_id is not None and _HEADER_SAFE.fullmatch(message_id):
            http_headers["X-Message-ID"] = message_id
        return envelope, http_headers


class MessageLog(Plugin):
    """Log every envelope sent and received at DEBUG on "epolicy.soap", personal data masked."""

    def egress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        if log.isEnabledFor(logging.DEBUG):
            address = binding_options.get("address") if isinstance(binding_options, dict) else None
            log.debug("SOAP %s request to %s:\n%s", _name(operation), address, masked_xml(envelope))
        return envelope, http_headers

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("SOAP %s answer:\n%s", _name(operation), masked_xml(envelope))
        return envelope, http_headers


class AnswerCheck(Plugin):
    """Check every answer's payload or fault detail against the service's XSD before zeep reads it."""

    # zeep's strict mode checks the order of elements only: it takes a wrong root element, an unknown enumeration
    # value or a pattern mismatch as they come, and turns a bad date into None. The XSD catches all of them.

    def __init__(self, schema: etree.XMLSchema, namespace: str):
        self._schema = schema
        self._namespace = namespace
        # libxml2 keeps one validation context per schema object: validate one document at a time.
        self._lock = threading.Lock()

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            return envelope, http_headers  # not SOAP at all (an HTML error page): zeep reports it as a fault
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        payload = _only_child(body)
        if payload is None:
            raise InvalidAnswer("soap:Body must hold exactly one element")
        if payload.tag == f"{{{SOAP_ENV}}}Fault":
            detail = _only_child(payload.find("detail"))
            if detail is not None and etree.QName(detail).namespace == COMMON_NS:
                self._validate(detail)
            return envelope, http_headers  # a fault without a contract detail is read as a technical one
        expected = _response_tag(operation) or f"{{{self._namespace}}}{_name(operation)}Response"
        if payload.tag != expected:
            raise InvalidAnswer(f"expected {expected}, got {payload.tag}")
        self._validate(payload)
        return envelope, http_headers

    def _validate(self, element: etree._Element) -> None:
        # libxml2 validates an element of a parsed tree in place, as the root the XSD declares it as: no copy,
        # no second parse (tests/integration/test_soap_plugins.py checks it refuses a bad value deep inside).
        with self._lock:
            valid = self._schema.validate(element)
            # Paths and error types only: the offending values may be personal data.
            errors = [f"{error.path}: {error.type_name}" for error in self._schema.error_log]  # type: ignore[attr-defined]
        if not valid:
            raise InvalidAnswer("answer fails the XSD: " + "; ".join(errors[:3]))


# --- masking ------------------------------------------------------------------------------------------------

NAME_ELEMENTS = frozenset({"LastName", "FirstName", "MiddleName"})
# Iin: the Kazakh individual identification number (contracts/kz/osms.xsd).
NUMBER_ELEMENTS = frozenset({"Snils", "Inn", "Series", "Number", "Enp", "Iin"})
DATE_ELEMENTS = frozenset({"BirthDate", "DeathDate"})
# A visit's service and diagnosis group are health data (fund-v2.xsd).
TEXT_ELEMENTS = frozenset({"BirthPlace", "Issuer", "Service", "DiagnosisGroup"})
FREE_TEXT_ELEMENTS = frozenset({"faultstring", "Message"})

_QUOTED = re.compile(r"«[^»]*»|'[^']*'|\"[^\"]*\"")
_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")
_DIGIT_RUN = re.compile(r"\d{4,}")


def mask_name(value: str) -> str:
    """Keep the first letter of a name; a fixed number of stars hides its length too."""
    stripped = value.strip()
    return f"{stripped[:1]}*****" if stripped else ""


def mask_number(value: str) -> str:
    """Mask every letter and digit of an identifier but the last two."""
    positions = [index for index, char in enumerate(value) if char.isalnum()]
    hidden = set(positions[:-2])
    return "".join("*" if index in hidden else char for index, char in enumerate(value))


def mask_date(value: str) -> str:
    """Hide a date entirely."""
    return "****-**-**"


def mask_free_text(value: str) -> str:
    """Hide quoted values, dates and long digit runs in a message, where back-ends echo what they refused."""
    return _DIGIT_RUN.sub("***", _DATE.sub("**.**.****", _QUOTED.sub("«***»", value)))


_MASKS = {
    **dict.fromkeys(NAME_ELEMENTS, mask_name),
    **dict.fromkeys(NUMBER_ELEMENTS, mask_number),
    **dict.fromkeys(DATE_ELEMENTS, mask_date),
    **dict.fromkeys(TEXT_ELEMENTS, lambda value: "***"),
    **dict.fromkeys(FREE_TEXT_ELEMENTS, mask_free_text),
}


def masked_xml(envelope: etree._Element) -> str:
    """The envelope as text with personal data masked, by the local name of each element (the envelope is kept)."""
    masked = copy.deepcopy(envelope)
    for element in masked.iter():
        if not isinstance(element.tag, str) or element.text is None:
            continue  # comments and processing instructions, or elements without text
        mask = _MASKS.get(etree.QName(element).localname)
        if mask is not None:
            element.text = mask(element.text)
    return etree.tostring(masked, encoding="unicode", pretty_print=True)


# --- helpers ------------------------------------------------------------------------------------------------


def _name(operation: Any) -> str:
    return str(getattr(operation, "name", "?"))


def _only_child(element: etree._Element | None) -> etree._Element | None:
    if element is None:
        return None
    children = [child for child in element if isinstance(child.tag, str)]
    return children[0] if len(children) == 1 else None


def _message_id(envelope: etree._Element) -> str | None:
    payload = _only_child(envelope.find(f"{{{SOAP_ENV}}}Body"))
    if payload is None:
        return None
    found = payload.find("{*}MessageId")
    return None if found is None else found.text


def _response_tag(operation: Any) -> str | None:
    # The WSDL names each operation's answer element; a later version's operation answers in its own namespace.
    body = getattr(getattr(operation, "output", None), "body", None)
    qname = getattr(body, "qname", None)
    return None if qname is None else str(qname)
