"""One error pipeline: every error of the API becomes an ErrorAnswer, then problem+json or a FHIR OperationOutcome.

`answer_of` turns any error the API meets into one neutral value; `respond` writes it in the format the request's
errors are in (`error_media_type`): RFC 9457 application/problem+json, or for FHIR clients an R4 OperationOutcome
in application/fhir+json, its issues those of the catalogue's reasons or one issue of a FHIR IssueType.
"""

from __future__ import annotations

import json as stdlib_json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from authlib.oauth2.base import OAuth2Error
from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from gateway import fhir
from gateway.api import responses as out
from gateway.catalogue import Catalogue
from gateway.domain.model import Reason, Violation
from gateway.usecases.coverage import NotInRegistry
from gateway.usecases.errors import (
    Conflict,
    InputRejected,
    KeyInProgress,
    KeyReused,
    NotVisible,
    ServiceUnavailable,
)

PROBLEM = "application/problem+json"
FHIR_PATHS = "/api/v1/fhir/"  # every request under it is a FHIR client's, routed or not
# The catalogue's reason for a back-end that does not answer now: not a refusal, retry after Retry-After.
TECHNICAL_ERROR = "TECHNICAL_ERROR"
TYPE_BASE = "https://epolicy.example/problems/"
EXTENSION_KEY = "epolicy.problems"
log = logging.getLogger(__name__)

TITLES = {
    400: "Некорректный запрос",
    401: "Требуется авторизация",
    403: "Недостаточно прав",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Конфликт с текущим состоянием",
    413: "Слишком большой запрос",
    415: "Неподдерживаемый тип содержимого",
    422: "Данные заявления не прошли проверку",
    429: "Слишком много запросов",
    500: "Внутренняя ошибка",
    503: "Сервис временно недоступен",
}
VALIDATION_DETAIL = "Запрос не прошёл проверку: исправьте данные в отмеченных полях."

OAUTH_DETAILS = {
    "missing_authorization": "Нужен токен доступа: заголовок Authorization: Bearer <токен>.",
    "invalid_token": "Токен доступа недействителен или просрочен. Получите новый токен.",
    "insufficient_scope": "У токена нет области доступа, нужной для этого запроса.",
    "invalid_request": "Токен доступа передаётся только в заголовке Authorization, не в адресе.",
}

# FHIR R4 IssueType (http://hl7.org/fhir/R4/valueset-issue-type.html) of an answer no catalogue reason speaks for:
# by the problem's kind where it says more than the status, else by the status.
ISSUE_TYPES_BY_KIND = {
    "invalid-request": "security",  # a token in the URL: the credentials travel where logs keep them
    "malformed-json": "structure",
    "idempotency-key": "value",
    "bad-limit": "value",
    "bad-cursor": "value",
    "bad-region": "value",
}
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    500: "exception",
    503: "transient",
}


@dataclass(frozen=True)
class ErrorAnswer:
    """An error as the API answers it, in no format yet: what both renderers read."""

    status: int
    kind: str  # the end of the problem's type, after TYPE_BASE
    detail: str
    title: str | None = None  # None: the status's (TITLES)
    reasons: tuple[Reason, ...] = ()  # of the catalogue: problem+json's `errors`, FHIR's issues
    headers: tuple[tuple[str, str], ...] = ()
    # More members of the problem+json: OAuth's `error` and `error_description` (FHIR's diagnostics), /readyz's.
    members: tuple[tuple[str, Any], ...] = ()

    @property
    def issue_type(self) -> str:
        """The FHIR IssueType of the answer's one issue when no reason gives one."""
        return ISSUE_TYPES_BY_KIND.get(self.kind) or ISSUE_TYPES.get(self.status, "processing")


class ProblemError(Exception):
    """An error the API answers with a problem of its own kind (idempotency conflicts, bad bodies)."""

    def __init__(self, status: int, kind: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}


# --- every error as one ErrorAnswer ------------------------------------------------------------------------


def answer_of(error: Exception, catalogue: Catalogue) -> ErrorAnswer:
    """The answer to any error the API meets; an unexpected one is logged and answers 500 without internals."""
    if isinstance(error, InputRejected):
        answer = rejected(error.reasons, catalogue)
        # The refusal an Idempotency-Key kept, answered again to a retry: said so, as a replayed acceptance is.
        return replace(answer, headers=(("Idempotent-Replayed", "true"),)) if error.replayed else answer
    if isinstance(error, NotInRegistry):  # before NotVisible: it names the identifier the registry lacks
        return ErrorAnswer(404, "not-found", error.reason.message, reasons=(error.reason,))
    if isinstance(error, NotVisible):
        return ErrorAnswer(404, "not-found", "Ресурс не найден.")
    if isinstance(error, Conflict):
        return ErrorAnswer(409, "conflict", str(error))
    if isinstance(error, KeyReused):
        detail = "Этот Idempotency-Key уже использован с другим телом запроса."
        return ErrorAnswer(422, "idempotency-key-reused", detail)
    if isinstance(error, KeyInProgress):
        detail = "Запрос с этим Idempotency-Key ещё обрабатывается."
        return ErrorAnswer(409, "idempotency-in-progress", detail, headers=(("Retry-After", "1"),))
    if isinstance(error, ServiceUnavailable):
        detail = "Внешняя система (фонд или страховая организация) временно не отвечает. Повторите запрос позже."
        reason = catalogue.reason(Violation(TECHNICAL_ERROR))
        headers = (("Retry-After", str(error.retry_after)),)
        return ErrorAnswer(503, "backend-unavailable", detail, reasons=(reason,), headers=headers)
    if isinstance(error, ProblemError):
        return ErrorAnswer(error.status, error.kind, error.detail, headers=tuple(error.headers.items()))
    if isinstance(error, OAuth2Error):
        return _oauth_answer(error)
    if isinstance(error, HTTPException):
        status = error.code or 500
        kept = tuple((k, v) for k, v in error.get_headers() if k.lower() in ("allow", "retry-after"))
        return ErrorAnswer(status, f"http-{status}", TITLES.get(status, error.name) + ".", headers=kept)
    # Internals stay in the log (without request bodies); the client gets a reference only.
    log.exception("unhandled error on %s %s", request.method, route_of_request())
    return ErrorAnswer(500, "internal", "Внутренняя ошибка. Повторите запрос позже.")


