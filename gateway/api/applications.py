"""`/api/v1/applications`: apply, validate a draft, read, list, cancel."""

from __future__ import annotations

from typing import Any, Protocol

from flask import Response, request, url_for
from marshmallow import Schema

from gateway.api import bodies
from gateway.api import responses as out
from gateway.api.common import caller, dependencies, fingerprint
from gateway.api.docs import APPLICATION_EXAMPLES, APPLICATION_ID, IDEMPOTENCY_KEY, LOCATION
from gateway.api.operation import Answer, Routes
from gateway.api.problems import ProblemError
from gateway.api.schemas import ApplicationSchema
from gateway.domain.applications import Application
from gateway.domain.model import NewPolicyRequest, ReplacementRequest
from gateway.ports import IdempotencyKey, InvalidCursor
from gateway.usecases.errors import InputRejected
from gateway.usecases.submission import (
    Context,
    cancel_application,
    list_applications,
    new_application,
    submit_application,
    visible_application,
)

routes = Routes("applications", __name__, url_prefix="/api/v1/applications", tag="applications")
bp = routes.blueprint
MAX_KEY_LENGTH = 255


class Needs(Protocol):
    """What the applications' views use of the app's services."""

    @property
    def submission(self) -> Context: ...
    @property
    def page_size_default(self) -> int: ...
    @property
    def page_size_max(self) -> int: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


def loaded_or_refused(schema: type[Schema]) -> Any:
    """The body loaded, or its refusal as a value: a submission hands either to the use case, which keeps a refusal
    under the Idempotency-Key as any other and answers a retry with it."""
    try:
        return bodies.load(schema)
    except InputRejected as refused:
        return refused


Submitted = NewPolicyRequest | ReplacementRequest | InputRejected


def submit(request_data: Submitted, scope: str) -> Response:
    """Hand a submission to the use case, and render what it came to: the application, and where to follow it."""
    owner = caller()
    key = idempotency_key(owner.sub, bodies.json_body(), scope)
    # A refusal, new or replayed, is the error pipeline's to answer (gateway/api/problems.py).
    submission = submit_application(request_data, owner, key, _needs().submission)
    location = url_for("applications.read", application_id=submission.application.id)
    response = Response(out.render(out.ApplicationOut, submission.application), 202, mimetype="application/json")
    response.headers["Location"] = location
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


SUBMISSION_PROBLEMS = {
    400: ("malformed-json", "not-an-object", "idempotency-key"),
    409: ("idempotency-in-progress",),
}


@routes.post(
    "", "createApplication", "Подать заявление на полис", Answer(202, out.ApplicationOut, "Заявление принято"),
    scopes=("epolicy.apply",), body=ApplicationSchema, load=loaded_or_refused, errors=(400, 401, 403, 409, 415, 422),
    parameters=(IDEMPOTENCY_KEY,), headers=LOCATION, examples=APPLICATION_EXAMPLES,
    problems={**SUBMISSION_PROBLEMS, 422: ("snils-checksum", "insurer-not-admitted", "idempotency-key-reused")},
)  # fmt: skip
def create(body: NewPolicyRequest | InputRejected) -> Response:
    """Apply for a new policy."""
    return submit(body, "POST /api/v1/applications")


@routes.get(
    "", "listApplications", "Свои заявления, новые первыми", Answer(200, out.ApplicationPageOut, "Страница заявлений"),
    scopes=("epolicy.read",), errors=(400, 401, 403), conditional=True, problems={400: ("bad-limit", "bad-cursor")},
    parameters=(
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}, "example": 20},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
    ),
)  # fmt: skip
def index() -> Any:
    """The caller's applications, newest first, with cursor pagination."""
    try:
        return list_applications(caller(), _needs().submission.store, _limit(), request.args.get("cursor") or None)
    except InvalidCursor:
        raise ProblemError(400, "bad-cursor", "cursor не выдан этим сервисом: начните список сначала.") from None


@routes.post(
    "/validate", "validateApplication", "Проверить черновик заявления", Answer(200, out.ValidOut, "Черновик корректен"),
    scopes=("epolicy.apply",), body=ApplicationSchema, load=bodies.load, errors=(400, 401, 403, 415, 422),
    examples=APPLICATION_EXAMPLES, problems={422: ("snils-checksum", "insurer-not-admitted")},
)  # fmt: skip
def validate(body: NewPolicyRequest) -> dict[str, bool]:
    """Check a draft without submitting it; nothing is stored."""
    new_application(body, caller(), _needs().submission)
    return {"valid": True}


@routes.get(
    "/<application_id>", "getApplication", "Заявление и его история", Answer(200, out.ApplicationOut, "Заявление"),
    scopes=("epolicy.read",), errors=(401, 403, 404), parameters=(APPLICATION_ID,), conditional=True,
)  # fmt: skip
def read(application_id: str) -> Application:
    """One of the caller's applications."""
    return visible_application(application_id, caller(), _needs().submission.store)


@routes.delete(
    "/<application_id>", "cancelApplication", "Отозвать заявление до передачи в страховую организацию",
    Answer(200, out.ApplicationOut, "Заявление отозвано"), scopes=("epolicy.apply",), errors=(401, 403, 404, 409),
    parameters=(APPLICATION_ID,), problems={409: ("too-late-to-cancel", "changed-meanwhile")},
)  # fmt: skip
def cancel(application_id: str) -> Application:
    """Cancel an application that has not reached the insurer."""
    return cancel_application(application_id, caller(), _needs().submission)


def _limit() -> int:
    needs = _needs()
    default, maximum = needs.page_size_default, needs.page_size_max
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:  # "²" is a digit to str.isdigit
        raise ProblemError(400, "bad-limit", f"limit должен быть целым числом от 1 до {maximum}.")
    return int(raw)
