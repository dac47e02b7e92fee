"""The compiled SOAP path (adapters.codec) held to zeep, its reference: the same envelopes, the same answers.

For every operation of the fund's, the insurers' and the Kazakh fund's WSDL, the sample request of
contracts/samples, read by zeep into keyword values, is built by both into structurally equal envelopes (tags,
texts and order; prefixes aside) with the same HTTP headers; every sample answer is read by both into equal
values; every sample fault raises the same Fault. The adapters' own tests (tests/integration) run the compiled
path against the mocks over sockets.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep.exceptions import Fault, TransportError, ValidationError
from zeep.helpers import serialize_object

import contracts
from adapters.codec import Answer, compile_shape
from adapters.kz import OSMS
from adapters.signing import SignatureRefused, check, sign
from adapters.soap import FUND, INSURER, Contract, SoapClient

from mocks import signing as mocks_signing
from tests.support.signing import GATEWAY, STRANGER, certificate, identity, signing_for, trust

ADDRESS = "http://backend.test/ws"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CONTRACTS = {"fund": FUND, "insurer": INSURER, "kz": OSMS}
FAULTS = ("BusinessFault", "SchemaViolation", "TechnicalFault")


@pytest.fixture(scope="module", params=sorted(CONTRACTS))
def soap(request: pytest.FixtureRequest) -> Iterator[SoapClient]:
    client = SoapClient(CONTRACTS[request.param], timeout=5, signing=None)
    yield client
    client.close()


def samples(contract: Contract) -> Path:
    kind = next(kind for kind, known in CONTRACTS.items() if known is contract)
    return contracts.path("samples", kind)


def zeep_binding(soap: SoapClient) -> Any:
    return soap._client.wsdl.bindings[soap.contract.binding]


def structure(element: etree._Element) -> tuple[Any, ...]:
    """An element as nested tuples of qualified tags and texts: equal for the same XML whatever its prefixes."""
    text = (element.text or "").strip()
    return (element.tag, text, tuple(structure(child) for child in element if isinstance(child.tag, str)))


def plain(value: Any) -> Any:
    """zeep's objects and the compiled answers alike as plain dicts and lists."""
    if isinstance(value, Answer):
        return {name: plain(item) for name, item in vars(value).items()}
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def sample_values(soap: SoapClient, operation: str) -> dict[str, Any]:
    """The sample request of an operation as zeep reads it: the keyword values a caller would pass."""
    envelope = etree.fromstring((samples(soap.contract) / f"{operation}.request.xml").read_bytes())
    read = zeep_binding(soap).get(operation).input.deserialize(envelope)
    values: dict[str, Any] = plain(serialize_object(read, dict))
    return values


def response(body: bytes, status: int = 200) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = body
    answer.headers["Content-Type"] = "text/xml; charset=utf-8"
    return answer


def test_every_operation_of_both_contracts_is_compiled_and_has_a_sample(soap: SoapClient) -> None:
    reference = set(zeep_binding(soap)._operations)
    assert set(soap.operations) == reference
    for operation in reference:
        for kind in ("request", "response"):
            assert (samples(soap.contract) / f"{operation}.{kind}.xml").is_file(), (operation, kind)


def test_every_request_is_built_as_zeep_builds_it_and_as_the_sample_shows_it(soap: SoapClient) -> None:
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    for name, operation in soap.operations.items():
        values = sample_values(soap, name)
        options = {"address": ADDRESS}
        reference, reference_headers = binding._create(name, (), values, client=soap._client, options=options)
        built, headers = compiled.request(operation, values)

        sample = etree.fromstring((samples(soap.contract) / f"{name}.request.xml").read_bytes())
        assert structure(built) == structure(reference) == structure(sample), name
        assert headers == dict(reference_headers), name


@pytest.mark.parametrize(
    "choice",
    [
        {"Snils": "11223344595"},
        {"Enp": "7754900882000015"},
        {
            "NameAndDocument": {
                "LastName": "Иванова",
                "FirstName": "Анна",
                "BirthDate": date(1990, 5, 17),
                "Document": {
                    "Type": "passport_rf",
                    "Series": "4510",
                    "Number": "123456",
                    "IssueDate": date(2010, 6, 1),
                },
            }
        },
    ],
    ids=["snils", "enp", "name-and-document"],
)
def test_each_branch_of_a_choice_is_built_as_zeep_builds_it(choice: dict[str, Any]) -> None:
    soap = SoapClient(FUND, timeout=5, signing=None)
    values = {"MessageId": "find-0001", **choice}
    reference = soap._client.create_message(soap.reference(ADDRESS), "FindPerson", **values)
    built = soap.bind(ADDRESS).envelope(soap.operations["FindPerson"], values)
    assert structure(built) == structure(reference)


