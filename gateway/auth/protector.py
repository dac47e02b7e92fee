"""Bearer token protection of the API views: the protector, `init_auth`, `require_scope` and `current_token`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import requests
from authlib.integrations.flask_oauth2 import ResourceProtector, token_authenticated
from authlib.integrations.flask_oauth2 import current_token as authlib_current_token
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, MissingAuthorizationError
from authlib.oauth2.rfc6750 import InvalidTokenError
from flask import Flask, current_app, g, request

from gateway.auth.jwks import JwksCache
from gateway.auth.validator import DEFAULT_LEEWAY, AccessToken, AccessTokenValidator

EXTENSION_KEY = "epolicy.auth"

P = ParamSpec("P")
R = TypeVar("R")


class BearerTokenMissing(MissingAuthorizationError):  # type: ignore[misc]
    """No bearer credentials at all: 401 with a bare `WWW-Authenticate: Bearer`, no error code (RFC 6750 §3.1)."""

    description = "The request carries no bearer access token."

    def get_headers(self) -> list[tuple[str, str]]:
        """Return authlib's JSON headers and the challenge without an error attribute."""
        # OAuth2Error's, not ForbiddenError's: that one would add error="missing_authorization".
        headers: list[tuple[str, str]] = OAuth2Error.get_headers(self)
        challenge = f'Bearer realm="{self.realm}"' if self.realm else "Bearer"
        return [*headers, ("WWW-Authenticate", challenge)]


class TokenInQuery(InvalidRequestError):  # type: ignore[misc]
    """400 invalid_request: a token in the URL leaks into logs and histories (RFC 6750 §2.3, §5.3)."""

    description = "Send the access token in the Authorization header, never in the URL."

    def get_headers(self) -> list[tuple[str, str]]:
        """Return authlib's JSON headers plus the RFC 6750 challenge."""
        headers: list[tuple[str, str]] = super().get_headers()
        challenge = f'Bearer error="{self.error}", error_description="{self.get_error_description()}"'
        return [*headers, ("WWW-Authenticate", challenge)]


class AccessTokenProtector(ResourceProtector):  # type: ignore[misc]
    """authlib's Flask protector, reading the token from the Authorization header only."""

    def __init__(self, validator: AccessTokenValidator) -> None:
        super().__init__()
        self.validator = validator
        self.register_token_validator(validator)

    @property
    def jwks(self) -> JwksCache:
        """Return the key cache, for health checks."""
        return self.validator.jwks

    def parse_request_authorization(self, request: Any) -> tuple[AccessTokenValidator, str]:
        """Return the validator and the token of `Authorization: Bearer <token>`."""
        parts = str(request.headers.get("Authorization", "")).split(None, 1)
        # Another scheme (Basic, ...) is no bearer credential either: challenge, without an error code.
        if not parts or parts[0].lower() != "bearer":
            raise BearerTokenMissing("Bearer", self.validator.realm)
        if len(parts) != 2 or len(parts[1].split()) != 1:
            raise InvalidTokenError(
                "The Authorization header must be 'Bearer <token>'.",
                realm=self.validator.realm,
                extra_attributes=self.validator.extra_attributes,
            )
        return self.validator, parts[1].strip()

    def acquire_token(self, scopes: list[str] | None = None, **kwargs: Any) -> AccessToken:
        """Validate the request's token for any one of `scopes`; raise an OAuth2Error otherwise."""
        # The query is parsed only when there is one: most reads have none.
        if request.query_string and "access_token" in request.args:
            raise TokenInQuery()
        if not kwargs:
            known = self.fast_acquire_token(scopes)
            if known is not None:
                return known
        token: AccessToken = super().acquire_token(scopes, **kwargs)
        return token

    def fast_acquire_token(self, scopes: list[str] | None) -> AccessToken | None:
        """The fast path of authlib's `ResourceProtector.acquire_token` for a token already verified in full.

        The same steps for a token `VerifiedTokens` remembers (its signature and claims cannot have changed, its
        lifetime is checked again): the Authorization header read as `parse_request_authorization` reads it, the
        scope checked by `validate_token`, the `token_authenticated` signal, the token kept for `current_token`.
        None for anything else (no header, another scheme, a token not seen or expired), which the reference then
        answers with its own refusal; tests/integration/auth/test_verified_tokens.py holds the two equal.
        """
        header = request.environ.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        parts = header.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer" or len(parts[1].split()) != 1:
            return None
        validator = self.validator
        token = validator.verified.get(parts[1].strip())
        if token is None:
            return None
        validator.validate_token(token, [scopes] if isinstance(scopes, str) else scopes, request)
        token_authenticated.send(self, token=token)
        g.authlib_server_oauth2_token = token
        return token


def init_auth(
    app: Flask,
    *,
    issuer: str,
    audience: str,
    jwks_url: str | None = None,
    jwks: JwksCache | None = None,
    leeway: int = DEFAULT_LEEWAY,
) -> AccessTokenProtector:
    """Register the protector of `app`: tokens of `issuer` for `audience`, keys from `jwks_url` (or `jwks`)."""
    if jwks is None:
        if jwks_url is None:
            raise ValueError("init_auth needs jwks_url (or a JwksCache as jwks)")
        jwks = JwksCache(jwks_url, requests.Session())
    elif jwks_url is not None:
        raise ValueError("init_auth takes jwks_url or jwks, not both")
    protector = AccessTokenProtector(AccessTokenValidator(issuer, audience, jwks, leeway=leeway))
    app.extensions[EXTENSION_KEY] = protector
    return protector


def require_scope(*scopes: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Protect a view: a valid access token with any one of `scopes`, or any valid token when none is named."""
    for scope in scopes:
        if scope.split() != [scope]:
            # authlib reads "a b" as "a and b"; one scope per argument keeps the meaning "any of".
            raise ValueError(f"require_scope takes one scope per argument, not {scope!r}")
    required = list(scopes) or None

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def protected(*args: P.args, **kwargs: P.kwargs) -> R:
            _protector().acquire_token(required)
            return view(*args, **kwargs)

        return protected

    return decorator


def current_token() -> AccessToken:
    """Return the access token validated for the current request."""
    token = authlib_current_token._get_current_object()
    if not isinstance(token, AccessToken):
        raise RuntimeError("current_token() is only available in a view protected by @require_scope")
    return token


def _protector() -> AccessTokenProtector:
    protector = current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(protector, AccessTokenProtector):
        raise RuntimeError("gateway.auth.init_auth(app, ...) was not called for this app")
    return protector
