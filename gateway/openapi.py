"""The OpenAPI 3.1 document of the REST API, generated from the schemas and operations in the code.

`epolicy openapi --output contracts/openapi.yaml` writes it; a test fails when the committed file drifts.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from gateway.api import api_modules
from gateway.api import responses as out
from gateway.api.docs import ERRORS, ETAG, IF_NONE_MATCH, NOT_MODIFIED
from gateway.api.operation import Operation
from gateway.api.problem_docs import AUTH_PROBLEMS, BODY_PROBLEMS, DEFAULT_PROBLEMS, HEADERS, PROBLEMS, ProblemExample
from gateway.api.problems import TITLES, TYPE_BASE, fhir_outcome
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
from gateway.catalogue import Catalogue
from gateway.config import Settings
from gateway.fhir import FHIR_JSON
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
    "NotReady": out.NotReadyOut,
    "Health": out.HealthOut,
}


def operations() -> list[Operation]:
    """Every declared operation, from the API modules that serve them."""
    return [operation for module in api_modules() for operation in module.routes.operations]


# The FHIR R4 resource of the FHIR operation's errors, as far as a client needs to read it (gateway/fhir.py).
OPERATION_OUTCOME = {
    "type": "object",
    "description": "Ресурс OperationOutcome FHIR R4: issue[].details.coding — код причины из каталога",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "text": {"type": "object"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "details": {"type": "object"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                    "location": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}  # pyproject.toml's


def build_spec(issuer: str | None = None) -> APISpec:
    """The API's OpenAPI document as an apispec object, its OAuth flows at `issuer` (default: the setting's)."""
    issuer = (issuer or Settings().oauth_issuer).rstrip("/")
    spec = APISpec(
        title="epolicy-gateway",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "REST API шлюза электронных полисов ОМС: заявления на полис, статус полиса, замена. "
            "Все ошибки — application/problem+json (RFC 9457), а по адресам /api/v1/fhir/ — ресурс OperationOutcome "
            "FHIR R4 в application/fhir+json, также 404 неизвестного адреса и 405 другого метода (с Allow); "
            "причины отказа — из каталога "
            "contracts/rejections.yaml: его отдаёт GET /api/v1/rejection-reasons, а страница /docs шлюза "
            "показывает его таблицей (код, сообщение, рекомендация, HTTP-статус, поле).\n\n" + _rate_limits(),
            "license": LICENSE,
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
                    "authorizationUrl": f"{issuer}/authorize",
                    "tokenUrl": f"{issuer}/token",
                    "scopes": SCOPES,
                },
                "clientCredentials": {"tokenUrl": f"{issuer}/token", "scopes": SCOPES},
            },
        },
    )
    named = dict(NAMED_SCHEMAS)
    for module in api_modules():
        named.update(getattr(module, "SCHEMAS", {}))  # a feature module may name schemas of its own
    for name, schema in named.items():
        spec.components.schema(name, schema=schema)
    spec.components.schema("OperationOutcome", OPERATION_OUTCOME)
    paths: dict[str, dict[str, Any]] = {}
    examples: dict[str, dict[str, Any]] = {}  # of the error answers, each written once and referred to
    for module in api_modules():
        limited = module.routes.blueprint.name not in UNLIMITED_BLUEPRINTS
        for operation in module.routes.operations:
            paths.setdefault(operation.path, {})[operation.method] = _operation(operation, limited, examples)
    for name in sorted(examples):
        spec.components.example(name, examples[name])
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
        "Пределы частоты запросов (сверх предела — 429 с Retry-After: application/problem+json, а по адресам "
        "/api/v1/fhir/ — OperationOutcome в application/fhir+json) считаются по тому, "
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


def _operation(operation: Operation, limited: bool, examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    status, schema = operation.answer.status, operation.answer.schema
    answer: dict[str, Any] = {"description": operation.answer.description}
    if schema is not None:
        answer["content"] = {operation.media_type: {"schema": schema}}
    elif operation.media_type != "application/json":
        # A document (a PDF) or a resource of another standard (FHIR) that no schema of ours describes.
        body: dict[str, Any] = (
            {"type": "string", "format": "binary"} if operation.media_type == "application/pdf" else {"type": "object"}
        )
        answer["content"] = {operation.media_type: {"schema": body}}
    headers = dict(operation.headers)
    if operation.conditional:
        headers["ETag"] = ETAG
    if headers:
        answer["headers"] = headers
    responses: dict[str, Any] = {str(status): answer}
    if operation.conditional:
        responses["304"] = {"description": NOT_MODIFIED, "headers": {"ETag": ETAG}}
    for code in _error_statuses(operation, limited):
        responses[str(code)] = _error_answer(operation, code, examples)
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": responses,
    }
    parameters = [*operation.parameters, *([IF_NONE_MATCH] if operation.conditional else [])]
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        media: dict[str, Any] = {"schema": operation.body}
        if operation.examples:
            media["examples"] = operation.examples
        document["requestBody"] = {"required": True, "content": {"application/json": media}}
    if operation.scopes is None:
        document["security"] = []  # public: no token, said so rather than left to a default
    else:
        # Any one of the listed scopes is enough (status: read or eligibility).
        document["security"] = [{"oauth2": [scope]} for scope in operation.scopes] or [{"oauth2": []}]
    return document


def _error_statuses(operation: Operation, limited: bool) -> list[int]:
    """The operation's own error statuses, the auth layer's for a token, and 429 where rate limits apply."""
    statuses = set(operation.errors)
    if operation.scopes is not None:
        statuses |= {400, 401} | ({403} if operation.scopes else set())
    if limited:
        # Every blueprint but the probes is rate-limited (gateway/ratelimit.py), in the operation's error format.
        statuses.add(429)
    return sorted(statuses)


def _error_answer(operation: Operation, status: int, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One error status of an operation: its schema and examples, and the headers that come with it."""
    fhir = operation.error_media_type == FHIR_JSON
    examples = _problem_examples(operation, status, fhir)
    media: dict[str, Any] = {"schema": "OperationOutcome" if fhir else operation.error_schema}
    if examples:
        media["examples"] = {}
    for example in examples:
        if example.status != status or not (fhir or example.kind):
            raise ValueError(f"{operation.operation_id}: example {example.name} is no {status} problem+json answer")
        name = example.name if not fhir or example.name.startswith("fhir-") else f"fhir-{example.name}"
        components[name] = _example(example, fhir)
        media["examples"][example.name] = {"$ref": f"#/components/examples/{name}"}
    answer: dict[str, Any] = {
        "description": ERRORS[status],
        "content": {FHIR_JSON if fhir else PROBLEM: media},
    }
    values: dict[str, Any] = {}
    for example in examples:
        for header, value in example.headers:
            values.setdefault(header, value)  # the first example's value is the header's example
    if values:
        # A header every example of the status carries is required (401 and 403 always challenge).
        answer["headers"] = {
            header: {**HEADERS[header], "example": value, **({"required": True} if _in_all(header, examples) else {})}
            for header, value in values.items()
        }
    return answer


