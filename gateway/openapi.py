"""The OpenAPI 3.1 document of the REST API, generated from the schemas and operations in the code.

`epolicy openapi --output contracts/openapi.yaml` writes it; a test fails when the committed file drifts.
"""

from __future__ import annotations

from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from gateway.api import api_modules
from gateway.api import responses as out
from gateway.api.docs import ERRORS, Operation
from gateway.api.schemas import (
    ApplicationSchema,
    AuthoritySchema,
    ContactsSchema,
    DocumentSchema,
    PersonChangesSchema,
    PersonSchema,
    ReplacementSchema,
    RepresentativeSchema,
)
from gateway.config import Settings
from gateway.ratelimit import UNLIMITED_BLUEPRINTS

PROBLEM = "application/problem+json"
SCOPES = {
    "epolicy.apply": "Подача заявлений",
    "epolicy.read": "Свои заявления и полисы",
    "epolicy.replace": "Замена полиса",
    "epolicy.eligibility": "Проверка статуса любого полиса (медицинские организации)",
}

# Registered first, so references read as these names rather than the classes'.
NAMED_SCHEMAS: dict[str, type[Schema]] = {
    "Document": DocumentSchema,
    "Person": PersonSchema,
    "PersonChanges": PersonChangesSchema,
    "Contacts": ContactsSchema,
    "Authority": AuthoritySchema,
    "Representative": RepresentativeSchema,
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
    "ClinicRef": out.ClinicRefOut,
    "Attachment": out.AttachmentOut,
    "Policy": out.PolicyOut,
    "Insurer": out.InsurerOut,
    "InsurerList": out.InsurerListOut,
    "CatalogueEntry": out.CatalogueEntryOut,
    "Catalogue": out.CatalogueOut,
    "Valid": out.ValidOut,
    "Problem": out.ProblemOut,
    "Health": out.HealthOut,
}


def operations() -> list[Operation]:
    """Every documented operation, from the API modules that serve them."""
    return [operation for module in api_modules() for operation in module.DOCS]


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
            "contracts/rejections.yaml: его отдаёт GET /api/v1/rejection-reasons, а страница /docs шлюза "
            "показывает его таблицей (код, сообщение, рекомендация, HTTP-статус, поле).\n\n" + _rate_limits(),
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
    named = dict(NAMED_SCHEMAS)
    for module in api_modules():
        named.update(getattr(module, "SCHEMAS", {}))  # a feature module may name schemas of its own
    for name, schema in named.items():
        spec.components.schema(name, schema=schema)
    paths: dict[str, dict[str, Any]] = {}
    for module in api_modules():
        limited = module.bp.name not in UNLIMITED_BLUEPRINTS
        for operation in module.DOCS:
            paths.setdefault(operation.path, {})[operation.method] = _operation(operation, limited)
    for path, documented in paths.items():
        spec.path(path=path, operations=documented)
    return spec


def _rate_limits() -> str:
    """The paragraph on rate limits, with the defaults of gateway/config.py and the rule of gateway/ratelimit.py."""

    defaults = Settings()

    def default(name: str) -> str:
        value = getattr(defaults, name.lower())
        return f"`{value}`" if value else "выключен"

    return (
        "Пределы частоты запросов (сверх предела — 429 application/problem+json с Retry-After) считаются по тому, "
        "кто обращается. Токен гражданина (`sub` — сам человек, как у токенов портала по коду авторизации): "
        f"{default('RATELIMIT_PER_SUBJECT')} на гражданина (`sub`), сколько бы граждан ни пришло через один "
        "клиент портала (`client_id`); общий потолок на всех граждан одного клиента — "
        f"{default('RATELIMIT_PER_PORTAL')}. Токен сервисного клиента (client credentials: `sub` равен "
        "`client_id`; медицинские организации, страховые компании): "
        f"{default('RATELIMIT_PER_CLIENT')} на клиента (`client_id`), сколько бы токенов он ни получил. "
        f"Запрос без действующего токена: {default('RATELIMIT_PER_ADDRESS')} на адрес. Здесь значения по "
        "умолчанию; оператор меняет их настройками EPOLICY_RATELIMIT_PER_SUBJECT, EPOLICY_RATELIMIT_PER_PORTAL, "
        "EPOLICY_RATELIMIT_PER_CLIENT и EPOLICY_RATELIMIT_PER_ADDRESS. /healthz и /readyz не ограничены."
    )


def _operation(operation: Operation, limited: bool) -> dict[str, Any]:
    status, schema, description = operation.answer
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {operation.media_type: {"schema": schema}}
    elif operation.media_type != "application/json":
        # A document (a PDF) or a resource of another standard (FHIR) that no schema of ours describes.
        body: dict[str, Any] = (
            {"type": "string", "format": "binary"} if operation.media_type == "application/pdf" else {"type": "object"}
        )
        answer["content"] = {operation.media_type: {"schema": body}}
    if operation.headers:
        answer["headers"] = operation.headers
    responses: dict[str, Any] = {str(status): answer}
    for code in operation.errors:
        if operation.error_media_type is None:
            content: dict[str, Any] = {PROBLEM: {"schema": "Problem"}}
        else:
            content = {operation.error_media_type: {"schema": {"type": "object"}}}
        responses[str(code)] = {"description": ERRORS[code], "content": content}
    if limited:
        # Every blueprint but the probes is rate-limited (gateway/ratelimit.py); the answer is always problem+json.
        responses["429"] = {
            "description": ERRORS[429],
            "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
            "content": {PROBLEM: {"schema": "Problem"}},
        }
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": responses,
    }
    if operation.parameters:
        document["parameters"] = operation.parameters
    if operation.body is not None:
        media: dict[str, Any] = {"schema": operation.body}
        if operation.examples:
            media["examples"] = operation.examples
        document["requestBody"] = {"required": True, "content": {"application/json": media}}
    if operation.scopes is not None:
        # Any one of the listed scopes is enough (status: read or eligibility).
        document["security"] = [{"oauth2": [scope]} for scope in operation.scopes] or [{"oauth2": []}]
    return document


def document() -> dict[str, Any]:
    """The document as plain data (what /docs/openapi.json serves)."""
    built: dict[str, Any] = build_spec().to_dict()
    return built


class _Dumper(yaml.SafeDumper):
    """Writes a value shared by several operations in full each time: no anchors and aliases for readers to chase."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(data: dict[str, Any]) -> str:
    """An OpenAPI document as YAML, in a stable order."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


def render_yaml() -> str:
    """The document as YAML (contracts/openapi.yaml)."""
    return dump_yaml(document())
