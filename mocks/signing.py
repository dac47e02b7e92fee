"""The signing profile of contracts/signing/README.md, as the mocks speak it: sign every answer, check every request.

WS-Security 1.1 with a `BinarySecurityToken`, XML Signature with exclusive canonicalization (signxml, detached
references by `wsu:Id`) and WS-Addressing message ids. The receiver's checks run in the profile's order, and each
reference must resolve to exactly one element at its place, which is what defeats signature wrapping.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSA = "http://www.w3.org/2005/08/addressing"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
NAMESPACES = {"soap": SOAP_ENV, "wsse": WSSE, "wsu": WSU, "wsa": WSA, "ds": DS}

ECDSA_SHA256 = "ecdsa-sha256"
RSA_SHA256 = "rsa-sha256"
ALGORITHMS = {ECDSA_SHA256: SignatureMethod.ECDSA_SHA256, RSA_SHA256: SignatureMethod.RSA_SHA256}
WINDOW_SECONDS = 300
SKEW_SECONDS = 60
CERTIFICATE_DAYS = 3650
MAX_MESSAGE_ID = 200  # a wsa:MessageID is a urn:uuid; anything much longer is no id of this profile

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
Element = etree._Element


def _q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


# --- refusals ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One row of the profile's table: the SOAP faultcode (in the wsse namespace) and the c:TechnicalFault code."""

    faultcode: str  # local name in the wsse namespace
    code: str


SECURITY_MISSING = Refusal("InvalidSecurity", "SECURITY_MISSING")
SIGNER_UNTRUSTED = Refusal("InvalidSecurityToken", "SIGNER_UNTRUSTED")
SIGNATURE_INVALID = Refusal("FailedCheck", "SIGNATURE_INVALID")
MESSAGE_EXPIRED = Refusal("MessageExpired", "MESSAGE_EXPIRED")


class SecurityError(Exception):
    """A message refused by the profile's checks: `refusal` says how to answer, `message` why (in Russian)."""

    def __init__(self, refusal: Refusal, message: str, message_id: str | None = None):
        super().__init__(f"{refusal.code}: {message}")
        self.refusal = refusal
        self.message = message
        self.message_id = message_id  # the refused message's wsa:MessageID, when it has a readable one


@dataclass(frozen=True)
class Verified:
    """Who signed a message that passed every check, and its wsa:MessageID (for the answer's wsa:RelatesTo)."""

    subject: str | None  # the certificate's subject CN
    fingerprint: str  # SHA-256 of the certificate's DER, hex
    message_id: str


# --- keys and certificates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A private key and the certificate that goes with it in every message it signs."""

    key: PrivateKey
    certificate: x509.Certificate

    @property
    def algorithm(self) -> str:
        """The profile's name of the signature method of this key."""
        return RSA_SHA256 if isinstance(self.key, rsa.RSAPrivateKey) else ECDSA_SHA256

    @property
    def certificate_pem(self) -> str:
        """The certificate in PEM, as a trust store takes it."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def generate_key(common_name: str, algorithm: str = ECDSA_SHA256) -> SigningKey:
    """A new key (ECDSA P-256, or RSA 2048 bits) with a self-signed certificate naming `common_name`."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown signing algorithm {algorithm!r}: write one of {', '.join(ALGORITHMS)}")
    key: PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == RSA_SHA256
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key, certificate)


def ensure_key(folder: Path, name: str, algorithm: str = ECDSA_SHA256) -> SigningKey:
    """The key `<folder>/<name>.key` (PKCS8 PEM, mode 0600) and its certificate `<name>.pem`, made when missing."""
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.pem"
    if key_path.exists() and cert_path.exists():
        return load_key(key_path, cert_path)
    folder.mkdir(parents=True, exist_ok=True)
    made = generate_key(name, algorithm)
    pem = made.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written under a temporary name and renamed, so that no reader ever sees half a key or a key without its cert.
    partial = folder / f".{name}.{secrets.token_hex(4)}.key"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    cert_partial = folder / f".{name}.{secrets.token_hex(4)}.pem"
    cert_partial.write_text(made.certificate_pem)
    os.replace(partial, key_path)
    os.replace(cert_partial, cert_path)
    return made


