"""Hostile bodies: nesting the parser cannot take, characters no SOAP message can carry, names of two alphabets.

Every JSON body is read in one place (gateway.api.common.json_body): deep nesting is refused before it is parsed,
and every text, keys too, is held to XML 1.0's characters on one line, so that `/validate` and a submission say
the same, on the field concerned, and nothing is accepted that the workers could not send.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.storage import upgrade
from tests.support.bodies import BODY, body
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore
from tests.support.gateway import MINE, SNILS, Gateway, insure

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

PROBLEM = "application/problem+json"
CREATE, VALIDATE = "/api/v1/applications", "/api/v1/applications/validate"
# Every endpoint that reads a JSON body, with a body it accepts.
ENDPOINTS = {
    CREATE: BODY,
    VALIDATE: BODY,
    f"/api/v1/policies/{MINE}/replacements": {"reason": "personal_data_change", "person": {"last_name": "Петрова"}},
    f"/api/v1/policies/{MINE}/attachment": {"clinic_code": "770101"},
}
# JSON escapes of what no field may hold: a lone surrogate, controls, a noncharacter, line breaks of every kind.
NOT_ALLOWED = {
    "\\ud800": "U+D800",
    "\\udfff": "U+DFFF",
    "\\u0000": "U+0000",
    "\\u0007": "U+0007",
    "\\u001b": "U+001B",
    "\\ufffe": "U+FFFE",
    "\\uffff": "U+FFFF",
    "\\u007f": "U+007F",
    "\\u0085": "U+0085",
    "\\u2028": "U+2028",
    "\\t": "U+0009",
    "\\n": "U+000A",
    "\\r": "U+000D",
}
# The single-line texts of an application, by JSON path.
TEXT_FIELDS = (
    "person.last_name",
    "person.first_name",
    "person.middle_name",
    "person.birth_place",
    "person.snils",
    "person.inn",
    "person.identity_document.series",
    "person.identity_document.number",
    "person.identity_document.issuer",
    "contacts.phone",
    "contacts.email",
    "region_code",
)
MARK = "\u2063"  # INVISIBLE SEPARATOR: a stand-in replaced by a raw JSON escape once the body is text


def with_text(path: str, value: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    changed = copy.deepcopy(BODY if data is None else data)
    *parents, leaf = path.split(".")
    target = changed
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    return changed


def raw(data: dict[str, Any], escape: str) -> bytes:
    """The body as JSON text with `escape` (a JSON escape such as `\\ud800`) where MARK stood."""
    return json.dumps(data, ensure_ascii=False).replace(MARK, escape).encode()


def post(client: FlaskClient, headers: dict[str, str], path: str, data: bytes, **extra: str) -> Any:
    return client.post(path, data=data, headers={**headers, "Content-Type": "application/json", **extra})


def reasons(answer: Any) -> list[tuple[str, str | None]]:
    return [(reason["code"], reason["field"]) for reason in answer.get_json()["errors"]]


@pytest.fixture
def insured(gateway: Gateway) -> Gateway:
    """The gateway, with the token's holder insured: every endpoint that takes a body reaches its reading."""
    insure(gateway, MINE, SNILS)
    return gateway


def insurers() -> FakeInsurers:
    return FakeInsurers({code: FakeInsurer(code) for code in ("77001", "77002", "50001")})


@pytest.fixture
def shallow(gateway: Gateway) -> Gateway:
    """A gateway whose bodies may nest only 3 deep: as deep as an application's own body."""
    store, fund = FakeStore(), FakeFund()
    config = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{gateway.mocks.base_url}/oauth"}
    app = create_app({**config, "JSON_MAX_DEPTH": 3}, store=store, fund=fund, insurers=insurers(), kz_fund=FakeKzFund())
    return Gateway(app, app.test_client(), store, fund, gateway.mocks)


@pytest.fixture
def sql_client(gateway: Gateway, tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient]]:
    """An app on the SQL store (SQLite), where a text UTF-8 cannot encode used to fail at the INSERT."""
    url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    upgrade(url)
    config = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{gateway.mocks.base_url}/oauth"}
    app = create_app({**config, "DATABASE_URL": url}, fund=FakeFund(), insurers=insurers(), kz_fund=FakeKzFund())
    yield app, app.test_client()
    engine = app.extensions["epolicy"].engine
    if engine is not None:
        engine.dispose()


