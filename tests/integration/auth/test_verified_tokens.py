"""A token that passed every check is remembered until it expires, so the next request skips the signature."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest
from authlib.integrations.flask_oauth2 import token_authenticated
from flask import Flask
from joserfc.jwk import RSAKey

from gateway.auth import validator as validator_module
from gateway.auth.protector import EXTENSION_KEY
from gateway.auth.validator import AccessToken, VerifiedTokens
from tests.support.auth import (
    CountingSession,
    FakeClock,
    KeyServer,
    bearer,
    claims,
    forge,
    jwks_cache,
    new_key,
    protected_app,
    serving,
)

# The tests talk to key servers over HTTP.
pytestmark = pytest.mark.network

ISSUER = "https://esia.test/oauth"


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return new_key()


@pytest.fixture
def app(key: RSAKey) -> Iterator[Flask]:
    with serving(KeyServer([key])) as url, CountingSession() as session:
        yield protected_app(ISSUER, jwks_cache(url, session, FakeClock()))


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature was checked, in order."""
    seen: list[str] = []
    decode = validator_module.jwt.decode

    def counting(value: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(value)
        return decode(value, *args, **kwargs)

    monkeypatch.setattr(validator_module.jwt, "decode", counting)
    return seen


def test_the_same_token_is_checked_in_full_once(app: Flask, key: RSAKey, decodes: list[str]) -> None:
    token = forge(key, claims(ISSUER))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/applications", headers=bearer(token)).status_code == 200
    assert decodes == [token]


def test_a_remembered_token_still_needs_the_scope_of_each_view(app: Flask, key: RSAKey) -> None:
    token = forge(key, claims(ISSUER, scope="epolicy.read"))
    client = app.test_client()
    assert client.get("/policies/7754900882000015", headers=bearer(token)).status_code == 200
    assert client.get("/applications", headers=bearer(token)).status_code == 403


def test_a_token_that_failed_is_not_remembered(app: Flask, key: RSAKey, decodes: list[str]) -> None:
    expired = forge(key, claims(ISSUER, exp=int(time.time()) - 3600))
    client = app.test_client()
    assert client.get("/applications", headers=bearer(expired)).status_code == 401
    assert client.get("/applications", headers=bearer(expired)).status_code == 401
    assert decodes == [expired, expired]


def test_a_remembered_token_past_its_expiry_is_checked_again(app: Flask, key: RSAKey, decodes: list[str]) -> None:
    token = forge(key, claims(ISSUER))
    client = app.test_client()
    client.get("/applications", headers=bearer(token))
    verified = app.extensions[EXTENSION_KEY].validator.verified
    verified.clock = lambda: time.time() + 3600  # an hour later, past exp and the leeway

    client.get("/applications", headers=bearer(token))

    assert decodes == [token, token]


def access_token(exp: float, nbf: float | None = None) -> AccessToken:
    found: dict[str, Any] = {"exp": exp} | ({"nbf": nbf} if nbf is not None else {})
    return AccessToken("user-1", "portal", frozenset(), None, MappingProxyType(found))


def test_lifetime_is_checked_with_the_leeway_on_both_ends() -> None:
    now = [1000.0]
    tokens = VerifiedTokens(10, leeway=60, clock=lambda: now[0])
    tokens.add("early", access_token(exp=5000, nbf=1100))
    tokens.add("late", access_token(exp=1000))

    assert tokens.get("early") is None, "not before 1100 - 60"
    assert tokens.get("late") is not None, "expired, but within the leeway"
    now[0] = 1061
    assert tokens.get("late") is None
    assert tokens.get("late") is None, "dropped once it expired"


def test_the_least_recently_used_token_goes_first() -> None:
    tokens = VerifiedTokens(2, leeway=0, clock=lambda: 0.0)
    for name in ("a", "b"):
        tokens.add(name, access_token(exp=100))
    assert tokens.get("a") is not None
    tokens.add("c", access_token(exp=100))
    assert [name for name in "abc" if tokens.get(name) is not None] == ["a", "c"]


def _answers(app: Flask, headers: dict[str, str], path: str) -> tuple[int, Any, list[tuple[str, str]]]:
    answer = app.test_client().get(path, headers=headers)
    kept = [(name, value) for name, value in answer.headers if name != "Content-Length"]
    return answer.status_code, answer.get_json(), kept


@pytest.mark.parametrize(
    "header",
    [
        "Bearer {token}",
        "bearer {token}",
        "Bearer  {token} ",
        "Bearer {stranger}",
        "Bearer {token} extra",
        "Bearer",
        "Basic {token}",
        "",
    ],
)
@pytest.mark.parametrize("path", ["/applications", "/policies/7754900882000015", "/me"])
def test_the_fast_path_of_a_remembered_token_answers_as_authlibs_reference(
    app: Flask, key: RSAKey, monkeypatch: pytest.MonkeyPatch, header: str, path: str
) -> None:
    token = forge(key, claims(ISSUER, scope="epolicy.read"))
    stranger = forge(key, claims(ISSUER, sub="someone-else", scope="epolicy.apply"))
    assert app.test_client().get("/me", headers=bearer(token)).status_code == 200, "remembered before the runs"
    headers = {"Authorization": header.format(token=token, stranger=stranger)} if header else {}
    protector = app.extensions[EXTENSION_KEY]
    seen: list[object] = []

    def authenticated(sender: object, token: object) -> None:
        seen.append(token)

    with token_authenticated.connected_to(authenticated):
        fast = _answers(app, headers, path)
        fast_seen = list(seen)
        seen.clear()
        monkeypatch.setattr(protector, "fast_acquire_token", lambda scopes: None)
        reference = _answers(app, headers, path)

    assert fast == reference
    assert fast_seen == seen, "the signal is sent with the same token on either path"
