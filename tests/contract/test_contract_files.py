"""The contract files themselves: WSDLs load in zeep offline, samples validate, every operation is covered."""

from __future__ import annotations

import re
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree
from zeep import Client, Settings

import contracts
from adapters.signing import WSU, TrustStore, check
from tests.support.soap import COMMON_NS, SERVICES, SOAP_ENV, body_payload, load_schema, shape

SAMPLES = contracts.path("samples")
KINDS = sorted(SERVICES)
FAULT_SAMPLES = ("BusinessFault.request", "BusinessFault.response", "SchemaViolation.request",
                 "SchemaViolation.response", "TechnicalFault.response")  # fmt: skip


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to open a connection: the WSDLs must load from local files alone."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access while loading a contract")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def zeep_client(kind: str) -> Client:
    return Client(str(contracts.path(SERVICES[kind][0])), settings=Settings(strict=True, forbid_dtd=True))


def port_type_operations(kind: str) -> list[str]:
    wsdl = etree.parse(str(contracts.path(SERVICES[kind][0])))
    ns = {"wsdl": "http://schemas.xmlsoap.org/wsdl/"}
    return sorted(str(name) for name in wsdl.xpath("//wsdl:portType/wsdl:operation/@name", namespaces=ns))


def sample_paths(kind: str) -> list[Path]:
    return sorted((SAMPLES / kind).glob("*.xml"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_wsdl_loads_from_its_local_file_without_the_network(kind: str, no_network: None) -> None:
    client = zeep_client(kind)
    binding = client.wsdl.bindings[SERVICES[kind][2]]
    assert sorted(binding._operations) == port_type_operations(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_every_operation_and_fault_kind_has_samples(kind: str) -> None:
    names = {path.name.removesuffix(".xml") for path in sample_paths(kind)}
    for operation in port_type_operations(kind):
        assert {f"{operation}.request", f"{operation}.response"} <= names, operation
    assert set(FAULT_SAMPLES) <= names


@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_validates_against_its_schema_except_the_schema_violation(kind: str) -> None:
    schema = load_schema(kind)
    for path in sample_paths(kind):
        document = etree.ElementTree(etree.fromstring(etree.tostring(body_payload(path))))
        valid = schema.validate(document)
        if path.name == "SchemaViolation.request.xml":
            assert not valid, "the schema-violation sample must break the schema"
        else:
            assert valid, f"{path.name}: {schema.error_log}"


@pytest.mark.parametrize("kind", KINDS)
def test_zeep_builds_every_operation_exactly_as_its_request_sample(kind: str, no_network: None) -> None:
    client = zeep_client(kind)
    service = client.bind()
    for operation in port_type_operations(kind):
        sample = body_payload(SAMPLES / kind / f"{operation}.request.xml")
        values = client.get_element(sample.tag).parse(sample, client.wsdl.types)
        kwargs = {name: values[name] for name in values}
        built = client.create_message(service, operation, **kwargs)
        payload = built.find(f"{{{SOAP_ENV}}}Body")[0]
        assert shape(payload) == shape(sample), operation


@pytest.mark.parametrize("kind", KINDS)
def test_zeep_reads_every_response_sample(kind: str, no_network: None) -> None:
    client = zeep_client(kind)
    for operation in port_type_operations(kind):
        sample = body_payload(SAMPLES / kind / f"{operation}.response.xml")
        assert etree.QName(sample).localname == f"{operation}Response"
        parsed = client.get_element(sample.tag).parse(sample, client.wsdl.types)
        assert parsed.MessageId


@pytest.mark.parametrize("kind", KINDS)
def test_fault_samples_carry_the_right_soap_fault_code_and_a_catalogue_reason(kind: str) -> None:
    catalogue = {reason["code"] for reason in yaml.safe_load(contracts.path("rejections.yaml").read_text())["reasons"]}
    for name, faultcode, detail in (
        ("BusinessFault", "soap:Client", "BusinessFault"),
        ("SchemaViolation", "soap:Client", "BusinessFault"),
        ("TechnicalFault", "soap:Server", "TechnicalFault"),
    ):
        root = etree.parse(str(SAMPLES / kind / f"{name}.response.xml")).getroot()
        assert root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode") == faultcode
        payload = body_payload(SAMPLES / kind / f"{name}.response.xml")
        assert payload.tag == f"{{{COMMON_NS}}}{detail}"
        if detail == "BusinessFault":
            assert payload.findtext(f"{{{COMMON_NS}}}Code") in catalogue
    schema_fault = body_payload(SAMPLES / kind / "SchemaViolation.response.xml")
    assert schema_fault.findtext(f"{{{COMMON_NS}}}Code") == "SCHEMA_VIOLATION"


def test_every_reason_code_the_mocks_can_answer_is_in_the_catalogue_with_its_source() -> None:
    catalogue = {
        reason["code"]: set(reason["sources"])
        for reason in yaml.safe_load(contracts.path("rejections.yaml").read_text())["reasons"]
    }
    mocks_dir = Path(__file__).resolve().parents[2] / "mocks"
    raised: dict[str, set[str]] = {"fund": set(), "insurer": set()}
    for source in mocks_dir.rglob("*.py"):
        codes = set(re.findall(r'BusinessFault\(\s*"([A-Z][A-Z0-9_]+)"', source.read_text(encoding="utf-8")))
        # The SOAP core answers for both services; the insurers' module for insurers; the rest is the fund.
        systems = (
            ["fund", "insurer"] if source.name == "soap.py" else ["insurer"] if "insurer" in source.name else ["fund"]
        )
        for system in systems:
            raised[system] |= codes
    assert len(raised["fund"]) >= 15, "the scan found too few codes to mean anything"
    for system, codes in raised.items():
        assert codes <= set(catalogue), sorted(codes - set(catalogue))
        missing = sorted(code for code in codes if system not in catalogue[code])
        assert not missing, f"{system} may answer these, but the catalogue does not list it as a source: {missing}"


def test_the_signed_samples_verify_by_the_profile_against_their_certificates() -> None:
    folder = contracts.path("signing", "samples")
    request = etree.parse(str(folder / "GetInsuranceStatus.request.xml")).getroot()
    answer = etree.parse(str(folder / "GetInsuranceStatus.response.xml")).getroot()
    signed_at = datetime.fromisoformat(str(answer.findtext(f".//{{{WSU}}}Created")).replace("Z", "+00:00"))

    sent = check(request, TrustStore.load(str(folder / "gateway.pem")), relates_to=None, now=signed_at)
    answered = check(answer, TrustStore.load(str(folder / "fund.pem")), relates_to=sent.message_id, now=signed_at)

    assert "sample-gateway" in sent.signer and "sample-fund" in answered.signer
