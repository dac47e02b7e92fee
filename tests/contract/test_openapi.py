"""contracts/openapi.yaml is what the code generates, and it documents every route the gateway serves."""

from __future__ import annotations

import inspect
import re
from typing import Any

import jsonschema_rs
import pytest
import yaml
from click.testing import CliRunner
from flask import Flask

import contracts
from gateway.api.coverage import FHIR_CHECK
from gateway.api.problems import TYPE_BASE
from gateway.catalogue import Catalogue
from gateway.cli import main
from gateway.domain.model import Source
from gateway.openapi import operations, render_yaml
from tests.support.fakes import unavailable
from tests.support.gateway import Gateway

# Blueprints of pages for people (their HTML, scripts and styles), served beside the API but not part of it.
PAGES = ("portal.", "docs_ui.")
PROBLEM_SCHEMAS = {
    "application/problem+json": ("#/components/schemas/Problem", "#/components/schemas/NotReady"),
    "application/fhir+json": ("#/components/schemas/OperationOutcome",),
}


def test_the_committed_openapi_document_is_the_generated_one() -> None:
    committed = contracts.path("openapi.yaml").read_text(encoding="utf-8")
    assert committed == render_yaml(), "contracts/openapi.yaml is stale: run `make openapi` and commit it"


def test_the_cli_prints_the_same_document() -> None:
    result = CliRunner().invoke(main, ["openapi"])
    assert result.exit_code == 0, result.output
    assert result.output == render_yaml()


def test_every_route_of_the_app_is_documented_and_nothing_else() -> None:
    from gateway.app import create_app
    from tests.support.fakes import FakeFund, FakeInsurers, FakeStore

    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0}, store=FakeStore(), fund=FakeFund(), insurers=FakeInsurers({})
    )
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith(PAGES):  # pages and files, not the API
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                served.add((path, method.lower()))
    documented = {(operation.path, operation.method) for operation in operations()}
    assert served == documented


def test_the_document_names_the_paths_and_codes_of_api_md() -> None:
    document = yaml.safe_load(contracts.path("openapi.yaml").read_text(encoding="utf-8"))
    paths = document["paths"]
    assert paths["/api/v1/applications"]["post"]["responses"].keys() >= {"202", "422", "401"}
    assert paths["/api/v1/policies/{enp}"]["get"]["responses"].keys() >= {"200", "404", "422"}
    assert paths["/api/v1/policies/{enp}/replacements"]["post"]["responses"].keys() >= {"202"}
    assert {"/api/v1/insurers", "/api/v1/rejection-reasons", "/healthz", "/readyz"} <= paths.keys()
    reason = document["components"]["schemas"]["Reason"]["properties"]
    assert set(reason) == {"code", "field", "source", "message", "recommendation", "details"}


