"""Coverage for clinics: `GET /api/v1/coverage` (JSON) and the same answer in FHIR R4 under `/api/v1/fhir`.

The FHIR answer is a type-level operation invoked with GET (`CoverageEligibilityRequest/$check`), not a search:
in FHIR `GET [base]/CoverageEligibilityResponse?…` is a search and must answer a Bundle, while an operation that
changes nothing may be called with GET and, having one resource as its result, answers that resource alone. It
sits on CoverageEligibilityRequest as `Claim/$submit` sits on Claim: its parameters are the request's content,
its result the response.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from authlib.oauth2.base import OAuth2Error
from flask import Blueprint, Response, request
from marshmallow import Schema, fields, validate

from gateway import fhir
from gateway.api import render
from gateway.api.common import json_response, services
from gateway.api.docs import Operation
from gateway.api.problems import TECHNICAL_ERROR, problem, route_of_request
from gateway.api.responses import InsurerRefOut, ReasonOut
from gateway.auth import require_scope
from gateway.correlation import correlation_id
from gateway.domain.coverage import Coverage, CoverageQuery, Programme
from gateway.domain.identifiers import normalize_identifier
from gateway.domain.model import PolicyStatus, Reason, Source, Violation
from gateway.usecases.coverage import CoverageContext, NotInRegistry, check_coverage
from gateway.usecases.errors import InputRejected, NotVisible, ServiceUnavailable

bp = Blueprint("coverage", __name__, url_prefix="/api/v1")
fhir_bp = Blueprint("fhir", __name__, url_prefix="/fhir")
log = logging.getLogger(__name__)

SCOPE = "epolicy.eligibility"
FHIR_CHECK = "/CoverageEligibilityRequest/$check"
INPUT_DETAIL = "Проверка не выполнена: исправьте параметры запроса, отмеченные в errors."


def _query() -> CoverageQuery:
    args = request.args
    return CoverageQuery(
        region_code=args.get("region_code", "").strip(),
        enp=normalize_identifier(args.get("enp", "")) or None,
        snils=normalize_identifier(args.get("snils", "")) or None,
    )


def _check() -> tuple[Coverage, datetime]:
    found = services()
    context = CoverageContext(found.fund, found.catalogue, found.reference.regions, found.read_message_id)
    coverage = check_coverage(_query(), context)
    return coverage, found.clock()


def _insurer_name(code: str) -> str | None:
    insurer = services().reference.insurers.get(code)
    return insurer.name if insurer else None


def _reason(coverage: Coverage) -> Reason | None:
    if coverage.reason_code is None:
        return None
    return services().catalogue.reason(Violation(coverage.reason_code), Source.FUND)


def _private(response: Response) -> Response:
    # A person's insurance status: no shared cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- JSON ----------------------------------------------------------------------------------------------------


@bp.get("/coverage")
@require_scope(SCOPE)
def coverage() -> Response:
    """Whether a person is covered today, by which insurer and under which programme in the clinic's region."""
    found, checked_at = _check()
    return _private(json_response(coverage_json(found, _insurer_name(found.policy.insurer_code), checked_at)))


def coverage_json(found: Coverage, insurer_name: str | None, checked_at: datetime) -> dict[str, Any]:
    """The JSON answer of `GET /api/v1/coverage`."""
    policy = found.policy
    reason = _reason(found)
    return {
        "covered": found.covered,
        "enp": policy.enp,
        "insurer": {"code": policy.insurer_code, "name": insurer_name},
        "programme": None if found.programme is None else found.programme.value,
        "clinic_region_code": found.clinic_region_code,
        "policy": {
            "status": policy.status.value,
            "valid_from": render.day(policy.valid_from),
            "valid_to": render.day(policy.valid_to),
            "region_code": policy.region_code,
        },
        "reason": None if reason is None else render.reason(reason),
        "checked_at": render.timestamp(checked_at),
    }


@bp.errorhandler(InputRejected)
def _input_rejected(error: InputRejected) -> Response:
    status = services().catalogue.status_of(error.reasons)
    errors = [render.reason(reason) for reason in error.reasons]
    return problem(status, "validation", INPUT_DETAIL, title="Параметры запроса не прошли проверку", errors=errors)


@bp.errorhandler(NotInRegistry)
def _not_in_registry(error: NotInRegistry) -> Response:
    return problem(404, "not-found", error.reason.message, errors=[render.reason(error.reason)])


# --- FHIR R4 -------------------------------------------------------------------------------------------------


