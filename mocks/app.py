"""The WSGI application of the mocks: the fund, the insurers, fault injection and the OAuth server."""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from lxml import etree

import contracts
from mocks import oauth, signing
from mocks.faults import FaultInjector, FaultRequestError, FaultRule
from mocks.fund import create_fund_service
from mocks.fund.registry import Registry
from mocks.insurers import InsurerMock
from mocks.kz import KzRegistry, create_kz_service
from mocks.soap import (
    BusinessFault,
    Reply,
    SoapService,
    TechnicalFault,
    business_fault_element,
    parse_xml,
    serialize,
    technical_fault_element,
)

SEED = Path(__file__).with_name("data") / "registry.yaml"
KZ_SEED = Path(__file__).with_name("data") / "kz.yaml"
SOAP_CONTENT_TYPES = ("text/xml", "application/xml")
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
STALE_BY = timedelta(hours=1)  # how old the timestamp of a `stale_timestamp` answer is
MALFORMED = b'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Resp'

log = logging.getLogger(__name__)


def key_name(target: str) -> str:
    """The file name (without .key/.pem) of a target's key: fund, kz-fund, insurers-77001."""
    return target.replace("/", "-")


class Signing:
    """The mocks' side of the signing profile: one key per target, made on first use, and whom they trust."""

    def __init__(
        self,
        folder: Path | None,
        trusted: Iterable[Any],
        algorithm: str = signing.ECDSA_SHA256,
        window: int = signing.WINDOW_SECONDS,
    ):
        if algorithm not in signing.ALGORITHMS:
            raise ValueError(f"SIGNING_ALGORITHM {algorithm!r}: write one of {', '.join(signing.ALGORITHMS)}")
        # Without a folder the keys live as long as the app: a temporary folder of its own, removed with it.
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="epolicy-mocks-keys-"))
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self.folder = folder
        self.algorithm = algorithm
        replays = signing.ReplayCache(window + 2 * signing.SKEW_SECONDS)
        self.verifier = signing.Verifier(trusted, window=window, replays=replays)
        self._keys: dict[str, signing.SigningKey] = {}
        self._stranger: signing.SigningKey | None = None
        self._lock = threading.Lock()

    def key_for(self, target: str) -> signing.SigningKey:
        """The key the target signs its answers with."""
        with self._lock:
            if target not in self._keys:
                self._keys[target] = signing.ensure_key(self.folder, key_name(target), self.algorithm)
            return self._keys[target]

    def stranger(self) -> signing.SigningKey:
        """A key no one trusts, for the `untrusted_signer` fault: one per app, never written anywhere."""
        with self._lock:
            if self._stranger is None:
                self._stranger = signing.generate_key("untrusted-signer", self.algorithm)
            return self._stranger


@dataclass
class Backends:
    """Everything the mock back-ends hold, owned by one app."""

    registry: Registry
    insurers: dict[str, InsurerMock]
    services: dict[str, SoapService]  # target ("fund", "insurers/77001") -> endpoint
    faults: FaultInjector
    kz: KzRegistry  # the Kazakh social health insurance fund (ОСМС), target "kz/fund"
    signing: Signing
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    @classmethod
    def from_seed(cls, seed: Path, security: Signing, kz_seed: Path = KZ_SEED) -> Backends:
        """Build the fund from the seed file and one insurer mock per insurer it lists."""
        registry = Registry.from_seed(seed)
        insurers: dict[str, InsurerMock] = {}
        for code in registry.insurer_codes():
            info = registry.insurer(code)
            assert info is not None
            insurers[code] = InsurerMock(info, registry.current_policy, registry.today)
        services = {"fund": create_fund_service(registry)}
        services.update({f"insurers/{code}": mock.service() for code, mock in insurers.items()})
        kz = KzRegistry(kz_seed)
        services["kz/fund"] = create_kz_service(kz)
        faults = FaultInjector({target: service.operations for target, service in services.items()})
        return cls(registry, insurers, services, faults, kz, security)

    def certificates(self) -> dict[str, str]:
        """Each target's certificate in PEM (its key made now if it was not yet)."""
        return {target: self.signing.key_for(target).certificate_pem for target in sorted(self.services)}

    def reset(self) -> None:
        """Back to the seed: registry, insurers' applications, faults and call counts."""
        self.registry.reset()
        self.kz.reset()
        for mock in self.insurers.values():
            mock.reset()
        self.faults.clear()
        self.calls.clear()


