"""Access to the API: OAuth 2.0 bearer tokens (RFC 9068 JWTs, RS256) checked against the issuer's JWKS.

Views use `@require_scope(...)` and `current_token()`; the app factory calls `init_auth(app, ...)`. Refusals
propagate as authlib `OAuth2Error`s carrying their status and `WWW-Authenticate` in `get_headers()`.
"""

from __future__ import annotations

from gateway.auth.jwks import JwksCache, JwksUnavailable
from gateway.auth.protector import (
    EXTENSION_KEY,
    AccessTokenProtector,
    BearerTokenMissing,
    TokenInQuery,
    current_token,
    init_auth,
    require_scope,
)
from gateway.auth.validator import AccessToken, AccessTokenValidator, InsufficientScope

__all__ = [
    "EXTENSION_KEY",
    "AccessToken",
    "AccessTokenProtector",
    "AccessTokenValidator",
    "BearerTokenMissing",
    "InsufficientScope",
    "JwksCache",
    "JwksUnavailable",
    "TokenInQuery",
    "current_token",
    "init_auth",
    "require_scope",
]
