"""Settings of the mock authorization server, read once from the Flask config, and the issuer URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import request

URL_PREFIX = "/oauth"
DEFAULT_AUDIENCE = "epolicy-gateway"
DEFAULT_TOKEN_LIFETIME = 3600  # seconds; also the default `expires_in` of QA tokens
CODE_LIFETIME = 60  # seconds an authorization code stays valid
ID_TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class OAuthSettings:
    """What `app.config` says about the server (keys `OAUTH_*`)."""

    issuer: str | None  # None: derived from each request's host
    audience: str
    key_file: str | None
    token_lifetime: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OAuthSettings:
        """Read `OAUTH_ISSUER`, `OAUTH_AUDIENCE`, `OAUTH_KEY_FILE` and `OAUTH_TOKEN_EXPIRES_IN`."""
        issuer = config.get("OAUTH_ISSUER")
        lifetime = config.get("OAUTH_TOKEN_EXPIRES_IN", DEFAULT_TOKEN_LIFETIME)
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
            raise ValueError(f"OAUTH_TOKEN_EXPIRES_IN must be a positive number of seconds, not {lifetime!r}")
        return cls(
            issuer=str(issuer).rstrip("/") if issuer else None,
            audience=str(config.get("OAUTH_AUDIENCE") or DEFAULT_AUDIENCE),
            key_file=str(config["OAUTH_KEY_FILE"]) if config.get("OAUTH_KEY_FILE") else None,
            token_lifetime=lifetime,
        )


def issuer_url(settings: OAuthSettings) -> str:
    """Return the issuer for the current request: the configured one, or `<scheme://host:port>/oauth`."""
    if settings.issuer:
        return settings.issuer
    # root_url keeps a SCRIPT_NAME prefix, so the issuer stays right when the mocks are mounted under a path.
    return request.root_url.rstrip("/") + URL_PREFIX
