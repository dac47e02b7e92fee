"""The mocks and the signing profile (contracts/signing/README.md): requests checked first, answers signed."""

from __future__ import annotations

import base64
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from cryptography import x509
from flask.testing import FlaskClient
from lxml import etree

import contracts
from mocks import signing
from mocks.app import create_app
from mocks.commands import development_keys, signing_settings
from tests.mocks.conftest import sign_request, trusting_app

SAMPLES = contracts.path("samples")
SOAP = signing.SOAP_ENV
COMMON = "urn:epolicy:common:v1"
REGISTER = (SAMPLES / "fund" / "RegisterPolicy.request.xml").read_bytes()
LIST_INSURERS = (SAMPLES / "fund" / "ListInsurers.request.xml").read_bytes()


class Answer:
    """An answer of the mocks, parsed as it came."""

    def __init__(self, status: int, body: bytes):
        self.status = status
        self.root = etree.fromstring(body)

    @property
    def payload(self) -> etree._Element:
        body = self.root.find(f"{{{SOAP}}}Body")
        assert body is not None
        return body[0]

    @property
    def refusal(self) -> tuple[str | None, str | None]:
        """The faultcode and the c:TechnicalFault code of a refusal."""
        return self.payload.findtext("faultcode"), self.payload.findtext(
            f"detail/{{{COMMON}}}TechnicalFault/{{{COMMON}}}Code"
        )

    def message_id(self, tag: str) -> str | None:
        return self.root.findtext(f"{{{SOAP}}}Header/{{{signing.WSA}}}{tag}")


def raw_post(client: FlaskClient, path: str, data: bytes) -> Answer:
    # The Flask client of conftest signs unsigned envelopes: an already signed one, or non-XML, goes as it is.
    answer = client.post(path, data=data, content_type="text/xml; charset=utf-8")
    return Answer(answer.status_code, answer.data)


@pytest.fixture
def plain(client: FlaskClient) -> FlaskClient:
    """The same app's test client, signing nothing."""
    client.signing_key = None  # type: ignore[attr-defined]
    return client


def target_verifier(client: FlaskClient, target: str) -> signing.Verifier:
    pem = client.get("/mock/certificates").get_json()[target]
    return signing.Verifier(x509.load_pem_x509_certificates(pem.encode()))


def registrations(client: FlaskClient) -> int:
    count: int = client.get("/mock/stats").get_json()["registrations"]
    return count


def calls(client: FlaskClient) -> dict[str, int]:
    found: dict[str, int] = client.get("/mock/stats").get_json()["calls"].get("fund", {})
    return found


# --- answered and signed -------------------------------------------------------------------------------------------


def test_a_signed_request_is_answered_signed_by_its_target_relating_to_the_request(
    plain: FlaskClient, client_key: signing.SigningKey
) -> None:
    request = sign_request(LIST_INSURERS, client_key)
    request_id = etree.fromstring(request).findtext(f"{{{SOAP}}}Header/{{{signing.WSA}}}MessageID")
    answer = raw_post(plain, "/fund", request)
    assert answer.status == 200
    assert etree.QName(answer.payload).localname == "ListInsurersResponse"
    verified = target_verifier(plain, "fund").verify(answer.root, relates_to=request_id)
    assert verified.subject == "fund"
    assert answer.message_id("RelatesTo") == request_id


@pytest.mark.parametrize("target", ["insurers/77001", "kz/fund"])
def test_every_target_has_a_key_of_its_own(plain: FlaskClient, target: str) -> None:
    certificates = plain.get("/mock/certificates").get_json()
    assert set(certificates) >= {"fund", "kz/fund", "insurers/77001", "insurers/77002", "insurers/50001"}
    assert certificates[target] != certificates["fund"]
    assert x509.load_pem_x509_certificate(certificates[target].encode()).subject.rfc4514_string() == (
        f"CN={target.replace('/', '-')}"
    )


def test_a_business_fault_is_signed_too(client: FlaskClient) -> None:
    sample = (SAMPLES / "fund" / "BusinessFault.request.xml").read_bytes()
    answer = raw_post(client, "/fund", sample)
    assert answer.status == 500
    assert answer.payload.find(f"detail/{{{COMMON}}}BusinessFault") is not None
    target_verifier(client, "fund").verify(answer.root)


