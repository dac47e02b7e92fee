"""The signing profile as the gateway applies it (adapters/signing.py): what is believed, and what never is.

Every message here is a real envelope of the contracts, signed by a real key of the session's (tests/support/
signing.py); every attack is made on the serialized message, as it would come over the wire. Every test runs four
times: signed by the fast path (`sign`) or by signxml's signer (`reference_sign`), checked by the fast path
(`check`) or by signxml's verifier (`reference_check`), so that the fast paths are held to the reference in both
directions, for every message believed and every one refused, with the same refusal.
"""

from __future__ import annotations

import base64
import copy
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from adapters.signing import (
    DS,
    MESSAGE_EXPIRED,
    SECURITY_MISSING,
    SIGNATURE_INVALID,
    SIGNER_UNTRUSTED,
    WSA,
    WSSE,
    WSU,
    Identity,
    MessageSigning,
    SignatureRefused,
    Signing,
    SigningError,
    TrustStore,
    check,
    development_keys,
    reference_check,
    reference_sign,
    sign,
)
from gateway.ports import JournalEntry
from tests.support.signing import GATEWAY, STRANGER, identity, trust

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FUND_NS = "urn:epolicy:fund:v1"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
BODY = f"{{{SOAP_ENV}}}Body"
HEADER = f"{{{SOAP_ENV}}}Header"


@pytest.fixture(
    autouse=True,
    params=[("fast", "fast"), ("fast", "reference"), ("reference", "fast"), ("reference", "reference")],
    ids=lambda pair: f"signed {pair[0]}, checked {pair[1]}",
)
def paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signer and the checker this run of a test uses, by the names the tests call."""
    signer, checker = request.param
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "sign", sign if signer == "fast" else reference_sign)
    monkeypatch.setattr(module, "check", check if checker == "fast" else reference_check)


def envelope(enp: str = "7754900882000015") -> etree._Element:
    """A status request as the compiled codec builds it: an envelope, a body, the payload."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap-env": SOAP_ENV})
    request = etree.SubElement(etree.SubElement(root, BODY), f"{{{FUND_NS}}}GetInsuranceStatusRequest")
    etree.SubElement(request, f"{{{FUND_NS}}}MessageId").text = "status-0001"
    etree.SubElement(request, f"{{{FUND_NS}}}Enp").text = enp
    return root


def signed(signer: Identity | None = None, *, relates_to: str | None = None, at: datetime = NOW) -> tuple[bytes, str]:
    """A signed message on the wire, and its wsa:MessageID."""
    root = envelope()
    seal = sign(root, signer or identity(), relates_to=relates_to, now=at)
    return etree.tostring(root), seal.message_id


def received(wire: bytes) -> etree._Element:
    return etree.fromstring(wire)


def refused(wire: bytes | etree._Element, store: TrustStore | None = None, **options: object) -> SignatureRefused:
    root = received(wire) if isinstance(wire, bytes) else wire
    with pytest.raises(SignatureRefused) as caught:
        check(root, store or trust(GATEWAY), relates_to=options.pop("relates_to", None), now=NOW, **options)  # type: ignore[arg-type]
    return caught.value


def enp_of(root: etree._Element) -> str | None:
    return root.findtext(f"{{{SOAP_ENV}}}Body/{{{FUND_NS}}}GetInsuranceStatusRequest/{{{FUND_NS}}}Enp")


def test_a_signed_message_verifies_and_says_who_signed_it() -> None:
    wire, message_id = signed()

    seal = check(received(wire), trust(GATEWAY), relates_to=None, now=NOW)

    assert seal.message_id == message_id and message_id.startswith("urn:uuid:")
    assert seal.signer == identity().certificate.subject.rfc4514_string()
    assert len(seal.fingerprint) == 64
    assert base64.b64decode(seal.signature)  # the ds:SignatureValue itself, for the journal


def test_every_message_has_ids_and_signature_values_of_its_own() -> None:
    first, second = (check(received(signed()[0]), trust(GATEWAY), relates_to=None, now=NOW) for _ in range(2))
    assert first.message_id != second.message_id
    assert first.signature != second.signature


def test_a_forged_answer_of_the_right_shape_signed_by_another_key_is_never_read() -> None:
    wire, _ = signed(identity(STRANGER))
    assert refused(wire).code == SIGNER_UNTRUSTED


def test_a_forged_answer_carrying_the_trusted_certificate_but_signed_by_another_key_is_refused() -> None:
    # The certificate is public: a forger can put it in the token. The signature still has to be the key's.
    root = envelope()
    sign(root, identity(STRANGER), now=NOW)
    token = root.find(f".//{{{WSSE}}}BinarySecurityToken")
    assert token is not None
    token.text = identity(GATEWAY).token
    assert refused(etree.tostring(root)).code == SIGNATURE_INVALID


