"""Coverage for clinics: `GET /api/v1/coverage` (JSON) and the same answer in FHIR R4 under `/api/v1/fhir`.

The FHIR answer is a type-level operation invoked with GET (`CoverageEligibilityRequest/$check`), not a search:
in FHIR `GET [base]/CoverageEligibilityResponse?…` is a search and must answer a Bundle, while an operation that
changes nothing may be called with GET and, having one resource as its result, answers that resource alone. It
sits on CoverageEligibilityRequest as `Claim/$submit` sits on Claim: its parameters are the request's content,
its result the response.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import Response, request
from marshmallow import Schema, fields, pre_dump, validate

from gateway import fhir
from gateway.api import responses as out
from gateway.api.common import dependencies
from gateway.api.operation import Answer, Routes
from gateway.api.problems import rejected, respond
from gateway.catalogue import Catalogue
from gateway.correlation import correlation_id
from gateway.domain.coverage import Coverage, CoverageQuery, Programme
from gateway.domain.identifiers import normalize_identifier
from gateway.domain.model import PolicyStatus, Reason, Source, Violation
from gateway.domain.reference import Reference
from gateway.ports import FundReads
from gateway.usecases.coverage import CoverageContext, check_coverage
from gateway.usecases.errors import InputRejected

routes = Routes("coverage", __name__, url_prefix="/api/v1", tag="coverage")
bp = routes.blueprint

SCOPE = "epolicy.eligibility"
FHIR_CHECK = "/CoverageEligibilityRequest/$check"
INPUT_TITLE = "Параметры запроса не прошли проверку"
INPUT_DETAIL = "Проверка не выполнена: исправьте параметры запроса, отмеченные в errors."


class Needs(Protocol):
    """What the coverage views use of the app's services."""

    @property
    def fund(self) -> FundReads: ...
    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def reference(self) -> Reference: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    def read_message_id(self) -> str: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


@dataclass(frozen=True)
class Checked:
    """A coverage check as a clinic reads it: with the insurer's name, the reason, and when it was made."""

    coverage: Coverage
    insurer_name: str | None
    reason: Reason | None
    checked_at: datetime


def _checked() -> Checked:
    needs = _needs()
    query = CoverageQuery(
        region_code=request.args.get("region_code", "").strip(),
        enp=normalize_identifier(request.args.get("enp", "")) or None,
        snils=normalize_identifier(request.args.get("snils", "")) or None,
    )
    context = CoverageContext(needs.fund, needs.catalogue, needs.reference.regions, needs.read_message_id)
    found = check_coverage(query, context)
    insurer = needs.reference.insurers.get(found.policy.insurer_code)
    reason = None
    if found.reason_code is not None:
        reason = needs.catalogue.reason(Violation(found.reason_code), Source.FUND)
    return Checked(found, insurer.name if insurer else None, reason, needs.clock())


# A person's insurance status: no shared cache may keep it.
PRIVATE = {"Cache-Control": "no-store"}


# The check's input is query parameters, not an application: its 422 says so. Through the one pipeline, so that a
# FHIR request still gets its OperationOutcome.
@bp.errorhandler(InputRejected)
def _input_rejected(error: InputRejected) -> Response:
    return respond(rejected(error.reasons, _needs().catalogue, INPUT_TITLE, INPUT_DETAIL))


# --- what the answers are ----------------------------------------------------------------------------------


class CoveragePolicyOut(Schema):
    status = out.Value(required=True, validate=validate.OneOf([status.value for status in PolicyStatus]))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)
    region_code = fields.String(required=True, metadata={"description": "Регион, где выдан полис"})


