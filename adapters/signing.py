"""Every SOAP message signed, every answer checked before it is read: the profile of contracts/signing/README.md.

WS-Security 1.1 with a `BinarySecurityToken`, a `Timestamp` and WS-Addressing message ids in the header, and an
XML Signature (signxml) over the body, the timestamp and the ids. `sign` signs the envelope the codec built, in
place; `check` checks the envelope the codec parsed, in place: signxml's signer and verifier are given the tree
itself (`_InPlace`), where they would serialize and parse the whole message again for every reference.

`check` refuses, before anything of the message is read:
- a message without the header, the token, the timestamp or the message id (`SECURITY_MISSING`);
- a certificate that is not in the trust store of the back-end answering (`SIGNER_UNTRUSTED`);
- a signature that does not verify, a method that is not the one of the certificate's key, a reference to anything
  but the elements of the profile or a transform but exclusive canonicalization, and an answer that relates to
  another request (`SIGNATURE_INVALID`);
- a timestamp outside the window (`MESSAGE_EXPIRED`).
Each referenced element must be *the* element at its place (the envelope's `soap:Body`, the header's timestamp
and ids): a signed body moved aside and another put in its place (signature wrapping) is never read.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptographyInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from lxml import etree
from signxml import (  # type: ignore[attr-defined]
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, VerifyResult
from zeep import Plugin

from adapters.mapping import InvalidAnswer
from gateway.ports import JournalEntry

log = logging.getLogger("epolicy.soap")

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSA = "http://www.w3.org/2005/08/addressing"
DS = "http://www.w3.org/2000/09/xmldsig#"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
_EXC = EXC_C14N.value

_HEADER, _BODY = f"{{{SOAP_ENV}}}Header", f"{{{SOAP_ENV}}}Body"
_SECURITY, _TOKEN = f"{{{WSSE}}}Security", f"{{{WSSE}}}BinarySecurityToken"
_TIMESTAMP, _ID = f"{{{WSU}}}Timestamp", f"{{{WSU}}}Id"
_MESSAGE_ID, _RELATES_TO = f"{{{WSA}}}MessageID", f"{{{WSA}}}RelatesTo"
_SIGNATURE = f"{{{DS}}}Signature"
_SIGNED_INFO, _SIGNATURE_VALUE = f"{{{DS}}}SignedInfo", f"{{{DS}}}SignatureValue"
_C14N_METHOD, _SIGNATURE_METHOD = f"{{{DS}}}CanonicalizationMethod", f"{{{DS}}}SignatureMethod"
_REFERENCE, _TRANSFORMS, _TRANSFORM = f"{{{DS}}}Reference", f"{{{DS}}}Transforms", f"{{{DS}}}Transform"
_DIGEST_METHOD, _DIGEST_VALUE = f"{{{DS}}}DigestMethod", f"{{{DS}}}DigestValue"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_NSMAP = {"wsse": WSSE, "wsu": WSU, "wsa": WSA}

LIFETIME_SECONDS = 300  # Expires - Created of what is sent
WINDOW_SECONDS = 300.0  # how old a received timestamp may be
SKEW = timedelta(seconds=60)  # clocks of two machines differ

SECURITY_MISSING = "SECURITY_MISSING"
SIGNER_UNTRUSTED = "SIGNER_UNTRUSTED"
SIGNATURE_INVALID = "SIGNATURE_INVALID"
MESSAGE_EXPIRED = "MESSAGE_EXPIRED"


class SigningError(ValueError):
    """A key, certificate or trust store that cannot be used: found at start, with what to change."""


class SignatureRefused(InvalidAnswer):
    """A message whose signature, signer or timestamp does not hold: never read, a technical failure."""

    def __init__(self, code: str, detail: str, signer: str | None = None):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.signer = signer


def _ecdsa_sign(key: Any, data: bytes) -> bytes:
    # XML Signature wants r and s side by side, each as long as the curve's order (RFC 4050), not DER.
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _ecdsa_verify(key: Any, value: bytes, data: bytes) -> None:
    size = (key.curve.key_size + 7) // 8
    if len(value) != 2 * size:
        raise InvalidSignature("the ECDSA signature value is not of the curve's length")
    r, s = int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
    try:
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except CryptographyInvalidSignature:
        raise InvalidSignature("the signature value does not verify") from None


def _rsa_sign(key: Any, data: bytes) -> bytes:
    return bytes(key.sign(data, PKCS1v15(), hashes.SHA256()))


def _rsa_verify(key: Any, value: bytes, data: bytes) -> None:
    try:
        key.verify(value, data, PKCS1v15(), hashes.SHA256())
    except CryptographyInvalidSignature:
        raise InvalidSignature("the signature value does not verify") from None


@dataclass(frozen=True)
class Algorithm:
    """A signature algorithm: its name in the settings, signxml's method (its URI), the key type it signs with,
    and how a key of that type signs canonical bytes and a public key checks them.

    A GOST R 34.10-2012 deployment adds one here: the two URIs, and a provider's sign and verify for its key type
    (contracts/signing/README.md, GOST).
    """

    name: str
    method: SignatureMethod
    key_type: type
    sign: Callable[[Any, bytes], bytes]
    verify: Callable[[Any, bytes, bytes], None]  # raises InvalidSignature


ALGORITHMS = {
    "ecdsa-sha256": Algorithm(
        "ecdsa-sha256", SignatureMethod.ECDSA_SHA256, ec.EllipticCurvePublicKey, _ecdsa_sign, _ecdsa_verify
    ),
    "rsa-sha256": Algorithm("rsa-sha256", SignatureMethod.RSA_SHA256, rsa.RSAPublicKey, _rsa_sign, _rsa_verify),
}


def algorithm_of(certificate: x509.Certificate) -> Algorithm | None:
    """The algorithm a certificate's key signs with under the profile: P-256 ECDSA or RSA of 2048 bits and more."""
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ALGORITHMS["ecdsa-sha256"]
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return ALGORITHMS["rsa-sha256"]
    return None