# --- nesting --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_ten_thousand_nested_arrays_are_a_400_problem_on_every_endpoint_with_a_body(
    insured: Gateway, path: str
) -> None:
    answer = post(insured.client, insured.auth(), path, b"[" * 10_000 + b"]" * 10_000)
    assert (answer.status_code, answer.mimetype) == (400, PROBLEM)
    assert reasons(answer) == [("BODY_TOO_DEEP", None)]
    assert answer.get_json()["errors"][0]["details"] == {"max_depth": "32"}


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_five_thousand_nested_objects_inside_a_field_are_a_400_problem(insured: Gateway, path: str) -> None:
    deep = '{"a": ' * 5_000 + "1" + "}" * 5_000
    data = json.dumps({**ENDPOINTS[path], "padding": MARK}, ensure_ascii=False).replace(f'"{MARK}"', deep)
    answer = post(insured.client, insured.auth(), path, data.encode())
    assert (answer.status_code, answer.mimetype) == (400, PROBLEM)
    assert reasons(answer) == [("BODY_TOO_DEEP", None)]
    assert insured.store.applications == {}


@pytest.mark.parametrize("path", [CREATE, VALIDATE])
def test_deep_nesting_inside_the_person_is_refused_and_nothing_is_stored(gateway: Gateway, path: str) -> None:
    data = raw(with_text("person.birth_place", MARK), "x").replace(b'"x"', b"[" * 10_000 + b"]" * 10_000)
    answer = post(gateway.client, gateway.auth(), path, data, **{"Idempotency-Key": "deep-1"})
    assert answer.status_code == 400
    assert reasons(answer) == [("BODY_TOO_DEEP", None)]
    assert gateway.store.applications == {}


def test_a_body_as_deep_as_the_limit_is_read_and_one_level_more_is_not(shallow: Gateway) -> None:
    # The application's own body nests 3 deep (the body, the person, their document).
    assert post(shallow.client, shallow.auth(), VALIDATE, json.dumps(BODY).encode()).status_code == 200
    issuer = json.dumps(with_text("person.identity_document.issuer", MARK), ensure_ascii=False)
    deeper = issuer.replace(f'"{MARK}"', '["x"]')
    answer = post(shallow.client, shallow.auth(), VALIDATE, deeper.encode())
    assert reasons(answer) == [("BODY_TOO_DEEP", None)]
    assert answer.get_json()["errors"][0]["details"] == {"max_depth": "3"}


def test_brackets_and_escaped_quotes_inside_texts_are_not_nesting(shallow: Gateway) -> None:
    place = '[[[[{{{{ "\\" [[[[ г. Москва'
    answer = post(shallow.client, shallow.auth(), VALIDATE, json.dumps(body(birth_place=place)).encode())
    assert answer.status_code == 200, answer.get_json()


def test_a_body_that_is_not_utf_8_is_a_400_problem(gateway: Gateway) -> None:
    answer = post(gateway.client, gateway.auth(), VALIDATE, json.dumps(BODY, ensure_ascii=False).encode("utf-16"))
    assert (answer.status_code, answer.mimetype) == (400, PROBLEM)
    assert answer.get_json()["type"].endswith("/malformed-json")


# --- characters -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["person.birth_place", "person.identity_document.issuer"])
@pytest.mark.parametrize("escape", list(NOT_ALLOWED))
def test_validate_and_submit_refuse_the_same_characters_on_the_same_field(
    gateway: Gateway, field: str, escape: str
) -> None:
    data = raw(with_text(field, f"г. Мос{MARK}ква"), escape)
    headers = gateway.auth()
    checked = post(gateway.client, headers, VALIDATE, data)
    submitted = post(gateway.client, headers, CREATE, data)
    for answer in (checked, submitted):
        assert (answer.status_code, answer.mimetype) == (422, PROBLEM)
        assert reasons(answer) == [("CHARACTERS_NOT_ALLOWED", field)]
        assert answer.get_json()["errors"][0]["details"] == {"characters": NOT_ALLOWED[escape]}
    assert gateway.store.applications == {}, "an application the workers could not send is never accepted"


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_every_text_of_an_application_is_checked(gateway: Gateway, field: str) -> None:
    answer = post(gateway.client, gateway.auth(), VALIDATE, raw(with_text(field, f"77{MARK}"), "\\u0000"))
    assert answer.status_code == 422
    assert ("CHARACTERS_NOT_ALLOWED", field) in reasons(answer)


def test_the_representatives_and_the_replacements_texts_are_checked_too(insured: Gateway) -> None:
    headers = insured.auth()
    replacement = {"reason": "personal_data_change", "person": {"last_name": f"Петр{MARK}ова"}}
    answer = post(insured.client, headers, f"/api/v1/policies/{MINE}/replacements", raw(replacement, "\\u001b"))
    assert reasons(answer) == [("CHARACTERS_NOT_ALLOWED", "person.last_name")]
    attachment = {"clinic_code": f"770101{MARK}"}
    answer = post(insured.client, headers, f"/api/v1/policies/{MINE}/attachment", raw(attachment, "\\ud800"))
    assert reasons(answer) == [("CHARACTERS_NOT_ALLOWED", "clinic_code")]
    child = {**BODY, "representative": {"authority": {"type": "power_of_attorney", "number": f"77 АБ{MARK}1"}}}
    answer = post(insured.client, headers, VALIDATE, raw(child, "\\n"))
    assert ("CHARACTERS_NOT_ALLOWED", "representative.authority.number") in reasons(answer)