class CoverageOut(Schema):
    covered = fields.Boolean(required=True, metadata={"description": "Полис действует сегодня"})
    enp = fields.String(required=True)
    insurer = fields.Nested(out.InsurerRefOut, required=True)
    programme = out.Value(
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
        out.ReasonOut, required=True, allow_none=True, metadata={"description": "Почему полис не действует"}
    )
    checked_at = out.Timestamp(required=True)

    @pre_dump
    def _shown(self, checked: Checked, **kwargs: Any) -> Mapping[str, Any]:
        found, policy = checked.coverage, checked.coverage.policy
        return {
            "covered": found.covered,
            "enp": policy.enp,
            "insurer": {"code": policy.insurer_code, "name": checked.insurer_name},
            "programme": found.programme,
            "clinic_region_code": found.clinic_region_code,
            "policy": policy,
            "reason": checked.reason,
            "checked_at": checked.checked_at,
        }


# Nested schemas first: apispec names a nested schema the first time it meets it.
SCHEMAS: dict[str, type[Schema]] = {"CoveragePolicy": CoveragePolicyOut, "Coverage": CoverageOut}

QUERY = (
    {"name": "enp", "in": "query", "required": False, "description": "ЕНП (16 цифр); либо enp, либо snils",
     "schema": {"type": "string", "pattern": "^[0-9]{16}$"}, "example": "7754900882000015"},
    {"name": "snils", "in": "query", "required": False,
     "description": "СНИЛС (11 цифр, можно с дефисами и пробелом: 112-233-445 95)", "schema": {"type": "string"}},
    {"name": "region_code", "in": "query", "required": True, "description": "Регион медицинской организации",
     "schema": {"type": "string", "pattern": "^[0-9]{2}$"}, "example": "77"},
)  # fmt: skip


# --- the operations ------------------------------------------------------------------------------------------


@routes.get(
    "/coverage", "checkCoverage", "Проверка полиса ОМС медицинской организацией",
    Answer(200, CoverageOut, "Действует ли полис сегодня, СМО и программа ОМС; covered=false с причиной, если не "
           "действует"),
    scopes=(SCOPE,), errors=(401, 403, 404, 422, 503), parameters=QUERY,
    problems={404: ("enp-not-found",), 422: ("coverage-identifier-required",)},
)  # fmt: skip
def coverage() -> Response:
    """Whether a person is covered today, by which insurer and under which programme in the clinic's region."""
    return Response(out.render(CoverageOut, _checked()), mimetype="application/json", headers=PRIVATE)


@routes.get(
    f"/fhir{FHIR_CHECK}", "checkCoverageFhir", "Проверка полиса ОМС в FHIR R4 (CoverageEligibilityResponse)",
    Answer(200, None, "application/fhir+json: ресурс CoverageEligibilityResponse FHIR R4 (purpose validation, "
           "insurance[].inforce, программа ОМС в insurance[].item). Любая ошибка по адресам /api/v1/fhir/ "
           "(и 404 неизвестного адреса, и 405 другого метода с заголовком Allow) — ресурс OperationOutcome в "
           "application/fhir+json: issue[].code из FHIR IssueType, в details.coding — код причины из "
           "каталога, где причина есть"),
    scopes=(SCOPE,), errors=(401, 403, 404, 422, 503), parameters=QUERY, media_type=fhir.FHIR_JSON,
    error_media_type=fhir.FHIR_JSON,
    problems={400: ("token-in-url",), 401: ("missing-authorization", "invalid-token"),
              403: ("no-eligibility-scope",), 404: ("enp-not-found", "not-found"),
              422: ("coverage-identifier-required",), 503: ("backend-unavailable",)},
)  # fmt: skip
def fhir_check() -> Response:
    """The coverage answer as a FHIR R4 CoverageEligibilityResponse."""
    needs = _needs()
    checked = _checked()
    reason = checked.reason
    entry = None if reason is None else (reason, needs.catalogue.entry(reason.code))
    request_id = correlation_id.get() or needs.read_message_id()
    resource = fhir.coverage_eligibility_response(
        checked.coverage, checked.insurer_name, checked.checked_at, request_id, entry
    )
    return Response(json.dumps(resource, ensure_ascii=False), mimetype=fhir.FHIR_JSON, headers=PRIVATE)