def test_every_rate_limited_operation_documents_429_with_retry_after_and_the_probes_do_not() -> None:
    document = yaml.safe_load(contracts.path("openapi.yaml").read_text(encoding="utf-8"))
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            if path in ("/healthz", "/readyz"):
                assert "429" not in responses, f"{method} {path}: probes are never limited"
                continue
            answer = responses.get("429")
            assert answer is not None, f"{method} {path} is rate-limited but does not say so"
            assert "Retry-After" in answer["headers"]
            assert answer["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_the_document_names_every_rate_limit_setting_with_its_default() -> None:
    from gateway.config import Settings
    from gateway.ratelimit import LIMIT_SETTINGS

    document = yaml.safe_load(contracts.path("openapi.yaml").read_text(encoding="utf-8"))
    description = document["info"]["description"]
    for name in LIMIT_SETTINGS:
        assert f"EPOLICY_{name}" in description, f"{name} is not documented"
    assert "`60/minute` на гражданина (`sub`)" in description
    assert "`600/minute` на клиента (`client_id`)" in description
    assert Settings().ratelimit_per_portal is None
    assert "на всех граждан одного клиента — выключен" in description


# --- Error answers, conditional reads, security ---


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(contracts.path("openapi.yaml").read_text(encoding="utf-8"))
    return spec


def _resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A node, or what its `$ref` into the document points at."""
    reference = node.get("$ref")
    if reference is None:
        return node
    found: Any = spec
    for part in reference.removeprefix("#/").split("/"):
        found = found[part]
    return dict(found)


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator({"components": spec["components"], **schema}, validate_formats=True)


def _error_answers(spec: dict[str, Any]) -> list[tuple[str, str, int, dict[str, Any]]]:
    return [
        (path, method, int(status), answer)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        for status, answer in operation["responses"].items()
        if int(status) >= 400
    ]


def test_every_error_answer_has_its_schema_and_examples_that_match_it_with_the_right_status() -> None:
    spec = _spec()
    catalogue = Catalogue.load()
    answers = _error_answers(spec)
    assert len(answers) >= 100
    for path, method, status, answer in answers:
        where = f"{method.upper()} {path} {status}"
        ((media_type, media),) = answer["content"].items()
        assert media_type in ("application/problem+json", "application/fhir+json"), where
        schema = media["schema"]
        assert schema["$ref"] in PROBLEM_SCHEMAS[media_type], where
        assert media.get("examples"), f"{where} has no example: Swagger UI would show status 0 and 'string'"
        validator = _validator(spec, schema)
        for name, reference in media["examples"].items():
            value = _resolved(spec, reference)["value"]
            errors = [error.message for error in validator.iter_errors(value)]
            assert errors == [], f"{where} example {name}: {errors}"
            if media_type == "application/fhir+json":
                codes = [coding["code"] for issue in value["issue"] for coding in issue["details"].get("coding", [])]
            else:
                assert value["status"] == status, f"{where} example {name}"
                assert value["type"].startswith(TYPE_BASE), f"{where} example {name}"
                codes = [reason["code"] for reason in value.get("errors", [])]
                for reason in value.get("errors", []):
                    entry = catalogue.entry(reason["code"])
                    assert reason["source"] in entry.sources, f"{where} example {name}: {reason}"
                    assert (reason["message"], reason["recommendation"]) == (entry.message, entry.recommendation)
                    assert entry.http_status == status, f"{where} example {name}: {reason['code']}"
            assert all(code in catalogue for code in codes), f"{where} example {name}: {codes}"


def test_a_wrong_status_in_an_error_example_would_be_caught() -> None:
    spec = _spec()
    (_, _, _, answer), *_ = [item for item in _error_answers(spec) if item[2] == 422]
    media = answer["content"]["application/problem+json"]
    value = _resolved(spec, next(iter(media["examples"].values())))["value"]
    assert _validator(spec, media["schema"]).is_valid(value)
    assert not _validator(spec, media["schema"]).is_valid({**value, "status": "422"})
    assert not _validator(spec, media["schema"]).is_valid({**value, "extra": 1}), "unknown members are refused"


def test_every_operation_with_a_token_documents_the_challenges_of_the_auth_layer() -> None:
    spec = _spec()
    for operation in operations():
        responses = spec["paths"][operation.path][operation.method]["responses"]
        where = f"{operation.method.upper()} {operation.path}"
        if operation.scopes is None:
            assert spec["paths"][operation.path][operation.method]["security"] == [], where
            assert not {"401", "403"} & responses.keys(), where
            continue
        expected = {"400", "401"} | ({"403"} if operation.scopes else set())
        assert expected <= responses.keys(), where
        for status in expected - {"400"}:
            header = responses[status]["headers"]["WWW-Authenticate"]
            assert header["required"] is True, f"{where} {status}"
            assert header["example"].startswith("Bearer"), f"{where} {status}"
        if operation.error_media_type is None:
            examples = responses["401"]["content"]["application/problem+json"]["examples"]
            assert {"missing-authorization", "invalid-token"} <= examples.keys(), where


def test_the_problem_schema_admits_the_oauth_members_and_readyz_has_its_own_with_checks() -> None:
    schemas = _spec()["components"]["schemas"]
    assert {"error", "error_description", "errors"} <= schemas["Problem"]["properties"].keys()
    not_ready = schemas["NotReady"]
    assert not_ready["properties"]["checks"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": not_ready["properties"]["checks"]["description"],
    }
    assert {"type", "title", "status", "detail", "checks"} <= set(not_ready["required"])
    readyz = _spec()["paths"]["/readyz"]["get"]
    assert readyz["security"] == []
    assert readyz["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Health"
    }
    unready = readyz["responses"]["503"]["content"]["application/problem+json"]
    assert unready["schema"] == {"$ref": "#/components/schemas/NotReady"}


def _app() -> Flask:
    from gateway.app import create_app
    from tests.support.fakes import FakeFund, FakeInsurers, FakeStore

    return create_app(
        {"TESTING": True, "WORKER_THREADS": 0}, store=FakeStore(), fund=FakeFund(), insurers=FakeInsurers({})
    )


def _conditional_routes(app: Flask) -> set[tuple[str, str]]:
    """The routes whose view answers through gateway.api.common.conditional(): declared so, or calling it."""
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "operation", None)  # gateway.api.operation adds the ETag itself
        if declared.conditional if declared is not None else "conditional" in inspect.unwrap(view).__code__.co_names:
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            found |= {(path, method.lower()) for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    return found


def test_every_conditional_read_documents_etag_if_none_match_and_304_and_no_other_does() -> None:
    conditional = _conditional_routes(_app())
    assert ("/api/v1/policies/{enp}", "get") in conditional
    spec = _spec()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            where = f"{method.upper()} {path}"
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            success = next(answer for status, answer in operation["responses"].items() if status.startswith("2"))
            if (path, method) in conditional:
                assert "If-None-Match" in headers, where
                assert success["headers"]["ETag"]["required"] is True, where
                assert operation["responses"]["304"]["headers"]["ETag"]["required"] is True, where
                assert "content" not in operation["responses"]["304"], where
            else:
                assert "If-None-Match" not in headers and "304" not in operation["responses"], where


# --- What the gateway really answers matches what the document says ---

CITIZEN = "epolicy.apply epolicy.read epolicy.replace"


def _case(method: str, path: str, template: str, status: int, scope: str | None = CITIZEN, **request: Any) -> Any:
    """A request, the documented path it is one of, and its status; `scope`: of a real token, None for none."""
    return pytest.param(method, path, template, status, scope, request, id=f"{status} {method} {path}")


ENP_CHECKSUM_WRONG = "7754900882000016"
REAL_ERRORS = [
    _case("get", "/api/v1/applications", "/api/v1/applications", 401, None),
    _case("get", "/api/v1/applications", "/api/v1/applications", 401, None, headers={"Authorization": "Bearer abc"}),
    _case("post", "/api/v1/applications", "/api/v1/applications", 403, "epolicy.read", json={}),
    _case("get", "/api/v1/policies/7754900882000015?access_token=x", "/api/v1/policies/{enp}", 400),
    _case("get", f"/api/v1/policies/{ENP_CHECKSUM_WRONG}", "/api/v1/policies/{enp}", 422),
    _case("get", "/api/v1/policies/7754900882000015", "/api/v1/policies/{enp}", 404),
    _case("get", "/api/v1/applications/app_01KAVZ3Q8M5T2R7W9X4C6B1N0D", "/api/v1/applications/{application_id}", 404),
    _case("get", "/api/v1/applications?limit=0", "/api/v1/applications", 400),
    _case("get", "/api/v1/applications?cursor=zzz", "/api/v1/applications", 400),
    _case("post", "/api/v1/applications", "/api/v1/applications", 400, data="{", content_type="application/json"),
    _case("post", "/api/v1/applications", "/api/v1/applications", 400, json=[]),
    _case("post", "/api/v1/applications", "/api/v1/applications", 415, data="x", content_type="text/plain"),
    _case("get", "/api/v1/insurers?region_code=7", "/api/v1/insurers", 400),
    _case(
        "get",
        "/api/v1/policies/7754900882000015/visits?from=2025-01-01&to=2024-01-01",
        "/api/v1/policies/{enp}/visits",
        422,
    ),
    _case("get", "/api/v1/coverage?region_code=77", "/api/v1/coverage", 422, "epolicy.eligibility"),
    _case(
        "get", "/api/v1/coverage?enp=7754900882000015&region_code=77", "/api/v1/coverage", 404, "epolicy.eligibility"
    ),
    _case("get", "/api/v1/coverage", "/api/v1/coverage", 403),
    _case("get", f"/api/v1/fhir{FHIR_CHECK}?region_code=77", f"/api/v1/fhir{FHIR_CHECK}", 401, None),
    _case("get", f"/api/v1/fhir{FHIR_CHECK}?region_code=77", f"/api/v1/fhir{FHIR_CHECK}", 403),
    _case("get", f"/api/v1/fhir{FHIR_CHECK}?region_code=77", f"/api/v1/fhir{FHIR_CHECK}", 422, "epolicy.eligibility"),
]


@pytest.mark.network
@pytest.mark.parametrize(("method", "path", "template", "status", "scope", "request_"), REAL_ERRORS)
def test_a_real_error_answer_matches_its_documented_schema_headers_and_one_of_its_examples(
    gateway: Gateway, method: str, path: str, template: str, status: int, scope: str | None, request_: Any
) -> None:
    headers = dict(request_.pop("headers", {}))
    if scope is not None:
        headers["Authorization"] = f"Bearer {gateway.token(scope=scope)}"
    answer = gateway.client.open(path, method=method.upper(), headers=headers, **request_)
    assert answer.status_code == status, answer.get_data(as_text=True)
    _assert_documented(_spec(), template, method, answer)


@pytest.mark.network
def test_a_real_503_of_an_unavailable_fund_matches_its_documentation(gateway: Gateway) -> None:
    gateway.fund.fail("policy_card", unavailable(Source.FUND, "policy_card"))
    token = gateway.token(sub="clinic-demo", snils=None, scope="epolicy.eligibility")
    answer = gateway.client.get("/api/v1/policies/7754900882000015", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    _assert_documented(_spec(), "/api/v1/policies/{enp}", "get", answer)


def _assert_documented(spec: dict[str, Any], template: str, method: str, answer: Any) -> None:
    """The answer's status, media type, required headers and body are as documented, its body one of the examples."""
    documented = spec["paths"][template][method]["responses"][str(answer.status_code)]
    media = documented["content"][answer.mimetype]
    body = answer.get_json(force=True)
    errors = [error.message for error in _validator(spec, media["schema"]).iter_errors(body)]
    assert errors == [], (body, errors)
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert name in answer.headers, name
    examples = [_resolved(spec, reference)["value"] for reference in media["examples"].values()]
    # Each example serves every operation that may answer it, so it names no request path (`instance`).
    sent = {key: value for key, value in body.items() if key != "instance"}
    assert sent in examples, f"{sent} is none of the documented examples {examples}"


@pytest.mark.network
@pytest.mark.parametrize("fund_down", [False, True], ids=["ready", "not ready"])
def test_a_real_answer_of_readyz_matches_its_documented_schema(gateway: Gateway, fund_down: bool) -> None:
    if fund_down:
        gateway.fund.fail("list_insurers", unavailable(Source.FUND, "ListInsurers"))
    answer = gateway.client.get("/readyz")
    assert answer.status_code == (503 if fund_down else 200)
    spec = _spec()
    schema = spec["paths"]["/readyz"]["get"]["responses"][str(answer.status_code)]["content"][answer.mimetype]
    errors = [error.message for error in _validator(spec, schema["schema"]).iter_errors(answer.get_json())]
    assert errors == []
