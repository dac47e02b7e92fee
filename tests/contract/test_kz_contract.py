"""The Kazakh contract (contracts/kz): the WSDL loads offline, the samples validate, the mock answers as they show."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

import contracts
from adapters.signing import MessageSigning
from tests.support.services import RunningMocks
from tests.support.signing import SUITE, signed_envelope, signing_for, unsealed
from tests.support.soap import COMMON_NS, SOAP_ENV, SchemaCheck, ServiceUnderTest, body_payload, fault_info, shape
from tests.support.xml import assert_same_xml

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

KZ = "urn:epolicy:kz:osms:v1"
WSDL = contracts.path("kz", "osms.wsdl")
XSD = contracts.path("kz", "osms.xsd")
BINDING = f"{{{KZ}}}OsmsBinding"
SAMPLES = contracts.path("samples", "kz")
FAULT_SAMPLES = ("BusinessFault.request", "BusinessFault.response", "SchemaViolation.request",
                 "SchemaViolation.response", "TechnicalFault.response")  # fmt: skip
# Seeded in mocks/data/kz.yaml; a conformant fund's test registry must hold the same.
INSURED = "791028302728"
NOT_INSURED = "850314401236"
UNKNOWN = "900517300019"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to open a connection: the WSDL must load from local files alone."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access while loading a contract")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def zeep_client() -> Client:
    return Client(str(WSDL), settings=Settings(strict=True, forbid_dtd=True))


def operations() -> list[str]:
    wsdl = etree.parse(str(WSDL))
    ns = {"wsdl": "http://schemas.xmlsoap.org/wsdl/"}
    return sorted(str(name) for name in wsdl.xpath("//wsdl:portType/wsdl:operation/@name", namespaces=ns))


def samples() -> list[Path]:
    return sorted(SAMPLES.glob("*.xml"))


@pytest.fixture(scope="module")
def kz_fund(mocks_server: RunningMocks) -> ServiceUnderTest:
    """A strict zeep client of the mock Kazakh fund, every answer checked against the XSD."""
    url = f"{mocks_server.base_url}/kz/fund"
    check = SchemaCheck(schema())
    signing = signing_for(url, "kz-fund", name=SUITE)  # signed as the suite, believed as the Kazakh fund's
    client = Client(
        str(WSDL),
        transport=Transport(session=requests.Session(), timeout=10, operation_timeout=10),
        settings=Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True),
        plugins=[MessageSigning(signing), check],
    )
    return ServiceUnderTest(client.create_service(BINDING, url), check, url, signing)


# --- the files -----------------------------------------------------------------------------------------------


def test_the_wsdl_loads_from_its_local_file_without_the_network(no_network: None) -> None:
    binding = zeep_client().wsdl.bindings[BINDING]
    assert sorted(binding._operations) == operations() == ["GetInsuranceStatus"]


def test_the_contract_has_its_own_versioned_namespace() -> None:
    assert etree.parse(str(XSD)).getroot().get("targetNamespace") == KZ
    assert etree.parse(str(WSDL)).getroot().get("targetNamespace") == KZ


def test_every_operation_and_fault_kind_has_samples() -> None:
    names = {path.name.removesuffix(".xml") for path in samples()}
    for operation in operations():
        assert {f"{operation}.request", f"{operation}.response"} <= names, operation
    assert set(FAULT_SAMPLES) <= names


def test_every_sample_validates_against_the_schema_except_the_schema_violation() -> None:
    xsd = schema()
    for path in samples():
        valid = xsd.validate(etree.ElementTree(etree.fromstring(etree.tostring(body_payload(path)))))
        if path.name == "SchemaViolation.request.xml":
            assert not valid, "the schema-violation sample must break the schema"
        else:
            assert valid, f"{path.name}: {xsd.error_log}"


def test_zeep_builds_the_request_exactly_as_its_sample(no_network: None) -> None:
    client = zeep_client()
    service = client.bind()
    for operation in operations():
        sample = body_payload(SAMPLES / f"{operation}.request.xml")
        parsed = client.get_element(sample.tag).parse(sample, client.wsdl.types)
        built = client.create_message(service, operation, **{name: parsed[name] for name in parsed})
        assert shape(built.find(f"{{{SOAP_ENV}}}Body")[0]) == shape(sample), operation


def test_zeep_reads_the_response_sample(no_network: None) -> None:
    client = zeep_client()
    sample = body_payload(SAMPLES / "GetInsuranceStatus.response.xml")
    parsed = client.get_element(sample.tag).parse(sample, client.wsdl.types)
    assert (parsed.Insured, parsed.Package, str(parsed.Period.To)) == (True, "gobmp_osms", "2023-06-30")


def test_fault_samples_carry_the_right_soap_fault_code_and_a_catalogue_reason() -> None:
    catalogue = {reason["code"] for reason in yaml.safe_load(contracts.path("rejections.yaml").read_text())["reasons"]}
    for name, faultcode, detail in (
        ("BusinessFault", "soap:Client", "BusinessFault"),
        ("SchemaViolation", "soap:Client", "BusinessFault"),
        ("TechnicalFault", "soap:Server", "TechnicalFault"),
    ):
        root = etree.parse(str(SAMPLES / f"{name}.response.xml")).getroot()
        assert root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode") == faultcode
        payload = body_payload(SAMPLES / f"{name}.response.xml")
        assert payload.tag == f"{{{COMMON_NS}}}{detail}"
        if detail == "BusinessFault":
            assert payload.findtext(f"{{{COMMON_NS}}}Code") in catalogue
    assert body_payload(SAMPLES / "BusinessFault.response.xml").findtext(f"{{{COMMON_NS}}}Code") == "IIN_CHECKSUM"


@pytest.mark.parametrize("name", ["GetInsuranceStatus", "BusinessFault", "SchemaViolation"])
def test_the_mock_answers_each_request_sample_as_its_response_sample(mocks_server: RunningMocks, name: str) -> None:
    body = signed_envelope((SAMPLES / f"{name}.request.xml").read_bytes())
    answer = requests.post(
        f"{mocks_server.base_url}/kz/fund", data=body, headers={"Content-Type": "text/xml"}, timeout=10
    )
    assert_same_xml(unsealed(answer.content), (SAMPLES / f"{name}.response.xml").read_bytes())


# --- the service (conformance, against the mock) --------------------------------------------------------------


@pytest.mark.conformance
def test_an_insured_person_gets_gobmp_and_osms_with_the_period_of_insurance(kz_fund: ServiceUnderTest) -> None:
    answer = kz_fund.call("GetInsuranceStatus", MessageId="kz-conf-1", Iin=INSURED)

    assert (answer["MessageId"], answer["Iin"], answer["Insured"]) == ("kz-conf-1", INSURED, True)
    assert answer["Package"] == "gobmp_osms"
    assert answer["Period"]["From"] is not None


@pytest.mark.conformance
def test_a_person_not_insured_gets_gobmp_and_no_period(kz_fund: ServiceUnderTest) -> None:
    answer = kz_fund.call("GetInsuranceStatus", MessageId="kz-conf-2", Iin=NOT_INSURED)

    assert (answer["Insured"], answer["Package"], answer["Period"]) == (False, "gobmp", None)


@pytest.mark.conformance
@pytest.mark.parametrize(
    ("iin", "code"), [(UNKNOWN, "IIN_NOT_FOUND"), ("900517300010", "IIN_CHECKSUM")], ids=["unknown", "checksum"]
)
def test_a_refused_iin_is_a_business_fault_naming_the_iin(kz_fund: ServiceUnderTest, iin: str, code: str) -> None:
    with pytest.raises(Fault) as raised:
        kz_fund.call("GetInsuranceStatus", MessageId="kz-conf-3", Iin=iin)

    info = fault_info(raised.value)
    assert (info.kind, info.faultcode, info.code, info.field) == ("BusinessFault", "soap:Client", code, "Iin")


@pytest.mark.conformance
def test_every_answer_of_the_service_was_checked_against_the_schema(kz_fund: ServiceUnderTest) -> None:
    kz_fund.call("GetInsuranceStatus", MessageId="kz-conf-4", Iin=INSURED)
    assert kz_fund.check.answers, "the schema check saw no answer"
    assert all(etree.QName(answer).namespace in (KZ, COMMON_NS) for answer in kz_fund.check.answers)
