"""How an API module documents its operations for the OpenAPI document (gateway/openapi.py collects them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

ERRORS = {
    400: "Тело запроса не является объектом JSON или параметр неверен",
    401: "Нет токена или токен недействителен (WWW-Authenticate: Bearer)",
    403: "У токена нет нужной области доступа (insufficient_scope)",
    404: "Не найдено или не принадлежит вызывающему",
    409: "Конфликт с состоянием ресурса",
    415: "Тело запроса не в формате application/json",
    422: "Данные не прошли проверку: причины в errors",
    503: "Внешняя система недоступна; повторите после Retry-After",
}


@dataclass(frozen=True)
class Operation:
    """One documented operation of the API."""

    path: str
    method: str
    operation_id: str
    summary: str
    tag: str
    answer: tuple[int, type[Schema] | None, str]
    scopes: tuple[str, ...] | None = None  # None: no token; (): any valid token
    body: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    parameters: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, Any] = field(default_factory=dict)
    media_type: str = "application/json"  # of the success answer; errors are problem+json unless error_media_type
    error_media_type: str | None = None


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Повтор с тем же ключом и тем же телом вернёт исходное заявление.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
APPLICATION_ID = {"name": "application_id", "in": "path", "required": True, "schema": {"type": "string"}}
ENP = {"name": "enp", "in": "path", "required": True, "schema": {"type": "string"}}
LOCATION = {"Location": {"schema": {"type": "string"}, "description": "Адрес заявления"}}
