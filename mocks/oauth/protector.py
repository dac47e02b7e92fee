"""Bearer token checks for the server's own protected endpoint (userinfo)."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from joserfc.jwk import KeySet

from mocks.oauth.keys import SigningKey
from mocks.oauth.settings import OAuthSettings, issuer_url


class _AccessTokenValidator(JWTBearerTokenValidator):  # type: ignore[misc]
    """RFC 9068 checks (signature, typ, iss, aud, exp) against this server's own key and issuer."""

    def __init__(self, key: SigningKey, settings: OAuthSettings) -> None:
        super().__init__(issuer=settings.issuer, resource_server=settings.audience)
        self._jwks = key.public_key_set()
        self._settings = settings

    def get_jwks(self) -> KeySet:
        """Return the public key set."""
        return self._jwks

    def validate_iss(self, claims: Any, iss: str) -> bool:
        """Compare with the issuer of the current request, which may differ by host."""
        return iss == issuer_url(self._settings)


def build_resource_protector(key: SigningKey, settings: OAuthSettings) -> ResourceProtector:
    """Return a protector accepting this server's access tokens."""
    protector = ResourceProtector()
    protector.register_token_validator(_AccessTokenValidator(key, settings))
    return protector