def test_every_sample_answer_is_read_as_zeep_reads_it(soap: SoapClient) -> None:
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    for name, operation in soap.operations.items():
        body = (samples(soap.contract) / f"{name}.response.xml").read_bytes()
        reference = binding.process_reply(soap._client, binding.get(name), response(body))
        answer = compiled.reply(operation, response(body))

        assert plain(answer) == plain(serialize_object(reference, dict)), name
        assert isinstance(answer, Answer)


def test_answers_with_several_and_with_no_repeated_elements_are_read_as_zeep_reads_them() -> None:
    soap = SoapClient(FUND, timeout=5, signing=None)
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    body = (samples(FUND) / "GetInsuranceStatus.response.xml").read_bytes()
    document = etree.fromstring(body)
    policy = document.find(".//{urn:epolicy:fund:v1}Policy")
    assert policy is not None
    common = "urn:epolicy:common:v1"
    for code in ("DOCUMENT_CHANGE_AT_14", "STAY_DOCUMENT_EXPIRES"):
        restriction = etree.SubElement(policy, f"{{{common}}}Restriction")
        etree.SubElement(restriction, f"{{{common}}}Code").text = code
        etree.SubElement(restriction, f"{{{common}}}Description").text = "ограничение"
    several = etree.tostring(document)
    for policy_element in document.iter(f"{{{common}}}Restriction"):
        policy_element.getparent().remove(policy_element)  # type: ignore[union-attr]
    none = etree.tostring(document)

    for body in (several, none):
        reference = binding.process_reply(soap._client, binding.get("GetInsuranceStatus"), response(body))
        answer = compiled.reply(soap.operations["GetInsuranceStatus"], response(body))
        assert plain(answer) == plain(serialize_object(reference, dict))
    assert len(compiled.reply(soap.operations["GetInsuranceStatus"], response(several)).Policy.Restriction) == 2


@pytest.mark.parametrize("fault", FAULTS)
def test_every_sample_fault_raises_the_fault_zeep_raises(soap: SoapClient, fault: str) -> None:
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    body = (samples(soap.contract) / f"{fault}.response.xml").read_bytes()
    name = next(iter(soap.operations))
    with pytest.raises(Fault) as reference:
        binding.process_reply(soap._client, binding.get(name), response(body, 500))
    with pytest.raises(Fault) as raised:
        compiled.reply(soap.operations[name], response(body, 500))

    ours, theirs = raised.value, reference.value
    assert (ours.message, ours.code, ours.actor) == (theirs.message, theirs.code, theirs.actor)
    assert structure(ours.detail) == structure(theirs.detail)


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b""), (502, b"<html><body>Bad gateway</body></html>"), (200, b"not xml at all")],
    ids=["empty-500", "html-502", "garbage-200"],
)
def test_an_answer_that_is_no_soap_fails_as_it_fails_in_zeep(status: int, body: bytes) -> None:
    soap = SoapClient(FUND, timeout=5, signing=None)
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    with pytest.raises((TransportError, Fault)) as reference:
        binding.process_reply(soap._client, binding.get("GetInsuranceStatus"), response(body, status))
    with pytest.raises((TransportError, Fault)) as raised:
        compiled.reply(soap.operations["GetInsuranceStatus"], response(body, status))
    assert type(raised.value) is type(reference.value)
    if isinstance(raised.value, TransportError):
        assert raised.value.status_code == reference.value.status_code  # type: ignore[attr-defined]


def test_a_missing_required_element_and_an_unknown_one_are_refused_as_zeep_refuses_them() -> None:
    soap = SoapClient(FUND, timeout=5, signing=None)
    compiled, operation = soap.bind(ADDRESS), soap.operations["GetInsuranceStatus"]
    with pytest.raises(ValidationError):
        soap._client.create_message(soap.reference(ADDRESS), "GetInsuranceStatus", MessageId="m-1")
    with pytest.raises(ValidationError):
        compiled.envelope(operation, {"MessageId": "m-1"})
    with pytest.raises(TypeError):
        soap._client.create_message(soap.reference(ADDRESS), "GetInsuranceStatus", MessageId="m", Enp="1", Snils="2")
    with pytest.raises(TypeError):
        compiled.envelope(operation, {"MessageId": "m", "Enp": "1", "Snils": "2"})


