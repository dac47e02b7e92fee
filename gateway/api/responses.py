"""marshmallow schemas of what the API answers: each renders the answer from the domain's values and documents it.

Times are RFC 3339 in UTC with a Z (`Timestamp`), enums their values (`Value`), a holder's surname masked
(`Masked`): the rules of the representation are fields, so that the document and the answer cannot part.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from marshmallow import Schema, fields, post_dump, pre_dump, validate

from gateway.domain.applications import Application
from gateway.domain.clinics import Attachment, AttachmentReason
from gateway.domain.model import ApplicationKind, ApplicationStatus, Policy, PolicyStatus, Source


@functools.cache
def _instance(schema: type[Schema], many: bool) -> Schema:
    return schema(many=many)


def dump(schema: type[Schema], value: Any, *, many: bool = False) -> Any:
    """`value` (a list of them when `many`) as `schema` renders it: plain data for JSON."""
    return _instance(schema, many).dump(value)


def render(schema: type[Schema], value: Any) -> str:
    """`value` as `schema` renders it, as JSON text (UTF-8 characters as they are)."""
    return json.dumps(dump(schema, value), ensure_ascii=False)


class Timestamp(fields.DateTime):
    """An instant as RFC 3339 in UTC, to the second, with a Z."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else timestamp(value)


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Instant(fields.DateTime):
    """An instant as the clock gave it, to the millisecond (when a check ran)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat(timespec="milliseconds")


class Value(fields.String):
    """A string that the domain holds as an enum member: its value."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        shown = value.value if isinstance(value, Enum) else value
        return None if shown is None else str(shown)


class Masked(fields.String):
    """A name shown by its first letter and a star for every other one: enough to recognise, not to identify."""

    def _serialize(self, value: str | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else mask_name(value)


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 0)


class Pairs(fields.Dict):
    """A mapping the domain keeps as a tuple of pairs (a Reason's details)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> dict[str, Any] | None:
        return None if value is None else dict(value)


def _values(enum: type) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])  # type: ignore[attr-defined]


class ReasonOut(Schema):
    code = fields.String(required=True, metadata={"description": "Код из каталога причин (contracts/rejections.yaml)"})
    field = fields.String(allow_none=True, required=True, metadata={"description": "JSON-путь к полю запроса"})
    source = Value(required=True, validate=_values(Source))
    message = fields.String(required=True)
    recommendation = fields.String(required=True)
    details = Pairs(keys=fields.String(), values=fields.String(), required=True)


class HistoryEntryOut(Schema):
    status = Value(required=True, validate=_values(ApplicationStatus))
    at = Timestamp(required=True)
    note = fields.String(metadata={"description": "Повтор шага после сбоя внешней системы и т. п."})

    @post_dump
    def _without_empty_note(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not data.get("note"):
            data.pop("note", None)
        return data


class RejectionOut(Schema):
    reasons = fields.List(fields.Nested(ReasonOut), required=True)


class IssuedPolicyOut(Schema):
    enp = fields.String(required=True)
    insurer_code = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)


class ApplicationOut(Schema):
    id = fields.String(required=True)
    kind = Value(required=True, validate=_values(ApplicationKind))
    status = Value(required=True, validate=_values(ApplicationStatus))
    created_at = Timestamp(required=True)
    updated_at = Timestamp(required=True)
    history = fields.List(fields.Nested(HistoryEntryOut), required=True)
    rejection = fields.Nested(RejectionOut, required=True, allow_none=True)
    policy = fields.Nested(IssuedPolicyOut, required=True, allow_none=True)
    stalled = fields.Boolean(
        metadata={"description": "Обработка приостановлена после многих неудачных попыток и ждёт оператора"}
    )

    @pre_dump
    def _shown(self, item: Application, **kwargs: Any) -> Mapping[str, Any]:
        """What the application shows of itself: a stall only while it is not final, a refusal's reasons."""
        return {
            "id": item.id,
            "kind": item.kind,
            "status": item.status,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
            "history": item.history,
            "stalled": item.stalled and not item.status.is_final,
            "rejection": {"reasons": item.rejection} if item.rejection else None,
            "policy": item.policy,
        }


