"""One error pipeline: every error of the API leaves as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

from authlib.oauth2.base import OAuth2Error
from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from gateway.api import responses as out
from gateway.catalogue import Catalogue
from gateway.domain.model import Reason, Violation
from gateway.usecases.errors import (
    Conflict,
    InputRejected,
    KeyInProgress,
    KeyReused,
    NotVisible,
    ServiceUnavailable,
)

PROBLEM = "application/problem+json"
# The catalogue's reason for a back-end that does not answer now: not a refusal, retry after Retry-After.
TECHNICAL_ERROR = "TECHNICAL_ERROR"
TYPE_BASE = "https://epolicy.example/problems/"
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


OAUTH_DETAILS = {
    "missing_authorization": "Нужен токен доступа: заголовок Authorization: Bearer <токен>.",
    "invalid_token": "Токен доступа недействителен или просрочен. Получите новый токен.",
    "insufficient_scope": "У токена нет области доступа, нужной для этого запроса.",
    "invalid_request": "Токен доступа передаётся только в заголовке Authorization, не в адресе.",
}


class ProblemError(Exception):
    """An error the API answers with a problem of its own kind (idempotency conflicts, bad bodies)."""

    def __init__(self, status: int, kind: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}


def problem(
    status: int,
    kind: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response."""
    body = {
        "type": TYPE_BASE + kind,
        "title": TITLES.get(status, "Ошибка"),
        "status": status,
        "detail": detail,
        "instance": request.path,
        **extra,
    }
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=PROBLEM)
    response.headers.update(headers or {})
    return response


def validation_problem(reasons: tuple[Reason, ...], catalogue: Catalogue) -> Response:
    """The 422 (or the catalogue's status) that an invalid application gets."""
    count = len(reasons)
    detail = "Запрос не прошёл проверку: исправьте данные в отмеченных полях." if count else ""
    return problem(
        catalogue.status_of(reasons),
        "validation",
        detail,
        errors=out.dump(out.ReasonOut, reasons, many=True),
    )


def init_app(app: Flask, catalogue: Catalogue) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.errorhandler(InputRejected)
    def input_rejected(error: InputRejected) -> Response:
        return validation_problem(error.reasons, catalogue)

    @app.errorhandler(NotVisible)
    def not_visible(error: NotVisible) -> Response:
        return problem(404, "not-found", "Ресурс не найден.")

    @app.errorhandler(Conflict)
    def conflict(error: Conflict) -> Response:
        return problem(409, "conflict", str(error))

    @app.errorhandler(KeyReused)
    def key_reused(error: KeyReused) -> Response:
        return problem(422, "idempotency-key-reused", "Этот Idempotency-Key уже использован с другим телом запроса.")

    @app.errorhandler(KeyInProgress)
    def key_in_progress(error: KeyInProgress) -> Response:
        detail = "Запрос с этим Idempotency-Key ещё обрабатывается."
        return problem(409, "idempotency-in-progress", detail, {"Retry-After": "1"})

    @app.errorhandler(ServiceUnavailable)
    def unavailable(error: ServiceUnavailable) -> Response:
        detail = "Внешняя система (фонд или страховая организация) временно не отвечает. Повторите запрос позже."
        reason = catalogue.reason(Violation(TECHNICAL_ERROR))
        headers = {"Retry-After": str(error.retry_after)}
        return problem(503, "backend-unavailable", detail, headers, errors=out.dump(out.ReasonOut, [reason], many=True))

    @app.errorhandler(ProblemError)
    def own_problem(error: ProblemError) -> Response:
        return problem(error.status, error.kind, error.detail, error.headers)

    @app.errorhandler(OAuth2Error)
    def oauth_error(error: OAuth2Error) -> Response:
        # Keep authlib's status and WWW-Authenticate, so clients see RFC 6750 semantics.
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        code = error.error or "invalid_request"
        detail = OAUTH_DETAILS.get(code, "Запрос отклонён сервером авторизации.")
        extra = {"error": code, "error_description": error.description} if error.description else {"error": code}
        return problem(error.status_code, code.replace("_", "-"), detail, headers, **extra)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        headers = {k: v for k, v in error.get_headers() if k.lower() in ("allow", "retry-after")}
        return problem(status, f"http-{status}", TITLES.get(status, error.name) + ".", headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # Internals stay in the log (without request bodies); the client gets a reference only.
        log.exception("unhandled error on %s %s", request.method, route_of_request())
        return problem(500, "internal", "Внутренняя ошибка. Повторите запрос позже.")


def route_of_request() -> str:
    """The route's pattern (`/api/v1/policies/<enp>`), never the path: paths carry ЕНП and ИИН."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"
