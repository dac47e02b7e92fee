"""One answer names every reason: the schema's (missing, malformed fields) with the domain's rules on what parsed.

A citizen who leaves the surname empty and mistypes the СНИЛС hears of both at once, not of the СНИЛС only after
the surname is filled in; and no reason follows from a field the schema could not read.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.bodies import body
from tests.support.gateway import MINE, SNILS, Gateway, insure

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

VALIDATE = "/api/v1/applications/validate"
APPLY = "/api/v1/applications"


def reasons(gateway: Gateway, path: str, data: dict[str, Any], **headers: str) -> list[tuple[str, str | None]]:
    answer = gateway.client.post(path, json=data, headers={**gateway.auth(), **headers})
    assert answer.status_code == 422, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    return [(reason["code"], reason["field"]) for reason in answer.get_json()["errors"]]


def without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return data


@pytest.mark.parametrize("path", [VALIDATE, APPLY])
def test_a_missing_surname_and_a_wrong_snils_are_reported_together(gateway: Gateway, path: str) -> None:
    found = reasons(gateway, path, without(body(snils="112-233-445 00"), "person", "last_name"))
    assert found == [("FIELD_REQUIRED", "person.last_name"), ("SNILS_CHECKSUM", "person.snils")]
    assert gateway.store.applications == {}


def test_every_kind_of_reason_comes_in_one_answer(gateway: Gateway) -> None:
    data = body(snils="112-233-445 00", inn="500100732250", birth_date="2990-01-01", sex="x")
    data["person"]["identity_document"].update(series="45", issue_date="01.06.2010")
    data["region_code"] = "99"
    del data["insurer_code"]
    found = set(reasons(gateway, VALIDATE, data))
    assert found == {
        ("FIELD_INVALID", "person.sex"),
        ("FIELD_INVALID", "person.identity_document.issue_date"),
        ("FIELD_REQUIRED", "insurer_code"),
        ("BIRTH_DATE_IN_FUTURE", "person.birth_date"),
        ("SNILS_CHECKSUM", "person.snils"),
        ("INN_INVALID", "person.inn"),
        ("DOCUMENT_SERIES_FORMAT", "person.identity_document.series"),
        ("REGION_UNKNOWN", "region_code"),
    }


def test_a_rule_that_reads_an_unreadable_field_says_nothing(gateway: Gateway) -> None:
    # Without a birth date no age is known: no СНИЛС required, no passport too early, no representative needed.
    data = body(snils=None, birth_date="17.05.2010")
    data["person"]["identity_document"]["issue_date"] = "2010-06-01"
    assert reasons(gateway, VALIDATE, data) == [("FIELD_INVALID", "person.birth_date")]


def test_a_field_the_schema_refuses_gets_no_second_reason(gateway: Gateway) -> None:
    found = reasons(gateway, VALIDATE, body(last_name="И" * 101, snils="1" * 21, first_name=""))
    assert sorted(found) == [
        ("FIELD_REQUIRED", "person.first_name"),  # an empty string is a field not filled in, not one too long
        ("FIELD_TOO_LONG", "person.last_name"),
        ("FIELD_TOO_LONG", "person.snils"),
    ]


def test_a_document_read_in_part_is_checked_as_far_as_it_was_read(gateway: Gateway) -> None:
    data = body()
    data["person"]["identity_document"].update(series="45", number="12")
    del data["person"]["identity_document"]["issue_date"]
    assert set(reasons(gateway, VALIDATE, data)) == {
        ("FIELD_REQUIRED", "person.identity_document.issue_date"),
        ("DOCUMENT_SERIES_FORMAT", "person.identity_document.series"),
        ("DOCUMENT_NUMBER_FORMAT", "person.identity_document.number"),
    }


def test_a_foreigners_documents_are_checked_though_the_name_is_missing(gateway: Gateway) -> None:
    data = without(body(citizenship="DEU", snils=None, inn=None), "person", "first_name")
    passport = {"type": "foreign_passport", "number": "C01X00T47", "issue_date": "2020-02-01"}
    data["person"]["identity_document"] = passport
    assert reasons(gateway, VALIDATE, data) == [
        ("FIELD_REQUIRED", "person.first_name"),
        ("RESIDENCE_DOCUMENT_REQUIRED", "person.residence_document"),
    ]


def test_an_insurer_is_not_held_to_a_region_that_could_not_be_read(gateway: Gateway) -> None:
    data = body()
    data.update(region_code="Москва", insurer_code="50001")  # an insurer of region 50
    assert reasons(gateway, VALIDATE, data) == [("FIELD_INVALID", "region_code")]
    data["insurer_code"] = "99999"
    assert reasons(gateway, VALIDATE, data) == [("FIELD_INVALID", "region_code"), ("INSURER_UNKNOWN", "insurer_code")]


def test_a_representatives_data_are_checked_though_the_relation_is_unreadable(gateway: Gateway) -> None:
    data = body()
    data["relation"] = "grandchild"
    data["representative"] = {
        "last_name": "Иванова",
        "first_name": "Анна",
        "birth_date": "2010-01-01",  # 16: a passport, not yet an adult
        "identity_document": {"type": "passport_rf", "series": "4510", "number": "123456", "issue_date": "2030-01-01"},
        "authority": {"type": "parent"},
    }
    assert set(reasons(gateway, VALIDATE, data)) == {
        ("FIELD_INVALID", "relation"),
        ("REPRESENTATIVE_NOT_ADULT", "representative.birth_date"),
        ("DOCUMENT_ISSUE_DATE_IN_FUTURE", "representative.identity_document.issue_date"),
    }


def test_a_refusal_with_every_reason_is_kept_under_its_idempotency_key(gateway: Gateway) -> None:
    data = without(body(snils="112-233-445 00"), "person", "last_name")
    first = reasons(gateway, APPLY, data, **{"Idempotency-Key": "all-at-once"})
    again = reasons(gateway, APPLY, data, **{"Idempotency-Key": "all-at-once"})
    assert first == again == [("FIELD_REQUIRED", "person.last_name"), ("SNILS_CHECKSUM", "person.snils")]


# --- a replacement --------------------------------------------------------------------------------------------


@pytest.fixture
def policy(gateway: Gateway) -> str:
    insure(gateway, MINE, SNILS)
    return f"/api/v1/policies/{MINE}/replacements"


def test_a_replacement_names_a_wrong_new_name_with_a_malformed_form(gateway: Gateway, policy: str) -> None:
    data = {"reason": "personal_data_change", "person": {"last_name": "Петр0ва"}, "policy_form": "hologram"}
    assert reasons(gateway, policy, data) == [
        ("FIELD_INVALID", "policy_form"),
        ("NAME_CHARACTERS", "person.last_name"),
    ]


def test_a_replacement_names_an_unknown_insurer_with_a_malformed_change(gateway: Gateway, policy: str) -> None:
    data = {"reason": "insurer_change", "insurer_code": "99999", "person": {"birth_date": "вчера"}}
    assert reasons(gateway, policy, data) == [
        ("FIELD_INVALID", "person.birth_date"),
        ("INSURER_UNKNOWN", "insurer_code"),
    ]


def test_a_change_that_could_not_be_read_still_counts_as_a_change(gateway: Gateway, policy: str) -> None:
    # personal_data_change with no change at all is FIELD_REQUIRED person; an unreadable one is a change meant.
    data = {"reason": "personal_data_change", "person": {"last_name": 7}, "insurer_code": "7700"}
    assert reasons(gateway, policy, data) == [
        ("FIELD_INVALID", "person.last_name"),
        ("FIELD_INVALID", "insurer_code"),
    ]
