"""The grants the server offers, as authlib grant classes and extensions.

authlib ships without type hints, so each subclass of one of its classes carries `type: ignore[misc]`.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import RSAKey

from mocks.oauth.claims import citizen_claims
from mocks.oauth.codes import AuthorizationCode, CodeStore
from mocks.oauth.directory import Directory
from mocks.oauth.keys import ALGORITHM, SigningKey
from mocks.oauth.models import Citizen, Client
from mocks.oauth.settings import ID_TOKEN_LIFETIME, OAuthSettings, issuer_url

PKCE_METHOD = "S256"


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """The code flow; codes live in the server's `CodeStore`, users in its `Directory`."""

    # "none" lets the public portal client redeem its code; PKCE then stands in for the secret.
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        """Remember the code with what it grants and its PKCE challenge."""
        data = request.payload.data
        codes: CodeStore = self.server.codes
        codes.save(
            AuthorizationCode(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                subject=request.user.sub,
                auth_time=int(time.time()),
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """Take the code out of the store: whatever happens next, it cannot be used again."""
        codes: CodeStore = self.server.codes
        return codes.take(code, client.client_id)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: `query_authorization_code` already removed it."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Citizen | None:
        """Return the citizen who logged in for this code."""
        directory: Directory = self.server.directory
        return directory.citizen_by_sub(authorization_code.subject)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """Service clients such as clinics: a token for the client itself, `sub` = client_id."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE: S256 only, and required of public clients already at the authorization endpoint."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = [PKCE_METHOD]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse a public client's request without a challenge, and any method but S256."""
        data = grant.request.payload.data
        client: Client = grant.request.client
        if not data.get("code_challenge"):
            if client.is_public:
                raise InvalidRequestError("Public clients must use PKCE: send 'code_challenge' with S256.")
        elif data.get("code_challenge_method") != PKCE_METHOD:
            # Without a method RFC 7636 means "plain", which this server does not accept.
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class OpenIDConnectCode(OpenIDCode):  # type: ignore[misc]
    """OIDC on the code flow: with scope `openid` the token response also carries an ID token."""

    def __init__(self, key: SigningKey, settings: OAuthSettings, codes: CodeStore) -> None:
        super().__init__(require_nonce=False)
        self._key = key
        self._settings = settings
        self._codes = codes

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        """Tell whether a live code already carries this nonce."""
        return self._codes.has_nonce(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        """Sign ID tokens with the server key."""
        return self._key.private

    def get_client_algorithm(self, client: Client) -> str:
        """Always RS256, as the discovery document says."""
        return ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        """Name the key, so that clients find it in the JWKS."""
        return {"alg": ALGORITHM, "kid": self._key.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        """Return iss, aud and exp of the ID token."""
        return {
            "iss": issuer_url(self._settings),
            "aud": [client.client_id],
            "exp": int(time.time()) + ID_TOKEN_LIFETIME,
        }

    def generate_user_info(self, user: Citizen, scope: str) -> UserInfo:
        """Return the citizen's claims for the granted scope."""
        return UserInfo(citizen_claims(user, scope))
