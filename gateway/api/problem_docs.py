"""Examples of the API's error answers, by name: what the auth layer, the views and the catalogue's refusals send.

An Operation (gateway/api/docs.py) names the examples of each of its error statuses; gateway/openapi.py writes each
once under components/examples, as the gateway sends it, and refers to it from every answer that may carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.api.problems import OAUTH_DETAILS, VALIDATION_DETAIL, ErrorAnswer
from gateway.auth import BearerTokenMissing, InsufficientScope, TokenInQuery
from gateway.catalogue import Catalogue
from gateway.domain.model import Source, Violation

# Headers of the answers, by name; an example of an error answer names those its answer carries, with a value.
HEADERS: dict[str, dict[str, Any]] = {
    "WWW-Authenticate": {
        "description": "Вызов RFC 6750: Bearer; с error и error_description, когда токен был, но не подошёл; "
        "при insufficient_scope и scope, когда операции нужна одна определённая область",
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Через сколько секунд повторить", "schema": {"type": "integer"}},
}


@dataclass(frozen=True)
class ProblemExample:
    """An error answer as the documentation shows it, under its name in the document's components/examples.

    gateway/openapi.py writes it as gateway/api/problems.py would (type, title, the reasons in the catalogue's
    words) or, for an operation whose errors are FHIR, as the pipeline's FHIR renderer writes its `answer`.
    """

    name: str  # in the document, and how an Operation's `problems` names it
    status: int
    summary: str
    kind: str  # the end of the problem's type, after https://epolicy.example/problems/
    detail: str | None  # None: the message of the first reason, as a 404 of the registry says it
    reasons: tuple[Violation, ...] = ()  # `errors`
    source: Source = Source.GATEWAY  # who gives the reasons
    members: tuple[tuple[str, Any], ...] = ()  # more members: the auth layer's `error`, /readyz's `checks`
    title: str | None = None  # None: the title of the status (gateway/api/problems.py)
    headers: tuple[tuple[str, Any], ...] = ()  # names in HEADERS, each with its value in this answer

    def answer(self, catalogue: Catalogue) -> ErrorAnswer:
        """The example as the error pipeline's neutral value, which its renderers write."""
        reasons = tuple(catalogue.reason(violation, self.source) for violation in self.reasons)
        detail = self.detail if self.detail is not None else reasons[0].message
        headers = tuple((name, str(value)) for name, value in self.headers)
        return ErrorAnswer(self.status, self.kind, detail, self.title, reasons, headers, self.members)


BAD_SIGNATURE = "The access token is malformed or its signature cannot be verified."  # gateway/auth/validator.py
COVERAGE_DETAIL = "Проверка не выполнена: исправьте параметры запроса, отмеченные в errors."


def _invalid(name: str, summary: str, *reasons: Violation, **more: Any) -> ProblemExample:
    """A 422 of the gateway's checks (or of a back-end's refusal) naming `reasons`."""
    return ProblemExample(name, 422, summary, "validation", VALIDATION_DETAIL, reasons, **more)


def _oauth(error: str, description: str) -> tuple[tuple[str, Any], ...]:
    return (("error", error), ("error_description", description))


def _challenge(error: str, description: str, scope: str | None = None) -> tuple[tuple[str, Any], ...]:
    value = f'Bearer error="{error}", error_description="{description}"' + (f', scope="{scope}"' if scope else "")
    return (("WWW-Authenticate", value),)


