"""marshmallow schemas of what the API answers, for the OpenAPI document (render.py produces these shapes)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.domain.clinics import AttachmentReason
from gateway.domain.model import ApplicationKind, ApplicationStatus, PolicyStatus, Source


def _values(enum: type) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])  # type: ignore[attr-defined]


class ReasonOut(Schema):
    code = fields.String(required=True, metadata={"description": "Код из каталога причин (contracts/rejections.yaml)"})
    field = fields.String(allow_none=True, required=True, metadata={"description": "JSON-путь к полю запроса"})
    source = fields.String(required=True, validate=_values(Source))
    message = fields.String(required=True)
    recommendation = fields.String(required=True)
    details = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class HistoryEntryOut(Schema):
    status = fields.String(required=True, validate=_values(ApplicationStatus))
    at = fields.DateTime(required=True)
    note = fields.String(metadata={"description": "Повтор шага после сбоя внешней системы и т. п."})


class RejectionOut(Schema):
    reasons = fields.List(fields.Nested(ReasonOut), required=True)


class IssuedPolicyOut(Schema):
    enp = fields.String(required=True)
    insurer_code = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)


class ApplicationOut(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=_values(ApplicationKind))
    status = fields.String(required=True, validate=_values(ApplicationStatus))
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    history = fields.List(fields.Nested(HistoryEntryOut), required=True)
    rejection = fields.Nested(RejectionOut, required=True, allow_none=True)
    policy = fields.Nested(IssuedPolicyOut, required=True, allow_none=True)
    stalled = fields.Boolean(
        metadata={"description": "Обработка приостановлена после многих неудачных попыток и ждёт оператора"}
    )


class ApplicationPageOut(Schema):
    items = fields.List(fields.Nested(ApplicationOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class InsurerRefOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class HolderOut(Schema):
    last_name = fields.String(required=True, metadata={"description": "Фамилия, скрытая кроме первой буквы"})
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
    reason = fields.String(required=True, validate=_values(AttachmentReason))


class PolicyOut(Schema):
    enp = fields.String(required=True)
    status = fields.String(required=True, validate=_values(PolicyStatus))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)
    insurer = fields.Nested(InsurerRefOut, required=True)
    region_code = fields.String(required=True)
    policy_form = fields.String(required=True)
    holder = fields.Nested(HolderOut, required=True)
    restrictions = fields.List(fields.Nested(RestrictionOut), required=True)
    attachment = fields.Nested(
        AttachmentOut,
        required=True,
        allow_none=True,
        metadata={"description": "Медицинская организация, к которой прикреплён держатель полиса, или null"},
    )


class InsurerOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    region_code = fields.String(required=True)
    policy_forms = fields.List(fields.String(), required=True)
    phone = fields.String(required=True, allow_none=True)
    website = fields.String(required=True, allow_none=True)


class InsurerListOut(Schema):
    region_code = fields.String(required=True)
    items = fields.List(fields.Nested(InsurerOut), required=True)


class CatalogueEntryOut(Schema):
    code = fields.String(required=True)
    sources = fields.List(fields.String(validate=_values(Source)), required=True)
    title = fields.String(required=True)
    message = fields.String(required=True)
    recommendation = fields.String(required=True)
    http_status = fields.Integer(required=True)
    fhir_issue_type = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(["error", "warning"]))
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
    checked_at = fields.DateTime(metadata={"description": "Когда начата проверка, ответ которой показан (/readyz)"})