def backends() -> Backends:
    """The back-ends of the current app."""
    found: Backends = current_app.extensions["epolicy_mocks"]
    return found


soap_bp = Blueprint("soap", __name__)
control_bp = Blueprint("mock_control", __name__, url_prefix="/mock")


@soap_bp.route("/fund", methods=["GET", "POST"], endpoint="fund")
def fund_endpoint() -> Response:
    """The fund's registry service."""
    return _serve("fund")


@soap_bp.route("/kz/fund", methods=["GET", "POST"], endpoint="kz_fund")
def kz_fund_endpoint() -> Response:
    """The Kazakh social health insurance fund's status service (ОСМС)."""
    return _serve("kz/fund")


@soap_bp.route("/insurers/<code>", methods=["GET", "POST"], endpoint="insurer")
def insurer_endpoint(code: str) -> Response:
    """An insurer's service; every insurer serves the same WSDL."""
    return _serve(f"insurers/{code}")


@soap_bp.get("/contracts/<path:name>")
def contract_file(name: str) -> Response:
    """The XSD and WSDL files the served WSDLs import, so that `?wsdl` works for any SOAP toolkit."""
    if not name.endswith((".xsd", ".wsdl")) or ".." in Path(name).parts:
        abort(404)
    path = contracts.CONTRACTS_DIR / name
    if not path.is_file():
        abort(404)
    return Response(path.read_bytes(), content_type=XML_CONTENT_TYPE)


def _serve(target: str) -> Response:
    service = backends().services.get(target)
    if service is None:
        abort(404)
    if request.method == "GET":
        if "wsdl" in request.args:
            return Response(_served_wsdl(service), content_type=XML_CONTENT_TYPE)
        return Response(f"SOAP 1.1 endpoint; its WSDL is at {request.base_url}?wsdl\n", content_type="text/plain")
    mimetype = request.mimetype
    if mimetype not in SOAP_CONTENT_TYPES:
        return Response(f"SOAP 1.1 expects Content-Type text/xml, not {mimetype or 'none'}.\n", 415)
    exchange = _receive(target, service, request.get_data(cache=False))
    backends().calls[(target, exchange.operation or "?")] += 1
    rule = backends().faults.take(target, exchange.operation)
    if rule is not None:
        return _inject(rule, exchange)
    return _send(_sealed(exchange, exchange.answer()))


@dataclass(frozen=True)
class _Exchange:
    """One SOAP call: the request as it came, and what its signature allows to be done with it."""

    target: str
    service: SoapService
    body: bytes
    relates_to: str | None  # the request's wsa:MessageID, when it has a readable one
    refusal: Reply | None  # the answer to a request refused before it was read
    operation: str | None  # known only of a request whose signature holds

    def answer(self) -> Reply:
        """Carry out the operation and build its answer, or the refusal (the operation is then not carried out)."""
        return self.refusal or self.service.reply(self.body)


def _receive(target: str, service: SoapService, body: bytes) -> _Exchange:
    """Check the request's signature before anything of it is read; a refused request is never carried out."""
    try:
        # Blank text kept: the digests were computed over it. The operation reparses the same bytes its own way.
        root = parse_xml(body, keep_blank_text=True)
    except BusinessFault as fault:
        return _Exchange(target, service, body, None, Reply(500, business_fault_element(fault, None)), None)
    try:
        verified = backends().signing.verifier.verify(root)
    except signing.SecurityError as error:
        log.info("%s refused a request as %s: %s", target, error.refusal.code, error.message)
        refused = TechnicalFault(error.refusal.code, error.message)
        refusal = Reply(500, technical_fault_element(refused, None, f"wsse:{error.refusal.faultcode}"))
        return _Exchange(target, service, body, error.message_id, refusal, None)
    log.debug("%s: a request signed by %s (%s)", target, verified.subject, verified.fingerprint)
    return _Exchange(target, service, body, verified.message_id, None, service.operation_of(body))