def test_a_body_changed_under_a_valid_signature_is_refused() -> None:
    wire, _ = signed()
    tampered = wire.replace(b"7754900882000015", b"7754900882000023")
    assert tampered != wire
    failure = refused(tampered)
    assert failure.code == SIGNATURE_INVALID and "digest" in failure.detail


@pytest.mark.parametrize(
    ("part", "forged"),
    [(f"{{{WSU}}}Expires", "2026-12-07T23:59:59.000Z"), (f"{{{WSA}}}MessageID", "urn:uuid:another")],
    ids=["timestamp", "message id"],
)
def test_a_changed_timestamp_or_message_id_is_refused(part: str, forged: str) -> None:
    root = received(signed()[0])
    element = root.find(f".//{part}")
    assert element is not None
    element.text = forged
    assert refused(etree.tostring(root)).code == SIGNATURE_INVALID


def wrapped(root: etree._Element, *, same_id: bool) -> etree._Element:
    """The signed body moved into a header element of its own, and a forged body put where it was."""
    body = root.find(BODY)
    header = root.find(HEADER)
    assert body is not None and header is not None
    forged = copy.deepcopy(body)
    enp = forged.find(f".//{{{FUND_NS}}}Enp")
    assert enp is not None
    enp.text = "5053700872000030"
    if not same_id:
        del forged.attrib[f"{{{WSU}}}Id"]
    hidden = etree.SubElement(header, "{urn:attacker}Wrapper")
    hidden.append(body)  # moves it
    root.append(forged)
    return root


@pytest.mark.parametrize("same_id", [False, True], ids=["forged body without the id", "forged body with the id"])
def test_signature_wrapping_a_second_body_elsewhere_in_the_envelope_is_refused(same_id: bool) -> None:
    root = wrapped(received(signed()[0]), same_id=same_id)
    assert enp_of(root) == "5053700872000030"  # the body a careless reader would read is the forged one

    assert refused(etree.tostring(root)).code == SIGNATURE_INVALID


def test_a_second_body_beside_the_signed_one_is_refused() -> None:
    root = received(signed()[0])
    extra = etree.SubElement(root, BODY)
    extra.append(copy.deepcopy(root.find(BODY)[0]))  # type: ignore[index]
    assert refused(etree.tostring(root)).code == SIGNATURE_INVALID


