"""A policy's history and visits paid by ОМС, the clinics of a region, and attaching to one of them."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import Schema, fields, validate

from gateway.api import render
from gateway.api import responses as out
from gateway.api.bodies import json_body, parse
from gateway.api.common import caller, json_response, services
from gateway.api.docs import ENP, REGION_CODE, Operation
from gateway.api.problems import ProblemError
from gateway.api.schemas import Strict, choice
from gateway.auth import require_scope
from gateway.domain.calendar import MOSCOW
from gateway.domain.clinics import (
    AttachmentReason,
    CareKind,
    Clinic,
    Period,
    PolicyEvent,
    PolicyEventType,
    Visit,
    total_paid,
)
from gateway.domain.model import Violation
from gateway.usecases import clinics
from gateway.usecases.errors import InputRejected
from gateway.usecases.policies import Reader

bp = Blueprint("clinics", __name__, url_prefix="/api/v1")
MAX_KEY_LENGTH = 255


@bp.get("/policies/<enp>/history")
@require_scope("epolicy.read")
def history(enp: str) -> Response:
    """What happened to the caller's policy: issue, re-issues, changes of insurer and of data, oldest first."""
    events = clinics.policy_history(enp, Reader(caller()), services().policies)
    return json_response({"enp": enp, "items": [_event(event) for event in events]})


@bp.get("/policies/<enp>/visits")
@require_scope("epolicy.read")
def visits(enp: str) -> Response:
    """The care ОМС paid for («история обращений»), in an optional period, oldest first."""
    period = Period(_query_date("from"), _query_date("to"))
    found = clinics.visits(enp, period, Reader(caller()), services().policies)
    return json_response(
        {
            "enp": enp,
            "from": render.day(period.start),
            "to": render.day(period.end),
            "items": [_visit(visit) for visit in found],
            "total_paid": f"{total_paid(found):.2f}",
        }
    )


@bp.get("/clinics")
@require_scope()
def clinic_list() -> Response:
    """The clinics admitted in a region, each saying whether it takes more patients."""
    region = request.args.get("region_code", "")
    if region not in services().reference.regions:
        raise ProblemError(400, "bad-region", "region_code должен быть кодом субъекта РФ из двух цифр.")
    found = clinics.clinics_in(region, services().policies)
    return json_response({"region_code": region, "items": [_clinic(clinic) for clinic in found]})


@bp.post("/policies/<enp>/attachment")
@require_scope("epolicy.apply")
def attach(enp: str) -> Response:
    """Attach the holder of the caller's policy to a clinic of its region; the fund answers at once."""
    body = json_body()
    wanted = parse(AttachmentSchema(), body)
    attachment = clinics.attach(
        enp,
        wanted["clinic_code"],
        AttachmentReason(wanted["reason"]),
        Reader(caller()),
        services().policies,
        message_id=_attachment_message_id(enp, wanted["clinic_code"], wanted["reason"]),
        today=services().clock().astimezone(MOSCOW).date(),  # the registry's calendar, as for applications
    )
    return json_response(render.attached_clinic(attachment))


def _attachment_message_id(enp: str, clinic_code: str, reason: str) -> str:
    # The fund answers a repeated MessageId as the first time: a retry with the same Idempotency-Key and the
    # same choice gets the attachment already made instead of a refusal as "already attached".
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return "at_" + services().new_id().removeprefix("app_")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ProblemError(400, "idempotency-key", f"Idempotency-Key должен быть от 1 до {MAX_KEY_LENGTH} символов.")
    scope = "\n".join((caller().sub, key, enp, clinic_code, reason))
    return "at_" + hashlib.sha256(scope.encode()).hexdigest()[:40]


def _query_date(name: str) -> date | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        reason = services().catalogue.reason(Violation("FIELD_INVALID", name))
        raise InputRejected((reason,)) from None


# --- representations ----------------------------------------------------------------------------------------


def _event(event: PolicyEvent) -> dict[str, Any]:
    insurer = services().reference.insurers.get(event.insurer_code)
    return {
        "date": render.day(event.date),
        "type": event.type.value,
        "reason": event.reason,
        "insurer": {"code": event.insurer_code, "name": insurer.name if insurer else None},
        "region_code": event.region_code,
        "policy_form": event.policy_form,
    }


def _visit(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.visit_id,
        "date": render.day(visit.date),
        "clinic": {"code": visit.clinic_code, "name": visit.clinic_name},
        "care_kind": visit.care_kind.value,
        "service": visit.service,
        "diagnosis_group": visit.diagnosis_group,
        "amount_paid": f"{visit.amount_paid:.2f}",
    }


def _clinic(clinic: Clinic) -> dict[str, Any]:
    return {
        "code": clinic.code,
        "name": clinic.name,
        "region_code": clinic.region_code,
        "address": clinic.address,
        "phone": clinic.phone,
        "accepts_attachment": clinic.accepts_attachment,
    }


# --- schemas ------------------------------------------------------------------------------------------------


