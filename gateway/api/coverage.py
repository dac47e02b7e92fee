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

from flask import Blueprint, Response, request
from marshmallow import Schema, fields, validate

from gateway import fhir
from gateway.api import render
from gateway.api.applications import json_response
from gateway.api.common import services
from gateway.api.docs import Operation
from gateway.api.problems import rejected, respond
from gateway.api.responses import InsurerRefOut, ReasonOut
from gateway.auth import require_scope
from gateway.correlation import correlation_id
from gateway.domain.coverage import Coverage, CoverageQuery, Programme
from gateway.domain.identifiers import normalize_identifier
from gateway.domain.model import PolicyStatus, Reason, Source, Violation
from gateway.usecases.coverage import CoverageContext, check_coverage
from gateway.usecases.errors import InputRejected

bp = Blueprint("coverage", __name__, url_prefix="/api/v1")
fhir_bp = Blueprint("fhir", __name__, url_prefix="/fhir")
log = logging.getLogger(__name__)

SCOPE = "epolicy.eligibility"
FHIR_CHECK = "/CoverageEligibilityRequest/$check"
INPUT_TITLE = "Параметры запроса не прошли проверку"
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


# The check's input is query parameters, not an application: its 422 says so. Through the one pipeline, so that a
# FHIR request (the FHIR blueprint is nested in this one) still gets its OperationOutcome.
@bp.errorhandler(InputRejected)
def _input_rejected(error: InputRejected) -> Response:
    return respond(rejected(error.reasons, services().catalogue, INPUT_TITLE, INPUT_DETAIL))


# --- FHIR R4 -------------------------------------------------------------------------------------------------


def fhir_response(resource: dict[str, Any]) -> Response:
    """A FHIR resource as application/fhir+json."""
    return _private(Response(json.dumps(resource, ensure_ascii=False), mimetype=fhir.FHIR_JSON))


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
               "insurance[].inforce, программа ОМС в insurance[].item). Любая ошибка по адресам /api/v1/fhir/ "
               "(и 404 неизвестного адреса, и 405 другого метода с заголовком Allow) — ресурс OperationOutcome в "
               "application/fhir+json: issue[].code из FHIR IssueType, в details.coding — код причины из "
               "каталога, где причина есть"),
              (SCOPE,), None, (401, 403, 404, 422, 503), QUERY, media_type="application/fhir+json",
              error_media_type="application/fhir+json",
              problems={400: ("token-in-url",), 401: ("missing-authorization", "invalid-token"),
                        403: ("no-eligibility-scope",), 404: ("enp-not-found", "not-found"),
                        422: ("coverage-identifier-required",), 503: ("backend-unavailable",)}),
]  # fmt: skip
