"""The mock ESIA-style OAuth 2.0 / OIDC server, through HTTP as the portal, clinics and QA use it."""

from __future__ import annotations

import base64
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry
from werkzeug.test import TestResponse

from mocks.app import create_app
from mocks.oauth.codes import AuthorizationCode, CodeStore
from mocks.oauth.directory import DirectoryError, load_directory
from mocks.oauth.redirects import redirect_uri_matches
from mocks.snils import parse as normalize_snils
from tests.support.oauth import PORTAL, PORTAL_REDIRECT, Pkce, new_pkce, portal_request, redirect_params
from tests.support.services import RunningMocks

ISSUER = "http://localhost/oauth"
AUDIENCE = "epolicy-gateway"
CLINIC = ("clinic-demo", "clinic-demo-secret")
QA = ("qa-client", "qa-client-secret")
IVANOVA = {"login": "ivanova", "password": "ivanova-test", "sub": "1000000001", "snils": "11223344595"}


# --- helpers: the moves a client makes ------------------------------------------------------------------


def log_in(client: FlaskClient, params: dict[str, str], login: str, password: str) -> TestResponse:
    return client.post(
        "/oauth/authorize", query_string=params, data={"login": login, "password": password, "action": "login"}
    )


def code_for(client: FlaskClient, pkce: Pkce, **overrides: str) -> str:
    params = portal_request(pkce, **overrides)
    return redirect_params(log_in(client, params, IVANOVA["login"], IVANOVA["password"]))["code"]


def redeem(client: FlaskClient, code: str, verifier: str | None, redirect_uri: str = PORTAL_REDIRECT) -> TestResponse:
    form = {"grant_type": "authorization_code", "code": code, "client_id": PORTAL, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return client.post("/oauth/token", data=form)


def client_credentials(client: FlaskClient, scope: str | None = None, **kwargs: Any) -> TestResponse:
    form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    return client.post("/oauth/token", data=form | kwargs.pop("data", {}), **kwargs)


def qa_token(client: FlaskClient, **body: Any) -> TestResponse:
    return client.post("/oauth/test/token", json=body)


def decode(client: FlaskClient, token: str) -> jwt.Token:
    """Verify the signature against the published JWKS, as a resource server would."""
    jwks = client.get("/oauth/jwks").get_json()
    return jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])


def verified_access_token(
    client: FlaskClient, token: str, issuer: str = ISSUER, audience: str = AUDIENCE
) -> dict[str, Any]:
    decoded = decode(client, token)
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["alg"] == "RS256"
    registry = JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        sub={"essential": True},
        client_id={"essential": True},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
        scope={"essential": True},
    )
    registry.validate(decoded.claims)
    return decoded.claims


# --- discovery and keys ---------------------------------------------------------------------------------


def test_discovery_document_puts_every_endpoint_under_the_issuer(client: FlaskClient) -> None:
    doc = client.get("/oauth/.well-known/openid-configuration").get_json()

    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert doc["token_endpoint"] == f"{ISSUER}/token"
    assert doc["jwks_uri"] == f"{ISSUER}/jwks"
    assert doc["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert set(doc["scopes_supported"]) == {
        "openid", "fullname", "birthdate", "snils",
        "epolicy.apply", "epolicy.read", "epolicy.replace", "epolicy.eligibility",
    }  # fmt: skip
    assert set(doc["grant_types_supported"]) == {"authorization_code", "client_credentials"}
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "none"}
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


def test_every_advertised_endpoint_answers(client: FlaskClient) -> None:
    doc = client.get("/oauth/.well-known/openid-configuration").get_json()

    for name in ("jwks_uri", "authorization_endpoint", "userinfo_endpoint"):
        assert client.get(doc[name].removeprefix("http://localhost")).status_code != 404, name


