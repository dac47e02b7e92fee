"""Object-level access: every endpoint that takes an id or an ЕНП, tried with another citizen's, answers 404.

Anna (sub "anna") holds MINE and has an application; Boris (sub "boris") has his own policy THEIRS. Boris tries
all of Anna's ids: each answer is the same 404 as for an id that does not exist, with nothing of Anna's in it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.domain.identifiers import enp_check_digit
from tests.support.bodies import BODY
from tests.support.gateway import MINE, SNILS, THEIRS, Gateway, insure

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

BORIS_SNILS = "01024236877"
NOBODYS_ENP = "770000000000000" + enp_check_digit("770000000000000")  # valid, but held by no one
ANNA_SECRETS = ("Иванова", "11223344595", "112-233-445 95", "500100732259", "123456", "1990-05-17", MINE)

# (method, path, body): {app} is Anna's application id, {enp} an ЕНП.
BY_ID = [
    ("GET", "/api/v1/applications/{app}", None),
    ("DELETE", "/api/v1/applications/{app}", None),
]
BY_ENP = [
    ("GET", "/api/v1/policies/{enp}", None),
    ("POST", "/api/v1/policies/{enp}/replacements", {"reason": "lost"}),
    ("GET", "/api/v1/policies/{enp}/document", None),
    ("GET", "/api/v1/policies/{enp}/history", None),
    ("GET", "/api/v1/policies/{enp}/visits", None),
    ("POST", "/api/v1/policies/{enp}/attachment", {"clinic_code": "770101"}),
]
CASES = BY_ID + BY_ENP
Citizens = tuple[Gateway, str]  # the app, and Anna's application id


@pytest.fixture
def two_citizens(gateway: Gateway) -> tuple[Gateway, str]:
    """Anna and Boris insured; Anna has applied once. Returns Anna's application id."""
    insure(gateway, MINE, SNILS)
    insure(gateway, THEIRS, BORIS_SNILS)
    answer = gateway.client.post("/api/v1/applications", json=BODY, headers=anna(gateway))
    assert answer.status_code == 202, answer.get_json()
    return gateway, str(answer.get_json()["id"])


def anna(gateway: Gateway) -> dict[str, str]:
    return gateway.auth(sub="anna", snils=SNILS)


def boris(gateway: Gateway) -> dict[str, str]:
    return gateway.auth(sub="boris", snils=BORIS_SNILS)


def call(gateway: Gateway, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return gateway.client.open(path, method=method, json=body, headers=headers)


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in problem.items() if key != "instance"}


@pytest.mark.parametrize(("method", "template", "body"), CASES)
def test_another_citizens_object_is_not_found_and_leaks_nothing(
    two_citizens: Citizens, method: str, template: str, body: Any
) -> None:
    gateway, application_id = two_citizens
    path = template.format(app=application_id, enp=MINE)
    answer = call(gateway, method, path, body, boris(gateway))
    assert (answer.status_code, answer.mimetype) == (404, "application/problem+json"), answer.get_json()
    text = answer.get_data(as_text=True) + json.dumps(dict(answer.headers), ensure_ascii=False)
    leaked = [secret for secret in ANNA_SECRETS if secret in text.replace(path, "")]
    assert leaked == []
    unknown = template.format(app="app_00000000000000000000000000", enp=NOBODYS_ENP)
    nobody = call(gateway, method, unknown, body, boris(gateway))
    assert nobody.status_code == 404
    assert without_instance(answer.get_json()) == without_instance(nobody.get_json()), "indistinguishable"


@pytest.mark.parametrize(("method", "template", "body"), CASES)
def test_the_owner_reaches_the_same_object(two_citizens: Citizens, method: str, template: str, body: Any) -> None:
    # The other half of the matrix: without it, a 404 for everyone would pass.
    gateway, application_id = two_citizens
    answer = call(gateway, method, template.format(app=application_id, enp=MINE), body, anna(gateway))
    assert answer.status_code != 404, answer.get_json()
    assert answer.status_code < 500


def test_boris_changes_nothing_of_annas(two_citizens: Citizens) -> None:
    gateway, application_id = two_citizens
    for method, template, body in CASES:
        call(gateway, method, template.format(app=application_id, enp=MINE), body, boris(gateway))
    assert (
        gateway.client.get(f"/api/v1/applications/{application_id}", headers=anna(gateway)).get_json()["status"]
        != "cancelled"
    )
    assert len(gateway.store.applications) == 1, "no replacement was filed on Anna's policy"


def test_lists_never_show_another_citizens_items(two_citizens: Citizens) -> None:
    gateway, application_id = two_citizens
    mine = gateway.client.get("/api/v1/applications", headers=anna(gateway)).get_json()
    theirs = gateway.client.get("/api/v1/applications", headers=boris(gateway)).get_json()
    assert [item["id"] for item in mine["items"]] == [application_id]
    assert theirs["items"] == []
    family = gateway.client.get("/api/v1/me/family", headers=boris(gateway))
    assert family.status_code == 200
    text = family.get_data(as_text=True)
    assert [secret for secret in ANNA_SECRETS if secret in text] == []


def test_the_same_subject_with_another_snils_does_not_reach_annas_policy(
    two_citizens: Citizens,
) -> None:
    gateway, _ = two_citizens
    answer = gateway.client.get(f"/api/v1/policies/{MINE}", headers=gateway.auth(sub="anna", snils=BORIS_SNILS))
    assert answer.status_code == 404


def test_a_token_without_a_snils_reaches_no_policy(two_citizens: Citizens) -> None:
    gateway, _ = two_citizens
    answer = gateway.client.get(f"/api/v1/policies/{MINE}", headers=gateway.auth(sub="nobody", snils=None))
    assert answer.status_code == 404