def _sealed(
    exchange: _Exchange,
    reply: Reply,
    key: signing.SigningKey | None = None,
    created: datetime | None = None,
) -> Reply:
    """The reply signed with its target's key (or `key`), relating to the request's wsa:MessageID when known."""
    key = key or backends().signing.key_for(exchange.target)
    signing.sign(reply.envelope, key, relates_to=exchange.relates_to, created=created)
    return reply


def _send(reply: Reply, headers: dict[str, str] | None = None) -> Response:
    return Response(serialize(reply.envelope), reply.status, headers, content_type=XML_CONTENT_TYPE)


def _inject(rule: FaultRule, exchange: _Exchange) -> Response:
    delay = rule.delay_ms / 1000
    headers = {"X-Mock-Fault": rule.fault}
    if rule.fault == "timeout":
        # The operation is carried out and its answer comes too late: the caller must retry with the same
        # MessageId and must not get a second registration for it.
        answer = _sealed(exchange, exchange.answer())
        time.sleep(delay)
        return _send(answer, headers)
    time.sleep(delay)
    if rule.fault in SPOILERS:
        # Carried out as always; only the answer is spoiled, so the caller must not believe it.
        return _send(SPOILERS[rule.fault](exchange, exchange.answer()), headers)
    if rule.fault == "slow":
        return _send(_sealed(exchange, exchange.answer()), headers)
    if rule.fault == "http_500":
        return Response("<html><body><h1>500 Internal Server Error</h1></body></html>", 500, headers)
    if rule.fault == "malformed_xml":
        return Response(MALFORMED, 200, headers, content_type=XML_CONTENT_TYPE)
    if rule.fault == "technical_fault":
        fault = TechnicalFault("SERVICE_UNAVAILABLE", "Сервис временно недоступен, повторите запрос позже.", 5)
        return _send(_sealed(exchange, Reply(500, technical_fault_element(fault, None))), headers)
    _drop_connection()
    return Response(b"", 500, headers)


def _bad_signature(exchange: _Exchange, reply: Reply) -> Reply:
    # Signed, then the body changed: its digest no longer matches.
    sealed = _sealed(exchange, reply)
    body = sealed.envelope.find(f"{{{signing.SOAP_ENV}}}Body")
    assert body is not None
    leaf = next(node for node in body.iter() if isinstance(node.tag, str) and (node.text or "").strip())
    leaf.text = (leaf.text or "") + "0"
    return sealed


def _unsigned(exchange: _Exchange, reply: Reply) -> Reply:
    # The real answer with its message ids and no wsse:Security header at all.
    sealed = _sealed(exchange, reply)
    for security in sealed.envelope.iterfind(f"{{{signing.SOAP_ENV}}}Header/{{{signing.WSSE}}}Security"):
        security.getparent().remove(security)  # type: ignore[union-attr]
    return sealed


def _untrusted_signer(exchange: _Exchange, reply: Reply) -> Reply:
    return _sealed(exchange, reply, key=backends().signing.stranger())


def _stale_timestamp(exchange: _Exchange, reply: Reply) -> Reply:
    return _sealed(exchange, reply, created=datetime.now(UTC) - STALE_BY)


SPOILERS = {
    "bad_signature": _bad_signature,
    "unsigned": _unsigned,
    "untrusted_signer": _untrusted_signer,
    "stale_timestamp": _stale_timestamp,
}


def _drop_connection() -> None:
    # Close the TCP connection under the server so the client sees it reset with no answer at all.
    conn = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if isinstance(conn, socket.socket):
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()


def _served_wsdl(service: SoapService) -> bytes:
    # Point the WSDL at where it was fetched from: its address and its schema imports.
    tree = etree.parse(str(service.wsdl))
    root = tree.getroot()
    base = request.host_url.rstrip("/")
    relative_dir = service.wsdl.parent.relative_to(contracts.CONTRACTS_DIR)
    for address in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"):
        address.set("location", request.base_url)
    for imported in root.iter("{http://www.w3.org/2001/XMLSchema}import"):
        location = imported.get("schemaLocation")
        if location:
            resolved = posixpath.normpath(f"/{relative_dir.as_posix()}/{location}")
            imported.set("schemaLocation", f"{base}/contracts{resolved}")
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="utf-8"))