def test_issuer_follows_the_host_of_the_request(client: FlaskClient) -> None:
    doc = client.get("/oauth/.well-known/openid-configuration", base_url="http://127.0.0.1:8090").get_json()
    token = client_credentials(client, auth=CLINIC, base_url="http://127.0.0.1:8090").get_json()["access_token"]

    assert doc["issuer"] == "http://127.0.0.1:8090/oauth"
    assert doc["token_endpoint"] == "http://127.0.0.1:8090/oauth/token"
    verified_access_token(client, token, issuer="http://127.0.0.1:8090/oauth")


def test_configured_issuer_and_audience_override_the_defaults() -> None:
    app = create_app({"TESTING": True, "OAUTH_ISSUER": "https://esia.test/oauth/", "OAUTH_AUDIENCE": "other-api"})
    client = app.test_client()

    doc = client.get("/oauth/.well-known/openid-configuration").get_json()
    token = client_credentials(client, auth=CLINIC).get_json()["access_token"]

    assert doc["issuer"] == "https://esia.test/oauth"
    assert doc["jwks_uri"] == "https://esia.test/oauth/jwks"
    verified_access_token(client, token, issuer="https://esia.test/oauth", audience="other-api")


def test_jwks_publishes_only_the_public_rsa_key(client: FlaskClient) -> None:
    keys = client.get("/oauth/jwks").get_json()["keys"]

    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "n", "e", "kid", "use", "alg"}
    assert (keys[0]["kty"], keys[0]["use"], keys[0]["alg"]) == ("RSA", "sig", "RS256")
    assert not RSAKey.import_key(keys[0]).is_private
    assert len(base64.urlsafe_b64decode(keys[0]["n"] + "==")) * 8 == 2048


def test_key_id_is_the_rfc7638_thumbprint_and_names_the_key_in_tokens(client: FlaskClient) -> None:
    jwk = client.get("/oauth/jwks").get_json()["keys"][0]
    token = client_credentials(client, auth=CLINIC).get_json()["access_token"]

    assert jwk["kid"] == RSAKey.import_key({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}).thumbprint()
    assert decode(client, token).header["kid"] == jwk["kid"]


def test_signing_key_can_come_from_a_pem_file_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = RSAKey.generate_key(2048)
    pem = tmp_path / "oauth-key.pem"
    pem.write_bytes(key.as_pem(private=True))
    monkeypatch.setenv("EPOLICY_MOCKS_OAUTH_KEY_FILE", str(pem))

    client = create_app({"TESTING": True}).test_client()
    jwk = client.get("/oauth/jwks").get_json()["keys"][0]

    assert jwk["kid"] == key.thumbprint()
    assert jwk["n"] == key.as_dict()["n"]


def test_a_key_file_without_a_private_key_stops_the_server(tmp_path: Path) -> None:
    pem = tmp_path / "public.pem"
    pem.write_bytes(RSAKey.generate_key(2048).as_pem(private=False))

    with pytest.raises(ValueError, match="public key"):
        create_app({"TESTING": True, "OAUTH_KEY_FILE": str(pem)})


# --- client credentials ---------------------------------------------------------------------------------


def test_clinic_gets_a_service_token_with_basic_authentication(client: FlaskClient) -> None:
    response = client_credentials(client, auth=CLINIC)

    body = response.get_json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "epolicy.eligibility"
    claims = verified_access_token(client, body["access_token"])
    assert claims["sub"] == claims["client_id"] == "clinic-demo"
    assert claims["scope"] == "epolicy.eligibility"
    assert "snils" not in claims
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 3600


