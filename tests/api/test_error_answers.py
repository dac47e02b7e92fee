"""Outside /api/v1/fhir/ every error is the RFC 9457 problem+json it always was, byte for byte; the view decides.

The bodies below are written out as the gateway sent them before FHIR errors had a renderer of their own, so that
a change to the pipeline that touches a problem+json answer fails here, not in a portal.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Response, abort
from werkzeug.test import TestResponse

from gateway.api.operation import Operation
from gateway.api.problems import errors_in
from gateway.domain.model import Source
from gateway.openapi import operations
from tests.support.fakes import unavailable
from tests.support.fhir import r4_problems
from tests.support.gateway import Gateway
from tests.support.persons import ANNA, ENP, POLICY

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

TYPE = "https://epolicy.example/problems/"
FHIR = "/api/v1/fhir/"
METHODS = ("PUT", "PATCH", "DELETE", "POST", "GET")
# authlib's and gateway/auth's error_description texts, as RFC 6750 challenges carry them.
NO_TOKEN = "The request carries no bearer access token."
BAD_TOKEN = "The access token is malformed or its signature cannot be verified."
TOKEN_IN_URL = "Send the access token in the Authorization header, never in the URL."
SHORT_OF_SCOPE = "The request requires higher privileges than provided by the access token."


def expected(status: int, kind: str, title: str, detail: str, path: str, **members: Any) -> str:
    """The problem+json text the gateway sends (Flask's JSON: sorted keys, UTF-8 as it is)."""
    body = {"type": TYPE + kind, "title": title, "status": status, "detail": detail, "instance": path, **members}
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def assert_problem(answer: TestResponse, text: str, **headers: str) -> None:
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.get_data(as_text=True) == text
    for name, value in headers.items():
        assert answer.headers.get(name.replace("_", "-")) == value, name


def concrete(operation: Operation) -> str:
    """The operation's path with the example of each path parameter."""
    examples = {p["name"]: str(p["example"]) for p in operation.parameters if p["in"] == "path"}
    return re.sub(r"\{(\w+)\}", lambda match: examples[match.group(1)], operation.path)


OUTSIDE_FHIR = [
    pytest.param(operation, id=f"{operation.method} {operation.path}")
    for operation in operations()
    if not operation.path.startswith(FHIR)
]


@pytest.mark.parametrize("operation", OUTSIDE_FHIR)
def test_every_route_outside_fhir_answers_its_auth_and_method_errors_in_problem_json_as_before(
    gateway: Gateway, operation: Operation
) -> None:
    path = concrete(operation)
    served = set(gateway.app.url_map.bind("localhost").allowed_methods(path))
    other = next(method for method in METHODS if method not in served)
    answer = gateway.client.open(path, method=other)
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) == served
    text = expected(405, "http-405", "Метод не поддерживается", "Метод не поддерживается.", path)
    assert_problem(answer, text)
    if operation.scopes is None:
        return
    call = getattr(gateway.client, operation.method)

    missing = call(path)
    assert missing.status_code == 401
    detail = "Нужен токен доступа: заголовок Authorization: Bearer <токен>."
    text = expected(
        401, "missing-authorization", "Требуется авторизация", detail, path,
        error="missing_authorization", error_description=NO_TOKEN,
    )  # fmt: skip
    assert_problem(missing, text, WWW_Authenticate="Bearer")

    invalid = call(path, headers={"Authorization": "Bearer abc"})
    assert invalid.status_code == 401
    text = expected(
        401, "invalid-token", "Требуется авторизация",
        "Токен доступа недействителен или просрочен. Получите новый токен.", path,
        error="invalid_token", error_description=BAD_TOKEN,
    )  # fmt: skip
    assert_problem(invalid, text, WWW_Authenticate=f'Bearer error="invalid_token", error_description="{BAD_TOKEN}"')

    in_url = call(f"{path}?access_token=abc")
    assert in_url.status_code == 400
    text = expected(
        400, "invalid-request", "Некорректный запрос",
        "Токен доступа передаётся только в заголовке Authorization, не в адресе.", path,
        error="invalid_request", error_description=TOKEN_IN_URL,
    )  # fmt: skip
    challenge = f'Bearer error="invalid_request", error_description="{TOKEN_IN_URL}"'
    assert_problem(in_url, text, WWW_Authenticate=challenge)

    if not operation.scopes:
        return
    granted = next(scope for scope in ("epolicy.eligibility", "epolicy.replace") if scope not in operation.scopes)
    denied = call(path, headers=gateway.auth(scope=granted))
    assert denied.status_code == 403
    text = expected(
        403, "insufficient-scope", "Недостаточно прав", "У токена нет области доступа, нужной для этого запроса.",
        path, error="insufficient_scope", error_description=SHORT_OF_SCOPE,
    )  # fmt: skip
    scope = f', scope="{operation.scopes[0]}"' if len(operation.scopes) == 1 else ""
    challenge = f'Bearer error="insufficient_scope", error_description="{SHORT_OF_SCOPE}"{scope}'
    assert_problem(denied, text, WWW_Authenticate=challenge)


