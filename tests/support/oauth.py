"""The portal's client at the mock OAuth server: PKCE pairs, authorization requests and their redirects."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from werkzeug.test import TestResponse

PORTAL = "epolicy-portal"


PORTAL_REDIRECT = "http://127.0.0.1:5173/callback"


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def portal_request(pkce: Pkce | None, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": PORTAL,
        "redirect_uri": PORTAL_REDIRECT,
        "scope": "openid fullname birthdate snils epolicy.apply epolicy.read",
        "state": "state-123",
        "nonce": "nonce-456",
    }
    if pkce is not None:
        params |= {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}
    return params | overrides


def redirect_params(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["Location"]).query).items()}


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
