"""CORS for the endpoints that a browser page calls itself, for pages on a loopback origin.

A public client running in the browser (the demo portal at the gateway's /portal) reads the discovery document
and redeems its code at /token with `fetch`, from another origin than the server's. The mock answers such calls
from loopback origins only (any port, as redirect URIs on loopback hosts match any port); the login page itself
is a navigation and needs no CORS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, request

from mocks.oauth.redirects import LOOPBACK_HOSTS

# Endpoint names of the blueprint `oauth` (mocks/oauth/views.py).
CORS_ENDPOINTS = frozenset({"oauth.openid_configuration", "oauth.jwks", "oauth.token", "oauth.userinfo"})
ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"  # seconds a browser may reuse a preflight answer


def is_loopback_origin(origin: str) -> bool:
    """Tell whether `origin` (an Origin header) is http(s) on a loopback host, any port."""
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018  -- raises ValueError for a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and parts.hostname in LOOPBACK_HOSTS
        and parts.username is None
        and parts.path == ""
        and not parts.query
        and not parts.fragment
    )


def allow_loopback_origins(response: Response) -> Response:
    """Add the CORS headers to an answer of a browser-facing endpoint when the caller's origin is loopback."""
    if request.endpoint not in CORS_ENDPOINTS:
        return response
    # The answer depends on the Origin: caches must keep one per origin.
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin is None or not is_loopback_origin(origin):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
