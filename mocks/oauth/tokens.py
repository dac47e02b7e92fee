"""RFC 9068 JWT access tokens, the one place that decides their claims.

authlib's rfc9068 `JWTBearerTokenGenerator` signs with joserfc too, but fixes the issuer at construction (ours
follows the request's host) and computes `exp` apart from the `expires_in` it is given, which the QA token
endpoint must honour; so the grants and the QA endpoint both come through `issue_access_token`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from mocks.oauth.keys import SigningKey


@dataclass(frozen=True)
class AccessGrant:
    """Who gets access to what, for how long: the content of one access token."""

    subject: str  # the citizen's sub, or the client_id when no user is involved
    client_id: str
    scope: str
    expires_in: int
    audience: str | tuple[str, ...]
    snils: str | None = None  # 11 digits, only in citizens' tokens
    iin: str | None = None  # a Kazakh citizen's ИИН (12 digits), for the ОСМС profile


def issue_access_token(key: SigningKey, issuer: str, grant: AccessGrant) -> str:
    """Sign an access token (`typ: at+jwt`) for `grant`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": grant.audience if isinstance(grant.audience, str) else list(grant.audience),
        "sub": grant.subject,
        "client_id": grant.client_id,
        "iat": now,
        "exp": now + grant.expires_in,
        "jti": secrets.token_urlsafe(16),
        "scope": grant.scope,
    }
    if grant.snils is not None:
        claims["snils"] = grant.snils
    if grant.iin is not None:
        claims["iin"] = grant.iin
    return key.sign({"typ": "at+jwt"}, claims)
