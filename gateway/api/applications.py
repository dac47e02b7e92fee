"""`/api/v1/applications`: apply, validate a draft, read, list, cancel."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, request, url_for
from marshmallow import Schema, ValidationError

from gateway.api import render
from gateway.api import responses as out
from gateway.api.common import caller, conditional, fingerprint, json_body, services
from gateway.api.docs import APPLICATION_EXAMPLES, APPLICATION_ID, IDEMPOTENCY_KEY, LOCATION, Operation
from gateway.api.drafts import draft_violations
from gateway.api.problems import ProblemError, validation_problem
from gateway.api.schemas import ApplicationSchema, violations_of
from gateway.auth import require_scope
from gateway.domain.applications import Application
from gateway.domain.model import NewPolicyRequest, Reason, ReplacementRequest
from gateway.ports import IdempotencyKey, InvalidCursor
from gateway.usecases.errors import InputRejected
from gateway.usecases.processing import MOSCOW
from gateway.usecases.submission import (
    cancel_application,
    list_applications,
    new_application,
    submit_application,
    visible_application,
)

bp = Blueprint("applications", __name__, url_prefix="/api/v1/applications")
MAX_KEY_LENGTH = 255


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def parse(schema: Schema, body: dict[str, Any]) -> Any:
    """Load a body with a schema; shape errors become the same reasons as the domain's, and come together with
    those of the domain's rules that the fields which did load still allow (gateway/api/drafts.py)."""
    try:
        return schema.load(body)
    except ValidationError as error:
        raise InputRejected(refusal_reasons(schema, error)) from None


def refusal_reasons(schema: Schema, error: ValidationError) -> tuple[Reason, ...]:
    """Every reason against a body the schema refused: its shape first, then its meaning as far as it was read."""
    context = services().submission
    shape = violations_of(error)
    refused = frozenset(violation.field for violation in shape if violation.field)
    today = context.clock().astimezone(MOSCOW).date()
    loaded = error.valid_data if isinstance(error.valid_data, Mapping) else {}
    meaning = draft_violations(schema, loaded, refused, today, context.reference)
    found = list(dict.fromkeys(shape))
    for violation in meaning:
        # A field the schema refused has its reason already; a warning of the catalogue refuses nothing.
        refused_here = violation.field is not None and any(_within(violation.field, path) for path in refused)
        if not refused_here and context.catalogue.entry(violation.code).severity == "error" and violation not in found:
            found.append(violation)
    return tuple(context.catalogue.reason(violation) for violation in found)


def _within(field: str, path: str) -> bool:
    return field == path or field.startswith(f"{path}.")


def accepted(application: Application, status: int = 202) -> Response:
    """The answer to an accepted submission: the application, and where to follow it."""
    location = url_for("applications.read", application_id=application.id)
    return json_response(render.application(application), status, {"Location": location})


def submit(build: Callable[[dict[str, Any]], NewPolicyRequest | ReplacementRequest], scope: str) -> Response:
    """Read a submission, hand it to the use case, and render what it came to."""
    body = json_body()
    owner = caller()
    key = idempotency_key(owner.sub, body, scope)
    # A body the schema refuses goes to the use case as its refusal, to be kept under the key as any other.
    request_data: NewPolicyRequest | ReplacementRequest | InputRejected
    try:
        request_data = build(body)
    except InputRejected as refused:
        request_data = refused
    try:
        submission = submit_application(request_data, owner, key, services().submission)
    except InputRejected as refused:
        if not refused.replayed:
            raise  # answered by the error pipeline, as every refusal
        return render_refusal(refused)
    response = accepted(submission.application)
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotency_key(owner_sub: str, body: dict[str, Any], scope: str) -> IdempotencyKey | None:
    """The request's Idempotency-Key, bound to its owner and to what it asks for."""
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    if not 0 < len(value) <= MAX_KEY_LENGTH:
        raise ProblemError(400, "idempotency-key", f"Idempotency-Key должен быть от 1 до {MAX_KEY_LENGTH} символов.")
    return IdempotencyKey(owner_sub, value, fingerprint(body, scope))


