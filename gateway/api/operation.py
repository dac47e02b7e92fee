"""One declaration per operation: the route, its scopes, its body, its answer and its errors, written once.

A feature module makes a `Routes` and declares each view with it:

    routes = Routes("policies", __name__, url_prefix="/api/v1/policies", tag="policies")

    @routes.get("/<enp>", "getPolicy", "Статус полиса по ЕНП", Answer(200, out.PolicyOut, "Статус полиса"),
                scopes=("epolicy.read", "epolicy.eligibility"), errors=(404, 422, 503), conditional=True)
    def status(enp: str) -> ShownPolicy: ...

The declaration registers the Flask route; checks the token and its scopes (gateway.auth); reads the JSON body
(gateway.api.bodies) and loads it with the `body` schema, handing the view the typed request as `body`; renders
what the view returns with the answer's schema (a `Response` passes as it is, a `Reply` adds a status and
headers); adds the ETag and answers 304 when `conditional`; and names the media type of its errors (problem+json,
or FHIR's OperationOutcome). gateway/openapi.py writes the OpenAPI document from the same declarations.

Why a decorator of our own rather than flask-smorest or APIFlask, both built on the same apispec and marshmallow:
flask-smorest's `@arguments`/`@response` parse with webargs and answer its own error shape, and document errors
with `alt_response`, which knows neither the catalogue's reasons nor FHIR's OperationOutcome; APIFlask replaces
the Flask class, brings its own error processor and its own auth (flask-httpauth, not authlib's resource
protector that checks RFC 9068 here) and its own spec generator. Either would take over the error pipeline and the
token check that the gateway must keep as they are, and both add their per-request parsing to the request path
this declaration keeps lean; what they would give, the one place an operation is declared, is these 200 lines.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response
from marshmallow import Schema

from gateway.api.common import conditional
from gateway.api.problems import errors_in
from gateway.auth.protector import require_scope

JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    """The success answer of an operation: its status, the schema that renders and documents it, a description."""

    status: int
    schema: type[Schema] | None
    description: str


@dataclass(frozen=True)
class Reply:
    """What a view returns when its answer needs more than the value: another status, headers."""

    value: Any
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One operation of the API, as declared: what it serves and what the OpenAPI document says of it."""

    path: str  # OpenAPI's form: /api/v1/policies/{enp}
    method: str
    operation_id: str
    summary: str
    tag: str
    answer: Answer
    scopes: tuple[str, ...] | None = None  # None: no token; (): any valid token; else any one of them
    body: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    parameters: tuple[dict[str, Any], ...] = ()
    headers: Mapping[str, Any] = field(default_factory=dict)  # of the success answer
    media_type: str = JSON  # of the success answer
    error_media_type: str | None = None  # None: application/problem+json
    examples: Mapping[str, Any] = field(default_factory=dict)  # of the body: name → {"summary": ..., "value": ...}
    # Examples of the error answers by status, names in gateway/api/problem_docs.py PROBLEMS, instead of its
    # defaults; the auth layer's follow them, except for FHIR errors, whose operation names all of its own.
    problems: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    conditional: bool = False  # ETag on the answer, 304 for a matching If-None-Match
    error_schema: str = "Problem"  # the component the problem+json errors are


Loader = Callable[[type[Schema]], Any]


class Routes:
    """A feature's blueprint and the operations declared on it, in the order they were declared."""

    def __init__(self, name: str, import_name: str, *, tag: str, url_prefix: str = "") -> None:
        self.blueprint = Blueprint(name, import_name, url_prefix=url_prefix or None)
        self.tag = tag
        self.url_prefix = url_prefix
        self.operations: list[Operation] = []

    def get(self, rule: str, operation_id: str, summary: str, answer: Answer, **options: Any) -> Callable[..., Any]:
        return self.operation("get", rule, operation_id, summary, answer, **options)

    def post(self, rule: str, operation_id: str, summary: str, answer: Answer, **options: Any) -> Callable[..., Any]:
        return self.operation("post", rule, operation_id, summary, answer, **options)

    def delete(self, rule: str, operation_id: str, summary: str, answer: Answer, **options: Any) -> Callable[..., Any]:
        return self.operation("delete", rule, operation_id, summary, answer, **options)

    def operation(
        self,
        method: str,
        rule: str,
        operation_id: str,
        summary: str,
        answer: Answer,
        *,
        load: Loader | None = None,
        tag: str | None = None,
        **options: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a view: `options` are the fields of `Operation`; `load` reads the body (gateway.api.bodies)."""
        declared = Operation(
            path=openapi_path(self.url_prefix + rule),
            method=method,
            operation_id=operation_id,
            summary=summary,
            tag=tag or self.tag,
            answer=answer,
            **options,
        )
        if declared.body is not None and load is None:
            raise ValueError(f"{operation_id}: an operation with a body needs a loader")
        self.operations.append(declared)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            served = _serving(declared, view, load)
            self.blueprint.add_url_rule(rule, view.__name__, served, methods=[method.upper()])
            return served

        return decorator


def _serving(declared: Operation, view: Callable[..., Any], load: Loader | None) -> Callable[..., Response]:
    """The Flask view of a declared operation."""
    schema = declared.answer.schema() if declared.answer.schema is not None else None
    status = declared.answer.status
    body_schema = declared.body

    render = fast_render(schema) if schema is not None else _plain_json

    @functools.wraps(view)
    def served(**arguments: Any) -> Response:
        if body_schema is not None and load is not None:
            arguments["body"] = load(body_schema)
        returned = view(**arguments)
        if isinstance(returned, Response):
            return returned
        reply = returned if isinstance(returned, Reply) else Reply(returned)
        response = Response(render(reply.value), reply.status or status, mimetype=declared.media_type)
        if reply.headers:
            response.headers.update(reply.headers)
        return conditional(response) if declared.conditional else response

    guarded: Callable[..., Response] = served if declared.scopes is None else require_scope(*declared.scopes)(served)
    if declared.error_media_type is not None:
        guarded = errors_in(declared.error_media_type)(guarded)  # the error pipeline answers in it
    guarded.operation = declared  # type: ignore[attr-defined]
    return guarded


def _plain_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def reference_render(schema: Schema, value: Any) -> str:
    """An answer's JSON text: the schema's rendering of the value."""
    return json.dumps(schema.dump(value), ensure_ascii=False)


def fast_render(schema: Schema, size: int = 1024) -> Callable[[Any], str]:
    """The fast path of `reference_render`: the text of a value rendered before, while it is among the last `size`.

    A value the domain hands out again unchanged (a status read answered from the status cache, a policy polled by
    a portal) is a frozen dataclass equal to the last one, so its text is too; a value that cannot be hashed is
    rendered every time. tests/unit/api/test_operation.py holds the two equal.
    """

    @functools.lru_cache(maxsize=size)
    def remembered(value: Any) -> str:
        return reference_render(schema, value)

    def render(value: Any) -> str:
        try:
            return remembered(value)
        except TypeError:  # unhashable: a dict, a list, a value holding one
            return reference_render(schema, value)

    return render


def openapi_path(rule: str) -> str:
    """A Flask rule in OpenAPI's form: `/policies/<enp>` → `/policies/{enp}`, `<int:n>` → `{n}`."""
    parts = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].rsplit(":", 1)[-1] + "}"
        parts.append(part)
    return "/".join(parts) or "/"
