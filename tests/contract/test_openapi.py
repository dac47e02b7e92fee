"""contracts/openapi.yaml is what the code generates, and it documents every route the gateway serves."""

from __future__ import annotations

import re

import yaml
from click.testing import CliRunner

import contracts
from gateway.cli import main
from gateway.openapi import operations, render_yaml

# Blueprints of pages for people (their HTML, scripts and styles), served beside the API but not part of it.
PAGES = ("portal.", "docs_ui.")


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
