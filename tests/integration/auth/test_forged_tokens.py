"""Tokens forged with a key the app trusts: each breaks one rule of RFC 9068 and is refused for it alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from tests.support.auth import (
    AUDIENCE,
    CountingSession,
    FakeClock,
    KeyServer,
    bearer,
    challenge,
    claims,
    forge,
    jwks_cache,
    new_key,
    protected_app,
    serving,
)

# The tests talk to key servers and the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

ISSUER = "https://esia.test/oauth"
LEEWAY = 60


@pytest.fixture(scope="module")
def key() -> RSAKey:
    """The signing key of the stand-in authorization server."""
    return new_key()


@pytest.fixture(scope="module")
def jwks_url(key: RSAKey) -> Iterator[str]:
    """Where the stand-in server publishes `key`."""
    with serving(KeyServer([key])) as url:
        yield url


@pytest.fixture
def client(jwks_url: str) -> Iterator[FlaskClient]:
    """A test client of an app that trusts `key` and the issuer ISSUER."""
    with CountingSession() as session:
        yield protected_app(ISSUER, jwks_cache(jwks_url, session, FakeClock())).test_client()


def refusal(client: FlaskClient, token: str) -> dict[str, str]:
    """Call a protected view with `token`, expect 401 invalid_token and return the challenge."""
    response = client.get("/applications", headers=bearer(token))
    assert response.status_code == 401, response.json
    found = challenge(response)
    assert found["error"] == "invalid_token"
    return found


def test_token_signed_by_a_published_key_with_good_claims_is_accepted(client: FlaskClient, key: RSAKey) -> None:
    # The negative tests below change one thing of this token each.
    response = client.get("/applications", headers=bearer(forge(key, claims(ISSUER))))

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["sub"] == "user-1"


def test_expired_token_is_refused(client: FlaskClient, key: RSAKey) -> None:
    now = int(time.time())
    token = forge(key, claims(ISSUER, iat=now - 900, exp=now - LEEWAY - 5))

    assert "expired" in refusal(client, token)["error_description"]


def test_token_expired_within_the_clock_skew_leeway_is_still_accepted(client: FlaskClient, key: RSAKey) -> None:
    now = int(time.time())
    token = forge(key, claims(ISSUER, iat=now - 900, exp=now - LEEWAY + 20))

    assert client.get("/applications", headers=bearer(token)).status_code == 200


def test_token_not_yet_valid_is_refused(client: FlaskClient, key: RSAKey) -> None:
    token = forge(key, claims(ISSUER, nbf=int(time.time()) + LEEWAY + 60))

    assert "not yet valid" in refusal(client, token)["error_description"]


def test_token_valid_from_within_the_leeway_is_accepted(client: FlaskClient, key: RSAKey) -> None:
    token = forge(key, claims(ISSUER, nbf=int(time.time()) + LEEWAY - 20))

    assert client.get("/applications", headers=bearer(token)).status_code == 200


def test_token_issued_in_the_future_is_refused(client: FlaskClient, key: RSAKey) -> None:
    now = int(time.time())
    token = forge(key, claims(ISSUER, iat=now + LEEWAY + 60, exp=now + 3600))

    assert "future" in refusal(client, token)["error_description"]


def test_token_of_another_issuer_is_refused(client: FlaskClient, key: RSAKey) -> None:
    token = forge(key, claims("https://esia.test/oauth/"))

    assert "iss" in refusal(client, token)["error_description"]


def test_token_for_another_audience_is_refused(client: FlaskClient, key: RSAKey) -> None:
    token = forge(key, claims(ISSUER, aud=["epolicy-gateway-test", "other"]))

    assert "aud" in refusal(client, token)["error_description"]


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "sub", "client_id", "jti", "iat"])
def test_token_without_an_essential_claim_is_refused(client: FlaskClient, key: RSAKey, claim: str) -> None:
    token = forge(key, claims(ISSUER, **{claim: None}))

    assert claim in refusal(client, token)["error_description"]


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", 42),
        ("sub", True),
        ("sub", ["user-1"]),
        ("sub", {"id": "user-1"}),
        ("client_id", 7),
        ("client_id", ["epolicy-portal"]),
        ("jti", 5),
        ("jti", ["a", "b"]),
        ("iss", 1),
        ("iss", [ISSUER]),
        ("aud", 5),
        ("aud", {"aud": AUDIENCE}),
        ("aud", [AUDIENCE, 5]),
        ("exp", "soon"),
        ("exp", True),
        ("iat", "now"),
        ("iat", False),
        ("scope", ["epolicy.apply"]),
    ],
)
def test_token_with_a_claim_of_the_wrong_kind_is_refused(
    client: FlaskClient, key: RSAKey, claim: str, value: Any
) -> None:
    token = forge(key, claims(ISSUER, **{claim: value}))

    assert claim in refusal(client, token)["error_description"]


BLANKS = ["", " ", "\t\n", "\u00a0\u3000"]  # empty, and whitespace only: ASCII, no-break and ideographic spaces


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("claim", ["sub", "client_id", "jti", "iss", "aud"])
def test_token_with_an_essential_claim_that_is_blank_is_refused(
    client: FlaskClient, key: RSAKey, claim: str, blank: str
) -> None:
    # An empty subject would make every such caller one owner of the same applications.
    token = forge(key, claims(ISSUER, **{claim: blank}))

    assert claim in refusal(client, token)["error_description"]


@pytest.mark.parametrize("audience", [[], [AUDIENCE, ""], [AUDIENCE, "  "]])
def test_token_whose_audience_list_is_empty_or_holds_a_blank_is_refused(
    client: FlaskClient, key: RSAKey, audience: list[str]
) -> None:
    token = forge(key, claims(ISSUER, aud=audience))

    assert "aud" in refusal(client, token)["error_description"]


def test_token_for_the_gateway_among_other_audiences_is_accepted(client: FlaskClient, key: RSAKey) -> None:
    token = forge(key, claims(ISSUER, aud=["other-api", AUDIENCE]))

    assert client.get("/applications", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("typ", [None, "JWT", "id_token+jwt"])
def test_token_not_typed_as_an_access_token_is_refused(client: FlaskClient, key: RSAKey, typ: str | None) -> None:
    # An ID token or any other JWT of the same issuer must not pass for an access token (RFC 9068 §4).
    token = forge(key, claims(ISSUER), typ=typ)

    assert "typ" in refusal(client, token)["error_description"]


def test_token_typed_with_the_full_media_type_is_accepted(client: FlaskClient, key: RSAKey) -> None:
    token = forge(key, claims(ISSUER), typ="application/at+jwt")

    assert client.get("/applications", headers=bearer(token)).status_code == 200
