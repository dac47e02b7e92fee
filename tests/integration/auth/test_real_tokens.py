"""Tokens of the mock OAuth server, and attacks on them, against an app that reads the server's JWKS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from gateway.auth import AccessTokenValidator
from tests.support.auth import (
    AUDIENCE,
    CITIZEN_SNILS,
    CountingSession,
    FakeClock,
    bearer,
    challenge,
    claims,
    forge,
    issue,
    jwks_cache,
    new_key,
    payload_of,
    portal_login,
    protected_app,
    replace_payload,
    service_token,
    unsigned,
)
from tests.support.services import RunningMocks

# The tests talk to the mock OAuth server over HTTP.
pytestmark = pytest.mark.network


@pytest.fixture
def issuer(mocks_server: RunningMocks) -> str:
    """The mock server's issuer, as it signs it for requests to its loopback address."""
    return f"{mocks_server.base_url}/oauth"


@pytest.fixture
def session() -> Iterator[CountingSession]:
    """The HTTP session the app fetches the JWKS with."""
    with CountingSession() as session:
        yield session


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the app's key cache."""
    return FakeClock()


@pytest.fixture
def client(issuer: str, session: CountingSession, clock: FakeClock) -> FlaskClient:
    """A test client of an app that trusts the mock server's keys."""
    return protected_app(issuer, jwks_cache(f"{issuer}/jwks", session, clock)).test_client()


@pytest.fixture
def server_key(issuer: str) -> RSAKey:
    """The mock server's public signing key, as anyone can read it."""
    jwks = requests.get(f"{issuer}/jwks", timeout=5).json()
    return RSAKey.import_key(jwks["keys"][0])


def test_citizen_token_opens_a_view_of_its_scope_and_tells_who_calls(
    client: FlaskClient, mocks_server: RunningMocks
) -> None:
    response = client.get("/applications", headers=bearer(issue(mocks_server, sub="user-7")))

    assert response.status_code == 200
    assert response.json == {
        "sub": "user-7",
        "client_id": "qa-client",
        "scopes": ["epolicy.apply", "epolicy.read"],
        "snils": CITIZEN_SNILS,
    }


def test_clinic_service_token_reads_a_policy_status_with_the_eligibility_scope(
    client: FlaskClient, issuer: str
) -> None:
    answer = requests.post(
        f"{issuer}/token",
        data={"grant_type": "client_credentials", "scope": "epolicy.eligibility"},
        auth=("clinic-demo", "clinic-demo-secret"),
        timeout=5,
    )
    token = answer.json()["access_token"]

    response = client.get("/policies/7700000000000001", headers=bearer(token))

    assert response.status_code == 200
    assert response.json == {
        "sub": "clinic-demo",
        "client_id": "clinic-demo",
        "scopes": ["epolicy.eligibility"],
        "snils": None,
    }


def test_a_client_credentials_token_is_a_service_clients_and_a_citizens_is_not(
    mocks_server: RunningMocks, issuer: str, session: CountingSession, clock: FakeClock
) -> None:
    # The rule the rate limits count by (gateway/ratelimit.py), on the tokens that the mock server really issues.
    validator = AccessTokenValidator(issuer, AUDIENCE, jwks_cache(f"{issuer}/jwks", session, clock))
    tokens = {
        "clinic, client credentials": service_token(issuer, "clinic-demo", "clinic-demo-secret"),
        "QA client, client credentials": service_token(issuer, "qa-client", "qa-client-secret"),
        "citizen through the portal": portal_login(issuer, "ivanova", "ivanova-test"),
        "citizen of the QA client": issue(mocks_server, sub="user-7"),
    }

    kinds = {name: validator.authenticate_token(token).is_service_client for name, token in tokens.items()}

    assert kinds == {
        "clinic, client credentials": True,
        "QA client, client credentials": True,
        "citizen through the portal": False,
        "citizen of the QA client": False,
    }


def test_citizen_reads_a_policy_status_with_the_read_scope_as_the_other_alternative(
    client: FlaskClient, mocks_server: RunningMocks
) -> None:
    token = issue(mocks_server, scope="epolicy.read")

    assert client.get("/policies/7700000000000001", headers=bearer(token)).status_code == 200


def test_view_that_names_no_scope_opens_to_any_valid_token(client: FlaskClient, mocks_server: RunningMocks) -> None:
    token = issue(mocks_server, scope="epolicy.replace")

    assert client.get("/me", headers=bearer(token)).status_code == 200


def test_token_without_the_views_scope_is_forbidden_as_insufficient_scope(
    client: FlaskClient, mocks_server: RunningMocks
) -> None:
    token = issue(mocks_server, scope="epolicy.read")

    response = client.get("/applications", headers=bearer(token))

    assert response.status_code == 403
    assert response.json is not None
    assert response.json["error"] == "insufficient_scope"
    assert challenge(response)["error"] == "insufficient_scope"
    assert challenge(response)["scope"] == "epolicy.apply"


