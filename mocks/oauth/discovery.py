"""The OpenID Provider metadata document (OIDC Discovery 1.0, RFC 8414)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mocks.oauth.keys import ALGORITHM

CLAIMS_SUPPORTED = (
    "iss", "aud", "sub", "exp", "iat", "auth_time", "nonce", "amr",
    "name", "family_name", "given_name", "middle_name", "birthdate", "snils",
)  # fmt: skip


def discovery_document(issuer: str, scopes: Iterable[str]) -> dict[str, Any]:
    """Describe the server whose issuer is `issuer`; every endpoint sits under it."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "scopes_supported": list(scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": list(CLAIMS_SUPPORTED),
    }
