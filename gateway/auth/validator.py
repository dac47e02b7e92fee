"""RFC 9068 checks of a JWT access token: RS256 signature, `typ`, issuer, audience, lifetime, claims, scope."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidClaimError, JoseError
from joserfc.jwk import GuestProtocol, KeySet

from gateway.auth.jwks import JwksCache, JwksUnavailable

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256",)  # what the authorization server signs with; never `none`, never an HMAC
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
DEFAULT_LEEWAY = 60  # seconds of clock skew allowed on exp, nbf and iat
ESSENTIAL_CLAIMS = ("iss", "aud", "exp", "sub", "client_id", "iat", "jti")


@dataclass(frozen=True)
class AccessToken:
    """A validated access token: who calls, through which client, with which scopes."""

    sub: str
    client_id: str
    scopes: frozenset[str]
    snils: str | None = field(repr=False)  # personal data: kept out of logs
    claims: Mapping[str, Any] = field(repr=False, compare=False, hash=False)


class InsufficientScope(InsufficientScopeError):  # type: ignore[misc]
    """403 with `WWW-Authenticate: Bearer error="insufficient_scope"`, naming the scope when only one would do."""

    def __init__(self, required: Collection[str], realm: str | None = None) -> None:
        super().__init__()
        self.required = tuple(required)
        self.realm = realm

    def get_headers(self) -> list[tuple[str, str]]:
        """Return authlib's JSON headers plus the RFC 6750 challenge."""
        headers: list[tuple[str, str]] = super().get_headers()
        attributes = [f'realm="{self.realm}"'] if self.realm else []
        attributes += [f'error="{self.error}"', f'error_description="{self.get_error_description()}"']
        # RFC 6750 reads a scope list as "all of"; with alternatives the list would mislead, so it is left out.
        if len(self.required) == 1:
            attributes.append(f'scope="{self.required[0]}"')
        return [*headers, ("WWW-Authenticate", "Bearer " + ", ".join(attributes))]


class AccessTokenValidator(JWTBearerTokenValidator):  # type: ignore[misc]
    """authlib's RFC 9068 validator made strict: RS256 only, `typ` required, keys by kid, leeway on times."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: JwksCache,
        *,
        leeway: int = DEFAULT_LEEWAY,
        realm: str | None = None,
    ) -> None:
        super().__init__(issuer=issuer, resource_server=audience, realm=realm)
        self.jwks = jwks
        self.leeway = leeway

    def get_jwks(self) -> KeySet:
        """Return the cached key set of the authorization server."""
        return self.jwks.key_set_for(None)

    def authenticate_token(self, token_string: str) -> AccessToken:
        """Verify the signature and every claim of `token_string`, or raise InvalidTokenError."""
        try:
            token = jwt.decode(token_string, self._key_set_for, algorithms=ALGORITHMS)
            typ = token.header.get("typ")
            if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
                raise InvalidClaimError("typ")
            claims = JWTAccessTokenClaims(token.claims, token.header, self._claims_options())
            claims.validate(leeway=self.leeway)
            return _access_token(claims)
        except JwksUnavailable as error:
            log.error("access token refused: %s", error)
            raise self._invalid("The authorization server keys are unavailable; the token cannot be checked.") from None
        except JoseError as error:
            description = _describe(error)
            log.info("access token refused: %s (%s)", description, type(error).__name__)
            raise self._invalid(description) from error

    def validate_token(self, token: AccessToken, scopes: list[str] | None, request: Any, **kwargs: Any) -> None:
        """Accept the token when it carries any one of `scopes` (or when no scope is required)."""
        if self.scope_insufficient(sorted(token.scopes), scopes):
            raise InsufficientScope(scopes or (), realm=self.realm)

    def _key_set_for(self, guest: GuestProtocol) -> KeySet:
        kid = guest.headers().get("kid")
        return self.jwks.key_set_for(kid if isinstance(kid, str) else None)

    def _claims_options(self) -> dict[str, Any]:
        # Built afresh for every token: authlib pops the `validate` hooks out of the options it is given.
        options: dict[str, Any] = {name: {"essential": True} for name in ESSENTIAL_CLAIMS}
        options["iss"]["validate"] = self.validate_iss
        options["aud"]["value"] = self.resource_server
        return options

    def _invalid(self, description: str) -> InvalidTokenError:
        return InvalidTokenError(description, realm=self.realm, extra_attributes=self.extra_attributes)


def _access_token(claims: Mapping[str, Any]) -> AccessToken:
    client_id, scope, snils = claims["client_id"], claims.get("scope", ""), claims.get("snils")
    if not isinstance(client_id, str):
        raise InvalidClaimError("client_id")
    # RFC 9068 §2.2.3 takes `scope` from RFC 8693: one space-delimited string.
    if not isinstance(scope, str):
        raise InvalidClaimError("scope")
    if snils is not None and not isinstance(snils, str):
        raise InvalidClaimError("snils")
    return AccessToken(
        sub=str(claims["sub"]),
        client_id=client_id,
        scopes=frozenset(scope.split()),
        snils=snils,
        claims=MappingProxyType(dict(claims)),
    )


def _describe(error: JoseError) -> str:
    # joserfc's claim messages name the claim and never echo its value; they go into WWW-Authenticate as they are.
    if isinstance(error, ClaimError) and not invalid_error_characters(error.description):
        return f"The access token is refused: {error.description}."
    return "The access token is malformed or its signature cannot be verified."