def test_every_field_with_such_characters_is_named_in_the_bodys_order(gateway: Gateway) -> None:
    data = with_text("person.last_name", f"Ива{MARK}нова", with_text("person.birth_place", f"г.{MARK} Москва"))
    answer = post(gateway.client, gateway.auth(), VALIDATE, raw(data, "\\u0000"))
    assert reasons(answer) == [
        ("CHARACTERS_NOT_ALLOWED", "person.last_name"),
        ("CHARACTERS_NOT_ALLOWED", "person.birth_place"),
    ]


def test_a_key_with_such_characters_is_named_with_them_escaped(gateway: Gateway) -> None:
    data = raw(body(**{f"x{MARK}y": "1"}), "\\ud800")
    answer = post(gateway.client, gateway.auth(), VALIDATE, data)
    assert answer.status_code == 422
    assert reasons(answer) == [("CHARACTERS_NOT_ALLOWED", "person.x\\ud800y")]
    assert answer.get_data().decode("utf-8"), "the answer itself is UTF-8"


def test_a_lone_surrogate_with_an_idempotency_key_is_refused_not_a_500(gateway: Gateway) -> None:
    data = raw(with_text("person.birth_place", f"г. Москва{MARK}"), "\\ud800")
    answer = post(gateway.client, gateway.auth(), CREATE, data, **{"Idempotency-Key": "surrogate-1"})
    assert answer.status_code == 422
    assert reasons(answer) == [("CHARACTERS_NOT_ALLOWED", "person.birth_place")]


@pytest.mark.parametrize("escape", ["\\ud800", "\\u0000"])
def test_on_the_sql_store_such_characters_are_refused_before_anything_is_stored(
    gateway: Gateway, sql_client: tuple[Flask, FlaskClient], escape: str
) -> None:
    app, client = sql_client
    data = raw(with_text("person.birth_place", f"г. Москва{MARK}"), escape)
    for extra in ({}, {"Idempotency-Key": "sql-1"}):
        answer = post(client, gateway.auth(), CREATE, data, **extra)
        assert answer.status_code == 422, answer.get_data()
        assert reasons(answer) == [("CHARACTERS_NOT_ALLOWED", "person.birth_place")]
    assert app.extensions["epolicy"].store.without_progress(app.extensions["epolicy"].clock()) == []


def test_the_extremes_xml_allows_are_accepted_where_the_field_allows_them(gateway: Gateway) -> None:
    place = "г. Москва \ue000\ufffd\U00010000\U0010ffff\ud7ff"
    answer = gateway.client.post(CREATE, json=body(birth_place=place), headers=gateway.auth())
    assert answer.status_code == 202, answer.get_json()
    (stored,) = gateway.store.applications.values()
    assert stored.request.person.birth_place == place


# --- names of two alphabets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "name", "latin"),
    [
        ("person.last_name", "Ивaновa", "a"),  # Latin «a» twice
        ("person.first_name", "Аннa", "a"),
        ("person.middle_name", "Сергеeвна", "e"),
        ("person.last_name", "Салтыков-Щeдрин", "e"),  # one word of the two
    ],
)
def test_a_word_of_cyrillic_and_latin_look_alikes_is_refused_for_a_russian_citizen(
    gateway: Gateway, field: str, name: str, latin: str
) -> None:
    headers = gateway.auth()
    data = json.dumps(with_text(field, name), ensure_ascii=False).encode()
    for path in (VALIDATE, CREATE):
        answer = post(gateway.client, headers, path, data)
        assert answer.status_code == 422
        (reason,) = answer.get_json()["errors"]
        assert (reason["code"], reason["field"], reason["details"]) == (
            "NAME_MIXED_SCRIPTS",
            field,
            {"characters": latin},
        )
    assert gateway.store.applications == {}


def test_a_foreigners_name_mixing_alphabets_in_a_word_is_refused_too(gateway: Gateway) -> None:
    answer = gateway.client.post(VALIDATE, json=body(last_name="Smіth"), headers=gateway.auth())  # Cyrillic «і»
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["details"] == {"characters": "і"}


@pytest.mark.parametrize("name", ["Иванова", "Smith", "Смит-Smith", "O'Брайен Smith"])
def test_words_each_of_one_alphabet_are_accepted(gateway: Gateway, name: str) -> None:
    answer = gateway.client.post(VALIDATE, json=body(last_name=name), headers=gateway.auth())
    assert answer.status_code == 200, answer.get_json()
