"""Rate limits with flask-limiter, by who calls: a citizen, a service client, or an address without a valid token.

A citizen's token (a person through a portal: `sub` is the person) is counted per subject, so that every citizen of
one portal has an allowance of their own; an optional ceiling holds all citizens of one portal client together. A
service client's token (client credentials: `sub` is the client itself, see `AccessToken.is_service_client`) is
counted per client id. Requests without a valid token are counted per address.

Counters live in Redis when `RATELIMIT_STORAGE_URL` is set (every gateway process then shares them), in memory
otherwise. A breach is a 429 problem+json with `Retry-After`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse_many

from gateway.api.problems import problem
from gateway.auth import EXTENSION_KEY as AUTH_KEY
from gateway.auth import AccessToken

EXTENSION_KEY = "epolicy.ratelimit"
UNLIMITED_BLUEPRINTS = frozenset({"health"})  # probes of load balancers and orchestrators
LIMIT_SETTINGS = ("RATELIMIT_PER_SUBJECT", "RATELIMIT_PER_PORTAL", "RATELIMIT_PER_CLIENT", "RATELIMIT_PER_ADDRESS")
_NO_TOKEN = object()


def init_app(app: Flask) -> Limiter:
    """Limit every blueprint registered on `app` so far (call it after registering them)."""
    config = app.config
    for name in LIMIT_SETTINGS:
        _check(name, config.get(name))
    # Off in unit tests unless a test turns it on (RATELIMIT_ENABLED, flask-limiter's own key); on elsewhere.
    enabled = bool(config.get("RATELIMIT_ENABLED", not config.get("TESTING")))
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=str(config.get("RATELIMIT_STORAGE_URL") or "memory://"),
        key_prefix=str(config.get("RATELIMIT_KEY_PREFIX") or "epolicy"),
        enabled=enabled,
        strategy="fixed-window",
        on_breach=_breached,
        swallow_errors=False,
    )
    limits = [
        limiter.shared_limit(
            _setting("RATELIMIT_PER_SUBJECT"), scope="subject", key_func=_subject, exempt_when=_not_citizen
        ),
        limiter.shared_limit(
            _setting("RATELIMIT_PER_PORTAL"), scope="portal", key_func=_portal, exempt_when=_not_citizen
        ),
        limiter.shared_limit(
            _setting("RATELIMIT_PER_CLIENT"), scope="client", key_func=_client, exempt_when=_not_service_client
        ),
        limiter.shared_limit(
            _setting("RATELIMIT_PER_ADDRESS"), scope="address", key_func=get_remote_address, exempt_when=_known
        ),
    ]
    for name, blueprint in app.blueprints.items():
        if name not in UNLIMITED_BLUEPRINTS and isinstance(blueprint, Blueprint):
            for limit in limits:
                limit(blueprint)

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> Response:
        answer = error.get_response()
        return answer if isinstance(answer, Response) else _too_many(60)

    app.extensions[EXTENSION_KEY] = limiter
    return limiter


def _setting(name: str) -> Callable[[], str]:
    # Read at every request, so that a test (or an operator's reload) can change the limits of a running app.
    def value() -> str:
        return _limit_text(current_app.config.get(name))

    return value


def _limit_text(value: object) -> str:
    # None or an empty text: no such limit (flask-limiter applies none for "").
    return "" if value is None else str(value).strip()


def _check(name: str, value: object) -> None:
    """Refuse a setting that flask-limiter cannot read at start, rather than answer 500 to every request."""
    text = _limit_text(value)
    try:
        if text:
            parse_many(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is no rate limit: write it as '60/minute' or '10/second;600/hour'") from None


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
    detail = "Слишком много запросов. Повторите запрос через указанное в Retry-After число секунд."
    return problem(429, "rate-limited", detail, {"Retry-After": str(retry_after)})
