"""Rate limits with flask-limiter, by who calls: a citizen, a service client, or an address without a valid token.

A citizen's token (a person through a portal: `sub` is the person) is counted per subject, so that every citizen of
one portal has an allowance of their own; an optional ceiling holds all citizens of one portal client together. A
service client's token (client credentials: `sub` is the client itself, see `AccessToken.is_service_client`) is
counted per client id. Requests without a valid token are counted per address.

Counters live in Redis when `ratelimit_storage_url` is set (every gateway process then shares them), in memory
otherwise. A breach is a 429 with `Retry-After` in the request's error format (gateway/api/problems.py).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, g
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.extension import LimitDecorator
from flask_limiter.util import get_remote_address
from limits import parse_many

from gateway.api.problems import rate_limited
from gateway.auth import EXTENSION_KEY as AUTH_KEY
from gateway.auth import AccessToken
from gateway.config import PREFIX, Settings

EXTENSION_KEY = "epolicy.ratelimit"
UNLIMITED_BLUEPRINTS = frozenset({"health"})  # probes of load balancers and orchestrators
LIMIT_SETTINGS = ("RATELIMIT_PER_SUBJECT", "RATELIMIT_PER_PORTAL", "RATELIMIT_PER_CLIENT", "RATELIMIT_PER_ADDRESS")
_NO_TOKEN = object()


@dataclass(frozen=True)
class RateLimits:
    """The limiter and the shared limits every limited blueprint gets, built from the settings before any app."""

    limiter: Limiter
    shared: tuple[LimitDecorator, ...]


def build_limiter(settings: Settings) -> RateLimits:
    """The limiter of the settings' limits, not yet bound to an app (`init_app` binds it)."""
    # Whether it is on is decided in init_app, where it is known whether the app is made for tests.
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=settings.ratelimit_storage_url or "memory://",
        key_prefix=settings.ratelimit_key_prefix,
        strategy="fixed-window",
        on_breach=_breached,
        swallow_errors=False,
    )
    kinds = zip(
        LIMIT_SETTINGS,
        (
            ("subject", _subject, _not_citizen),
            ("portal", _portal, _not_citizen),
            ("client", _client, _not_service_client),
            ("address", get_remote_address, _known),
        ),
        strict=True,
    )
    shared = []
    for name, (scope, key, exempt) in kinds:
        limit = _checked(name, getattr(settings, name.lower()))
        if limit:  # an unset limit applies none
            shared.append(limiter.shared_limit(limit, scope=scope, key_func=key, exempt_when=exempt))
    return RateLimits(limiter, tuple(shared))


def init_app(app: Flask, limits: RateLimits, settings: Settings) -> Limiter:
    """Limit every blueprint registered on `app` so far (call it after registering them)."""
    # Off in an app made for tests unless a test turns them on; flask-limiter reads its own key in init_app.
    app.config["RATELIMIT_ENABLED"] = (
        settings.ratelimit_enabled if settings.ratelimit_enabled is not None else not app.testing
    )
    limiter = limits.limiter
    limiter.init_app(app)
    for name, blueprint in app.blueprints.items():
        if name not in UNLIMITED_BLUEPRINTS and isinstance(blueprint, Blueprint):
            for limit in limits.shared:
                limit(blueprint)

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> Response:
        answer = error.get_response()
        return answer if isinstance(answer, Response) else _too_many(60)

    app.extensions[EXTENSION_KEY] = limiter
    return limiter


def _checked(name: str, value: str | None) -> str:
    """The limit's text ("" for none); a setting flask-limiter cannot read stops the app at start, not each request."""
    text = (value or "").strip()
    try:
        if text:
            parse_many(text)
    except ValueError:
        # Named as the operator sets it, with the prefix.
        raise ValueError(
            f"{PREFIX}_{name}={text!r} is no rate limit: write it as '60/minute' or '10/second;600/hour'"
        ) from None
    return text


def _token() -> AccessToken | None:
    """The request's valid access token, validated once per request; None without one."""
    found = g.get("ratelimit_token", _NO_TOKEN)
    if found is _NO_TOKEN:
        try:
            found = current_app.extensions[AUTH_KEY].acquire_token(None)
        except Exception:  # any refusal: the view answers it; the limiter counts by address
            found = None
        g.ratelimit_token = found
    return found if isinstance(found, AccessToken) else None


def _subject() -> str:
    token = _token()
    return f"sub:{token.sub}" if token else "sub:-"


def _portal() -> str:
    # Apart from `client:`: a client with both grants (qa-client) has citizens and a service allowance of its own.
    token = _token()
    return f"portal:{token.client_id}" if token else "portal:-"


def _client() -> str:
    token = _token()
    return f"client:{token.client_id}" if token else "client:-"


def _not_citizen() -> bool:
    token = _token()
    return token is None or token.is_service_client


def _not_service_client() -> bool:
    token = _token()
    return token is None or not token.is_service_client


def _known() -> bool:
    return _token() is not None


def _breached(limit: RequestLimit) -> Response:
    return _too_many(max(1, math.ceil(limit.reset_at - time.time())))


def _too_many(retry_after: int) -> Response:
    return rate_limited(retry_after)
