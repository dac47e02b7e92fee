"""What one declaration serves: its route and method, its token check, its body, its answer, its ETag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema, fields

from gateway.api.operation import Answer, Reply, Routes, openapi_path
from gateway.api.responses import Timestamp, Value
from gateway.domain.model import ApplicationStatus


@dataclass(frozen=True)
class Thing:
    name: str
    status: ApplicationStatus


class ThingOut(Schema):
    name = fields.String(required=True)
    status = Value(required=True)


class NameIn(Schema):
    name = fields.String(required=True)


def _app(**options: Any) -> tuple[Flask, Routes]:
    routes = Routes("things", __name__, url_prefix="/things", tag="things")
    loaded: list[Any] = []

    @routes.get("/<name>", "getThing", "A thing", Answer(200, ThingOut, "The thing"), **options)
    def read(name: str) -> Thing:
        return Thing(name, ApplicationStatus.ISSUED)

    @routes.post(
        "", "makeThing", "Make one", Answer(201, ThingOut, "Made"), body=NameIn, load=lambda s: s().load(loaded[0])
    )
    def make(body: dict[str, str]) -> Reply:
        return Reply(Thing(body["name"], ApplicationStatus.ACCEPTED), headers={"Location": "/things/" + body["name"]})

    app = Flask(__name__)
    app.register_blueprint(routes.blueprint)
    app.config["loaded"] = loaded
    return app, routes


def test_the_answer_is_rendered_by_its_schema_with_the_declared_status_and_media_type() -> None:
    app, _ = _app()
    answer = app.test_client().get("/things/a")
    assert (answer.status_code, answer.mimetype) == (200, "application/json")
    assert answer.get_json() == {"name": "a", "status": "issued"}
    assert "ETag" not in answer.headers  # not declared conditional


def test_a_reply_gives_the_declared_status_and_its_headers_and_the_view_gets_the_loaded_body() -> None:
    app, _ = _app()
    app.config["loaded"].append({"name": "b"})
    answer = app.test_client().post("/things")
    assert answer.status_code == 201
    assert answer.headers["Location"] == "/things/b"
    assert answer.get_json() == {"name": "b", "status": "accepted"}


def test_a_conditional_operation_tags_its_answer_and_answers_304_to_the_same_tag() -> None:
    app, _ = _app(conditional=True)
    client = app.test_client()
    first = client.get("/things/a")
    tag = first.headers["ETag"]
    again = client.get("/things/a", headers={"If-None-Match": tag})
    assert (again.status_code, again.data) == (304, b"")
    assert client.get("/things/b", headers={"If-None-Match": tag}).status_code == 200


def test_the_declaration_is_what_the_document_reads() -> None:
    _, routes = _app(parameters=({"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},))
    read, make = routes.operations
    assert (read.path, read.method, read.operation_id, read.tag) == ("/things/{name}", "get", "getThing", "things")
    assert (make.path, make.method, make.body, make.answer.status) == ("/things", "post", NameIn, 201)


def test_a_body_without_a_loader_is_refused_when_declared() -> None:
    routes = Routes("x", __name__, tag="x")
    with pytest.raises(ValueError, match="loader"):
        routes.post("/x", "x", "x", Answer(200, None, "x"), body=NameIn)


@pytest.mark.parametrize(
    ("rule", "path"), [("/a/<enp>", "/a/{enp}"), ("/a/<int:n>/b", "/a/{n}/b"), ("", "/"), ("/a", "/a")]
)
def test_a_flask_rule_reads_as_an_openapi_path(rule: str, path: str) -> None:
    assert openapi_path(rule) == path


def test_times_are_rfc_3339_in_utc_with_a_z() -> None:
    from datetime import datetime, timedelta, timezone

    class At(Schema):
        at = Timestamp()

    moscow = timezone(timedelta(hours=3))
    assert At().dump({"at": datetime(2026, 12, 7, 13, 0, 5, 123, tzinfo=moscow)}) == {"at": "2026-12-07T10:00:05Z"}


def test_the_fast_render_is_the_reference_render_for_equal_unequal_and_unhashable_values() -> None:
    from gateway.api.operation import fast_render, reference_render

    schema = ThingOut()
    render = fast_render(schema, size=2)
    values: list[Any] = [Thing("a", ApplicationStatus.ISSUED), Thing("a", ApplicationStatus.ISSUED)]
    values += [Thing("b", ApplicationStatus.ACCEPTED), Thing("a", ApplicationStatus.REJECTED)]
    values += [{"name": "c", "status": ApplicationStatus.ISSUED}, Thing("b", ApplicationStatus.ACCEPTED)]
    for value in values * 2:  # again, after the smallest memory has let some go
        assert render(value) == reference_render(schema, value)
