"""Authorization codes, kept in memory: short-lived and single use, safe to share between request threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AuthorizationCode:
    """One issued code and what it was issued for; implements authlib's AuthorizationCodeMixin."""

    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    subject: str
    auth_time: int
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    def get_redirect_uri(self) -> str | None:
        """Return the redirect URI of the authorization request."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope

    def get_nonce(self) -> str | None:
        """Return the OIDC nonce of the authorization request."""
        return self.nonce

    def get_auth_time(self) -> int:
        """Return when the user logged in (seconds since the epoch)."""
        return self.auth_time

    def get_acr(self) -> str | None:
        """No authentication context class: the mock only knows passwords."""
        return None

    def get_amr(self) -> list[str] | None:
        """Return the authentication methods used (RFC 8176)."""
        return ["pwd"]


class CodeStore:
    """The live codes; `take` removes a code, so two requests racing with one code cannot both succeed."""

    def __init__(self, lifetime: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[AuthorizationCode, float]] = {}

    def save(self, code: AuthorizationCode) -> None:
        """Keep `code` until it expires or is taken."""
        now = self._clock()
        with self._lock:
            self._drop_expired(now)
            self._codes[code.code] = (code, now + self._lifetime)

    def take(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Remove and return the code if it is live and was issued to `client_id`."""
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None:
            return None
        # A code shown by another client is spent all the same: it has leaked (RFC 6749 §4.1.2).
        found, expires_at = entry
        if expires_at <= self._clock() or found.client_id != client_id:
            return None
        return found

    def has_nonce(self, client_id: str, nonce: str) -> bool:
        """Tell whether a live code of `client_id` already carries `nonce` (a replayed request)."""
        now = self._clock()
        with self._lock:
            return any(
                code.client_id == client_id and code.nonce == nonce and expires_at > now
                for code, expires_at in self._codes.values()
            )

    def _drop_expired(self, now: float) -> None:
        for key in [key for key, (_, expires_at) in self._codes.items() if expires_at <= now]:
            del self._codes[key]