def test_a_shape_is_compiled_once_for_every_element_of_its_type() -> None:
    soap = SoapClient(FUND, timeout=5, signing=None)
    person_type = zeep_binding(soap).get("VerifyPerson").input.body.type
    cache: dict[int, Any] = {}
    first, again = compile_shape(person_type, cache), compile_shape(person_type, cache)
    assert first is again


# --- signed: both paths sign on egress and check on ingress through the same plugin ----------------------------

KEYS = {"fund": "fund", "insurer": "insurers-77001", "kz": "kz-fund"}


@pytest.fixture(scope="module", params=sorted(CONTRACTS))
def signed_soap(request: pytest.FixtureRequest) -> Iterator[tuple[SoapClient, str]]:
    key = KEYS[request.param]
    client = SoapClient(CONTRACTS[request.param], timeout=5, signing=signing_for(ADDRESS, key))
    yield client, key
    client.close()


def sent_message_id(envelope: etree._Element) -> str:
    return check(etree.fromstring(etree.tostring(envelope)), trust(GATEWAY), relates_to=None).message_id


def test_the_compiled_and_the_reference_path_send_messages_that_both_verify(
    signed_soap: tuple[SoapClient, str],
) -> None:
    soap, _ = signed_soap
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    for name, operation in soap.operations.items():
        values = sample_values(soap, name)
        reference, _ = binding._create(name, (), values, client=soap._client, options={"address": ADDRESS})
        built, _ = compiled.request(operation, values)

        for envelope in (reference, built):
            wire = etree.tostring(envelope)
            sent_message_id(envelope)  # by the gateway's own check
            mocks = mocks_signing.Verifier(mocks_signing.load_certificates([certificate(GATEWAY)]))
            assert mocks.verify(etree.fromstring(wire)).fingerprint, name  # and the mocks' own implementation
        assert structure(built.find(f"{{{SOAP_ENV}}}Body")) == structure(reference.find(f"{{{SOAP_ENV}}}Body"))


def signed_answer(body: bytes, key: str, relates_to: str) -> bytes:
    """A sample answer signed by a back-end's key for the request with this wsa:MessageID."""
    root = etree.fromstring(body)
    sign(root, identity(key), relates_to=relates_to)
    return etree.tostring(root)


def test_a_signed_answer_is_read_alike_on_both_paths_and_a_forged_one_on_neither(
    signed_soap: tuple[SoapClient, str],
) -> None:
    soap, key = signed_soap
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    for name, operation in soap.operations.items():
        sample = (samples(soap.contract) / f"{name}.response.xml").read_bytes()
        built, _ = compiled.request(operation, sample_values(soap, name))  # the request in flight, signed
        relates_to = sent_message_id(built)

        reference = binding.process_reply(
            soap._client, binding.get(name), response(signed_answer(sample, key, relates_to))
        )
        answer = compiled.reply(operation, response(signed_answer(sample, key, relates_to)))
        assert plain(answer) == plain(serialize_object(reference, dict)), name

        forged = signed_answer(sample, STRANGER, relates_to)
        with pytest.raises(SignatureRefused):
            binding.process_reply(soap._client, binding.get(name), response(forged))
        with pytest.raises(SignatureRefused):
            compiled.reply(operation, response(forged))
        with pytest.raises(SignatureRefused):
            compiled.reply(operation, response(sample))  # unsigned


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_is_believed_only_signed_on_either_path(signed_soap: tuple[SoapClient, str], fault: str) -> None:
    soap, key = signed_soap
    binding, compiled = zeep_binding(soap), soap.bind(ADDRESS)
    name = next(iter(soap.operations))
    body = (samples(soap.contract) / f"{fault}.response.xml").read_bytes()
    built, _ = compiled.request(soap.operations[name], sample_values(soap, name))
    relates_to = sent_message_id(built)
    with pytest.raises(Fault):
        binding.process_reply(soap._client, binding.get(name), response(signed_answer(body, key, relates_to), 500))
    with pytest.raises(Fault):
        compiled.reply(soap.operations[name], response(signed_answer(body, key, relates_to), 500))
    for path in (
        lambda answer: binding.process_reply(soap._client, binding.get(name), answer),
        lambda answer: compiled.reply(soap.operations[name], answer),
    ):
        with pytest.raises(SignatureRefused):
            path(response(body, 500))  # an unsigned fault is no refusal of the back-end's: it is not read