@control_bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults() -> tuple[Response, int] | Response:
    """List, add or clear injected faults."""
    injector = backends().faults
    if request.method == "GET":
        return jsonify({"faults": [rule.to_json() for rule in injector.active()]})
    if request.method == "DELETE":
        injector.clear()
        return Response(status=204)
    try:
        rule = injector.add(request.get_json(silent=True))
    except FaultRequestError as exc:
        return _problem(400, "Неверный запрос на внедрение сбоя", str(exc))
    return jsonify(rule.to_json()), 201


@control_bp.delete("/faults/<int:rule_id>")
def delete_fault(rule_id: int) -> Response | tuple[Response, int]:
    """Remove one injected fault."""
    if not backends().faults.remove(rule_id):
        return _problem(404, "Сбой не найден", f"Нет активного сбоя с id {rule_id}.")
    return Response(status=204)


@control_bp.get("/certificates")
def certificates() -> Response:
    """Each target's public certificate in PEM, for a caller to trust (public data only)."""
    return jsonify(backends().certificates())


@control_bp.get("/stats")
def stats() -> Response:
    """Calls by target and operation, and what was really registered, attached and issued (repeats not counted)."""
    state = backends()
    calls: dict[str, dict[str, int]] = {}
    for (target, operation), count in sorted(state.calls.items()):
        calls.setdefault(target, {})[operation] = count
    return jsonify(
        {
            "calls": calls,
            "registrations": state.registry.registration_count(),
            "attachments": state.registry.clinics.attachment_count(),
            "issues": {code: mock.issue_count for code, mock in state.insurers.items()},
        }
    )


@control_bp.get("/registrations/<message_id>")
def registrations(message_id: str) -> Response:
    """How many registrations the fund made for one MessageId (QA checks it is never more than one)."""
    if not re.fullmatch(r"[A-Za-z0-9_.:\-]{1,64}", message_id):
        abort(404)
    return jsonify({"message_id": message_id, "count": backends().registry.registrations_for(message_id)})


@control_bp.post("/reset")
def reset() -> Response:
    """Put every mock back to its seed state."""
    backends().reset()
    return Response(status=204)


def _problem(status: int, title: str, detail: str) -> tuple[Response, int]:
    response = jsonify({"type": "about:blank", "title": title, "status": status, "detail": detail})
    response.mimetype = "application/problem+json"
    return response, status


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the mocks' WSGI app; `config` overrides settings (tests pass their own)."""
    app = Flask(__name__)
    app.config.from_prefixed_env("EPOLICY_MOCKS")
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    security = _signing(app.config)
    app.extensions["epolicy_mocks"] = Backends.from_seed(Path(app.config.get("SEED", SEED)), security)
    app.register_blueprint(soap_bp)
    app.register_blueprint(control_bp)
    oauth.init_app(app)
    return app


def make_target_keys(app: Flask) -> dict[str, str]:
    """Make every target's key now (in SIGNING_KEYS), for a caller to trust them from the start; their PEMs."""
    made: Backends = app.extensions["epolicy_mocks"]
    return made.certificates()


def _signing(config: Any) -> Signing:
    """The signing settings: SIGNING_KEYS, TRUSTED_CERTIFICATES, SIGNING_ALGORITHM, SIGNING_WINDOW_SECONDS."""
    folder = config.get("SIGNING_KEYS")
    try:
        trusted = signing.load_certificates(config.get("TRUSTED_CERTIFICATES") or None)
    except (OSError, ValueError) as error:
        raise ValueError(f"TRUSTED_CERTIFICATES: cannot read the certificates ({error})") from None
    if not trusted:
        log.warning(
            "no TRUSTED_CERTIFICATES (EPOLICY_MOCKS_TRUSTED_CERTIFICATES, --trust): the mocks trust nobody and "
            "refuse every SOAP request as SIGNER_UNTRUSTED"
        )
    window = int(config.get("SIGNING_WINDOW_SECONDS", signing.WINDOW_SECONDS))
    algorithm = str(config.get("SIGNING_ALGORITHM", signing.ECDSA_SHA256))
    return Signing(Path(folder) if folder else None, trusted, algorithm, window)