def test_a_reference_to_the_whole_document_with_the_enveloped_transform_is_refused() -> None:
    # A signature of the document as a whole is valid XMLDSig, but no signature of the profile's.
    root = received(signed()[0])
    transform = root.find(f".//{{{DS}}}Transform")
    assert transform is not None
    transform.set("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    assert refused(etree.tostring(root)).code == SIGNATURE_INVALID


def test_a_signature_method_other_than_the_certificates_key_is_refused() -> None:
    root = received(signed()[0])
    method = root.find(f".//{{{DS}}}SignatureMethod")
    assert method is not None
    method.set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    assert refused(etree.tostring(root)).code == SIGNATURE_INVALID


@pytest.mark.parametrize(
    ("age", "verdict"),
    [(timedelta(seconds=200), None), (timedelta(seconds=400), MESSAGE_EXPIRED), (timedelta(hours=-1), MESSAGE_EXPIRED)],
    ids=["within the window", "stale", "from the future"],
)
def test_a_timestamp_outside_the_window_is_refused(age: timedelta, verdict: str | None) -> None:
    wire, _ = signed(at=NOW - age)
    if verdict is None:
        check(received(wire), trust(GATEWAY), relates_to=None, now=NOW)
    else:
        assert refused(wire).code == verdict


def test_an_unsigned_message_is_refused_as_missing_its_security() -> None:
    assert refused(etree.tostring(envelope())).code == SECURITY_MISSING
    root = received(signed()[0])
    security = root.find(f"{HEADER}/{{{WSSE}}}Security")
    assert security is not None
    signature = security.find(f"{{{DS}}}Signature")
    assert signature is not None
    security.remove(signature)
    assert refused(etree.tostring(root)).code == SECURITY_MISSING


def test_an_answer_is_believed_only_for_the_request_it_answers() -> None:
    wire, _ = signed(relates_to="urn:uuid:request-1")
    check(received(wire), trust(GATEWAY), relates_to="urn:uuid:request-1", now=NOW)
    assert refused(wire, relates_to="urn:uuid:request-2").code == SIGNATURE_INVALID
    assert refused(signed()[0], relates_to="urn:uuid:request-1").code == SIGNATURE_INVALID  # relates to nothing


def test_two_trusted_certificates_let_a_back_end_rotate_its_key(tmp_path: Path) -> None:
    old, new = (Identity.load(*map(str, development_keys(tmp_path, name))) for name in ("old", "new"))
    both = TrustStore.load(f"{tmp_path / 'old.pem'},{tmp_path / 'new.pem'}")
    only_new = TrustStore.load((tmp_path / "new.pem").read_text())

    for key in (old, new):
        check(received(signed(key)[0]), both, relates_to=None, now=NOW)
    check(received(signed(new)[0]), only_new, relates_to=None, now=NOW)
    assert refused(signed(old)[0], only_new).code == SIGNER_UNTRUSTED


def test_rsa_keys_sign_and_verify_as_well(tmp_path: Path) -> None:
    key, cert = development_keys(tmp_path, "rsa", "rsa-sha256")
    signer = Identity.load(str(key), str(cert), "rsa-sha256")
    wire, _ = signed(signer)
    assert b"xmldsig-more#rsa-sha256" in wire
    check(received(wire), TrustStore.load(str(cert)), relates_to=None, now=NOW)


def test_a_key_that_is_not_the_certificates_or_of_another_algorithm_is_refused_at_start(tmp_path: Path) -> None:
    key, _ = development_keys(tmp_path, "one")
    _, other = development_keys(tmp_path, "two")
    with pytest.raises(SigningError, match="does not belong"):
        Identity.load(str(key), str(other))
    with pytest.raises(SigningError, match="algorithm rsa-sha256"):
        Identity.load(str(key), str(tmp_path / "one.pem"), "rsa-sha256")
    with pytest.raises(SigningError, match="no PEM certificate"):
        TrustStore.load(str(key))


class Operation:
    name = "GetInsuranceStatus"


def test_the_plugin_signs_each_request_and_checks_its_answer_against_the_address_it_came_from() -> None:
    notes: list[JournalEntry] = []
    address = "http://fund.test/ws"
    plugin = MessageSigning(Signing(identity(GATEWAY), {address: trust(GATEWAY)}, journal=notes.append), lambda: NOW)

    request, _ = plugin.egress(envelope(), {}, Operation(), {"address": address})
    sent = check(received(etree.tostring(request)), trust(GATEWAY), relates_to=None, now=NOW)
    answer, _ = signed(relates_to=sent.message_id)
    plugin.ingress(received(answer), {}, Operation())
    forged, _ = signed(identity(STRANGER), relates_to=sent.message_id)
    with pytest.raises(SignatureRefused):
        plugin.ingress(received(forged), {}, Operation())

    assert [(note.direction, note.outcome) for note in notes] == [
        ("sent", "signed"),
        ("received", "verified"),
        ("received", "refused"),
    ]
    assert {note.message_id for note in notes} == {"status-0001"}
    assert notes[0].signature == sent.signature and notes[0].wsa_message_id == sent.message_id
    assert notes[1].relates_to == sent.message_id and notes[1].fingerprint
    assert notes[2].signature is None and notes[2].reason and SIGNER_UNTRUSTED in notes[2].reason


def test_an_answer_from_an_address_with_no_trusted_certificate_is_refused() -> None:
    plugin = MessageSigning(Signing(identity(GATEWAY), {}), lambda: NOW)
    request, _ = plugin.egress(envelope(), {}, Operation(), {"address": "http://elsewhere.test/ws"})
    message_id = request.findtext(f"{HEADER}/{{{WSA}}}MessageID")
    with pytest.raises(SignatureRefused) as caught:
        plugin.ingress(received(signed(relates_to=message_id)[0]), {}, Operation())
    assert caught.value.code == SIGNER_UNTRUSTED


def test_an_id_borne_by_two_elements_is_refused_even_beside_an_untouched_body() -> None:
    # The copy changes nothing a reader would read, but a reference that resolves to two elements is no reference.
    root = received(signed()[0])
    header, body = root.find(HEADER), root.find(BODY)
    assert header is not None and body is not None
    etree.SubElement(header, "{urn:attacker}Copy").append(copy.deepcopy(body))
    assert refused(etree.tostring(root)).code == SIGNATURE_INVALID


def test_an_insurer_answering_for_another_insurers_address_is_not_believed_and_is_logged_as_such(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One client serves every insurer: each address trusts its own insurer's certificate only.
    ours, theirs = "http://insurer-77001.test/ws", "http://insurer-77002.test/ws"
    stores = {ours: trust("insurers-77001"), theirs: trust("insurers-77002")}
    plugin = MessageSigning(Signing(identity(GATEWAY), stores), lambda: NOW)
    request, _ = plugin.egress(envelope(), {}, Operation(), {"address": ours})
    message_id = request.findtext(f"{HEADER}/{{{WSA}}}MessageID")

    with caplog.at_level(logging.WARNING, logger="epolicy.soap"), pytest.raises(SignatureRefused) as caught:
        plugin.ingress(received(signed(identity("insurers-77002"), relates_to=message_id)[0]), {}, Operation())

    assert caught.value.code == SIGNER_UNTRUSTED
    logged = caplog.text
    assert "not read" in logged and "CN=insurers-77002" in logged and ours in logged
    assert "7754900882000015" not in logged  # the request's ЕНП: no personal data in the line
    plugin.ingress(received(signed(identity("insurers-77001"), relates_to=message_id)[0]), {}, Operation())