@functools.lru_cache(maxsize=64)
def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint of a certificate, in hex: what names a signer without doubt."""
    return certificate.fingerprint(hashes.SHA256()).hex()


@functools.lru_cache(maxsize=64)
def subject(certificate: x509.Certificate) -> str:
    """The certificate's subject as RFC 4514 text: who a signer says it is."""
    return certificate.subject.rfc4514_string()


def _pem_or_file(value: str, what: str) -> bytes:
    """PEM text as it is, or the content of the file it names."""
    if "-----BEGIN" in value:
        return value.encode()
    try:
        return Path(value).read_bytes()
    except OSError as error:
        raise SigningError(f"{what} {value!r} can not be read: {error.strerror or error}") from None


@dataclass(frozen=True)
class Identity:
    """Who signs: a private key, its certificate and the algorithm of the key."""

    key: Any
    certificate: x509.Certificate
    algorithm: Algorithm

    @classmethod
    def load(cls, key: str, certificate: str, algorithm: str = "ecdsa-sha256") -> Identity:
        """The identity of a key and a certificate, each a PEM file or PEM text; checked to belong together."""
        chosen = ALGORITHMS.get(algorithm)
        if chosen is None:
            raise SigningError(f"no signature algorithm {algorithm!r}: choose one of {', '.join(ALGORITHMS)}")
        pem = _pem_or_file(key, "the signing key")
        try:
            private = load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise SigningError(f"the signing key is no unencrypted PEM private key: {error}") from None
        cert = load_certificates(_pem_or_file(certificate, "the signing certificate"), "the signing certificate")[0]
        if algorithm_of(cert) is not chosen:
            raise SigningError(f"the signing certificate's key is not of the algorithm {chosen.name}")
        if _public(private.public_key()) != _public(cert.public_key()):
            raise SigningError("the signing key does not belong to the signing certificate")
        return cls(private, cert, chosen)

    @functools.cached_property
    def token(self) -> str:
        """The certificate as the `BinarySecurityToken` carries it: DER in base64."""
        return base64.b64encode(self.certificate.public_bytes(Encoding.DER)).decode()


