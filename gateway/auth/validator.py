"""RFC 9068 checks of a JWT access token: RS256 signature, `typ`, issuer, audience, lifetime, claims, scope."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import GuestProtocol, KeySet

from gateway.auth.jwks import JwksCache, JwksUnavailable

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256",)  # what the authorization server signs with; never `none`, never an HMAC
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
DEFAULT_LEEWAY = 60  # seconds of clock skew allowed on exp, nbf and iat
ESSENTIAL_CLAIMS = ("iss", "aud", "exp", "sub", "client_id", "iat", "jti")
TEXT_CLAIMS = ("iss", "sub", "client_id", "jti")  # RFC 9068 §2.2: strings, and here never blank
TIME_CLAIMS = ("exp", "iat", "nbf")  # NumericDate (RFC 7519 §2): a finite JSON number
VERIFIED_TOKENS = 10_000  # tokens remembered after a full check; a portal's active users fit easily


@dataclass(frozen=True)
class AccessToken:
    """A validated access token: who calls, through which client, with which scopes."""

    sub: str
    client_id: str
    scopes: frozenset[str]
    snils: str | None = field(repr=False)  # personal data: kept out of logs
    claims: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def is_service_client(self) -> bool:
        """Whether a service client (a clinic, an insurer) calls for itself rather than a person through a client."""
        # RFC 9068 §2.2: when no resource owner is involved (client credentials) `sub` names the client; the mock
        # server sets it to the client_id, while a citizen's `sub` is their account id, which no client id equals.
        return self.sub == self.client_id


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
        self.verified = VerifiedTokens(VERIFIED_TOKENS, leeway)

    def authenticate_token(self, token_string: str) -> AccessToken:
        """Verify the signature and every claim of `token_string`, or raise InvalidTokenError.

        A token that passed is remembered until it expires: a portal sends the same token with every request, and
        the signature and claims of a given token string cannot change. Its lifetime is checked on every use.
        """
        known = self.verified.get(token_string)
        if known is not None:
            return known
        token = self._authenticate(token_string)
        self.verified.add(token_string, token)
        return token

    def _authenticate(self, token_string: str) -> AccessToken:
        try:
            token = jwt.decode(token_string, self._key_set_for, algorithms=ALGORITHMS)
            typ = token.header.get("typ")
            if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
                raise InvalidClaimError("typ")
            _check_kinds(token.claims)
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


class VerifiedTokens:
    """Tokens that passed every check, by a digest of the token string, until they expire (least recently used out)."""

    def __init__(self, size: int, leeway: int, clock: Callable[[], float] = time.time) -> None:
        self.size = size
        self.leeway = leeway
        self.clock = clock
        self._tokens: OrderedDict[bytes, AccessToken] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token_string: str) -> AccessToken | None:
        """The remembered token, if it is still within its lifetime."""
        key = _digest(token_string)
        with self._lock:
            token = self._tokens.get(key)
            if token is None:
                return None
            if not self._current(token):
                del self._tokens[key]  # checked again in full, which refuses it with the right description
                return None
            self._tokens.move_to_end(key)
            return token

    def add(self, token_string: str, token: AccessToken) -> None:
        with self._lock:
            self._tokens[_digest(token_string)] = token
            while len(self._tokens) > self.size:
                self._tokens.popitem(last=False)

    def _current(self, token: AccessToken) -> bool:
        now = self.clock()
        expires, not_before = token.claims.get("exp"), token.claims.get("nbf")
        if not isinstance(expires, int | float) or now > expires + self.leeway:
            return False
        return not (isinstance(not_before, int | float) and now < not_before - self.leeway)


def _check_kinds(claims: Mapping[str, Any]) -> None:
    """Refuse an essential claim that is missing, blank or of the wrong kind, whatever the JOSE library lets by.

    A blank `sub` would make every caller whose token has one the owner of the same applications, and a blank
    `client_id` would join them to one rate limit; so a text that is empty or only whitespace counts as absent.
    """
    for name in ESSENTIAL_CLAIMS:
        if claims.get(name) is None:
            raise MissingClaimError(name)
    for name in TEXT_CLAIMS:
        if not _is_text(claims[name]):
            raise InvalidClaimError(name)
    audience = claims["aud"]
    if not (_is_text(audience) or (isinstance(audience, list) and audience and all(map(_is_text, audience)))):
        raise InvalidClaimError("aud")
    for name in TIME_CLAIMS:
        if name in claims and not _is_numeric_date(claims[name]):
            raise InvalidClaimError(name)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_numeric_date(value: object) -> bool:
    # bool is an int in Python, and NaN never compares as expired.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _digest(token_string: str) -> bytes:
    return hashlib.sha256(token_string.encode()).digest()


def _access_token(claims: Mapping[str, Any]) -> AccessToken:
    # sub and client_id are non-blank texts (_check_kinds); scope and snils are optional.
    scope, snils = claims.get("scope", ""), claims.get("snils")
    # RFC 9068 §2.2.3 takes `scope` from RFC 8693: one space-delimited string.
    if not isinstance(scope, str):
        raise InvalidClaimError("scope")
    if snils is not None and not isinstance(snils, str):
        raise InvalidClaimError("snils")
    return AccessToken(
        sub=claims["sub"],
        client_id=claims["client_id"],
        scopes=frozenset(scope.split()),
        snils=snils,
        claims=MappingProxyType(dict(claims)),
    )


def _describe(error: JoseError) -> str:
    # joserfc's claim messages name the claim and never echo its value; they go into WWW-Authenticate as they are.
    if isinstance(error, ClaimError) and not invalid_error_characters(error.description):
        return f"The access token is refused: {error.description}."
    return "The access token is malformed or its signature cannot be verified."
