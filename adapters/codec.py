"""SOAP envelopes built, and answers read, by shapes compiled once from the types zeep parsed out of the WSDL.

zeep parses a contract's WSDL and XSD at start. For every operation of a binding this module walks zeep's parsed
types once into a `Shape`: each element's tag, order and occurrence, and zeep's own converters of simple types.
A call then builds its envelope by walking the payload over the request's shape with lxml, and reads the answer
by walking the (already XSD-checked) tree over the response's shape: the envelopes zeep would send and the values
zeep would read, without zeep's generic per-call machinery (type dispatch, validation passes and object building
in Python for every element). `tests/contract/test_compiled_codec.py` holds both to each other for every operation
and every sample of `contracts/`; zeep stays the reference.

Everything around the message is zeep's: the same plugins (egress and ingress, in the same order, with the same
arguments), the same transport, the same exceptions (`Fault`, `TransportError`, `XMLSyntaxError`, ...), so
`adapters.soap.call` tells failures apart in the same way on either path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from zeep.exceptions import DTDForbidden, EntitiesForbidden, Fault, TransportError, ValidationError, XMLParseError
from zeep.exceptions import XMLSyntaxError as ZeepXMLSyntaxError
from zeep.plugins import apply_egress, apply_ingress
from zeep.xsd import ComplexType
from zeep.xsd.elements import Choice, Element, Sequence
from zeep.xsd.types.builtins import String

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"


class Unsupported(Exception):
    """A construct of the contract the compiled codec does not handle: found at start, never during a call."""


class Answer:
    """An answer's element read by attribute (`answer.Policy.Enp`), as zeep's objects are read."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__ = values

    def __getitem__(self, name: str) -> Any:
        return self.__dict__[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Answer) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Answer({self.__dict__!r})"


@dataclass(frozen=True, slots=True)
class Field:
    """One element of a complex type: its keyword, its tag, how often it occurs and how its value is converted."""

    name: str
    tag: str
    required: bool
    many: bool
    shape: Shape | None  # a complex type; None for a simple one
    to_xml: Callable[[Any], str]
    to_python: Callable[[str], Any]


class Shape:
    """The elements of a complex type in the order the XSD gives them."""

    def __init__(self, fields: tuple[Field, ...]):
        self.fields = fields
        self.names = frozenset(field.name for field in fields)
        self.by_tag = {field.tag: field for field in fields}
        self.lists = tuple(field.name for field in fields if field.many)
        self.empty: dict[str, Any] = {field.name: None for field in fields}

    def build(self, parent: etree._Element, values: Mapping[str, Any]) -> None:
        """Append the elements of `values` to `parent`, in the XSD's order; None leaves an optional one out."""
        if not values.keys() <= self.names:
            unknown = ", ".join(sorted(values.keys() - self.names))
            raise TypeError(f"unexpected elements: {unknown}")  # zeep raises TypeError for unknown keywords too
        sub_element = etree.SubElement
        for field in self.fields:
            value = values.get(field.name)
            if value is None:
                if field.required:
                    raise ValidationError(f"Missing element {field.name}")
                continue
            items = value if field.many and isinstance(value, list | tuple) else (value,)
            for item in items:
                child = sub_element(parent, field.tag)
                if field.shape is not None:
                    field.shape.build(child, item)
                else:
                    child.text = field.to_xml(item)

    def read(self, element: etree._Element) -> Answer:
        """The values of `element`'s children; absent optional ones are None, absent repeated ones []."""
        values = self.empty.copy()
        for name in self.lists:
            values[name] = []
        by_tag = self.by_tag
        for child in element:
            field = by_tag.get(child.tag)
            if field is None:
                if not isinstance(child.tag, str):
                    continue  # a comment or a processing instruction
                raise XMLParseError(f"Unexpected element {etree.QName(child).localname!r}")
            if field.shape is not None:
                value: Any = field.shape.read(child)
            elif child.text is None:
                value = None
            else:
                value = field.to_python(child.text)
            if field.many:
                values[field.name].append(value)
            else:
                values[field.name] = value
        return Answer(values)


