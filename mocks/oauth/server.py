"""Assembly of the authlib authorization server: clients, grants, PKCE, OIDC and the token generator."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6750 import BearerTokenGenerator

from mocks.oauth.codes import CodeStore
from mocks.oauth.directory import Directory
from mocks.oauth.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    OpenIDConnectCode,
    S256CodeChallenge,
)
from mocks.oauth.keys import SigningKey
from mocks.oauth.models import Citizen, Client
from mocks.oauth.settings import OAuthSettings, issuer_url
from mocks.oauth.tokens import AccessGrant, issue_access_token


class MockAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's Flask server, holding the directory and code store that the grants reach as `server.*`."""

    def __init__(self, directory: Directory, codes: CodeStore) -> None:
        super().__init__(query_client=directory.client, save_token=_keep_no_token)
        self.directory = directory
        self.codes = codes


def build_authorization_server(
    settings: OAuthSettings, directory: Directory, key: SigningKey, codes: CodeStore
) -> MockAuthorizationServer:
    """Return a server offering the code flow (PKCE, OIDC) and client credentials."""
    server = MockAuthorizationServer(directory, codes)
    # An unknown scope is invalid_scope before any client-specific check.
    server.scopes_supported = list(directory.scopes)
    server.register_token_generator("default", _token_generator(settings, key))
    server.register_grant(
        AuthorizationCodeGrant,
        [S256CodeChallenge(required=True), OpenIDConnectCode(key, settings, codes)],
    )
    server.register_grant(ClientCredentialsGrant)
    return server


def _token_generator(settings: OAuthSettings, key: SigningKey) -> BearerTokenGenerator:
    def access_token(client: Client, grant_type: str, user: Citizen | None, scope: str) -> str:
        grant = AccessGrant(
            subject=user.sub if user else client.client_id,
            client_id=client.client_id,
            scope=scope,
            expires_in=settings.token_lifetime,
            audience=settings.audience,
            snils=user.snils if user else None,
        )
        return issue_access_token(key, issuer_url(settings), grant)

    return BearerTokenGenerator(access_token, expires_generator=settings.token_lifetime)


def _keep_no_token(token: dict[str, Any], request: Any) -> None:
    # Access tokens are self-contained JWTs checked against the JWKS; there is nothing to look up later.
    return None