def _in_all(header: str, examples: list[ProblemExample]) -> bool:
    return all(header in dict(example.headers) for example in examples)


def _problem_examples(operation: Operation, status: int, fhir: bool) -> list[ProblemExample]:
    """The operation's own examples of the status (or the defaults), then the auth layer's."""
    names = operation.problems.get(status)
    if names is None and operation.body is not None:
        names = BODY_PROBLEMS.get(status)
    if names is None:
        names = DEFAULT_PROBLEMS.get(status, ())
    if not fhir and operation.scopes is not None and (status != 403 or operation.scopes):
        names = (*names, *AUTH_PROBLEMS.get(status, ()))
    return [PROBLEMS[name] for name in names]


def _example(example: ProblemExample, fhir: bool) -> dict[str, Any]:
    """An example as the gateway sends it: problem+json of gateway/api/problems.py, or a FHIR OperationOutcome."""
    catalogue = _catalogue()
    reasons = tuple(catalogue.reason(violation, example.source) for violation in example.reasons)
    value: dict[str, Any]
    if fhir:
        return {"summary": example.summary, "value": fhir_outcome(example.answer(catalogue), catalogue)}
    # No `instance` (the request's path): one example serves every operation that may answer it.
    value = {
        "type": TYPE_BASE + example.kind,
        "title": example.title or TITLES[example.status],
        "status": example.status,
        "detail": example.detail if example.detail is not None else reasons[0].message,
        **dict(example.members),
    }
    if reasons:
        value["errors"] = out.dump(out.ReasonOut, reasons, many=True)
    return {"summary": example.summary, "value": value}


@functools.cache
def _catalogue() -> Catalogue:
    return Catalogue.load()


def document(issuer: str | None = None) -> dict[str, Any]:
    """The document as plain data (what /docs/openapi.json serves), its OAuth flows at `issuer`."""
    built: dict[str, Any] = build_spec(issuer).to_dict()
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