_EXAMPLES = (
    # What the auth layer (gateway/auth, gateway/api/problems.py) answers for every operation that needs a token.
    ProblemExample(
        "missing-authorization",
        401,
        "Нет токена доступа (WWW-Authenticate: Bearer)",
        "missing-authorization",
        OAUTH_DETAILS["missing_authorization"],
        members=_oauth("missing_authorization", BearerTokenMissing.description),
        headers=(("WWW-Authenticate", "Bearer"),),
    ),
    ProblemExample(
        "invalid-token",
        401,
        "Токен недействителен: подпись, издатель, аудитория или срок",
        "invalid-token",
        OAUTH_DETAILS["invalid_token"],
        members=_oauth("invalid_token", BAD_SIGNATURE),
        headers=_challenge("invalid_token", BAD_SIGNATURE),
    ),
    ProblemExample(
        "insufficient-scope",
        403,
        "У токена нет области доступа операции",
        "insufficient-scope",
        OAUTH_DETAILS["insufficient_scope"],
        members=_oauth("insufficient_scope", InsufficientScope.description),
        headers=_challenge("insufficient_scope", InsufficientScope.description, "epolicy.read"),
    ),
    ProblemExample(
        "token-in-url",
        400,
        "Токен в адресе запроса (access_token), а не в заголовке Authorization",
        "invalid-request",
        OAUTH_DETAILS["invalid_request"],
        members=_oauth("invalid_request", TokenInQuery.description),
        headers=_challenge("invalid_request", TokenInQuery.description),
    ),
    # The views' own.
    ProblemExample(
        "malformed-json", 400, "Тело — не JSON", "malformed-json", "Тело запроса не является корректным JSON."
    ),
    ProblemExample(
        "not-an-object", 400, "Тело — JSON, но не объект", "malformed-json", "Тело запроса должно быть объектом JSON."
    ),
    ProblemExample(
        "unsupported-media-type",
        415,
        "Тело не в формате application/json",
        "unsupported-media-type",
        "Тело запроса должно быть в формате application/json.",
    ),
    ProblemExample(
        "idempotency-key",
        400,
        "Idempotency-Key длиннее 255 символов",
        "idempotency-key",
        "Idempotency-Key должен быть от 1 до 255 символов.",
    ),
    ProblemExample(
        "idempotency-in-progress",
        409,
        "Запрос с этим Idempotency-Key ещё обрабатывается: повторите через секунду",
        "idempotency-in-progress",
        "Запрос с этим Idempotency-Key ещё обрабатывается.",
        headers=(("Retry-After", 1),),
    ),
    ProblemExample(
        "idempotency-key-reused",
        422,
        "Idempotency-Key уже использован с другим телом",
        "idempotency-key-reused",
        "Этот Idempotency-Key уже использован с другим телом запроса.",
    ),
    ProblemExample("bad-limit", 400, "limit вне 1–100", "bad-limit", "limit должен быть целым числом от 1 до 100."),
    ProblemExample(
        "bad-cursor",
        400,
        "cursor не из прошлого ответа",
        "bad-cursor",
        "cursor не выдан этим сервисом: начните список сначала.",
    ),
    ProblemExample(
        "bad-region",
        400,
        "region_code — не код субъекта РФ",
        "bad-region",
        "region_code должен быть кодом субъекта РФ из двух цифр.",
    ),
    ProblemExample("not-found", 404, "Нет такого ресурса, или он чужой", "not-found", "Ресурс не найден."),
    ProblemExample(
        "too-late-to-cancel",
        409,
        "Заявление уже передано в страховую организацию",
        "conflict",
        "Заявление в статусе issuing отозвать уже нельзя.",
    ),
    ProblemExample(
        "changed-meanwhile",
        409,
        "Заявление изменилось во время отзыва",
        "conflict",
        "Заявление изменилось во время отзыва; запросите его состояние и повторите.",
    ),
    ProblemExample(
        "rate-limited",
        429,
        "Исчерпан предел запросов",
        "rate-limited",
        "Слишком много запросов. Повторите запрос через указанное в Retry-After число секунд.",
        headers=(("Retry-After", 42),),
    ),
    ProblemExample(
        "backend-unavailable",
        503,
        "Фонд или страховая организация не отвечает: это не отказ, повторите после Retry-After",
        "backend-unavailable",
        "Внешняя система (фонд или страховая организация) временно не отвечает. Повторите запрос позже.",
        (Violation("TECHNICAL_ERROR"),),
        headers=(("Retry-After", 30),),
    ),
    ProblemExample(
        "not-ready",
        503,
        "Фонд не отвечает, его автомат разомкнут",
        "not-ready",
        "Шлюз не готов принимать запросы: недоступны fund, breaker fund.",
        members=(
            (
                "checks",
                {
                    "database": "ok",
                    "fund": "unavailable: timeout",
                    "insurer 77001": "ok",
                    "insurer 77002": "ok",
                    "kz fund": "ok",
                    "breaker fund": "open",
                    "breaker kz fund": "closed",
                },
            ),
        ),
    ),
    # Refusals, each with a reason of the catalogue (contracts/rejections.yaml).
    _invalid("snils-checksum", "СНИЛС с неверным контрольным числом", Violation("SNILS_CHECKSUM", "person.snils")),
    _invalid(
        "insurer-not-admitted",
        "Страховая организация не допущена в регионе",
        Violation("INSURER_NOT_ADMITTED", "insurer_code", (("region_code", "50"),)),
    ),
    _invalid("enp-checksum", "ЕНП с неверной контрольной цифрой", Violation("ENP_CHECKSUM", "enp")),
    _invalid("visits-period-invalid", "Начало периода позже его конца", Violation("VISITS_PERIOD_INVALID", "from")),
    _invalid("iin-checksum", "ИИН с неверной контрольной цифрой", Violation("IIN_CHECKSUM", "iin")),
    _invalid(
        "clinic-full",
        "Фонд: медицинская организация больше не принимает прикреплений",
        Violation("CLINIC_FULL", "clinic_code"),
        source=Source.FUND,
    ),
    ProblemExample(
        "coverage-identifier-required",
        422,
        "Нет ни enp, ни snils",
        "validation",
        COVERAGE_DETAIL,
        (Violation("COVERAGE_IDENTIFIER_REQUIRED", None, (("given", "none"),)),),
        title="Параметры запроса не прошли проверку",
    ),
    ProblemExample(
        "enp-not-found",
        404,
        "В регистре нет полиса с таким ЕНП",
        "not-found",
        None,
        (Violation("ENP_NOT_FOUND", "enp"),),
        source=Source.FUND,
    ),
    # The FHIR operation's own: its one scope in the challenge.
    ProblemExample(
        "no-eligibility-scope",
        403,
        "У токена нет области epolicy.eligibility",
        "insufficient-scope",
        OAUTH_DETAILS["insufficient_scope"],
        members=_oauth("insufficient_scope", InsufficientScope.description),
        headers=_challenge("insufficient_scope", InsufficientScope.description, "epolicy.eligibility"),
    ),
)
PROBLEMS: dict[str, ProblemExample] = {example.name: example for example in _EXAMPLES}

# For every operation that needs a token, after its own examples of the status.
AUTH_PROBLEMS: dict[int, tuple[str, ...]] = {
    400: ("token-in-url",),
    401: ("missing-authorization", "invalid-token"),
    403: ("insufficient-scope",),
}
# When an operation names none of its own for the status: BODY_PROBLEMS for an operation with a body, then these.
BODY_PROBLEMS: dict[int, tuple[str, ...]] = {400: ("malformed-json", "not-an-object")}
DEFAULT_PROBLEMS: dict[int, tuple[str, ...]] = {
    404: ("not-found",),
    415: ("unsupported-media-type",),
    429: ("rate-limited",),
    503: ("backend-unavailable",),
}
