"""Clients and citizens of the mock authorization server, with the methods authlib calls on them."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from mocks.oauth.redirects import redirect_uri_matches

PUBLIC_CLIENT_AUTH = "none"


@dataclass(frozen=True)
class Client:
    """A registered OAuth client; implements authlib's ClientMixin protocol."""

    client_id: str
    name: str
    client_secret: str | None
    auth_methods: frozenset[str]
    grant_types: frozenset[str]
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]

    @property
    def is_public(self) -> bool:
        """True for a client without a secret (a browser or native app)."""
        return PUBLIC_CLIENT_AUTH in self.auth_methods

    def get_client_id(self) -> str:
        """Return the client id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """Return None: loopback URIs are registered without their port, so a client must name its own."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """Return the granted scope, or None (invalid_scope) when the request asks for more than allowed."""
        if not scope:
            return " ".join(self.scopes)
        requested = list(dict.fromkeys(scope.split()))
        if not set(requested) <= set(self.scopes):
            return None
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Tell whether `redirect_uri` is registered for this client."""
        return any(redirect_uri_matches(registered, redirect_uri) for registered in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare the secret in constant time."""
        if self.client_secret is None:
            return False
        return hmac.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Tell whether the client may authenticate with `method` at `endpoint`."""
        if endpoint == "token":
            return method in self.auth_methods
        return True

    def check_response_type(self, response_type: str) -> bool:
        """Only the code flow is offered."""
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        """Tell whether the client may use `grant_type` at the token endpoint."""
        return grant_type in self.grant_types


@dataclass(frozen=True)
class Citizen:
    """A test user who logs in on the authorization page."""

    login: str
    password: str
    sub: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: str
    snils: str  # 11 digits, no separators: the form of the `snils` claim

    @property
    def full_name(self) -> str:
        """Return "Last First Middle" as people write it in Russian."""
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    def get_user_id(self) -> str:
        """Return the subject identifier."""
        return self.sub

    def check_password(self, password: str) -> bool:
        """Compare the password in constant time."""
        return hmac.compare_digest(self.password.encode(), password.encode())