def test_the_other_errors_outside_fhir_are_problem_json_as_before(gateway: Gateway) -> None:
    unknown = gateway.client.get("/api/v1/nothing")
    assert_problem(unknown, expected(404, "http-404", "Не найдено", "Не найдено.", "/api/v1/nothing"))

    citizen = gateway.auth()
    path = "/api/v1/applications"
    wrong_type = gateway.client.post(path, data="x", content_type="text/plain", headers=citizen)
    detail = "Тело запроса должно быть в формате application/json."
    text = expected(415, "unsupported-media-type", "Неподдерживаемый тип содержимого", detail, path)
    assert_problem(wrong_type, text)
    broken = gateway.client.post(path, data="{", content_type="application/json", headers=citizen)
    detail = "Тело запроса не является корректным JSON."
    assert_problem(broken, expected(400, "malformed-json", "Некорректный запрос", detail, path))
    limit = int(gateway.app.config["MAX_CONTENT_LENGTH"])
    large = gateway.client.post(path, data="x" * (limit + 1), content_type="application/json", headers=citizen)
    assert_problem(large, expected(413, "http-413", "Слишком большой запрос", "Слишком большой запрос.", path))


def test_the_coverage_checks_errors_are_problem_json_as_before(gateway: Gateway) -> None:
    gateway.fund.persons[ENP] = (ANNA, POLICY)
    clinic = gateway.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")
    path = "/api/v1/coverage"
    rejected = gateway.client.get(path, query_string={"region_code": "77"}, headers=clinic)
    reason = {
        "code": "COVERAGE_IDENTIFIER_REQUIRED",
        "message": "Для проверки полиса нужен ровно один номер: либо номер полиса (ЕНП), либо СНИЛС.",
        "recommendation": "Укажите номер полиса (ЕНП) с полиса или из выписки, а если его нет под рукой, укажите "
        "только СНИЛС.",
        "field": None,
        "source": "gateway",
        "details": {"given": "none"},
    }
    detail = "Проверка не выполнена: исправьте параметры запроса, отмеченные в errors."
    text = expected(422, "validation", "Параметры запроса не прошли проверку", detail, path, errors=[reason])
    assert_problem(rejected, text)

    unknown = gateway.client.get(path, query_string={"enp": "7748410819000012", "region_code": "77"}, headers=clinic)
    message = "Полис с таким номером (ЕНП) не найден в регистре застрахованных лиц."
    reason = {
        "code": "ENP_NOT_FOUND",
        "message": message,
        "recommendation": "Проверьте номер полиса. Если номер верный, уточните сведения в своей страховой "
        "медицинской организации или в территориальном фонде ОМС.",
        "field": "enp",
        "source": "fund",
        "details": {},
    }
    assert_problem(unknown, expected(404, "not-found", "Не найдено", message, path, errors=[reason]))

    gateway.fund.fail("insurance_status", unavailable(Source.FUND, "GetInsuranceStatus"))
    down = gateway.client.get(path, query_string={"enp": ENP, "region_code": "77"}, headers=clinic)
    reason = {
        "code": "TECHNICAL_ERROR",
        "message": "Сервис фонда ОМС или страховой медицинской организации временно не отвечает. Это не отказ: "
        "заявление сохранено, запрос будет повторён автоматически.",
        "recommendation": "Ничего делать не нужно: следите за статусом заявления в личном кабинете. Если вы "
        "проверяли статус полиса, повторите запрос через несколько минут.",
        "field": None,
        "source": "gateway",
        "details": {},
    }
    detail = "Внешняя система (фонд или страховая организация) временно не отвечает. Повторите запрос позже."
    text = expected(503, "backend-unavailable", "Сервис временно недоступен", detail, path, errors=[reason])
    assert_problem(down, text, Retry_After="30")


def test_an_unexpected_error_outside_fhir_is_the_500_problem_as_before(gateway: Gateway) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    gateway.fund.policy_card = explode  # type: ignore[method-assign,assignment]
    path = f"/api/v1/policies/{ENP}"
    answer = gateway.client.get(path, headers=gateway.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility"))
    detail = "Внутренняя ошибка. Повторите запрос позже."
    assert_problem(answer, expected(500, "internal", "Внутренняя ошибка", detail, path))


# --- the view's declaration wins over the path -------------------------------------------------------------


def test_a_view_that_declares_fhir_errors_answers_them_in_fhir_outside_the_fhir_path(gateway: Gateway) -> None:
    @errors_in("application/fhir+json")
    def refuse() -> Response:
        abort(409)

    gateway.app.add_url_rule("/api/v1/declared-fhir", view_func=refuse)
    answer = gateway.client.get("/api/v1/declared-fhir")
    assert (answer.status_code, answer.mimetype) == (409, "application/fhir+json")
    outcome = answer.get_json(force=True)
    assert r4_problems(outcome) == []
    assert outcome["issue"][0]["code"] == "conflict"


def test_a_view_under_the_fhir_path_that_declares_problem_json_answers_problem_json(gateway: Gateway) -> None:
    @errors_in("application/problem+json")
    def refuse() -> Response:
        abort(409)

    gateway.app.add_url_rule("/api/v1/fhir/declared-problem", view_func=refuse)
    answer = gateway.client.get("/api/v1/fhir/declared-problem")
    text = expected(409, "http-409", "Конфликт с текущим состоянием", "Конфликт с текущим состоянием.",
                    "/api/v1/fhir/declared-problem")  # fmt: skip
    assert_problem(answer, text)
