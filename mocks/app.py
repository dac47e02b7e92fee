"""The WSGI application of the mocks: the fund, the insurers, fault injection and the OAuth server."""

from __future__ import annotations

import contextlib
import posixpath
import re
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from lxml import etree

import contracts
from mocks import oauth
from mocks.faults import FaultInjector, FaultRequestError, FaultRule
from mocks.fund import create_fund_service
from mocks.fund.registry import Registry
from mocks.insurers import InsurerMock
from mocks.kz import KzRegistry, create_kz_service
from mocks.soap import SoapService, TechnicalFault, technical_fault_envelope

SEED = Path(__file__).with_name("data") / "registry.yaml"
KZ_SEED = Path(__file__).with_name("data") / "kz.yaml"
SOAP_CONTENT_TYPES = ("text/xml", "application/xml")
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
MALFORMED = b'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Resp'


@dataclass
class Backends:
    """Everything the mock back-ends hold, owned by one app."""

    registry: Registry
    insurers: dict[str, InsurerMock]
    services: dict[str, SoapService]  # target ("fund", "insurers/77001") -> endpoint
    faults: FaultInjector
    kz: KzRegistry  # the Kazakh social health insurance fund (ОСМС), target "kz/fund"
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    @classmethod
    def from_seed(cls, seed: Path, kz_seed: Path = KZ_SEED) -> Backends:
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
        return cls(registry, insurers, services, faults, kz)

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
    body = request.get_data(cache=False)
    operation = service.operation_of(body)
    backends().calls[(target, operation or "?")] += 1
    rule = backends().faults.take(target, operation)
    if rule is not None:
        return _inject(rule, service, body)
    answer = service.handle(body)
    return Response(answer.body, answer.status, content_type=answer.content_type)


def _inject(rule: FaultRule, service: SoapService, body: bytes) -> Response:
    delay = rule.delay_ms / 1000
    headers = {"X-Mock-Fault": rule.fault}
    if rule.fault == "timeout":
        # The operation is carried out and its answer comes too late: the caller must retry with the same
        # MessageId and must not get a second registration for it.
        answer = service.handle(body)
        time.sleep(delay)
        return Response(answer.body, answer.status, headers, content_type=answer.content_type)
    time.sleep(delay)
    if rule.fault == "slow":
        answer = service.handle(body)
        return Response(answer.body, answer.status, headers, content_type=answer.content_type)
    if rule.fault == "http_500":
        return Response("<html><body><h1>500 Internal Server Error</h1></body></html>", 500, headers)
    if rule.fault == "malformed_xml":
        return Response(MALFORMED, 200, headers, content_type=XML_CONTENT_TYPE)
    if rule.fault == "technical_fault":
        fault = TechnicalFault("SERVICE_UNAVAILABLE", "Сервис временно недоступен, повторите запрос позже.", 5)
        return Response(technical_fault_envelope(fault, None), 500, headers, content_type=XML_CONTENT_TYPE)
    _drop_connection()
    return Response(b"", 500, headers)


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
    app.extensions["epolicy_mocks"] = Backends.from_seed(Path(app.config.get("SEED", SEED)))
    app.register_blueprint(soap_bp)
    app.register_blueprint(control_bp)
    oauth.init_app(app)
    return app