def test_clinic_gets_a_service_token_with_the_secret_in_the_form(client: FlaskClient) -> None:
    response = client_credentials(
        client, "epolicy.eligibility", data={"client_id": CLINIC[0], "client_secret": CLINIC[1]}
    )

    assert response.status_code == 200
    assert verified_access_token(client, response.get_json()["access_token"])["sub"] == "clinic-demo"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"auth": ("clinic-demo", "wrong")},
        {"data": {"client_id": "clinic-demo", "client_secret": "wrong"}},
        {"auth": ("nobody", "secret")},
        {},
    ],
    ids=["basic", "post", "unknown-client", "no-credentials"],
)
def test_wrong_client_credentials_are_refused_as_invalid_client(client: FlaskClient, kwargs: Any) -> None:
    response = client_credentials(client, **kwargs)

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("scope", ["epolicy.read", "epolicy.eligibility epolicy.apply", "no.such.scope"])
def test_scope_beyond_what_the_client_may_have_is_invalid_scope(client: FlaskClient, scope: str) -> None:
    response = client_credentials(client, scope, auth=CLINIC)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_public_portal_client_cannot_use_client_credentials(client: FlaskClient) -> None:
    response = client_credentials(client, data={"client_id": PORTAL})

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_qa_client_may_ask_for_any_scope(client: FlaskClient) -> None:
    response = client_credentials(client, "epolicy.apply epolicy.read epolicy.eligibility", auth=QA)

    assert response.status_code == 200
    claims = verified_access_token(client, response.get_json()["access_token"])
    assert claims["scope"] == "epolicy.apply epolicy.read epolicy.eligibility"


# --- authorization code with PKCE -----------------------------------------------------------------------


def test_login_page_shows_a_russian_form_for_the_test_users(client: FlaskClient) -> None:
    response = client.get("/oauth/authorize", query_string=portal_request(new_pkce()))

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for text in ("Логин", "Пароль", "Войти", "Портал «Электронный полис ОМС»", "ivanova", "112-233-445 95"):
        assert text in page


def test_citizen_logs_in_and_the_portal_gets_access_and_id_tokens(client: FlaskClient) -> None:
    pkce = new_pkce()
    params = portal_request(pkce)

    assert client.get("/oauth/authorize", query_string=params).status_code == 200
    back = log_in(client, params, IVANOVA["login"], IVANOVA["password"])
    assert back.headers["Location"].startswith(PORTAL_REDIRECT + "?")
    returned = redirect_params(back)
    assert returned["state"] == "state-123"
    response = redeem(client, returned["code"], pkce.verifier)

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    access = verified_access_token(client, body["access_token"])
    assert access["sub"] == IVANOVA["sub"]
    assert access["snils"] == IVANOVA["snils"]
    assert access["client_id"] == PORTAL
    assert access["scope"] == params["scope"]
    assert access["exp"] - access["iat"] == body["expires_in"]
    id_token = decode(client, body["id_token"])
    JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": PORTAL},
        nonce={"essential": True, "value": "nonce-456"},
        sub={"essential": True, "value": IVANOVA["sub"]},
        at_hash={"essential": True},
        auth_time={"essential": True},
    ).validate(id_token.claims)
    assert id_token.header["kid"] == decode(client, body["access_token"]).header["kid"]
    assert id_token.claims["name"] == "Иванова Анна Сергеевна"
    assert id_token.claims["birthdate"] == "1990-05-17"
    assert id_token.claims["snils"] == IVANOVA["snils"]


def test_citizen_token_carries_snils_even_without_the_snils_scope(client: FlaskClient) -> None:
    pkce = new_pkce()
    code = code_for(client, pkce, scope="epolicy.read")

    body = redeem(client, code, pkce.verifier).get_json()

    assert "id_token" not in body
    assert verified_access_token(client, body["access_token"])["snils"] == IVANOVA["snils"]


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:5173/callback", "http://localhost:3000/callback", "http://127.0.0.1/callback"]
)
def test_portal_may_come_back_to_a_loopback_address_on_any_port(client: FlaskClient, redirect_uri: str) -> None:
    pkce = new_pkce()
    code = code_for(client, pkce, redirect_uri=redirect_uri)

    assert redeem(client, code, pkce.verifier, redirect_uri=redirect_uri).status_code == 200


def test_wrong_pkce_verifier_is_invalid_grant(client: FlaskClient) -> None:
    code = code_for(client, new_pkce())

    response = redeem(client, code, new_pkce().verifier)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_public_client_must_send_the_verifier_with_the_code(client: FlaskClient) -> None:
    code = code_for(client, new_pkce())

    response = redeem(client, code, None)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_public_client_without_a_pkce_challenge_is_sent_back_with_an_error(client: FlaskClient) -> None:
    response = client.get("/oauth/authorize", query_string=portal_request(None))

    returned = redirect_params(response)
    assert returned["error"] == "invalid_request"
    assert "code_challenge" in returned["error_description"]
    assert returned["state"] == "state-123"
    assert "code" not in returned