def load_key(key_path: Path, cert_path: Path) -> SigningKey:
    """A key and its certificate from their PEM files."""
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"{key_path}: only ECDSA and RSA keys sign in this profile")
    return SigningKey(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))


def load_certificates(source: str | Path | Iterable[str | Path] | None) -> list[x509.Certificate]:
    """Certificates from PEM text (one or more), a file, a comma-separated list of files, or a list of these."""
    if source is None:
        return []
    if isinstance(source, Path):
        return x509.load_pem_x509_certificates(source.read_bytes())
    if isinstance(source, str):
        if "-----BEGIN" in source:
            return x509.load_pem_x509_certificates(source.encode())
        paths = [part.strip() for part in source.split(",") if part.strip()]
        return [cert for path in paths for cert in x509.load_pem_x509_certificates(Path(path).read_bytes())]
    return [cert for item in source for cert in load_certificates(item)]


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, in hex."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def _common_name(certificate: x509.Certificate) -> str | None:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _algorithm_of(certificate: x509.Certificate) -> str | None:
    """The signature method the certificate's key signs with in this profile, None for a key it does not take."""
    public = certificate.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        return ECDSA_SHA256
    if isinstance(public, rsa.RSAPublicKey) and public.key_size >= 2048:
        return RSA_SHA256
    return None


# --- signing -----------------------------------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_message_id() -> str:
    """A new wsa:MessageID: `urn:uuid:` and a random UUID."""
    return f"urn:uuid:{uuid.uuid4()}"


def sign(
    envelope: Element,
    signing_key: SigningKey,
    *,
    relates_to: str | None = None,
    created: datetime | None = None,
    lifetime: int = WINDOW_SECONDS,
    message_id: str | None = None,
) -> str:
    """Sign a SOAP envelope in place (Header with wsa:MessageID, wsa:RelatesTo when given, and wsse:Security);
    return its wsa:MessageID. `created` backdates the timestamp (to make a stale message)."""
    body = envelope.find(_q(SOAP_ENV, "Body"))
    if envelope.tag != _q(SOAP_ENV, "Envelope") or body is None:
        raise ValueError("only a soap:Envelope with a soap:Body is signed")
    header = envelope.find(_q(SOAP_ENV, "Header"))
    if header is None:
        header = etree.Element(_q(SOAP_ENV, "Header"), nsmap={"wsa": WSA, "wsse": WSSE, "wsu": WSU})
        body.addprevious(header)
    ids = {role: f"{role}-{secrets.token_hex(8)}" for role in ("body", "mid", "rel", "ts", "x509")}
    body.set(_q(WSU, "Id"), ids["body"])
    message_id = message_id or new_message_id()
    mid = etree.SubElement(header, _q(WSA, "MessageID"), {_q(WSU, "Id"): ids["mid"]})
    mid.text = message_id
    references = [ids["body"], ids["ts"], ids["mid"]]
    if relates_to is not None:
        rel = etree.SubElement(header, _q(WSA, "RelatesTo"), {_q(WSU, "Id"): ids["rel"]})
        rel.text = relates_to
        references.append(ids["rel"])
    security = etree.SubElement(header, _q(WSSE, "Security"), {_q(SOAP_ENV, "mustUnderstand"): "1"})
    stamp = etree.SubElement(security, _q(WSU, "Timestamp"), {_q(WSU, "Id"): ids["ts"]})
    created = created or datetime.now(UTC)
    etree.SubElement(stamp, _q(WSU, "Created")).text = _utc(created)
    etree.SubElement(stamp, _q(WSU, "Expires")).text = _utc(created + timedelta(seconds=lifetime))
    der = signing_key.certificate.public_bytes(serialization.Encoding.DER)
    token = etree.SubElement(
        security,
        _q(WSSE, "BinarySecurityToken"),
        {_q(WSU, "Id"): ids["x509"], "EncodingType": BASE64_BINARY, "ValueType": X509V3},
    )
    token.text = base64.b64encode(der).decode()
    signer = XMLSigner(
        method=methods.detached,
        signature_algorithm=ALGORITHMS[signing_key.algorithm],
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=EXC_C14N,
    )
    signer.namespaces = {"ds": DS}
    signature = signer.sign(
        envelope,
        key=signing_key.key,
        reference_uri=[f"#{ref}" for ref in references],
        key_info=_token_reference(ids["x509"]),
        id_attribute="Id",
    )
    security.append(signature)
    return message_id