def rejected(
    reasons: tuple[Reason, ...], catalogue: Catalogue, title: str | None = None, detail: str = VALIDATION_DETAIL
) -> ErrorAnswer:
    """The 422 (or the catalogue's status) of input that breaks the rules, with every reason."""
    return ErrorAnswer(catalogue.status_of(reasons), "validation", detail if reasons else "", title, reasons)


def rate_limited(retry_after: int) -> Response:
    """The 429 of a breached rate limit, in the request's format."""
    detail = "Слишком много запросов. Повторите запрос через указанное в Retry-After число секунд."
    return respond(ErrorAnswer(429, "rate-limited", detail, headers=(("Retry-After", str(retry_after)),)))


def _oauth_answer(error: OAuth2Error) -> ErrorAnswer:
    # Keep authlib's status and WWW-Authenticate, so clients see RFC 6750 semantics.
    headers = tuple((k, v) for k, v in error.get_headers() if k.lower() != "content-type")
    code = error.error or "invalid_request"
    detail = OAUTH_DETAILS.get(code, "Запрос отклонён сервером авторизации.")
    members = (("error", code), ("error_description", error.description)) if error.description else (("error", code),)
    return ErrorAnswer(int(error.status_code), code.replace("_", "-"), detail, headers=headers, members=members)


# --- which format --------------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def errors_in(media_type: str) -> Callable[[F], F]:
    """Declare the format of a view's error answers; it wins over the path (an operation's declaration sets it)."""

    def declare(view: F) -> F:
        view.error_media_type = media_type  # type: ignore[attr-defined]
        return view

    return declare


def error_media_type() -> str:
    """The format of the request's error answers: its view's declaration, else FHIR under /api/v1/fhir/.

    A routing error (404, 405) has no view, so the path decides for it.
    """
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    declared = getattr(view, "error_media_type", None)
    if isinstance(declared, str):
        return declared
    return fhir.FHIR_JSON if request.path.startswith(FHIR_PATHS) else PROBLEM


def respond(answer: ErrorAnswer) -> Response:
    """The answer in the request's format."""
    if error_media_type() != fhir.FHIR_JSON:
        return render_problem(answer)
    resource = fhir_outcome(answer, current_app.extensions[EXTENSION_KEY])
    response = Response(stdlib_json.dumps(resource, ensure_ascii=False), answer.status, mimetype=fhir.FHIR_JSON)
    response.headers.update(answer.headers)
    return response


# --- the two renderers ---------------------------------------------------------------------------------------


def render_problem(answer: ErrorAnswer) -> Response:
    """The answer as RFC 9457 application/problem+json (its `instance` the request's path)."""
    body = {
        "type": TYPE_BASE + answer.kind,
        "title": answer.title or TITLES.get(answer.status, "Ошибка"),
        "status": answer.status,
        "detail": answer.detail,
        "instance": request.path,
        **dict(answer.members),
    }
    if answer.reasons or answer.kind == "validation":  # a validation problem lists its reasons, even none
        body["errors"] = out.dump(out.ReasonOut, answer.reasons, many=True)
    response = Response(json.dumps(body, ensure_ascii=False), answer.status, mimetype=PROBLEM)
    response.headers.update(answer.headers)
    return response


def fhir_outcome(answer: ErrorAnswer, catalogue: Catalogue) -> dict[str, Any]:
    """The answer as a FHIR R4 OperationOutcome: an issue per catalogue reason, or one issue of its IssueType."""
    if answer.reasons:
        entries = {reason.code: catalogue.entry(reason.code) for reason in answer.reasons}
        return fhir.catalogue_outcome(answer.reasons, entries)
    severity = "fatal" if answer.status == 500 else "error"  # nothing was checked or done
    diagnostics = dict(answer.members).get("error_description")
    return fhir.operation_outcome([fhir.plain_issue(severity, answer.issue_type, answer.detail, diagnostics)])


# --- the helpers views use, and the handler ------------------------------------------------------------------


def problem(
    status: int,
    kind: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response of the view's own (/readyz)."""
    title = extra.pop("title", None)
    pairs = tuple((headers or {}).items())
    return render_problem(ErrorAnswer(status, kind, detail, title, headers=pairs, members=tuple(extra.items())))


def validation_problem(reasons: tuple[Reason, ...], catalogue: Catalogue) -> Response:
    """The 422 (or the catalogue's status) that an invalid application gets, as problem+json."""
    return render_problem(rejected(reasons, catalogue))


def init_app(app: Flask, catalogue: Catalogue) -> None:
    """Answer every error of `app` through the pipeline."""
    app.extensions[EXTENSION_KEY] = catalogue

    @app.errorhandler(Exception)
    def any_error(error: Exception) -> Response:
        return respond(answer_of(error, catalogue))


def route_of_request() -> str:
    """The route's pattern (`/api/v1/policies/<enp>`), never the path: paths carry ЕНП and ИИН."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"