def test_token_with_neither_alternative_scope_is_forbidden_without_naming_one(
    client: FlaskClient, mocks_server: RunningMocks
) -> None:
    token = issue(mocks_server, scope="epolicy.apply")

    response = client.get("/policies/7700000000000001", headers=bearer(token))

    assert response.status_code == 403
    assert challenge(response)["error"] == "insufficient_scope"
    assert "scope" not in challenge(response)


def test_request_without_authorization_is_challenged_with_a_bare_bearer(client: FlaskClient) -> None:
    response = client.get("/applications")

    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request carries no credentials at all.
    assert response.headers.getlist("WWW-Authenticate") == ["Bearer"]


def test_another_authorization_scheme_is_challenged_like_a_missing_token(client: FlaskClient) -> None:
    response = client.get("/applications", headers={"Authorization": "Basic cWEtY2xpZW50OnNlY3JldA=="})

    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate") == ["Bearer"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer  ", "Bearer one two"])
def test_bearer_header_without_exactly_one_token_is_invalid_token(client: FlaskClient, header: str) -> None:
    response = client.get("/applications", headers={"Authorization": header})

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"


@pytest.mark.parametrize("with_header", [False, True], ids=["alone", "beside-a-header"])
def test_token_in_the_query_string_is_refused_as_invalid_request(
    client: FlaskClient, mocks_server: RunningMocks, with_header: bool
) -> None:
    token = issue(mocks_server)

    response = client.get(
        "/applications", query_string={"access_token": token}, headers=bearer(token) if with_header else {}
    )

    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == "invalid_request"
    assert challenge(response)["error"] == "invalid_request"


def test_token_for_another_audience_is_refused(client: FlaskClient, mocks_server: RunningMocks) -> None:
    token = issue(mocks_server, aud="another-service")

    response = client.get("/applications", headers=bearer(token))

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"


def test_token_for_several_audiences_including_the_gateway_is_accepted(
    client: FlaskClient, mocks_server: RunningMocks
) -> None:
    token = issue(mocks_server, aud=["another-service", AUDIENCE])

    assert client.get("/applications", headers=bearer(token)).status_code == 200


def test_token_with_a_tampered_payload_is_refused(client: FlaskClient, mocks_server: RunningMocks) -> None:
    token = issue(mocks_server, scope="epolicy.read")
    tampered = replace_payload(token, {**payload_of(token), "scope": "epolicy.apply epolicy.read"})

    response = client.get("/applications", headers=bearer(tampered))

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"


def test_unsigned_token_with_alg_none_is_refused_before_any_key_lookup(
    client: FlaskClient, issuer: str, server_key: RSAKey, session: CountingSession
) -> None:
    token = unsigned({"alg": "none", "typ": "at+jwt", "kid": server_key.kid}, claims(issuer))

    response = client.get("/applications", headers=bearer(token))

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"
    assert session.urls == []


def test_hs256_token_keyed_with_the_servers_public_pem_is_refused(
    client: FlaskClient, issuer: str, server_key: RSAKey
) -> None:
    # The classic algorithm confusion: the public key, known to all, used as an HMAC secret.
    pem = server_key.as_pem(private=False)
    token = unsigned({"alg": "HS256", "typ": "at+jwt", "kid": server_key.kid}, claims(issuer), secret=pem)

    response = client.get("/applications", headers=bearer(token))

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "a.b.c.d.e", "eyJhbGciOiJSUzI1NiJ9..", "ЖЖЖ.ЖЖЖ.ЖЖЖ"])
def test_garbage_in_place_of_a_token_is_invalid_token(client: FlaskClient, garbage: str) -> None:
    response = client.get("/applications", headers={"Authorization": f"Bearer {garbage}".encode().decode("latin-1")})

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"


def test_token_signed_by_an_unknown_key_is_refused_after_exactly_one_jwks_refresh(
    client: FlaskClient, mocks_server: RunningMocks, issuer: str, session: CountingSession, clock: FakeClock
) -> None:
    assert client.get("/applications", headers=bearer(issue(mocks_server))).status_code == 200
    clock.advance(60)
    forged = forge(new_key(), claims(issuer))

    response = client.get("/applications", headers=bearer(forged))

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"
    assert session.urls == [f"{issuer}/jwks"] * 2


def test_jwks_is_fetched_once_for_many_requests(
    client: FlaskClient, mocks_server: RunningMocks, issuer: str, session: CountingSession, clock: FakeClock
) -> None:
    tokens = [issue(mocks_server, sub=f"user-{number}") for number in range(5)]

    for token in tokens * 2:
        clock.advance(20)
        assert client.get("/applications", headers=bearer(token)).status_code == 200

    assert session.urls == [f"{issuer}/jwks"]