def _token_reference(token_id: str) -> Element:
    key_info = etree.Element(_q(DS, "KeyInfo"), nsmap={"ds": DS})
    reference = etree.SubElement(key_info, _q(WSSE, "SecurityTokenReference"), nsmap={"wsse": WSSE})
    etree.SubElement(reference, _q(WSSE, "Reference"), URI=f"#{token_id}", ValueType=X509V3)
    return key_info


# --- verifying ---------------------------------------------------------------------------------------------------


class ReplayCache:
    """The wsa:MessageIDs seen within the window, each forgotten once a message carrying it would be too old anyway."""

    def __init__(self, keep_seconds: float):
        self._keep = keep_seconds
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, message_id: str) -> bool:
        """Remember the id; False when it was already seen within the window."""
        now = time.monotonic()
        with self._lock:
            self._seen = {seen: at for seen, at in self._seen.items() if now - at < self._keep}
            if message_id in self._seen:
                return False
            self._seen[message_id] = now
            return True


class Verifier:
    """The receiver's checks of the profile, in its order, against a set of pinned certificates."""

    def __init__(
        self,
        trusted: Iterable[x509.Certificate],
        window: int = WINDOW_SECONDS,
        skew: int = SKEW_SECONDS,
        replays: ReplayCache | None = None,
    ):
        self.trusted = {cert.public_bytes(serialization.Encoding.DER) for cert in trusted}
        self.window = window
        self.skew = skew
        self.replays = replays

    def verify(self, envelope: Element, *, relates_to: str | None = None, now: datetime | None = None) -> Verified:
        """Check a signed envelope; raise SecurityError with the profile's refusal at the first check that fails.

        `relates_to`: in an answer, the wsa:MessageID of the request sent, which its wsa:RelatesTo must be.
        """
        parts = _Parts.find(envelope)
        message_id = _readable_id(parts.message_ids)
        try:
            certificate = self._trusted_token(parts)
            self._check_signature(envelope, parts, certificate)
            self._check_timestamp(parts, now or datetime.now(UTC))
            if relates_to is not None and (len(parts.relates_to) != 1 or _text(parts.relates_to[0]) != relates_to):
                raise SecurityError(SIGNATURE_INVALID, "wsa:RelatesTo не совпадает с wsa:MessageID запроса.")
            assert message_id is not None  # _Parts.find saw it and _check_signature saw it signed, alone in place
            if self.replays is not None and not self.replays.first_time(message_id):
                raise SecurityError(SIGNATURE_INVALID, "Сообщение с этим wsa:MessageID уже было получено (повтор).")
        except SecurityError as error:
            error.message_id = message_id
            raise
        return Verified(_common_name(certificate), fingerprint(certificate), message_id)

    def _trusted_token(self, parts: _Parts) -> x509.Certificate:
        token = parts.tokens[0]
        try:
            der = base64.b64decode(_text(token), validate=True)
            certificate = x509.load_der_x509_certificate(der)
        except (binascii.Error, ValueError):
            raise SecurityError(SIGNER_UNTRUSTED, "wsse:BinarySecurityToken не содержит сертификата X.509.") from None
        if token.get("ValueType") != X509V3 or der not in self.trusted:
            raise SecurityError(SIGNER_UNTRUSTED, "Сертификат подписи не входит в число доверенных.")
        return certificate

    def _check_signature(self, envelope: Element, parts: _Parts, certificate: x509.Certificate) -> None:
        invalid = SIGNATURE_INVALID
        children = [child for child in envelope if isinstance(child.tag, str)]
        if [child.tag for child in children] != [_q(SOAP_ENV, "Header"), _q(SOAP_ENV, "Body")]:
            raise SecurityError(invalid, "В конверте должны быть ровно soap:Header и за ним soap:Body.")
        if any(len(found) != 1 for found in (parts.securities, parts.signatures, parts.stamps, parts.tokens)):
            raise SecurityError(invalid, "Заголовок wsse:Security и его элементы должны быть в единственном числе.")
        if len(parts.message_ids) != 1 or len(parts.relates_to) > 1:
            raise SecurityError(invalid, "wsa:MessageID и wsa:RelatesTo должны быть в единственном числе.")
        signature = parts.signatures[0]
        signed_info = signature.find(_q(DS, "SignedInfo"))
        if signed_info is None:
            raise SecurityError(invalid, "В подписи нет ds:SignedInfo.")
        c14n = signed_info.find(_q(DS, "CanonicalizationMethod"))
        if c14n is None or c14n.get("Algorithm") != EXC_C14N or len(c14n):
            raise SecurityError(invalid, "ds:SignedInfo должен приводиться исключающей канонизацией (exc-c14n).")
        expected_algorithm = _algorithm_of(certificate)
        method = signed_info.find(_q(DS, "SignatureMethod"))
        if expected_algorithm is None or method is None:
            raise SecurityError(invalid, "Ключ сертификата не годится для подписи: нужен ECDSA P-256 или RSA 2048+.")
        if method.get("Algorithm") != ALGORITHMS[expected_algorithm].value:
            raise SecurityError(invalid, "Алгоритм подписи не соответствует ключу сертификата.")
        self._check_key_info(signature, parts)
        self._check_references(envelope, signed_info, parts)
        config = SignatureConfiguration(
            location=f"./{_q(SOAP_ENV, 'Header')}/{_q(WSSE, 'Security')}/",
            expect_references=len(signed_info.findall(_q(DS, "Reference"))),
            signature_methods=frozenset({ALGORITHMS[expected_algorithm]}),
            digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        )
        try:
            XMLVerifier().verify(envelope, x509_cert=certificate, id_attribute="Id", expect_config=config)
        except (SignXMLException, CryptoInvalidSignature, ValueError) as error:
            raise SecurityError(invalid, f"Подпись или хэш не сходятся: {type(error).__name__}.") from None

    def _check_key_info(self, signature: Element, parts: _Parts) -> None:
        path = f"{_q(DS, 'KeyInfo')}/{_q(WSSE, 'SecurityTokenReference')}/{_q(WSSE, 'Reference')}"
        references = signature.findall(path)
        token_id = parts.tokens[0].get(_q(WSU, "Id"))
        if len(references) != 1 or token_id is None or references[0].get("URI") != f"#{token_id}":
            raise SecurityError(SIGNATURE_INVALID, "ds:KeyInfo должен ссылаться на wsse:BinarySecurityToken сообщения.")

    def _check_references(self, envelope: Element, signed_info: Element, parts: _Parts) -> None:
        invalid = SIGNATURE_INVALID
        expected = [parts.body, parts.stamps[0], parts.message_ids[0], *parts.relates_to]
        resolved: list[Element] = []
        for reference in signed_info.findall(_q(DS, "Reference")):
            uri = reference.get("URI") or ""
            transforms = reference.findall(f"{_q(DS, 'Transforms')}/{_q(DS, 'Transform')}")
            if len(transforms) != 1 or transforms[0].get("Algorithm") != EXC_C14N or len(transforms[0]):
                raise SecurityError(invalid, f"Ссылка {uri}: допустимо одно преобразование, exc-c14n.")
            digest = reference.find(_q(DS, "DigestMethod"))
            if digest is None or digest.get("Algorithm") != SHA256:
                raise SecurityError(invalid, f"Ссылка {uri}: хэш должен быть SHA-256.")
            if not uri.startswith("#"):
                raise SecurityError(invalid, f"Ссылка {uri}: допустимы только ссылки на wsu:Id сообщения.")
            # The same lookup signxml makes (any attribute named Id): the element it digests is the one found here.
            found = envelope.xpath("//*[@*[local-name()='Id']=$id]", id=uri[1:])
            if not isinstance(found, list) or len(found) != 1:
                raise SecurityError(invalid, f"Ссылка {uri} должна указывать ровно на один элемент.")
            resolved.append(found[0])  # type: ignore[arg-type]
        if len(resolved) != len(expected) or any(not any(el is want for el in resolved) for want in expected):
            raise SecurityError(
                invalid,
                "Подписаны должны быть ровно soap:Body, wsu:Timestamp, wsa:MessageID (и wsa:RelatesTo) "
                "на своих местах.",
            )

    def _check_timestamp(self, parts: _Parts, now: datetime) -> None:
        stamp = parts.stamps[0]
        created = _instant(stamp.find(_q(WSU, "Created")))
        expires = _instant(stamp.find(_q(WSU, "Expires")))
        if created is None or expires is None:
            raise SecurityError(MESSAGE_EXPIRED, "В wsu:Timestamp нет читаемых Created и Expires (UTC, с Z).")
        skew = timedelta(seconds=self.skew)
        if created > now + skew:
            raise SecurityError(MESSAGE_EXPIRED, "Время создания сообщения (wsu:Created) ещё не наступило.")
        if expires < now - skew or created < now - timedelta(seconds=self.window) - skew:
            raise SecurityError(MESSAGE_EXPIRED, "Срок действия сообщения (wsu:Timestamp) истёк.")