class AttachmentSchema(Strict):
    """`POST /api/v1/policies/{enp}/attachment`."""

    clinic_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{6}$"),
        metadata={"description": "Код медицинской организации из GET /api/v1/clinics"},
    )
    reason = choice(
        AttachmentReason,
        load_default=AttachmentReason.CHOICE.value,
        metadata={"description": "choice — по выбору (раз в год), relocation — при смене места жительства"},
    )


class PolicyEventOut(Schema):
    date = fields.Date(required=True)
    type = choice(PolicyEventType, required=True)
    reason = fields.String(required=True, allow_none=True, metadata={"description": "Основание заявления в реестре"})
    insurer = fields.Nested(out.InsurerRefOut, required=True)
    region_code = fields.String(required=True)
    policy_form = fields.String(required=True)


class PolicyHistoryOut(Schema):
    enp = fields.String(required=True)
    items = fields.List(fields.Nested(PolicyEventOut), required=True, metadata={"description": "Сначала давние"})


AMOUNT = {"description": "Рубли с копейками, строкой: 1250.00", "pattern": r"^[0-9]+\.[0-9]{2}$"}


class VisitOut(Schema):
    id = fields.String(required=True)
    date = fields.Date(required=True)
    clinic = fields.Nested(out.ClinicRefOut, required=True)
    care_kind = choice(CareKind, required=True, metadata={"description": "Условия оказания помощи"})
    service = fields.String(required=True)
    diagnosis_group = fields.String(required=True, allow_none=True, metadata={"description": "Блок кодов МКБ-10"})
    amount_paid = fields.String(required=True, metadata=AMOUNT)


class VisitListOut(Schema):
    enp = fields.String(required=True)
    from_ = fields.Date(required=True, allow_none=True, data_key="from")
    to = fields.Date(required=True, allow_none=True)
    items = fields.List(fields.Nested(VisitOut), required=True, metadata={"description": "Сначала давние"})
    total_paid = fields.String(required=True, metadata=AMOUNT)


class ClinicOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    region_code = fields.String(required=True)
    address = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    accepts_attachment = fields.Boolean(
        required=True, metadata={"description": "false, если организация прикрепила столько, сколько может"}
    )


class ClinicListOut(Schema):
    region_code = fields.String(required=True)
    items = fields.List(fields.Nested(ClinicOut), required=True)


SCHEMAS: dict[str, type[Schema]] = {
    "AttachmentRequest": AttachmentSchema,
    "PolicyEvent": PolicyEventOut,
    "PolicyHistory": PolicyHistoryOut,
    "Visit": VisitOut,
    "VisitList": VisitListOut,
    "Clinic": ClinicOut,
    "ClinicList": ClinicListOut,
}

ATTACHMENT_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Повтор с тем же ключом и тем же телом вернёт уже сделанное прикрепление, а не отказ.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "example": "attach-770101-2026",
}
PERIOD = [
    {"name": "from", "in": "query", "required": False, "description": "Первый день периода (включительно)",
     "schema": {"type": "string", "format": "date"}, "example": "2025-01-01"},
    {"name": "to", "in": "query", "required": False, "description": "Последний день периода (включительно)",
     "schema": {"type": "string", "format": "date"}, "example": "2025-12-31"},
]  # fmt: skip

DOCS = [
    Operation("/api/v1/policies/{enp}/history", "get", "getPolicyHistory", "История полиса", "clinics",
              (200, PolicyHistoryOut, "События полиса"), ("epolicy.read",), None, (401, 403, 404, 422, 503), [ENP],
              problems={422: ("enp-checksum",)}),
    Operation("/api/v1/policies/{enp}/visits", "get", "getVisits", "История обращений, оплаченных по ОМС",
              "clinics", (200, VisitListOut, "Обращения за период"), ("epolicy.read",), None,
              (401, 403, 404, 422, 503), [ENP, *PERIOD], problems={422: ("visits-period-invalid", "enp-checksum")}),
    Operation("/api/v1/clinics", "get", "listClinics", "Медицинские организации региона", "clinics",
              (200, ClinicListOut, "Медицинские организации"), (), None, (400, 401, 503),
              [REGION_CODE], problems={400: ("bad-region",)}),
    Operation("/api/v1/policies/{enp}/attachment", "post", "attachToClinic", "Прикрепиться к медицинской организации",
              "clinics", (200, out.AttachmentOut, "Прикрепление действует"), ("epolicy.apply",), AttachmentSchema,
              (400, 401, 403, 404, 415, 422, 503), [ENP, ATTACHMENT_KEY],
              examples={"choice": {"summary": "Прикрепление по выбору (раз в год)", "value": {"clinic_code": "770101"}},
                        "relocation": {"summary": "Прикрепление при смене места жительства",
                                       "value": {"clinic_code": "770102", "reason": "relocation"}}},
              problems={400: ("malformed-json", "not-an-object", "idempotency-key"),
                        422: ("clinic-full", "enp-checksum")}),
]  # fmt: skip