def render_refusal(refused: InputRejected) -> Response:
    """A refusal as the error pipeline answers it, marked when it answers a retry with the same Idempotency-Key."""
    response = validation_problem(refused.reasons, services().catalogue)
    if refused.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("")
@require_scope("epolicy.apply")
def create() -> Response:
    """Apply for a new policy."""
    return submit(lambda body: parse(ApplicationSchema(), body), "POST /api/v1/applications")


@bp.post("/validate")
@require_scope("epolicy.apply")
def validate() -> Response:
    """Check a draft without submitting it; nothing is stored."""
    request_data = parse(ApplicationSchema(), json_body())
    new_application(request_data, caller(), services().submission)
    return json_response({"valid": True})


@bp.get("/<application_id>")
@require_scope("epolicy.read")
def read(application_id: str) -> Response:
    """One of the caller's applications."""
    application = visible_application(application_id, caller(), services().store)
    return conditional(json_response(render.application(application)))


@bp.get("")
@require_scope("epolicy.read")
def index() -> Response:
    """The caller's applications, newest first, with cursor pagination."""
    try:
        page = list_applications(caller(), services().store, _limit(), request.args.get("cursor") or None)
    except InvalidCursor:
        raise ProblemError(400, "bad-cursor", "cursor не выдан этим сервисом: начните список сначала.") from None
    items = [render.application(item) for item in page.items]
    return conditional(json_response({"items": items, "next_cursor": page.next_cursor}))


@bp.delete("/<application_id>")
@require_scope("epolicy.apply")
def cancel(application_id: str) -> Response:
    """Cancel an application that has not reached the insurer."""
    application = cancel_application(application_id, caller(), services().submission)
    return json_response(render.application(application))


def _limit() -> int:
    settings = services().settings
    default, maximum = settings.page_size_default, settings.page_size_max
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:  # "²" is a digit to str.isdigit
        raise ProblemError(400, "bad-limit", f"limit должен быть целым числом от 1 до {maximum}.")
    return int(raw)


DOCS = [
    Operation("/api/v1/applications", "post", "createApplication", "Подать заявление на полис", "applications",
              (202, out.ApplicationOut, "Заявление принято"), ("epolicy.apply",), ApplicationSchema,
              (400, 401, 403, 409, 415, 422), [IDEMPOTENCY_KEY], LOCATION, examples=APPLICATION_EXAMPLES,
              problems={400: ("malformed-json", "not-an-object", "idempotency-key"), 409: ("idempotency-in-progress",),
                        422: ("snils-checksum", "insurer-not-admitted", "idempotency-key-reused")}),
    Operation("/api/v1/applications", "get", "listApplications", "Свои заявления, новые первыми", "applications",
              (200, out.ApplicationPageOut, "Страница заявлений"), ("epolicy.read",), None, (400, 401, 403),
              [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                "example": 20},
               {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
              problems={400: ("bad-limit", "bad-cursor")}, conditional=True),
    Operation("/api/v1/applications/validate", "post", "validateApplication", "Проверить черновик заявления",
              "applications", (200, out.ValidOut, "Черновик корректен"), ("epolicy.apply",), ApplicationSchema,
              (400, 401, 403, 415, 422), examples=APPLICATION_EXAMPLES,
              problems={422: ("snils-checksum", "insurer-not-admitted")}),
    Operation("/api/v1/applications/{application_id}", "get", "getApplication", "Заявление и его история",
              "applications", (200, out.ApplicationOut, "Заявление"), ("epolicy.read",), None, (401, 403, 404),
              [APPLICATION_ID], conditional=True),
    Operation("/api/v1/applications/{application_id}", "delete", "cancelApplication",
              "Отозвать заявление до передачи в страховую организацию", "applications",
              (200, out.ApplicationOut, "Заявление отозвано"), ("epolicy.apply",), None, (401, 403, 404, 409),
              [APPLICATION_ID], problems={409: ("too-late-to-cancel", "changed-meanwhile")}),
]  # fmt: skip