def compile_shape(xsd_type: Any, cache: dict[int, Shape] | None = None) -> Shape:
    """The shape of a zeep ComplexType; shared sub-types are compiled once."""
    cache = {} if cache is None else cache
    key = id(xsd_type)
    if key not in cache:
        if xsd_type.attributes:
            raise Unsupported(f"attributes of {xsd_type.name}")
        cache[key] = Shape(tuple(_fields(xsd_type._element, cache, optional=False)))
    return cache[key]


def _fields(indicator: Any, cache: dict[int, Shape], *, optional: bool) -> list[Field]:
    if indicator is None:
        return []
    if isinstance(indicator, Element):
        return [_field(indicator, cache, optional=optional)]
    if isinstance(indicator, Sequence | Choice) and indicator.max_occurs == 1:
        # A choice's elements are flattened as zeep takes them (one keyword each); only one of them is given.
        within = optional or isinstance(indicator, Choice) or indicator.min_occurs == 0
        return [field for child in indicator for field in _fields(child, cache, optional=within)]
    raise Unsupported(f"{type(indicator).__name__} occurring {indicator.min_occurs}..{indicator.max_occurs}")


def _field(element: Element, cache: dict[int, Shape], *, optional: bool) -> Field:
    if element.nillable:
        raise Unsupported(f"nillable element {element.name}")
    xsd_type = element.type
    many = element.max_occurs != 1
    required = not optional and element.min_occurs > 0 and not many
    if isinstance(xsd_type, ComplexType):
        shape = compile_shape(xsd_type, cache)
        return Field(str(element.name), element.qname.text, required, many, shape, str, str)
    return Field(str(element.name), element.qname.text, required, many, None, _to_xml(xsd_type), _to_python(xsd_type))


def _to_xml(xsd_type: Any) -> Callable[[Any], str]:
    if isinstance(xsd_type, String):
        convert = xsd_type.xmlvalue
        return lambda value: value if type(value) is str else convert(value)
    return xsd_type.xmlvalue  # type: ignore[no-any-return]


def _to_python(xsd_type: Any) -> Callable[[str], Any]:
    if isinstance(xsd_type, String):
        return str
    convert = xsd_type.pythonvalue

    def to_python(text: str) -> Any:
        try:
            return convert(text)
        except (TypeError, ValueError):
            return None  # zeep's reading of a value it cannot convert (the XSD check has refused it before)

    return to_python


# --- operations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One operation of a binding, compiled: the request's and the answer's shapes, and zeep's own operation."""

    name: str
    request_tag: str
    request: Shape
    response_tag: str
    response: Shape
    soap_action: str
    unwrap: str | None  # zeep hands back the only child of an answer with one element, not the answer
    reference: Any  # zeep's SoapOperation: what the plugins are given, as zeep gives it to them


def compile_binding(client: Any, binding_name: str) -> dict[str, Operation]:
    """Every operation of a document/literal binding of zeep's `client`, compiled."""
    binding = client.wsdl.bindings[binding_name]
    cache: dict[int, Shape] = {}
    operations = {}
    for name, operation in binding._operations.items():
        request, response = operation.input.body, operation.output.body
        response_shape = compile_shape(response.type, cache)
        only = response_shape.fields[0] if len(response_shape.fields) == 1 else None
        operations[name] = Operation(
            name=name,
            request_tag=request.qname.text,
            request=compile_shape(request.type, cache),
            response_tag=response.qname.text,
            response=response_shape,
            soap_action=operation.soapaction or "",
            unwrap=only.name if only is not None else None,
            reference=operation,
        )
    return operations