def test_plain_pkce_method_is_refused(client: FlaskClient) -> None:
    pkce = new_pkce()
    params = portal_request(pkce, code_challenge=pkce.verifier, code_challenge_method="plain")

    returned = redirect_params(client.get("/oauth/authorize", query_string=params))

    assert returned["error"] == "invalid_request"


def test_confidential_client_may_use_the_code_flow_without_pkce(client: FlaskClient) -> None:
    params = portal_request(None, client_id=QA[0], scope="epolicy.read")
    code = redirect_params(log_in(client, params, "petrov", "petrov-test"))["code"]

    response = client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": PORTAL_REDIRECT},
        auth=QA,
    )

    claims = verified_access_token(client, response.get_json()["access_token"])
    assert (claims["sub"], claims["snils"], claims["client_id"]) == ("1000000002", "01024236877", "qa-client")


def test_a_code_works_only_once(client: FlaskClient) -> None:
    pkce = new_pkce()
    code = code_for(client, pkce)

    first = redeem(client, code, pkce.verifier)
    second = redeem(client, code, pkce.verifier)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.get_json()["error"] == "invalid_grant"


def test_a_code_is_spent_by_a_failed_redemption(client: FlaskClient) -> None:
    pkce = new_pkce()
    code = code_for(client, pkce)

    redeem(client, code, new_pkce().verifier)

    assert redeem(client, code, pkce.verifier).get_json()["error"] == "invalid_grant"


def test_code_must_come_back_with_the_same_redirect_uri(client: FlaskClient) -> None:
    pkce = new_pkce()
    code = code_for(client, pkce)

    response = redeem(client, code, pkce.verifier, redirect_uri="http://localhost:5173/callback")

    assert response.get_json()["error"] == "invalid_grant"


def test_wrong_password_shows_an_error_on_the_login_page(client: FlaskClient) -> None:
    response = log_in(client, portal_request(new_pkce()), "ivanova", "not-her-password")

    assert response.status_code == 200
    assert "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "Неверный логин или пароль" in page
    assert 'value="ivanova"' in page


def test_citizen_who_refuses_sends_the_portal_access_denied(client: FlaskClient) -> None:
    response = client.post("/oauth/authorize", query_string=portal_request(new_pkce()), data={"action": "deny"})

    returned = redirect_params(response)
    assert returned["error"] == "access_denied"
    assert returned["state"] == "state-123"


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "no-such-client"},
        {"redirect_uri": "http://evil.example/callback"},
        {"redirect_uri": "http://127.0.0.1:5173/elsewhere"},
        {"redirect_uri": "https://127.0.0.1:5173/callback"},
    ],
    ids=["unknown-client", "foreign-host", "other-path", "other-scheme"],
)
def test_request_that_cannot_be_trusted_shows_the_error_instead_of_redirecting(
    client: FlaskClient, overrides: dict[str, str]
) -> None:
    response = client.get("/oauth/authorize", query_string=portal_request(new_pkce(), **overrides))

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_" in response.get_data(as_text=True)


def test_scope_beyond_the_portals_is_sent_back_as_invalid_scope(client: FlaskClient) -> None:
    params = portal_request(new_pkce(), scope="openid epolicy.eligibility")

    assert redirect_params(client.get("/oauth/authorize", query_string=params))["error"] == "invalid_scope"


def test_code_expires_after_sixty_seconds() -> None:
    now = [1000.0]
    store = CodeStore(lifetime=60, clock=lambda: now[0])
    store.save(AuthorizationCode("a", PORTAL, PORTAL_REDIRECT, "openid", "1000000001", auth_time=0))
    store.save(AuthorizationCode("b", PORTAL, PORTAL_REDIRECT, "openid", "1000000001", auth_time=0))

    now[0] += 59
    assert store.take("a", PORTAL) is not None
    now[0] += 1
    assert store.take("b", PORTAL) is None