def fhir_response(resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A FHIR resource as application/fhir+json."""
    response = Response(json.dumps(resource, ensure_ascii=False), status, mimetype=fhir.FHIR_JSON)
    response.headers.update(headers or {})
    return _private(response)


@fhir_bp.get(FHIR_CHECK)
@require_scope(SCOPE)
def fhir_check() -> Response:
    """The coverage answer as a FHIR R4 CoverageEligibilityResponse."""
    found, checked_at = _check()
    reason = _reason(found)
    entry = None if reason is None else (reason, services().catalogue.entry(reason.code))
    request_id = correlation_id.get() or services().read_message_id()
    resource = fhir.coverage_eligibility_response(
        found, _insurer_name(found.policy.insurer_code), checked_at, request_id, entry
    )
    return fhir_response(resource)


def _outcome(reasons: tuple[Reason, ...], status: int) -> Response:
    catalogue = services().catalogue
    entries = {reason.code: catalogue.entry(reason.code) for reason in reasons}
    return fhir_response(fhir.catalogue_outcome(reasons, entries), status)


# Nested blueprints look up handlers class by class, child before parent: every class the JSON blueprint
# handles is handled here too, so a FHIR client never gets a problem+json.
@fhir_bp.errorhandler(InputRejected)
def _fhir_input_rejected(error: InputRejected) -> Response:
    return _outcome(error.reasons, services().catalogue.status_of(error.reasons))


@fhir_bp.errorhandler(NotInRegistry)
def _fhir_not_in_registry(error: NotInRegistry) -> Response:
    return _outcome((error.reason,), 404)


@fhir_bp.errorhandler(NotVisible)
def _fhir_not_visible(error: NotVisible) -> Response:
    return fhir_response(fhir.operation_outcome([fhir.plain_issue("error", "not-found", "Не найдено.")]), 404)


@fhir_bp.errorhandler(ServiceUnavailable)
def _fhir_unavailable(error: ServiceUnavailable) -> Response:
    # The catalogue's TECHNICAL_ERROR, as the JSON API's 503 carries it: its issue type is "transient".
    catalogue = services().catalogue
    reason = catalogue.reason(Violation(TECHNICAL_ERROR))
    outcome = fhir.catalogue_outcome((reason,), {reason.code: catalogue.entry(reason.code)})
    return fhir_response(outcome, 503, {"Retry-After": str(error.retry_after)})


@fhir_bp.errorhandler(OAuth2Error)
def _fhir_oauth_error(error: OAuth2Error) -> Response:
    # Keep the status and WWW-Authenticate of RFC 6750; the body is FHIR.
    headers = {name: value for name, value in error.get_headers() if name.lower() == "www-authenticate"}
    status = int(error.status_code)
    code = "login" if status == 401 else "forbidden"
    text = "Нужен действующий токен доступа." if status == 401 else "У токена нет области доступа epolicy.eligibility."
    return fhir_response(fhir.operation_outcome([fhir.plain_issue("error", code, text)]), status, headers)


@fhir_bp.errorhandler(Exception)
def _fhir_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, route_of_request())
    text = "Внутренняя ошибка. Повторите запрос позже."
    return fhir_response(fhir.operation_outcome([fhir.plain_issue("fatal", "exception", text)]), 500)


bp.register_blueprint(fhir_bp)


# --- documentation -------------------------------------------------------------------------------------------


class CoveragePolicyOut(Schema):
    status = fields.String(required=True, validate=validate.OneOf([status.value for status in PolicyStatus]))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)
    region_code = fields.String(required=True, metadata={"description": "Регион, где выдан полис"})


class CoverageOut(Schema):
    covered = fields.Boolean(required=True, metadata={"description": "Полис действует сегодня"})
    enp = fields.String(required=True)
    insurer = fields.Nested(InsurerRefOut, required=True)
    programme = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf([programme.value for programme in Programme]),
        metadata={
            "description": "territorial — территориальная программа ОМС (регион полиса совпадает с регионом "
            "медицинской организации), basic — базовая программа ОМС (другой регион РФ); null, если не действует"
        },
    )
    clinic_region_code = fields.String(required=True)
    policy = fields.Nested(CoveragePolicyOut, required=True)
    reason = fields.Nested(
        ReasonOut, required=True, allow_none=True, metadata={"description": "Почему полис не действует"}
    )
    checked_at = fields.DateTime(required=True)


# Nested schemas first: apispec names a nested schema the first time it meets it.
SCHEMAS: dict[str, type[Schema]] = {"CoveragePolicy": CoveragePolicyOut, "Coverage": CoverageOut}

QUERY = [
    {"name": "enp", "in": "query", "required": False, "description": "ЕНП (16 цифр); либо enp, либо snils",
     "schema": {"type": "string", "pattern": "^[0-9]{16}$"}, "example": "7754900882000015"},
    {"name": "snils", "in": "query", "required": False,
     "description": "СНИЛС (11 цифр, можно с дефисами и пробелом: 112-233-445 95)", "schema": {"type": "string"}},
    {"name": "region_code", "in": "query", "required": True, "description": "Регион медицинской организации",
     "schema": {"type": "string", "pattern": "^[0-9]{2}$"}, "example": "77"},
]  # fmt: skip

DOCS = [
    Operation("/api/v1/coverage", "get", "checkCoverage", "Проверка полиса ОМС медицинской организацией",
              "coverage", (200, CoverageOut, "Действует ли полис сегодня, СМО и программа ОМС; covered=false "
              "с причиной, если не действует"), (SCOPE,), None, (401, 403, 404, 422, 503), QUERY,
              problems={404: ("enp-not-found",), 422: ("coverage-identifier-required",)}),
    Operation(f"/api/v1/fhir{FHIR_CHECK}", "get", "checkCoverageFhir",
              "Проверка полиса ОМС в FHIR R4 (CoverageEligibilityResponse)", "coverage",
              (200, None, "application/fhir+json: ресурс CoverageEligibilityResponse FHIR R4 (purpose validation, "
               "insurance[].inforce, программа ОМС в insurance[].item). Ошибки 401, 403, 404, 422, 503 — ресурс "
               "OperationOutcome в application/fhir+json; коды и поля причин — из каталога причин"),
              (SCOPE,), None, (401, 403, 404, 422, 503), QUERY, media_type="application/fhir+json",
              error_media_type="application/fhir+json",
              problems={400: ("fhir-token-in-url",), 401: ("fhir-login",), 403: ("fhir-forbidden",),
                        404: ("enp-not-found", "fhir-not-found"), 422: ("coverage-identifier-required",),
                        503: ("backend-unavailable",)}),
]  # fmt: skip