def _public(key: Any) -> bytes:
    return bytes(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    """Every certificate of PEM data; at least one."""
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise SigningError(f"{what} holds no PEM certificate")
    return certificates


class TrustStore:
    """The certificates trusted for one back-end, pinned: a signer is trusted when its certificate is one of them.

    More than one at a time, so that a back-end rotates its key without a moment in which the gateway trusts
    neither the old certificate nor the new.
    """

    def __init__(self, certificates: Sequence[x509.Certificate]):
        if not certificates:
            raise SigningError("a trust store needs at least one certificate")
        self._by_der = {certificate.public_bytes(Encoding.DER): certificate for certificate in certificates}

    @classmethod
    def load(cls, value: str, what: str = "the trusted certificates") -> TrustStore:
        """Certificates from PEM text (one or more), or from PEM files separated by commas."""
        if "-----BEGIN" in value:
            return cls(load_certificates(value.encode(), what))
        files = [item.strip() for item in value.split(",") if item.strip()]
        if not files:
            raise SigningError(f"{what} name no file")
        return cls([cert for name in files for cert in load_certificates(_pem_or_file(name, what), name)])

    @property
    def certificates(self) -> list[x509.Certificate]:
        return list(self._by_der.values())

    def find(self, der: bytes) -> x509.Certificate | None:
        """The trusted certificate equal to `der`, byte for byte, or None."""
        return self._by_der.get(der)


@dataclass(frozen=True)
class Seal:
    """What a message's signature says: its ids, its signature value and who signed it (the message journal's)."""

    message_id: str  # wsa:MessageID
    relates_to: str | None  # wsa:RelatesTo: the request an answer answers
    signature: str  # ds:SignatureValue, base64
    signer: str  # the certificate's subject
    fingerprint: str  # the certificate's SHA-256


class _InPlace:
    """signxml's processors working on the tree they are given rather than on a serialized and parsed copy.

    The references of the profile never hold the signature (no enveloped transform), so nothing needs copying,
    and exclusive canonicalization of an element does not depend on its ancestors' namespaces. A reference is
    resolved through an index of the tree's ids made in one pass (`_ids`), as signxml resolves it (an attribute
    whose local name is `Id`) and as strictly: an id borne by two elements resolves to none.
    """

    _ids: Mapping[str, etree._Element | None] = {}

    def get_root(self, data: Any) -> Any:
        return data

    def _c14n(self, nodes: Any, algorithm: CanonicalizationMethod, inclusive_ns_prefixes: Any = None) -> bytes:
        # signxml's own logs every canonical form at DEBUG, the body's with its personal data in clear: the same
        # canonicalization, never logged. The profile's is exclusive throughout (`check` refuses any other).
        return b"".join(
            etree.tostring(
                node,
                method="c14n",
                exclusive=algorithm.value.startswith(EXC_C14N.value),
                with_comments=algorithm.value.endswith("#WithComments"),
                inclusive_ns_prefixes=inclusive_ns_prefixes,
            )
            for node in (nodes if isinstance(nodes, list) else [nodes])
        )

    def index(self, root: etree._Element) -> None:
        self._ids = _ids(root)

    def _resolve_reference(self, doc_root: Any, reference: Any, uri_resolver: Any = None) -> Any:
        uri = str(reference.get("URI") or "")
        if not uri.startswith("#"):
            raise InvalidInput(f"reference {uri!r}: only same-document references by id belong to the profile")
        if uri[1:] not in self._ids:
            raise InvalidInput(f"unable to resolve reference URI {uri}")
        found = self._ids[uri[1:]]
        if found is None:
            raise InvalidInput(f"ambiguous reference URI {uri}: more than one element bears the id")
        return found


_BEARING_ID = etree.XPath("//*[@*[local-name() = 'Id']]")


def _ids(root: etree._Element) -> dict[str, etree._Element | None]:
    """Every element of the tree by its id (an attribute whose local name is `Id`); None for an id borne twice."""
    ids: dict[str, etree._Element | None] = {}
    found: Any = _BEARING_ID(root)
    for element in found:
        for name, value in element.attrib.items():
            if name == "Id" or str(name).endswith("}Id"):
                ids[str(value)] = None if value in ids else element  # twice: ambiguous
    return ids


class _Signer(_InPlace, XMLSigner):
    def _ds_tag(self, tag: str) -> str:
        return f"{{{DS}}}{tag}"  # signxml's builds a QName and looks at its namespace map for every element


class _Verifier(_InPlace, XMLVerifier):
    """signxml's verifier, each reference checked to be the element expected at its place, without copies."""

    def __init__(self, expected: Mapping[str, etree._Element]):
        super().__init__()
        self.expected = expected
        self.seen: set[str] = set()

    def _verify_reference(
        self,
        reference: etree._Element,
        index: int,
        root: etree._Element,
        uri_resolver: Any,
        c14n_algorithm: Any,
        signature: etree._Element,
        signature_key_used: Any,
    ) -> VerifyResult:
        uri = reference.get("URI") or ""
        transforms = reference.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
        if [transform.get("Algorithm") for transform in transforms] != [EXC_C14N.value]:
            raise InvalidInput(f"reference {uri}: only exclusive canonicalization may transform it")
        if uri in self.seen:
            raise InvalidInput(f"reference {uri} is signed twice")
        payload = self._resolve_reference(root, reference)
        if payload is not self.expected.get(uri):
            raise InvalidInput(f"reference {uri} is not an element of the profile at its place")
        self.seen.add(uri)
        digest_method = reference.find(f"{{{DS}}}DigestMethod")
        digest_value = reference.find(f"{{{DS}}}DigestValue")
        if digest_method is None or digest_value is None or digest_value.text is None:
            raise InvalidInput(f"reference {uri} has no digest")
        algorithm = DigestAlgorithm(digest_method.get("Algorithm"))
        self.check_digest_alg_expected(algorithm)  # type: ignore[no-untyped-call]
        canonical = self._c14n(payload, algorithm=EXC_C14N)
        if base64.b64decode(digest_value.text) != self._get_digest(canonical, algorithm):
            raise InvalidDigest(f"digest mismatch for reference {uri}")
        return VerifyResult(canonical, None, signature, signature_key=b"")


def _now() -> datetime:
    return datetime.now(UTC)


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


SignatureOf = Callable[[etree._Element, Identity, list[etree._Element], etree._Element], etree._Element]


def sign(
    envelope: etree._Element,
    identity: Identity,
    *,
    relates_to: str | None = None,
    now: datetime | None = None,
    lifetime: float = LIFETIME_SECONDS,
) -> Seal:
    """Sign a SOAP 1.1 envelope in place: the header of the profile, and a signature of its body, timestamp, ids.

    The signature is built for the profile's one shape (`_signature`); `reference_sign` builds it with signxml's
    signer, and tests/unit/test_signing.py holds each to the other's checks and to the mocks'.
    """
    return _sign(envelope, identity, relates_to, now or _now(), lifetime, _signature)


def reference_sign(
    envelope: etree._Element,
    identity: Identity,
    *,
    relates_to: str | None = None,
    now: datetime | None = None,
    lifetime: float = LIFETIME_SECONDS,
) -> Seal:
    """`sign`, the signature made by signxml's signer: the reference of the fast path."""
    return _sign(envelope, identity, relates_to, now or _now(), lifetime, _reference_signature)


def _sign(
    envelope: etree._Element,
    identity: Identity,
    relates_to: str | None,
    created: datetime,
    lifetime: float,
    signature_of: SignatureOf,
) -> Seal:
    body = envelope.find(_BODY)
    if body is None:
        raise ValueError("an envelope without soap:Body")
    header = envelope.find(_HEADER)
    if header is None:
        header = etree.Element(_HEADER, nsmap=_NSMAP)
        envelope.insert(0, header)
    message_id = f"urn:uuid:{uuid.uuid4()}"
    signed = [body, _child(header, _MESSAGE_ID, message_id)]
    if relates_to is not None:
        signed.append(_child(header, _RELATES_TO, relates_to))
    security = etree.SubElement(header, _SECURITY, nsmap=_NSMAP)
    security.set(f"{{{SOAP_ENV}}}mustUnderstand", "1")
    timestamp = etree.SubElement(security, _TIMESTAMP)
    etree.SubElement(timestamp, f"{{{WSU}}}Created").text = _instant(created)
    etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = _instant(created + timedelta(seconds=lifetime))
    signed.insert(1, timestamp)
    token = etree.SubElement(security, _TOKEN, EncodingType=BASE64, ValueType=X509V3)
    token.text = identity.token
    ids = _new_ids(len(signed) + 1)
    for element, identifier in zip([*signed, token], ids, strict=True):
        element.set(_ID, identifier)
    key_info = etree.Element(f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
    token_reference = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
    etree.SubElement(token_reference, f"{{{WSSE}}}Reference", URI=f"#{ids[-1]}", ValueType=X509V3)
    signature = signature_of(envelope, identity, signed, key_info)
    security.append(signature)
    return Seal(
        message_id,
        relates_to,
        signature.findtext(f"{{{DS}}}SignatureValue") or "",
        subject(identity.certificate),
        fingerprint(identity.certificate),
    )


def _signature(
    envelope: etree._Element, identity: Identity, signed: list[etree._Element], key_info: etree._Element
) -> etree._Element:
    """The profile's ds:Signature of the signed elements: a digest of each, SignedInfo signed, as signxml makes it."""
    signature = etree.Element(_SIGNATURE, nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, _SIGNED_INFO)
    etree.SubElement(signed_info, _C14N_METHOD, Algorithm=_EXC)
    etree.SubElement(signed_info, _SIGNATURE_METHOD, Algorithm=identity.algorithm.method.value)
    for element in signed:
        reference = etree.SubElement(signed_info, _REFERENCE, URI=f"#{element.get(_ID)}")
        etree.SubElement(etree.SubElement(reference, _TRANSFORMS), _TRANSFORM, Algorithm=_EXC)
        etree.SubElement(reference, _DIGEST_METHOD, Algorithm=_SHA256)
        etree.SubElement(reference, _DIGEST_VALUE).text = base64.b64encode(_digest(element)).decode()
    value = identity.algorithm.sign(identity.key, _canonical(signed_info))
    etree.SubElement(signature, _SIGNATURE_VALUE).text = base64.b64encode(value).decode()
    signature.append(key_info)
    return signature


def _reference_signature(
    envelope: etree._Element, identity: Identity, signed: list[etree._Element], key_info: etree._Element
) -> etree._Element:
    signer = _Signer(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=identity.algorithm.method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=EXC_C14N,
    )
    uris = [f"#{element.get(_ID)}" for element in signed]
    signer.index(envelope)
    result: etree._Element = signer.sign(
        envelope, key=identity.key, reference_uri=uris, key_info=key_info, id_attribute="Id"
    )
    return result


def _canonical(element: etree._Element) -> bytes:
    """Exclusive canonical XML 1.0 of an element, without comments: what every digest and SignedInfo are of."""
    return bytes(etree.tostring(element, method="c14n", exclusive=True, with_comments=False))


def _digest(element: etree._Element) -> bytes:
    return hashlib.sha256(_canonical(element)).digest()


def _child(header: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(header, tag, nsmap=_NSMAP)
    element.text = text
    return element


def _new_ids(count: int) -> list[str]:
    """Ids for the elements of one message, unique within it and across messages: one random draw for them all."""
    stem = secrets.token_hex(8)
    return [f"id-{stem}-{index}" for index in range(count)]


def check(
    envelope: etree._Element,
    trust: TrustStore,
    *,
    relates_to: str | None,
    now: datetime | None = None,
    window: float = WINDOW_SECONDS,
) -> Seal:
    """Check a received envelope in place by the profile; raise SignatureRefused, or return what its seal says.

    `relates_to`: the `wsa:MessageID` of the request this answers (None for a request). The signature is checked
    for the profile's one shape (`_verify`); `reference_check` checks it with signxml's verifier, and
    tests/unit/test_signing.py holds the two to the same verdicts.
    """
    return _check(envelope, trust, relates_to, now or _now(), window, _verify)


def reference_check(
    envelope: etree._Element,
    trust: TrustStore,
    *,
    relates_to: str | None,
    now: datetime | None = None,
    window: float = WINDOW_SECONDS,
) -> Seal:
    """`check`, the signature checked by signxml's verifier: the reference of the fast path."""
    return _check(envelope, trust, relates_to, now or _now(), window, _reference_verify)


Verify = Callable[[etree._Element, "_Parts", dict[str, etree._Element], x509.Certificate, Algorithm, datetime], None]


def _check(
    envelope: etree._Element,
    trust: TrustStore,
    relates_to: str | None,
    now: datetime,
    window: float,
    verify: Verify,
) -> Seal:
    parts = _parts(envelope, answer=relates_to is not None)
    der = _token(parts.token)
    certificate = trust.find(der)
    if certificate is None:
        shown = _describe(der)
        raise SignatureRefused(SIGNER_UNTRUSTED, f"signed by {shown}, which is not trusted here", shown)
    who = subject(certificate)
    algorithm = algorithm_of(certificate)
    if algorithm is None:
        raise SignatureRefused(SIGNER_UNTRUSTED, "the certificate's key is of no algorithm of the profile", who)
    expected = {f"#{element.get(_ID)}": element for element in parts.signed if element.get(_ID)}
    if len(expected) != len(parts.signed):
        raise SignatureRefused(SIGNATURE_INVALID, "an element of the profile has no wsu:Id", who)
    method = parts.signature.find(f"{_SIGNED_INFO}/{_C14N_METHOD}")
    if method is None or method.get("Algorithm") != _EXC or len(method):
        raise SignatureRefused(SIGNATURE_INVALID, "SignedInfo must be canonicalized exclusively", who)
    try:
        verify(envelope, parts, expected, certificate, algorithm, now)
    except InvalidCertificate as error:
        raise SignatureRefused(SIGNER_UNTRUSTED, f"the certificate can not be used: {error}", who) from None
    except (InvalidSignature, InvalidInput, InvalidDigest, ValueError) as error:
        raise SignatureRefused(SIGNATURE_INVALID, str(error), who) from None
    _check_time(parts.timestamp, now, window, who)
    message_id = (parts.message_id.text or "").strip()
    related = None if parts.relates_to is None else (parts.relates_to.text or "").strip()
    if relates_to is not None and related != relates_to:
        raise SignatureRefused(SIGNATURE_INVALID, "the answer relates to another request", who)
    value = parts.signature.findtext(_SIGNATURE_VALUE) or ""
    return Seal(message_id, related, "".join(value.split()), who, fingerprint(certificate))


def _verify(
    envelope: etree._Element,
    parts: _Parts,
    expected: dict[str, etree._Element],
    certificate: x509.Certificate,
    algorithm: Algorithm,
    now: datetime,
) -> None:
    """The profile's signature checked as signxml checks it, for its one shape: a certificate in its validity, a
    SignedInfo of the profile's method and references, each the element expected at its place (by the id index:
    an id borne twice resolves to none), each digest, the signature value, and the key info naming the token."""
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise InvalidCertificate("the certificate is not valid at this time")
    signed_info = _exactly_one(parts.signature, _SIGNED_INFO)
    children = [child for child in signed_info if isinstance(child.tag, str)]
    if [child.tag for child in children[:2]] != [_C14N_METHOD, _SIGNATURE_METHOD]:
        raise InvalidInput("SignedInfo must open with its canonicalization and signature methods")
    if children[1].get("Algorithm") != algorithm.method.value:
        raise InvalidInput("the signature method is not the one of the certificate's key")
    ids = _ids(envelope)
    seen: set[str] = set()
    for reference in children[2:]:
        uri = reference.get("URI") or ""
        if reference.tag != _REFERENCE or uri in seen or uri not in expected:
            raise InvalidInput(f"reference {uri!r} is not one of the profile's, once")
        seen.add(uri)
        transforms = reference.findall(f"{_TRANSFORMS}/{_TRANSFORM}")
        if [(item.get("Algorithm"), len(item)) for item in transforms] != [(_EXC, 0)]:
            raise InvalidInput(f"reference {uri}: only exclusive canonicalization may transform it")
        digest_method = reference.find(_DIGEST_METHOD)
        if digest_method is None or digest_method.get("Algorithm") != _SHA256:
            raise InvalidInput(f"reference {uri}: the digest must be SHA-256")
        if ids.get(uri[1:]) is not expected[uri]:
            raise InvalidInput(f"reference {uri} is not an element of the profile at its place")
        given = base64.b64decode(reference.findtext(_DIGEST_VALUE) or "", validate=False)
        if not hmac.compare_digest(given, _digest(expected[uri])):
            raise InvalidDigest(f"digest mismatch for reference {uri}")
    if seen != set(expected):
        raise InvalidInput("the signature leaves an element of the profile unsigned")
    value = base64.b64decode("".join((parts.signature.findtext(_SIGNATURE_VALUE) or "").split()))
    algorithm.verify(certificate.public_key(), value, _canonical(signed_info))
    pointer = parts.signature.find(f"{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}Reference")
    if pointer is None or pointer.get("URI") != f"#{parts.token.get(_ID)}":
        raise InvalidInput("the key info does not name the message's security token")


def _exactly_one(parent: etree._Element, tag: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise InvalidInput(f"{len(found)} {etree.QName(tag).localname} where one belongs")
    return found[0]


def _reference_verify(
    envelope: etree._Element,
    parts: _Parts,
    expected: dict[str, etree._Element],
    certificate: x509.Certificate,
    algorithm: Algorithm,
    now: datetime,
) -> None:
    verifier = _Verifier(expected)
    verifier.index(envelope)
    verifier.verify(
        envelope,
        x509_cert=certificate,
        id_attribute="Id",
        expect_config=SignatureConfiguration(
            location=f"./{_HEADER}/{_SECURITY}/",
            expect_references=len(expected),
            signature_methods=frozenset({algorithm.method}),
            digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
            ignore_ambiguous_key_info=True,
        ),
    )
    if verifier.seen != set(expected):
        raise InvalidInput("the signature leaves an element of the profile unsigned")


@dataclass(frozen=True)
class _Parts:
    signature: etree._Element
    timestamp: etree._Element
    token: etree._Element
    message_id: etree._Element
    relates_to: etree._Element | None
    body: etree._Element

    @property
    def signed(self) -> list[etree._Element]:
        found = [self.body, self.timestamp, self.message_id]
        return found if self.relates_to is None else [*found, self.relates_to]


def _parts(envelope: etree._Element, *, answer: bool) -> _Parts:
    """The elements of the profile, each at its one place; SECURITY_MISSING or SIGNATURE_INVALID otherwise."""
    children = [child for child in envelope if isinstance(child.tag, str)]
    if not children or children[0].tag != _HEADER:
        raise SignatureRefused(SECURITY_MISSING, "the message has no soap:Header")
    header = children[0]
    if [child.tag for child in children] != [_HEADER, _BODY]:
        raise SignatureRefused(SIGNATURE_INVALID, "the envelope must hold soap:Header and one soap:Body, in order")
    security = _one(header, _SECURITY, SECURITY_MISSING)
    return _Parts(
        signature=_one(security, _SIGNATURE, SECURITY_MISSING),
        timestamp=_one(security, _TIMESTAMP, SECURITY_MISSING),
        token=_one(security, _TOKEN, SECURITY_MISSING),
        message_id=_one(header, _MESSAGE_ID, SECURITY_MISSING),
        relates_to=_one(header, _RELATES_TO, SIGNATURE_INVALID) if answer else None,
        body=children[1],
    )


def _one(parent: etree._Element, tag: str, code: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        name = etree.QName(tag).localname
        raise SignatureRefused(code if not found else SIGNATURE_INVALID, f"{len(found)} {name} where one belongs")
    return found[0]


def _token(token: etree._Element) -> bytes:
    if token.get("ValueType") != X509V3:
        raise SignatureRefused(SIGNER_UNTRUSTED, "the security token is no X.509 certificate")
    try:
        return base64.b64decode("".join((token.text or "").split()), validate=True)
    except ValueError:
        raise SignatureRefused(SIGNER_UNTRUSTED, "the security token is not base64") from None


def _describe(der: bytes) -> str:
    """Who an untrusted certificate says it is, for the log: printable, bounded, its fingerprint beside it (its
    subject is whatever the sender wrote, line breaks included)."""
    print_ = hashlib.sha256(der).hexdigest()[:16]
    try:
        said = subject(x509.load_der_x509_certificate(der))
    except ValueError:
        return f"an unreadable certificate (SHA-256 {print_})"
    shown = "".join(char if char.isprintable() else "?" for char in said)[:120]
    return f"{shown} (SHA-256 {print_})"


def _check_time(timestamp: etree._Element, now: datetime, window: float, who: str) -> None:
    created = _moment(timestamp.findtext(f"{{{WSU}}}Created"))
    expires = _moment(timestamp.findtext(f"{{{WSU}}}Expires"))
    if created is None or expires is None:
        raise SignatureRefused(SIGNATURE_INVALID, "the timestamp has no readable Created and Expires", who)
    if created > now + SKEW:
        raise SignatureRefused(MESSAGE_EXPIRED, "the timestamp is in the future", who)
    if expires < now - SKEW or created < now - timedelta(seconds=window) - SKEW:
        raise SignatureRefused(MESSAGE_EXPIRED, f"the timestamp is stale (created {_instant(created)})", who)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- the plugin -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signing:
    """How one client signs and checks: its identity, the trust store of each address it calls, the journal."""

    identity: Identity
    trust: Mapping[str, TrustStore]  # address -> the certificates trusted to answer from it
    window: float = WINDOW_SECONDS
    journal: Callable[[JournalEntry], None] | None = None


@dataclass(frozen=True)
class _Sent:
    address: str
    message_id: str


# The request in flight in this context: zeep and the compiled codec alike run egress, the post and ingress of one
# call in one thread, so the answer is checked against the address it came from and the request it answers.
_in_flight: ContextVar[_Sent | None] = ContextVar("epolicy_soap_in_flight", default=None)


class MessageSigning(Plugin):
    """Sign every request last of all plugins, and check every answer (faults too) before any plugin reads it."""

    def __init__(self, signing: Signing, clock: Callable[[], datetime] = _now):
        self._signing = signing
        self._clock = clock

    def egress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        address = str(binding_options.get("address", "")) if isinstance(binding_options, dict) else ""
        seal = sign(envelope, self._signing.identity, now=self._clock())
        _in_flight.set(_Sent(address, seal.message_id))
        self._note("sent", address, operation, envelope, "signed", seal)
        return envelope, http_headers

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        sent = _in_flight.get()
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            return envelope, http_headers  # no SOAP at all: read as nothing but a technical failure
        address = sent.address if sent is not None else ""
        try:
            trust = self._signing.trust.get(address)
            if trust is None:
                raise SignatureRefused(SIGNER_UNTRUSTED, "no certificate is trusted for this address")
            seal = check(
                envelope,
                trust,
                relates_to=sent.message_id if sent is not None else "",
                now=self._clock(),
                window=self._signing.window,
            )
        except SignatureRefused as refused:
            log.warning(
                "answer of %s from %s not read: %s (signer %s)", _name(operation), address, refused, refused.signer
            )
            self._note("received", address, operation, envelope, "refused", None, refused)
            raise
        self._note("received", address, operation, envelope, "verified", seal)
        return envelope, http_headers

    def _note(
        self,
        direction: str,
        address: str,
        operation: Any,
        envelope: etree._Element,
        outcome: str,
        seal: Seal | None,
        refused: SignatureRefused | None = None,
    ) -> None:
        journal = self._signing.journal
        if journal is None:
            return
        journal(
            JournalEntry(
                at=self._clock(),
                direction=direction,
                address=address,
                operation=_name(operation),
                message_id=_payload_message_id(envelope),
                outcome=outcome,
                wsa_message_id=seal.message_id if seal else None,
                relates_to=seal.relates_to if seal else None,
                signature=seal.signature if seal else None,
                signer=seal.signer if seal else (refused.signer if refused else None),
                fingerprint=seal.fingerprint if seal else None,
                reason=str(refused)[:500] if refused else None,
            )
        )


def _name(operation: Any) -> str:
    return str(getattr(operation, "name", "?"))


def _payload_message_id(envelope: etree._Element) -> str | None:
    body = envelope.find(_BODY)
    payload = next((child for child in body if isinstance(child.tag, str)), None) if body is not None else None
    if payload is None:
        return None
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        found = payload.find("detail/*/{*}MessageId")
    else:
        found = payload.find("{*}MessageId")
    return None if found is None or found.text is None else found.text.strip()[:64]


# --- development keys -------------------------------------------------------------------------------------------


def development_keys(folder: Path, name: str, algorithm: str = "ecdsa-sha256") -> tuple[Path, Path]:
    """A key `<name>.key` (mode 0600) and its self-signed certificate `<name>.pem` in `folder`, made when missing.

    For the local stack only: a production key is issued to the operator, and its certificate sent to the fund
    and each insurer ahead.
    """
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
    from cryptography.x509.oid import NameOID

    key_path, certificate_path = folder / f"{name}.key", folder / f"{name}.pem"
    if key_path.is_file() and certificate_path.is_file():
        return key_path, certificate_path
    folder.mkdir(parents=True, exist_ok=True)
    if algorithm == "rsa-sha256":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    who = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "epolicy-gateway development"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(who)
        .issuer_name(who)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    certificate_path.write_bytes(certificate.public_bytes(Encoding.PEM))
    return key_path, certificate_path