class ApplicationPageOut(Schema):
    items = fields.List(fields.Nested(ApplicationOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class InsurerRefOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class HolderOut(Schema):
    last_name = Masked(required=True, metadata={"description": "Фамилия, скрытая кроме первой буквы"})
    first_name = fields.String(required=True)
    birth_date = fields.Date(required=True)


class RestrictionOut(Schema):
    code = fields.String(required=True)
    description = fields.String(required=True)
    since = fields.Date(required=True, allow_none=True)


class ClinicRefOut(Schema):
    code = fields.String(required=True, metadata={"description": "Код медицинской организации в реестре ОМС"})
    name = fields.String(required=True)


class AttachmentOut(Schema):
    clinic = fields.Nested(ClinicRefOut, required=True)
    since = fields.Date(required=True, metadata={"description": "С какого дня действует прикрепление"})
    reason = Value(required=True, validate=_values(AttachmentReason))

    @pre_dump
    def _shown(self, item: Attachment, **kwargs: Any) -> Mapping[str, Any]:
        return {
            "clinic": {"code": item.clinic_code, "name": item.clinic_name},
            "since": item.since,
            "reason": item.reason,
        }


@dataclass(frozen=True)
class ShownPolicy:
    """A policy as its status page shows it: with its insurer's name and its holder's clinic."""

    policy: Policy
    insurer_name: str | None
    attachment: Attachment | None = None


class PolicyOut(Schema):
    enp = fields.String(required=True)
    status = Value(required=True, validate=_values(PolicyStatus))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)
    insurer = fields.Nested(InsurerRefOut, required=True)
    region_code = fields.String(required=True)
    policy_form = Value(required=True)
    holder = fields.Nested(HolderOut, required=True)
    restrictions = fields.List(fields.Nested(RestrictionOut), required=True)
    attachment = fields.Nested(
        AttachmentOut,
        required=True,
        allow_none=True,
        metadata={"description": "Медицинская организация, к которой прикреплён держатель полиса, или null"},
    )

    @pre_dump
    def _shown(self, shown: ShownPolicy, **kwargs: Any) -> Mapping[str, Any]:
        policy = shown.policy
        return {
            "enp": policy.enp,
            "status": policy.status,
            "valid_from": policy.valid_from,
            "valid_to": policy.valid_to,
            "insurer": {"code": policy.insurer_code, "name": shown.insurer_name},
            "region_code": policy.region_code,
            "policy_form": policy.policy_form,
            "holder": policy.holder,
            "restrictions": policy.restrictions,
            "attachment": shown.attachment,
        }


class InsurerOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    region_code = fields.String(required=True)
    policy_forms = fields.List(Value(), required=True)
    phone = fields.String(required=True, allow_none=True)
    website = fields.String(required=True, allow_none=True)


class InsurerListOut(Schema):
    region_code = fields.String(required=True)
    items = fields.List(fields.Nested(InsurerOut), required=True)


class CatalogueEntryOut(Schema):
    code = fields.String(required=True)
    sources = fields.List(Value(validate=_values(Source)), required=True)
    title = fields.String(required=True)
    message = fields.String(required=True)
    recommendation = fields.String(required=True)
    http_status = fields.Integer(required=True)
    fhir_issue_type = fields.String(required=True)
    severity = Value(required=True, validate=validate.OneOf(["error", "warning"]))
    field = fields.String(required=True, allow_none=True)
    legal_basis = fields.String(required=True, allow_none=True)
    reserved = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Почему этот код говорит только настоящий реестр, а не шлюз и не имитаторы; "
            "null — код используется"
        },
    )


class CatalogueOut(Schema):
    version = fields.Integer(required=True)
    items = fields.List(fields.Nested(CatalogueEntryOut), required=True)


class ValidOut(Schema):
    valid = fields.Boolean(required=True)


class ProblemOut(Schema):
    """RFC 9457 problem details, as gateway/api/problems.py writes them."""

    type = fields.String(required=True, metadata={"description": "Вид ошибки: https://epolicy.example/problems/<вид>"})
    title = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "HTTP-статус ответа"})
    detail = fields.String(required=True)
    instance = fields.String(metadata={"description": "Путь запроса"})
    error = fields.String(
        metadata={
            "description": "Код ошибки OAuth 2.0 при 400, 401 и 403 слоя авторизации (RFC 6750): "
            "missing_authorization, invalid_token, insufficient_scope, invalid_request"
        }
    )
    error_description = fields.String(
        metadata={"description": "Пояснение к коду OAuth 2.0, как в WWW-Authenticate (по-английски, RFC 6750)"}
    )
    errors = fields.List(
        fields.Nested(ReasonOut),
        metadata={"description": "Причины отказа (422); при 503 — TECHNICAL_ERROR: это не отказ, повторите позже"},
    )


class NotReadyOut(Schema):
    """The problem /readyz answers with 503: what is not ready, check by check."""

    type = fields.String(required=True, metadata={"description": "https://epolicy.example/problems/not-ready"})
    title = fields.String(required=True)
    status = fields.Integer(required=True, validate=validate.Equal(503))
    detail = fields.String(required=True)
    instance = fields.String()
    checks = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Каждая проверка: ok (closed у автоматов), иначе unavailable: <почему>"},
    )
    checked_at = fields.DateTime(metadata={"description": "Когда начата проверка, ответ которой показан"})


class HealthOut(Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())
    checked_at = Instant(metadata={"description": "Когда начата проверка, ответ которой показан (/readyz)"})
