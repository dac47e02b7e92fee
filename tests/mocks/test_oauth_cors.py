"""CORS of the mock OAuth server: a browser page on a loopback origin redeems its code and reads discovery."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from mocks.oauth.cors import is_loopback_origin
from tests.support.oauth import PORTAL, new_pkce, portal_request, redirect_params

PORTAL_ORIGIN = "http://127.0.0.1:18080"


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:18080", "http://localhost:3000", "http://[::1]:8080", "http://127.0.0.1", "https://localhost"],
)
def test_loopback_origins_on_any_port_are_allowed(origin: str) -> None:
    assert is_loopback_origin(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "http://portal.example",
        "http://127.0.0.1.example:80",
        "http://localhost.example",
        "ftp://127.0.0.1",
        "http://127.0.0.1:port",
        "http://user@127.0.0.1:8080",
        "http://127.0.0.1:8080/path",
    ],
)
def test_other_origins_are_not(origin: str) -> None:
    assert not is_loopback_origin(origin)


def test_the_portal_redeems_its_code_from_its_own_origin(client: FlaskClient) -> None:
    pkce = new_pkce()
    redirect_uri = f"{PORTAL_ORIGIN}/portal/callback"  # registered in oauth.yaml; any port on loopback
    params = portal_request(pkce, redirect_uri=redirect_uri)
    login = {"login": "ivanova", "password": "ivanova-test", "action": "login"}
    code = redirect_params(client.post("/oauth/authorize", query_string=params, data=login))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": PORTAL,
        "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier,
    }

    answer = client.post("/oauth/token", data=form, headers={"Origin": PORTAL_ORIGIN})

    assert answer.status_code == 200, answer.text
    assert answer.get_json()["access_token"]
    assert answer.headers["Access-Control-Allow-Origin"] == PORTAL_ORIGIN
    assert "Origin" in answer.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in answer.headers, "no cookies are involved"


def test_a_refusal_is_readable_by_the_page_too(client: FlaskClient) -> None:
    form = {"grant_type": "authorization_code", "code": "no-such-code", "client_id": PORTAL}
    answer = client.post("/oauth/token", data=form, headers={"Origin": PORTAL_ORIGIN})
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_grant"
    assert answer.headers["Access-Control-Allow-Origin"] == PORTAL_ORIGIN


@pytest.mark.parametrize("path", ["/oauth/.well-known/openid-configuration", "/oauth/jwks"])
def test_discovery_and_keys_are_readable_from_a_loopback_page(client: FlaskClient, path: str) -> None:
    answer = client.get(path, headers={"Origin": "http://localhost:5173"})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_a_preflight_for_userinfo_allows_the_bearer_header(client: FlaskClient) -> None:
    answer = client.options(
        "/oauth/userinfo",
        headers={
            "Origin": PORTAL_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == PORTAL_ORIGIN
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert set(answer.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST"}


def test_another_origin_gets_no_cors_headers(client: FlaskClient) -> None:
    answer = client.get("/oauth/.well-known/openid-configuration", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "Origin" in answer.headers["Vary"]


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/test/token"])
def test_the_login_page_and_the_qa_endpoint_get_no_cors(client: FlaskClient, path: str) -> None:
    answer = client.post(path, headers={"Origin": PORTAL_ORIGIN}, json={})
    assert "Access-Control-Allow-Origin" not in answer.headers
