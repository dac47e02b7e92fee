"""Access tokens for tests: a small Flask app protected by `gateway.auth`, keys over real HTTP.

Real tokens come from the mock OAuth server; bad ones are forged here with joserfc and keys of the tests' own,
published by a `KeyServer` that stands in for an authorization server whose keys the test changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.oauth2.base import OAuth2Error
from flask import Flask, Response, jsonify
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from gateway.auth import JwksCache, current_token, init_auth, require_scope
from tests.support.services import RunningMocks

AUDIENCE = "epolicy-gateway"  # the mock server's default audience
CITIZEN_SNILS = "11223344595"
MIN_REFETCH_INTERVAL = 10
PORTAL_CLIENT_ID = "epolicy-portal"  # the citizens' portal: a public client of the mock server, code flow only
PORTAL_REDIRECT = "http://127.0.0.1/callback"


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += seconds


class CountingSession(requests.Session):
    """A real requests session that remembers every URL it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Count, then send as usual."""
        self.urls.append(str(url))
        return super().request(method, url, *args, **kwargs)


class KeyServer:
    """A JWKS endpoint (WSGI) whose public keys and health the test sets."""

    def __init__(self, keys: Iterable[RSAKey] = ()) -> None:
        self.keys = list(keys)
        self.failing = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if self.failing:
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        document = {"keys": [dict(key.as_dict(private=False)) for key in self.keys]}
        body = json.dumps(document).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


@contextmanager
def serving(key_server: KeyServer) -> Iterator[str]:
    """Serve `key_server` on a loopback port; yield its JWKS URL."""
    server = make_server("127.0.0.1", 0, key_server, threaded=True)
    # A short poll interval: shutdown waits for one poll, and every key-cache test stops a server.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="jwks", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}/jwks"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def new_key() -> RSAKey:
    """A fresh RS256 signing key with a thumbprint kid."""
    return RSAKey.generate_key(2048, {"use": "sig", "alg": "RS256"}, private=True, auto_kid=True)


def jwks_cache(url: str, session: requests.Session, clock: FakeClock) -> JwksCache:
    """The gateway's key cache, on the test's clock."""
    return JwksCache(url, session, ttl_seconds=300, min_refetch_interval=MIN_REFETCH_INTERVAL, clock=clock)


def protected_app(issuer: str, jwks: JwksCache) -> Flask:
    """An app with three views of different scopes; refusals rendered as JSON with authlib's headers."""
    app = Flask("auth-tests")
    app.config["TESTING"] = True
    init_auth(app, issuer=issuer, audience=AUDIENCE, jwks=jwks)

    @app.get("/applications")
    @require_scope("epolicy.apply")
    def applications() -> Response:
        return _whoami()

    @app.get("/policies/<enp>")
    @require_scope("epolicy.read", "epolicy.eligibility")
    def policy(enp: str) -> Response:
        return _whoami()

    @app.get("/me")
    @require_scope()
    def me() -> Response:
        return _whoami()

    @app.errorhandler(OAuth2Error)
    def refused(error: OAuth2Error) -> tuple[Response, int, list[tuple[str, str]]]:
        return jsonify(dict(error.get_body())), error.status_code, error.get_headers()

    return app


def _whoami() -> Response:
    token = current_token()
    return jsonify(sub=token.sub, client_id=token.client_id, scopes=sorted(token.scopes), snils=token.snils)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


def issue(mocks: RunningMocks, **body: Any) -> str:
    """A real access token from the mock server's QA endpoint, for a citizen unless `body` says otherwise."""
    request = {"sub": "user-1", "snils": CITIZEN_SNILS, "scope": "epolicy.apply epolicy.read", **body}
    answer = requests.post(f"{mocks.base_url}/oauth/test/token", json=request, timeout=5)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def service_token(issuer: str, client_id: str, secret: str, scope: str = "epolicy.eligibility") -> str:
    """A real access token of the client credentials grant: a service client calling for itself."""
    form = {"grant_type": "client_credentials", "scope": scope}
    answer = requests.post(f"{issuer}/token", data=form, auth=(client_id, secret), timeout=5)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def portal_login(issuer: str, login: str, password: str, scope: str = "epolicy.apply epolicy.read") -> str:
    """A real access token of a citizen who logs in through the portal: the code flow with PKCE, as a browser does."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": PORTAL_CLIENT_ID,
        "redirect_uri": PORTAL_REDIRECT,
        "scope": scope,
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    form = {"login": login, "password": password, "action": "login"}
    back = requests.post(f"{issuer}/authorize", params=params, data=form, allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    redeem = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": PORTAL_CLIENT_ID,
        "redirect_uri": PORTAL_REDIRECT,
        "code_verifier": verifier,
    }
    answer = requests.post(f"{issuer}/token", data=redeem, timeout=5)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def claims(issuer: str, **changes: Any) -> dict[str, Any]:
    """The claims of a good citizen's access token; a change to None drops the claim."""
    now = int(time.time())
    found: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "user-1",
        "client_id": "epolicy-portal",
        "iat": now,
        "exp": now + 600,
        "jti": secrets.token_urlsafe(16),
        "scope": "epolicy.apply epolicy.read",
        "snils": CITIZEN_SNILS,
        **changes,
    }
    return {name: value for name, value in found.items() if value is not None}


def forge(key: RSAKey, payload: dict[str, Any], **header: Any) -> str:
    """Sign `payload` with RS256 and `key`; header members changed to None are left out."""
    members = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid, **header}
    return jwt.encode(
        {name: value for name, value in members.items() if value is not None},
        payload,
        key,
        algorithms=["RS256"],
        default_type=None,
    )


def unsigned(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None = None) -> str:
    """A JWS made by hand: no signature at all, or an HS256 one with `secret`, which joserfc would not make."""
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    signature = b"" if secret is None else hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def replace_payload(token: str, payload: dict[str, Any]) -> str:
    """`token` with its payload swapped and its header and signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{_b64(payload)}.{signature}"


def payload_of(token: str) -> dict[str, Any]:
    """The claims of `token`, unverified."""
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _b64(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def challenge(response: TestResponse) -> dict[str, str]:
    """The parameters of the response's `WWW-Authenticate: Bearer` challenge."""
    found = response.www_authenticate
    assert found.type == "bearer", response.headers.get("WWW-Authenticate")
    return {name: value or "" for name, value in found.parameters.items()}