def test_code_shown_by_another_client_is_refused_and_spent() -> None:
    store = CodeStore(lifetime=60)
    store.save(AuthorizationCode("a", PORTAL, PORTAL_REDIRECT, "openid", "1000000001", auth_time=0))

    assert store.take("a", "qa-client") is None
    assert store.take("a", PORTAL) is None


def test_two_requests_racing_with_one_code_cannot_both_get_it() -> None:
    store = CodeStore(lifetime=60)
    store.save(AuthorizationCode("a", PORTAL, PORTAL_REDIRECT, "openid", "1000000001", auth_time=0))
    start = threading.Barrier(8)
    taken: list[AuthorizationCode | None] = []

    def redeem_once() -> None:
        start.wait()
        taken.append(store.take("a", PORTAL))

    threads = [threading.Thread(target=redeem_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(code is not None for code in taken) == 1


@pytest.mark.parametrize(
    ("registered", "requested", "allowed"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:49152/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1/callback", True),
        ("http://localhost/callback", "http://localhost:8080/callback", True),
        ("http://[::1]/callback", "http://[::1]:8080/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:8080/callback?x=1", False),
        ("http://127.0.0.1/callback", "http://127.0.0.2:8080/callback", False),
        ("http://127.0.0.1/callback", "http://user@127.0.0.1:8080/callback", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:port/callback", False),
        ("https://portal.example/callback", "https://portal.example:8443/callback", False),
    ],
)
def test_redirect_uris_match_exactly_except_a_loopback_port(registered: str, requested: str, allowed: bool) -> None:
    assert redirect_uri_matches(registered, requested) is allowed


# --- userinfo -------------------------------------------------------------------------------------------


def test_userinfo_tells_what_the_scope_opens(client: FlaskClient) -> None:
    pkce = new_pkce()
    code = code_for(client, pkce, scope="openid snils epolicy.read")
    access_token = redeem(client, code, pkce.verifier).get_json()["access_token"]

    response = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})

    assert response.status_code == 200
    assert response.get_json() == {"sub": IVANOVA["sub"], "snils": IVANOVA["snils"]}


def test_userinfo_without_a_token_asks_for_a_bearer_token(client: FlaskClient) -> None:
    response = client.get("/oauth/userinfo")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_userinfo_refuses_a_token_signed_by_another_key(client: FlaskClient) -> None:
    other = create_app({"TESTING": True}).test_client()
    foreign = qa_token(other, sub="1", scope="openid").get_json()["access_token"]

    response = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {foreign}"})

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_userinfo_refuses_a_token_without_openid_scope(client: FlaskClient) -> None:
    access_token = client_credentials(client, auth=CLINIC).get_json()["access_token"]

    response = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})

    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"


