"""A policy's history and visits paid by ОМС, the clinics of a region, and attaching to one of them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from flask import request
from marshmallow import Schema, fields, post_load, pre_dump, validate

from gateway.api import bodies
from gateway.api import responses as out
from gateway.api.common import caller, dependencies
from gateway.api.docs import ENP, REGION_CODE
from gateway.api.operation import Answer, Routes
from gateway.api.problems import ProblemError
from gateway.api.schemas import Strict, choice
from gateway.catalogue import Catalogue
from gateway.domain.calendar import MOSCOW
from gateway.domain.clinics import (
    Attachment,
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
from gateway.domain.reference import Reference
from gateway.usecases import clinics
from gateway.usecases.errors import InputRejected
from gateway.usecases.policies import PolicyContext, Reader

routes = Routes("clinics", __name__, url_prefix="/api/v1", tag="clinics")
bp = routes.blueprint
MAX_KEY_LENGTH = 255


class Needs(Protocol):
    """What the clinics' views use of the app's services."""

    @property
    def policies(self) -> PolicyContext: ...
    @property
    def reference(self) -> Reference: ...
    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def new_id(self) -> Callable[[], str]: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


@dataclass(frozen=True)
class WantedClinic:
    """The clinic a holder asks to be attached to, and why."""

    clinic_code: str
    reason: AttachmentReason


@dataclass(frozen=True)
class ShownEvent:
    """An event of a policy as the history shows it: with its insurer's name."""

    event: PolicyEvent
    insurer_name: str | None


@dataclass(frozen=True)
class VisitList:
    """The visits of an ЕНП in a period, as the fund listed them."""

    enp: str
    period: Period
    visits: list[Visit]


class Roubles(fields.String):
    """An amount in roubles with kopecks, as a string: 1250.00."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value:.2f}"


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

    @post_load
    def _wanted(self, data: dict[str, Any], **kwargs: Any) -> WantedClinic:
        return WantedClinic(data["clinic_code"], AttachmentReason(data["reason"]))


class PolicyEventOut(Schema):
    date = fields.Date(required=True)
    type = out.Value(required=True, validate=validate.OneOf([kind.value for kind in PolicyEventType]))
    reason = fields.String(required=True, allow_none=True, metadata={"description": "Основание заявления в реестре"})
    insurer = fields.Nested(out.InsurerRefOut, required=True)
    region_code = fields.String(required=True)
    policy_form = fields.String(required=True)

    @pre_dump
    def _shown(self, shown: ShownEvent, **kwargs: Any) -> Mapping[str, Any]:
        event = shown.event
        return {
            "date": event.date,
            "type": event.type,
            "reason": event.reason,
            "insurer": {"code": event.insurer_code, "name": shown.insurer_name},
            "region_code": event.region_code,
            "policy_form": event.policy_form,
        }


class PolicyHistoryOut(Schema):
    enp = fields.String(required=True)
    items = fields.List(fields.Nested(PolicyEventOut), required=True, metadata={"description": "Сначала давние"})


AMOUNT = {"description": "Рубли с копейками, строкой: 1250.00", "pattern": r"^[0-9]+\.[0-9]{2}$"}


class VisitOut(Schema):
    id = fields.String(required=True)
    date = fields.Date(required=True)
    clinic = fields.Nested(out.ClinicRefOut, required=True)
    care_kind = out.Value(
        required=True,
        validate=validate.OneOf([kind.value for kind in CareKind]),
        metadata={"description": "Условия оказания помощи"},
    )
    service = fields.String(required=True)
    diagnosis_group = fields.String(required=True, allow_none=True, metadata={"description": "Блок кодов МКБ-10"})
    amount_paid = Roubles(required=True, metadata=AMOUNT)

    @pre_dump
    def _shown(self, visit: Visit, **kwargs: Any) -> Mapping[str, Any]:
        return {
            "id": visit.visit_id,
            "date": visit.date,
            "clinic": {"code": visit.clinic_code, "name": visit.clinic_name},
            "care_kind": visit.care_kind,
            "service": visit.service,
            "diagnosis_group": visit.diagnosis_group,
            "amount_paid": visit.amount_paid,
        }


class VisitListOut(Schema):
    enp = fields.String(required=True)
    from_ = fields.Date(required=True, allow_none=True, data_key="from")
    to = fields.Date(required=True, allow_none=True)
    items = fields.List(fields.Nested(VisitOut), required=True, metadata={"description": "Сначала давние"})
    total_paid = Roubles(required=True, metadata=AMOUNT)

    @pre_dump
    def _shown(self, found: VisitList, **kwargs: Any) -> Mapping[str, Any]:
        return {
            "enp": found.enp,
            "from_": found.period.start,
            "to": found.period.end,
            "items": found.visits,
            "total_paid": total_paid(found.visits),
        }


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
PERIOD = (
    {"name": "from", "in": "query", "required": False, "description": "Первый день периода (включительно)",
     "schema": {"type": "string", "format": "date"}, "example": "2025-01-01"},
    {"name": "to", "in": "query", "required": False, "description": "Последний день периода (включительно)",
     "schema": {"type": "string", "format": "date"}, "example": "2025-12-31"},
)  # fmt: skip
ATTACHMENT_EXAMPLES = {
    "choice": {"summary": "Прикрепление по выбору (раз в год)", "value": {"clinic_code": "770101"}},
    "relocation": {"summary": "Прикрепление при смене места жительства",
                   "value": {"clinic_code": "770102", "reason": "relocation"}},
}  # fmt: skip


# --- operations ---------------------------------------------------------------------------------------------


@routes.get(
    "/policies/<enp>/history", "getPolicyHistory", "История полиса", Answer(200, PolicyHistoryOut, "События полиса"),
    scopes=("epolicy.read",), errors=(401, 403, 404, 422, 503), parameters=(ENP,), problems={422: ("enp-checksum",)},
)  # fmt: skip
def history(enp: str) -> dict[str, Any]:
    """What happened to the caller's policy: issue, re-issues, changes of insurer and of data, oldest first."""
    needs = _needs()
    events = clinics.policy_history(enp, Reader(caller()), needs.policies)
    insurers = needs.reference.insurers
    shown = []
    for event in events:
        insurer = insurers.get(event.insurer_code)
        shown.append(ShownEvent(event, insurer.name if insurer else None))
    return {"enp": enp, "items": shown}