class CompiledService:
    """The operations of a binding at one address, called as zeep's service proxy calls them: `service.Op(**kw)`."""

    def __init__(self, client: Any, operations: dict[str, Operation], address: str):
        self._client = client
        self._address = address
        self._options = {"address": address}
        self._parser = etree.XMLParser(
            remove_comments=True,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=bool(client.settings.xml_huge_tree),
        )
        for name, operation in operations.items():
            setattr(self, name, functools.partial(self.invoke, operation))

    def envelope(self, operation: Operation, payload: Mapping[str, Any]) -> etree._Element:
        """The request envelope of an operation, as zeep's `create_message` builds it."""
        envelope = etree.Element(_ENVELOPE, nsmap={"soap-env": SOAP_ENV})
        body = etree.SubElement(envelope, _BODY)
        request = etree.SubElement(
            body, operation.request_tag, nsmap={"ns0": etree.QName(operation.request_tag).namespace}
        )
        operation.request.build(request, payload)
        return envelope

    def request(self, operation: Operation, payload: Mapping[str, Any]) -> tuple[etree._Element, dict[str, str]]:
        """The envelope and HTTP headers of a request once the plugins have seen it, as zeep's binding makes them."""
        headers = {"SOAPAction": f'"{operation.soap_action}"', "Content-Type": "text/xml; charset=utf-8"}
        envelope = self.envelope(operation, payload)
        return apply_egress(self._client, envelope, headers, operation.reference, self._options)  # type: ignore[no-any-return]

    def invoke(self, operation: Operation, **payload: Any) -> Any:
        """Send one request and read its answer; raises zeep's exceptions for what zeep would raise."""
        envelope, headers = self.request(operation, payload)
        response = self._client.transport.post_xml(self._address, envelope, headers)
        return self.reply(operation, response)

    def reply(self, operation: Operation, response: Any) -> Any:
        """The answer of a response, or zeep's exception for it (zeep's SoapBinding.process_reply, compiled)."""
        if response.status_code in (201, 202) and not response.content:
            return None
        if response.status_code != 200 and not response.content:
            raise TransportError(
                f"Server returned HTTP status {response.status_code} (no content available)",
                status_code=response.status_code,
            )
        try:
            document = self._parse(response.content)
        except ZeepXMLSyntaxError as exc:
            raise TransportError(
                f"Server returned response ({response.status_code}) with invalid XML: {exc}",
                status_code=response.status_code,
                content=response.content,
            ) from None
        document, _ = apply_ingress(self._client, document, response.headers, operation.reference)
        body = document.find(_BODY)
        fault = body.find(_FAULT) if body is not None else None
        if response.status_code != 200 or fault is not None:
            raise _fault(document, fault)
        payload = _only_child(body)
        if payload is None or payload.tag != operation.response_tag:
            raise XMLParseError(f"expected {operation.response_tag}")
        answer = operation.response.read(payload)
        return answer[operation.unwrap] if operation.unwrap is not None else answer

    def _parse(self, content: bytes) -> etree._Element:
        # zeep's parse_xml with the settings of adapters.soap.safe_settings: no DTD, no entities, no network.
        try:
            root = etree.fromstring(content, parser=self._parser)
        except etree.XMLSyntaxError as exc:
            raise ZeepXMLSyntaxError(f"Invalid XML content received ({exc.msg})", content=content) from None
        info: Any = root.getroottree().docinfo
        if info.doctype:
            raise DTDForbidden(info.doctype, info.system_url, info.public_id)
        for dtd in (info.internalDTD, info.externalDTD):
            for entity in dtd.iterentities() if dtd is not None else ():
                raise EntitiesForbidden(entity.name, entity.content)
        return root


def _fault(document: etree._Element, fault: etree._Element | None) -> Fault:
    if fault is None:
        return Fault(message="Unknown fault occured", code=None, actor=None, detail=etree.tostring(document))

    def text(name: str) -> str | None:
        found = fault.find(name)
        return None if found is None else found.text

    return Fault(
        message=text("faultstring"), code=text("faultcode"), actor=text("faultactor"), detail=fault.find("detail")
    )


def _only_child(element: etree._Element | None) -> etree._Element | None:
    if element is None:
        return None
    children = [child for child in element if isinstance(child.tag, str)]
    return children[0] if len(children) == 1 else None