@pytest.mark.network
def test_gateway_can_reach_the_server_over_real_http(mocks_server: RunningMocks) -> None:
    issuer = f"{mocks_server.base_url}/oauth"
    doc = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
    jwks = requests.get(doc["jwks_uri"], timeout=5).json()
    body = requests.post(doc["token_endpoint"], data={"grant_type": "client_credentials"}, auth=CLINIC, timeout=5)

    token = jwt.decode(body.json()["access_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert doc["issuer"] == token.claims["iss"] == issuer


# --- the QA token endpoint ------------------------------------------------------------------------------


def test_qa_endpoint_signs_a_citizen_token_without_login(client: FlaskClient) -> None:
    response = qa_token(
        client, sub="qa-citizen-1", snils="112-233-445 95", scope="epolicy.apply epolicy.read", expires_in=600
    )

    body = response.get_json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 600)
    claims = verified_access_token(client, body["access_token"])
    assert claims["sub"] == "qa-citizen-1"
    assert claims["snils"] == "11223344595"
    assert claims["scope"] == "epolicy.apply epolicy.read"
    assert claims["client_id"] == "qa-client"
    assert claims["exp"] - claims["iat"] == 600


def test_qa_endpoint_honours_client_id_audience_and_default_lifetime(client: FlaskClient) -> None:
    body = qa_token(client, sub="svc", scope="epolicy.eligibility", client_id="clinic-x", aud=["a", "b"]).get_json()

    claims = decode(client, body["access_token"]).claims
    assert (claims["client_id"], claims["aud"]) == ("clinic-x", ["a", "b"])
    assert "snils" not in claims
    assert body["expires_in"] == claims["exp"] - claims["iat"] == 3600


def test_every_token_has_its_own_jti(client: FlaskClient) -> None:
    tokens = [qa_token(client, sub="1", scope="epolicy.read").get_json()["access_token"] for _ in range(3)]
    tokens.append(client_credentials(client, auth=CLINIC).get_json()["access_token"])

    assert len({decode(client, token).claims["jti"] for token in tokens}) == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "epolicy.read"}, "sub"),
        ({"sub": "", "scope": "epolicy.read"}, "sub"),
        ({"sub": "1"}, "scope"),
        ({"sub": "1", "scope": "epolicy.read admin"}, "admin"),
        ({"sub": "1", "scope": "epolicy.read", "snils": "112-233-445 96"}, "snils"),
        ({"sub": "1", "scope": "epolicy.read", "snils": "1122"}, "snils"),
        ({"sub": "1", "scope": "epolicy.read", "expires_in": "600"}, "expires_in"),
        ({"sub": "1", "scope": "epolicy.read", "expires_in": 0}, "expires_in"),
        ({"sub": "1", "scope": "epolicy.read", "expires_in": True}, "expires_in"),
        ({"sub": "1", "scope": "epolicy.read", "aud": []}, "aud"),
        ({"sub": "1", "scope": "epolicy.read", "expire_in": 600}, "expire_in"),
        (["sub", "1"], "JSON object"),
    ],
)
def test_qa_endpoint_explains_a_bad_body(client: FlaskClient, body: Any, field: str) -> None:
    response = client.post("/oauth/test/token", json=body)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert field in response.get_json()["error_description"]


def test_qa_endpoint_explains_a_body_that_is_not_json(client: FlaskClient) -> None:
    response = client.post("/oauth/test/token", data="sub=1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "JSON object" in response.get_json()["error_description"]


# --- data and dependencies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("112-233-445 95", "11223344595"),
        ("010-242-368 77", "01024236877"),
        ("100-079-190 00", "10007919000"),
        ("11223344595", "11223344595"),
        ("112-233-445 96", None),
        ("112-233-445", None),
        # Numbers up to 001-001-998 carry no checked check number; 000-000-000 is nobody's.
        ("001-001-998 00", "00100199800"),
        ("000-000-000 00", None),
    ],
)
def test_snils_check_digits(value: str, digits: str | None) -> None:
    assert normalize_snils(value) == digits


def test_packaged_data_has_the_promised_clients_and_users() -> None:
    directory = load_directory()

    assert {"epolicy-portal", "clinic-demo", "qa-client"} <= set(directory.clients)
    assert directory.clients["epolicy-portal"].is_public
    assert len(directory.citizens) >= 3
    assert all(normalize_snils(citizen.snils) == citizen.snils for citizen in directory.citizens)


def test_data_file_with_a_bad_snils_is_refused_at_start() -> None:
    text = """
scopes: {openid: OpenID}
clients: []
users:
  - {login: x, password: y, sub: "1", last_name: A, first_name: B, birth_date: "2000-01-01", snils: "112-233-445 96"}
"""
    with pytest.raises(DirectoryError, match=r"user 'x'.*SNILS"):
        load_directory(text)


def test_nothing_imports_the_deprecated_authlib_jose(client: FlaskClient) -> None:
    pkce = new_pkce()
    redeem(client, code_for(client, pkce), pkce.verifier)

    assert "authlib.jose" not in sys.modules