@routes.get(
    "/policies/<enp>/visits", "getVisits", "История обращений, оплаченных по ОМС",
    Answer(200, VisitListOut, "Обращения за период"), scopes=("epolicy.read",), errors=(401, 403, 404, 422, 503),
    parameters=(ENP, *PERIOD), problems={422: ("visits-period-invalid", "enp-checksum")},
)  # fmt: skip
def visits(enp: str) -> VisitList:
    """The care ОМС paid for («история обращений»), in an optional period, oldest first."""
    period = Period(_query_date("from"), _query_date("to"))
    return VisitList(enp, period, clinics.visits(enp, period, Reader(caller()), _needs().policies))


@routes.get(
    "/clinics", "listClinics", "Медицинские организации региона", Answer(200, ClinicListOut, "Медицинские организации"),
    scopes=(), errors=(400, 401, 503), parameters=(REGION_CODE,), problems={400: ("bad-region",)},
)  # fmt: skip
def clinic_list() -> dict[str, Any]:
    """The clinics admitted in a region, each saying whether it takes more patients."""
    needs = _needs()
    region = request.args.get("region_code", "")
    if region not in needs.reference.regions:
        raise ProblemError(400, "bad-region", "region_code должен быть кодом субъекта РФ из двух цифр.")
    found: list[Clinic] = clinics.clinics_in(region, needs.policies)
    return {"region_code": region, "items": found}


@routes.post(
    "/policies/<enp>/attachment", "attachToClinic", "Прикрепиться к медицинской организации",
    Answer(200, out.AttachmentOut, "Прикрепление действует"), scopes=("epolicy.apply",), body=AttachmentSchema,
    load=bodies.load, errors=(400, 401, 403, 404, 415, 422, 503), parameters=(ENP, ATTACHMENT_KEY),
    examples=ATTACHMENT_EXAMPLES,
    problems={400: ("malformed-json", "not-an-object", "idempotency-key"), 422: ("clinic-full", "enp-checksum")},
)  # fmt: skip
def attach(enp: str, body: WantedClinic) -> Attachment:
    """Attach the holder of the caller's policy to a clinic of its region; the fund answers at once."""
    needs = _needs()
    return clinics.attach(
        enp,
        body.clinic_code,
        body.reason,
        Reader(caller()),
        needs.policies,
        message_id=_attachment_message_id(enp, body),
        today=needs.clock().astimezone(MOSCOW).date(),  # the registry's calendar, as for applications
    )


def _attachment_message_id(enp: str, wanted: WantedClinic) -> str:
    # The fund answers a repeated MessageId as the first time: a retry with the same Idempotency-Key and the
    # same choice gets the attachment already made instead of a refusal as "already attached".
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return "at_" + _needs().new_id().removeprefix("app_")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ProblemError(400, "idempotency-key", f"Idempotency-Key должен быть от 1 до {MAX_KEY_LENGTH} символов.")
    scope = "\n".join((caller().sub, key, enp, wanted.clinic_code, wanted.reason.value))
    return "at_" + hashlib.sha256(scope.encode()).hexdigest()[:40]


def _query_date(name: str) -> date | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        reason = _needs().catalogue.reason(Violation("FIELD_INVALID", name))
        raise InputRejected((reason,)) from None
