"""Each operation is declared once (gateway/api/operation.py): the app serves what is declared, the token check
refuses what the declared scopes refuse, and the committed OpenAPI document says the same of every operation."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from flask import Flask

import contracts
from gateway.api.operation import Operation
from gateway.openapi import operations
from tests.support.gateway import Gateway

PAGES = ("portal.", "docs_ui.")
DECLARED = operations()


def _app() -> Flask:
    from gateway.app import create_app
    from tests.support.fakes import FakeFund, FakeInsurers, FakeStore

    return create_app({"TESTING": True}, store=FakeStore(), fund=FakeFund(), insurers=FakeInsurers({}))


def _document() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(contracts.path("openapi.yaml").read_text(encoding="utf-8"))
    return found


def test_every_route_is_served_by_the_operation_declared_for_it() -> None:
    app = _app()
    served = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith(PAGES):
            continue
        declared = getattr(app.view_functions[rule.endpoint], "operation", None)
        assert isinstance(declared, Operation), f"{rule.rule} is served by a view no operation declares"
        assert declared.path == re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert declared.method.upper() in (rule.methods or ())
        served += 1
    assert served == len(DECLARED)


def _security(declared: Operation) -> list[dict[str, list[str]]]:
    if declared.scopes is None:
        return []
    return [{"oauth2": [scope]} for scope in declared.scopes] or [{"oauth2": []}]


def test_the_committed_document_states_each_operations_scopes_answer_and_errors() -> None:
    paths = _document()["paths"]
    for declared in DECLARED:
        where = f"{declared.method.upper()} {declared.path}"
        documented = paths[declared.path][declared.method]
        assert documented["operationId"] == declared.operation_id, where
        assert documented["security"] == _security(declared), where
        statuses = set(documented["responses"])
        assert str(declared.answer.status) in statuses, where
        assert {str(status) for status in declared.errors} <= statuses, where
        assert ("requestBody" in documented) is (declared.body is not None), where
        if declared.conditional:
            assert "304" in statuses, where


def _path(declared: Operation) -> str:
    examples = {p["name"]: str(p.get("example", "x")) for p in declared.parameters if p["in"] == "path"}
    return re.sub(r"\{(\w+)\}", lambda match: examples.get(match.group(1), "x"), declared.path)


SCOPED = [pytest.param(d, id=f"{d.method.upper()} {d.path}") for d in DECLARED if d.scopes is not None]


@pytest.mark.network
@pytest.mark.parametrize("declared", SCOPED)
def test_the_token_check_of_an_operation_is_the_one_its_declaration_names(
    gateway: Gateway, declared: Operation
) -> None:
    send = getattr(gateway.client, declared.method)
    path = _path(declared)
    assert send(path).status_code == 401
    # A valid token with none of the operation's scopes: refused when it names any, let through when it names none.
    other = send(path, headers=gateway.auth(scope="openid")).status_code
    assert (other == 403) is bool(declared.scopes), other
    for scope in declared.scopes or ():
        assert send(path, headers=gateway.auth(scope=scope)).status_code not in (401, 403), scope