def test_keys_are_made_once_in_the_keys_folder_and_kept(tmp_path: Path, client_cert: Path) -> None:
    first = trusting_app(client_cert, SIGNING_KEYS=str(tmp_path)).test_client().get("/mock/certificates").get_json()
    assert (tmp_path / "fund.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "insurers-77001.pem").is_file() and (tmp_path / "kz-fund.pem").is_file()
    again = trusting_app(client_cert, SIGNING_KEYS=str(tmp_path)).test_client().get("/mock/certificates").get_json()
    assert again == first


def test_rsa_keys_sign_with_rsa_sha256(tmp_path: Path, client_cert: Path) -> None:
    app = trusting_app(client_cert, SIGNING_KEYS=str(tmp_path), SIGNING_ALGORITHM="rsa-sha256")
    pem = app.test_client().get("/mock/certificates").get_json()["fund"]
    assert x509.load_pem_x509_certificate(pem.encode()).public_key().key_size == 2048  # type: ignore[union-attr]


# --- refused before it is read -----------------------------------------------------------------------------------


def test_an_unsigned_request_is_refused_and_not_carried_out(plain: FlaskClient) -> None:
    answer = raw_post(plain, "/fund", REGISTER)
    assert answer.status == 500
    assert answer.refusal == ("wsse:InvalidSecurity", "SECURITY_MISSING")
    assert registrations(plain) == 0
    assert calls(plain) == {"?": 1}, "a refused request is counted, under no operation: it was not read"
    target_verifier(plain, "fund").verify(answer.root)


def test_the_same_request_signed_is_carried_out(plain: FlaskClient, client_key: signing.SigningKey) -> None:
    answer = raw_post(plain, "/fund", sign_request(REGISTER, client_key))
    assert answer.status == 200, etree.tostring(answer.payload)
    assert registrations(plain) == 1


def test_a_request_signed_by_an_untrusted_key_is_refused(plain: FlaskClient) -> None:
    stranger = signing.generate_key("stranger")
    answer = raw_post(plain, "/fund", sign_request(REGISTER, stranger))
    assert answer.refusal == ("wsse:InvalidSecurityToken", "SIGNER_UNTRUSTED")
    assert registrations(plain) == 0
    assert answer.message_id("RelatesTo") is not None, "the refusal relates to the refused request"


def test_the_mocks_trust_nobody_when_told_no_certificate(client_key: signing.SigningKey) -> None:
    answer = raw_post(create_app({"TESTING": True}).test_client(), "/fund", sign_request(LIST_INSURERS, client_key))
    assert answer.refusal == ("wsse:InvalidSecurityToken", "SIGNER_UNTRUSTED")


def test_a_body_changed_after_signing_is_refused(plain: FlaskClient, client_key: signing.SigningKey) -> None:
    signed = etree.fromstring(sign_request(REGISTER, client_key))
    region = signed.find(".//{urn:epolicy:fund:v1}RegionCode")
    assert region is not None
    region.text = "50"
    answer = raw_post(plain, "/fund", etree.tostring(signed))
    assert answer.refusal == ("wsse:FailedCheck", "SIGNATURE_INVALID")
    assert registrations(plain) == 0


def test_a_signed_body_moved_into_a_header_and_replaced_is_refused(
    plain: FlaskClient, client_key: signing.SigningKey
) -> None:
    signed = etree.fromstring(sign_request(LIST_INSURERS, client_key))
    header, body = signed
    wrapper = etree.SubElement(header, "{urn:attacker}Wrapper")
    wrapper.append(body)  # the signed body, its wsu:Id and all, now in a header
    forged = etree.SubElement(signed, f"{{{SOAP}}}Body")
    forged.append(etree.fromstring(REGISTER).find(f"{{{SOAP}}}Body")[0])  # type: ignore[index]
    answer = raw_post(plain, "/fund", etree.tostring(signed))
    assert answer.refusal == ("wsse:FailedCheck", "SIGNATURE_INVALID")
    assert registrations(plain) == 0


def test_a_second_body_with_the_signed_bodys_id_is_refused(plain: FlaskClient, client_key: signing.SigningKey) -> None:
    signed = etree.fromstring(sign_request(LIST_INSURERS, client_key))
    body = signed[1]
    forged = etree.Element(f"{{{SOAP}}}Body", {f"{{{signing.WSU}}}Id": body.get(f"{{{signing.WSU}}}Id") or ""})
    forged.append(etree.fromstring(REGISTER).find(f"{{{SOAP}}}Body")[0])  # type: ignore[index]
    body.addprevious(forged)  # Header, the forged body read first, then the signed one
    answer = raw_post(plain, "/fund", etree.tostring(signed))
    assert answer.refusal == ("wsse:FailedCheck", "SIGNATURE_INVALID")
    assert registrations(plain) == 0


def test_a_stale_timestamp_is_refused(plain: FlaskClient, client_key: signing.SigningKey) -> None:
    old = datetime.now(UTC) - timedelta(minutes=10)
    answer = raw_post(plain, "/fund", sign_request(REGISTER, client_key, created=old))
    assert answer.refusal == ("wsse:MessageExpired", "MESSAGE_EXPIRED")
    assert registrations(plain) == 0


def test_a_replayed_message_id_is_refused(plain: FlaskClient, client_key: signing.SigningKey) -> None:
    request = sign_request(LIST_INSURERS, client_key)
    assert raw_post(plain, "/fund", request).status == 200
    assert raw_post(plain, "/fund", request).refusal == ("wsse:FailedCheck", "SIGNATURE_INVALID")


def test_non_xml_is_still_refused_as_a_schema_violation_signed(plain: FlaskClient) -> None:
    answer = raw_post(plain, "/fund", b"not xml")
    assert answer.payload.findtext(f"detail/{{{COMMON}}}BusinessFault/{{{COMMON}}}Code") == "SCHEMA_VIOLATION"
    target_verifier(plain, "fund").verify(answer.root)


# --- answers spoiled on purpose -------------------------------------------------------------------------------


def spoiled(client: FlaskClient, fault: str) -> tuple[Answer, signing.Verifier]:
    rule = {"target": "fund", "operation": "RegisterPolicy", "fault": fault, "count": 1}
    assert client.post("/mock/faults", json=rule).status_code == 201
    answer = raw_post(client, "/fund", REGISTER)
    assert answer.status == 200, "the operation is carried out as always"
    assert registrations(client) == 1
    return answer, target_verifier(client, "fund")


def refused_as(verifier: signing.Verifier, answer: Answer) -> str:
    with pytest.raises(signing.SecurityError) as refused:
        verifier.verify(answer.root)
    return refused.value.refusal.code


def test_bad_signature_answers_a_body_that_fails_its_digest(client: FlaskClient) -> None:
    answer, verifier = spoiled(client, "bad_signature")
    with pytest.raises(signing.SecurityError, match="InvalidDigest"):
        verifier.verify(answer.root)


def test_unsigned_answers_without_a_security_header(client: FlaskClient) -> None:
    answer, verifier = spoiled(client, "unsigned")
    assert answer.root.find(f".//{{{signing.WSSE}}}Security") is None
    assert refused_as(verifier, answer) == "SECURITY_MISSING"


def test_untrusted_signer_signs_with_a_key_that_is_not_the_targets(client: FlaskClient) -> None:
    answer, verifier = spoiled(client, "untrusted_signer")
    token = answer.root.findtext(f".//{{{signing.WSSE}}}BinarySecurityToken")
    assert token is not None
    fund = client.get("/mock/certificates").get_json()["fund"]
    assert x509.load_der_x509_certificate(base64.b64decode(token)) != x509.load_pem_x509_certificate(fund.encode())
    assert refused_as(verifier, answer) == "SIGNER_UNTRUSTED"


def test_stale_timestamp_signs_with_a_created_an_hour_ago(client: FlaskClient) -> None:
    answer, verifier = spoiled(client, "stale_timestamp")
    created = answer.root.findtext(f".//{{{signing.WSU}}}Created")
    assert created is not None
    age = datetime.now(UTC) - datetime.fromisoformat(created.replace("Z", "+00:00"))
    assert timedelta(minutes=59) < age < timedelta(minutes=61)
    assert refused_as(verifier, answer) == "MESSAGE_EXPIRED"


def test_an_injected_technical_fault_is_signed(client: FlaskClient) -> None:
    rule = {"target": "fund", "operation": "*", "fault": "technical_fault", "count": 1}
    assert client.post("/mock/faults", json=rule).status_code == 201
    answer = raw_post(client, "/fund", LIST_INSURERS)
    assert answer.payload.findtext(f"detail/{{{COMMON}}}TechnicalFault/{{{COMMON}}}Code") == "SERVICE_UNAVAILABLE"
    target_verifier(client, "fund").verify(answer.root)


# --- the local stack's keys -------------------------------------------------------------------------------------


def test_the_stack_reads_the_keys_folder_the_gateway_command_prints(tmp_path: Path) -> None:
    printed = development_keys([sys.executable, "-c", f"print({str(tmp_path)!r})"])
    assert printed == tmp_path


def test_the_stack_stops_with_what_the_gateway_command_said_when_it_fails() -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('no instance folder')"]
    with pytest.raises(click.ClickException, match="no instance folder"):
        development_keys(failing)


def test_the_stack_points_the_gateway_at_its_key_and_the_mocks_certificates_unless_the_user_set_one() -> None:
    keys = Path("/srv/keys")
    settings = signing_settings(keys, {})
    assert settings["EPOLICY_SIGNING_KEY"] == "/srv/keys/gateway.key"
    assert settings["EPOLICY_FUND_TRUSTED_CERTIFICATES"] == "/srv/keys/fund.pem"
    assert settings["EPOLICY_INSURER_TRUSTED_CERTIFICATES_TEMPLATE"] == "/srv/keys/insurers-{code}.pem"
    assert signing_settings(keys, {"EPOLICY_SIGNING_KEY": "/mine.key"}) == {}
