"""Request limits: body size, field lengths, no arrays, names in NFC and only in the letters registries accept."""

from __future__ import annotations

import contextlib
import copy
import threading
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from waitress import wasyncore
from waitress.server import create_server

from gateway.api import schemas
from tests.support.bodies import BODY, body
from tests.support.gateway import Gateway

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

DECOMPOSED_SHORT_I = "\u0438\u0306"  # «и» + combining breve: how some keyboards and PDFs send «й»


def reasons(answer: Any) -> set[tuple[str, str]]:
    return {(reason["code"], reason["field"]) for reason in answer.get_json()["errors"]}


def validate(gateway: Gateway, data: dict[str, Any]) -> Any:
    return gateway.client.post("/api/v1/applications/validate", json=data, headers=gateway.auth())


# --- body size ----------------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_problem(gateway: Gateway) -> None:
    limit = int(gateway.app.config["MAX_CONTENT_LENGTH"])
    padded = body(birth_place="г. Москва" + " " * limit)
    answer = gateway.client.post("/api/v1/applications", json=padded, headers=gateway.auth())
    assert (answer.status_code, answer.mimetype) == (413, "application/problem+json")
    assert answer.get_json()["status"] == 413
    assert gateway.store.applications == {}


def test_a_chunked_body_over_the_limit_without_content_length_is_a_413_problem(gateway: Gateway) -> None:
    # Over a real socket through waitress, as in production: a chunked body carries no Content-Length.
    limit = int(gateway.app.config["MAX_CONTENT_LENGTH"])
    server = create_server(gateway.app, host="127.0.0.1", port=0, threads=2, asyncore_loop_timeout=0.05)

    def serve() -> None:
        with contextlib.suppress(OSError):  # the select of the loop may see the socket closed under it
            server.run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def chunks() -> Iterator[bytes]:
        yield b'{"relation": "self", "padding": "'
        for _ in range(limit // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    try:
        headers = {**gateway.auth(), "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{server.effective_port}/api/v1/applications"  # type: ignore[union-attr]
        answer = requests.post(url, data=chunks(), headers=headers, timeout=10)
    finally:
        wasyncore.close_all(server._map)  # the listening socket, the trigger and any channel left: the loop ends
        server.task_dispatcher.shutdown()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert answer.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in answer.request.headers
    assert (answer.status_code, answer.headers["Content-Type"]) == (413, "application/problem+json")
    assert gateway.store.applications == {}


def test_a_body_just_under_the_limit_is_read(gateway: Gateway) -> None:
    answer = gateway.client.post("/api/v1/applications/validate", json=BODY, headers=gateway.auth())
    assert answer.status_code == 200


# --- field lengths and arrays -------------------------------------------------------------------------------


def string_fields(schema: type[schemas.Schema]) -> Iterator[tuple[type[schemas.Schema], str, Any]]:
    for name, field in schema().fields.items():
        if isinstance(field, schemas.fields.Nested):
            nested = field.nested
            assert isinstance(nested, type)
            yield from string_fields(nested)
        else:
            yield schema, name, field


def every_request_schema() -> list[type[schemas.Schema]]:
    from gateway.api import api_modules

    found: list[type[schemas.Schema]] = []
    for module in api_modules():
        found += [operation.body for operation in module.routes.operations if operation.body is not None]
    assert found, "the documented operations name their request bodies"
    return found


def test_request_bodies_hold_no_arrays_so_no_array_can_grow_without_bound() -> None:
    for schema in every_request_schema():
        for owner, name, field in string_fields(schema):
            assert not isinstance(field, (schemas.fields.List, schemas.fields.Dict, schemas.fields.Raw)) or isinstance(
                field, (schemas.fields.String, schemas.fields.Date)
            ), f"{owner.__name__}.{name} would need a size limit"


def test_every_free_text_field_of_a_request_has_a_length_limit() -> None:
    unlimited = []
    for schema in every_request_schema():
        for owner, name, field in string_fields(schema):
            if type(field) is not schemas.fields.String:
                continue
            validators = field.validators
            bounded = any(
                (isinstance(check, schemas.validate.Length) and check.max is not None)
                or isinstance(check, (schemas.validate.OneOf, schemas.validate.Regexp))
                for check in validators
            )
            if not bounded:
                unlimited.append(f"{owner.__name__}.{name}")
    assert unlimited == []


@pytest.mark.parametrize(
    ("path", "length"),
    [
        ("person.last_name", 101),
        ("person.first_name", 101),
        ("person.middle_name", 101),
        ("person.birth_place", 251),
        ("person.identity_document.number", 31),
        ("person.identity_document.series", 21),
        ("person.identity_document.issuer", 251),
    ],
)
def test_a_field_over_its_length_is_refused_with_field_too_long(gateway: Gateway, path: str, length: int) -> None:
    data = copy.deepcopy(BODY)
    *parents, leaf = path.split(".")
    target = data
    for parent in parents:
        target = target[parent]
    target[leaf] = "а" * length
    answer = validate(gateway, data)
    assert answer.status_code == 422
    assert ("FIELD_TOO_LONG", path) in reasons(answer)


def test_an_email_over_254_characters_is_refused(gateway: Gateway) -> None:
    data = copy.deepcopy(BODY)
    data["contacts"]["email"] = "a" * 250 + "@example.ru"
    answer = validate(gateway, data)
    assert answer.status_code == 422
    assert {field for _, field in reasons(answer)} == {"contacts.email"}


def test_a_phone_with_a_trailing_line_break_is_refused(gateway: Gateway) -> None:
    # A pattern's `$` matches before a final "\n"; the phone would reach the insurer's SOAP message with it. No
    # field is more than one line: a line break is refused wherever it is (tests/security/test_hostile_input.py).
    data = copy.deepcopy(BODY)
    data["contacts"]["phone"] = "+79161234567\n"
    answer = validate(gateway, data)
    assert answer.status_code == 422
    assert reasons(answer) == {("CHARACTERS_NOT_ALLOWED", "contacts.phone")}


# --- names: NFC and the letters registries accept -----------------------------------------------------------


def test_a_decomposed_short_i_is_stored_composed(gateway: Gateway) -> None:
    data = body(last_name=f"Ма{DECOMPOSED_SHORT_I}орова", first_name=f"Алексе{DECOMPOSED_SHORT_I}")
    assert unicodedata.is_normalized("NFD", data["person"]["first_name"][-2:])
    answer = gateway.client.post("/api/v1/applications", json=data, headers=gateway.auth())
    assert answer.status_code == 202, answer.get_json()
    (stored,) = gateway.store.applications.values()
    person = stored.request.person
    assert (person.last_name, person.first_name) == ("Майорова", "Алексей")
    assert DECOMPOSED_SHORT_I not in person.last_name + person.first_name


@pytest.mark.parametrize(
    "name",
    ["Иванова", "Ёлкина", "Салтыков-Щедрин", "Д'Артаньян", "O\u2019Brien", "Smith", "Müller", "Анна Мария"],
)
def test_names_of_letters_spaces_hyphens_and_apostrophes_are_accepted(gateway: Gateway, name: str) -> None:
    answer = validate(gateway, body(last_name=name))
    assert answer.status_code == 200, answer.get_json()


@pytest.mark.parametrize(
    "name",
    [
        *("Иванова2", "Иванова 😀", "Иванова!", "Иванова_", "<script>", "Ivanova;DROP", "李", "Ἀλέξανδρος", "---"),
        "Ива\u200bнова",  # a zero-width space hides in a name that looks right
    ],
)
def test_names_with_other_characters_are_refused_with_name_characters(gateway: Gateway, name: str) -> None:
    answer = validate(gateway, body(last_name=name))
    assert answer.status_code == 422
    assert ("NAME_CHARACTERS", "person.last_name") in reasons(answer)
