"""The OpenAPI 3.1 document of the REST API, generated from the schemas and operations in the code.

`epolicy openapi --output contracts/openapi.yaml` writes it; a test fails when the committed file drifts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from gateway.api import responses as out
from gateway.api.schemas import (
    ApplicationSchema,
    ContactsSchema,
    DocumentSchema,
    PersonChangesSchema,
    PersonSchema,
    ReplacementSchema,
)

PROBLEM = "application/problem+json"
SCOPES = {
    "epolicy.apply": "Подача заявлений",
    "epolicy.read": "Свои заявления и полисы",
    "epolicy.replace": "Замена полиса",
    "epolicy.eligibility": "Проверка статуса любого полиса (медицинские организации)",
}
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


# Registered first, so references read as these names rather than the classes'.
NAMED_SCHEMAS: dict[str, type[Schema]] = {
    "Document": DocumentSchema,
    "Person": PersonSchema,
    "PersonChanges": PersonChangesSchema,
    "Contacts": ContactsSchema,
    "ApplicationRequest": ApplicationSchema,
    "ReplacementRequest": ReplacementSchema,
    "Reason": out.ReasonOut,
    "HistoryEntry": out.HistoryEntryOut,
    "Rejection": out.RejectionOut,
    "IssuedPolicy": out.IssuedPolicyOut,
    "Application": out.ApplicationOut,
    "ApplicationPage": out.ApplicationPageOut,
    "InsurerRef": out.InsurerRefOut,
    "Holder": out.HolderOut,
    "Restriction": out.RestrictionOut,
    "Policy": out.PolicyOut,
    "Insurer": out.InsurerOut,
    "InsurerList": out.InsurerListOut,
    "CatalogueEntry": out.CatalogueEntryOut,
    "Catalogue": out.CatalogueOut,
    "Valid": out.ValidOut,
    "Problem": out.ProblemOut,
    "Health": out.HealthOut,
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

OPERATIONS = [
    Operation("/api/v1/applications", "post", "createApplication", "Подать заявление на полис", "applications",
              (202, out.ApplicationOut, "Заявление принято"), ("epolicy.apply",), ApplicationSchema,
              (400, 401, 403, 409, 415, 422), [IDEMPOTENCY_KEY], LOCATION),
    Operation("/api/v1/applications", "get", "listApplications", "Свои заявления, новые первыми", "applications",
              (200, out.ApplicationPageOut, "Страница заявлений"), ("epolicy.read",), None, (400, 401, 403),
              [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
               {"name": "cursor", "in": "query", "schema": {"type": "string"}}]),
    Operation("/api/v1/applications/validate", "post", "validateApplication", "Проверить черновик заявления",
              "applications", (200, out.ValidOut, "Черновик корректен"), ("epolicy.apply",), ApplicationSchema,
              (400, 401, 403, 415, 422)),
    Operation("/api/v1/applications/{application_id}", "get", "getApplication", "Заявление и его история",
              "applications", (200, out.ApplicationOut, "Заявление"), ("epolicy.read",), None, (401, 403, 404),
              [APPLICATION_ID]),
    Operation("/api/v1/applications/{application_id}", "delete", "cancelApplication",
              "Отозвать заявление до передачи в страховую организацию", "applications",
              (200, out.ApplicationOut, "Заявление отозвано"), ("epolicy.apply",), None, (401, 403, 404, 409),
              [APPLICATION_ID]),
    Operation("/api/v1/policies/{enp}", "get", "getPolicy", "Статус полиса по ЕНП", "policies",
              (200, out.PolicyOut, "Статус полиса"), ("epolicy.read", "epolicy.eligibility"), None,
              (401, 403, 404, 422, 503), [ENP]),
    Operation("/api/v1/policies/{enp}/replacements", "post", "replacePolicy", "Заменить или переоформить полис",
              "policies", (202, out.ApplicationOut, "Заявление на замену принято"), ("epolicy.replace",),
              ReplacementSchema, (400, 401, 403, 404, 409, 415, 422, 503), [ENP, IDEMPOTENCY_KEY], LOCATION),
    Operation("/api/v1/insurers", "get", "listInsurers", "Страховые организации, допущенные в регионе",
              "reference", (200, out.InsurerListOut, "Страховые организации"), (), None, (400, 401, 503),
              [{"name": "region_code", "in": "query", "required": True,
                "schema": {"type": "string", "pattern": "^[0-9]{2}$"}}]),
    Operation("/api/v1/rejection-reasons", "get", "listRejectionReasons", "Каталог причин отказа", "reference",
              (200, out.CatalogueOut, "Каталог")),
    Operation("/healthz", "get", "healthz", "Процесс жив", "health", (200, out.HealthOut, "Жив")),
    Operation("/readyz", "get", "readyz", "База данных и фонд доступны", "health",
              (200, out.HealthOut, "Готов"), None, None, (503,)),
]  # fmt: skip


def build_spec() -> APISpec:
    """The API's OpenAPI document as an apispec object."""
    spec = APISpec(
        title="epolicy-gateway",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "REST API шлюза электронных полисов ОМС: заявления на полис, статус полиса, замена. "
            "Все ошибки — application/problem+json (RFC 9457); причины отказа — из каталога "
            "contracts/rejections.yaml.",
        },
        servers=[{"url": "http://127.0.0.1:8080", "description": "Локальный стенд (make run)"}],
    )
    spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "description": "Токены доступа RFC 9068 (JWT, RS256) сервера авторизации в стиле ЕСИА.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "http://127.0.0.1:8090/oauth/authorize",
                    "tokenUrl": "http://127.0.0.1:8090/oauth/token",
                    "scopes": SCOPES,
                },
                "clientCredentials": {"tokenUrl": "http://127.0.0.1:8090/oauth/token", "scopes": SCOPES},
            },
        },
    )
    for name, schema in NAMED_SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec


def _operation(operation: Operation) -> dict[str, Any]:
    status, schema, description = operation.answer
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    if operation.headers:
        answer["headers"] = operation.headers
    responses: dict[str, Any] = {str(status): answer}
    for code in operation.errors:
        responses[str(code)] = {"description": ERRORS[code], "content": {PROBLEM: {"schema": "Problem"}}}
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": responses,
    }
    if operation.parameters:
        document["parameters"] = operation.parameters
    if operation.body is not None:
        document["requestBody"] = {"required": True, "content": {"application/json": {"schema": operation.body}}}
    if operation.scopes is not None:
        # Any one of the listed scopes is enough (status: read or eligibility).
        document["security"] = [{"oauth2": [scope]} for scope in operation.scopes] or [{"oauth2": []}]
    return document


def render_yaml() -> str:
    """The document as YAML, in a stable order."""
    return yaml.safe_dump(build_spec().to_dict(), allow_unicode=True, sort_keys=False, width=120)