@dataclass
class _Parts:
    """The elements of the profile at their places (lists: a place may hold none, one or, wrongly, several)."""

    body: Element
    securities: list[Element]
    signatures: list[Element]
    stamps: list[Element]
    tokens: list[Element]
    message_ids: list[Element]
    relates_to: list[Element]

    @classmethod
    def find(cls, envelope: Element) -> _Parts:
        """Find them, refusing as SECURITY_MISSING a message that lacks one."""
        missing = SECURITY_MISSING
        if envelope.tag != _q(SOAP_ENV, "Envelope"):
            raise SecurityError(missing, "Ожидался конверт SOAP 1.1 (soap:Envelope).")
        headers = envelope.findall(_q(SOAP_ENV, "Header"))
        bodies = envelope.findall(_q(SOAP_ENV, "Body"))
        if not headers or not bodies:
            raise SecurityError(missing, "В конверте нет soap:Header с подписью или нет soap:Body.")
        header = headers[0]
        message_ids = header.findall(_q(WSA, "MessageID"))
        securities = header.findall(_q(WSSE, "Security"))
        security = securities[0] if securities else None
        if security is None:
            message = "Сообщение не подписано: нет заголовка wsse:Security."
            raise SecurityError(missing, message, _readable_id(message_ids))
        parts = cls(
            body=bodies[0],
            securities=securities,
            signatures=security.findall(_q(DS, "Signature")),
            stamps=security.findall(_q(WSU, "Timestamp")),
            tokens=security.findall(_q(WSSE, "BinarySecurityToken")),
            message_ids=message_ids,
            relates_to=header.findall(_q(WSA, "RelatesTo")),
        )
        if not (parts.signatures and parts.stamps and parts.tokens and parts.message_ids):
            raise SecurityError(
                missing,
                "В wsse:Security нужны ds:Signature, wsu:Timestamp и wsse:BinarySecurityToken, "
                "в заголовке — wsa:MessageID.",
                _readable_id(message_ids),
            )
        return parts


def _text(element: Element) -> str:
    return (element.text or "").strip()


def _readable_id(message_ids: list[Element]) -> str | None:
    # Echoed in the answer's wsa:RelatesTo: only a sensible one, and only when there is exactly one.
    if len(message_ids) != 1:
        return None
    value = _text(message_ids[0])
    return value if 0 < len(value) <= MAX_MESSAGE_ID and value.isprintable() else None


def _instant(element: Element | None) -> datetime | None:
    if element is None:
        return None
    value = _text(element)
    if not value.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        return None
