"""The authorization server's signing keys (JWKS), fetched over HTTP and cached."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, RSAKey

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0  # seconds; a token check waits this long at most for the authorization server


class JwksUnavailable(Exception):
    """No key set has ever been fetched, so no token can be checked."""


@dataclass(frozen=True)
class _Snapshot:
    keys: KeySet
    kids: frozenset[str]
    fetched_at: float


class JwksCache:
    """The JWKS at `url`, cached; fetched again when stale or for an unknown kid, at most once per interval."""

    def __init__(
        self,
        url: str,
        session: requests.Session,
        ttl_seconds: float = 300,
        min_refetch_interval: float = 10,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._session = session
        self._ttl = ttl_seconds
        # What keeps a flood of tokens with made-up kids from hammering the authorization server.
        self._min_interval = min_refetch_interval
        self._timeout = timeout
        self._clock = clock
        self._snapshot: _Snapshot | None = None
        self._last_attempt: float | None = None
        # Serialises fetches only; readers take the current snapshot, which is replaced whole.
        self._fetch_lock = threading.Lock()

    def key_set_for(self, kid: str | None) -> KeySet:
        """Return the key set that should hold `kid`, fetching it when stale, missing or without that kid."""
        snapshot = self._snapshot
        if snapshot is not None and _knows(snapshot, kid):
            if self._clock() - snapshot.fetched_at >= self._ttl and self._fetch_lock.acquire(blocking=False):
                # Only the TTL ran out: one thread refreshes, the others go on with the keys they have.
                try:
                    self._fetch_if_allowed()
                finally:
                    self._fetch_lock.release()
            return (self._snapshot or snapshot).keys
        with self._fetch_lock:
            snapshot = self._snapshot
            # Another thread may have fetched while this one waited for the lock.
            if snapshot is None or not _knows(snapshot, kid):
                self._fetch_if_allowed()
                snapshot = self._snapshot
        if snapshot is None:
            raise JwksUnavailable(f"no JWKS could be fetched from {self.url}")
        return snapshot.keys

    def _fetch_if_allowed(self) -> None:
        now = self._clock()
        if self._last_attempt is not None and now - self._last_attempt < self._min_interval:
            return
        self._last_attempt = now
        try:
            keys = _parse(self._get())
        except (requests.RequestException, ValueError) as error:
            if self._snapshot is None:
                log.error("JWKS %s unavailable, access tokens cannot be checked: %s", self.url, error)
            else:
                log.warning("JWKS %s could not be refreshed, keeping the cached keys: %s", self.url, error)
            return
        kids = frozenset(key.kid for key in keys.keys if key.kid is not None)
        self._snapshot = _Snapshot(keys, kids, now)
        log.info("JWKS %s fetched: key ids %s", self.url, ", ".join(sorted(kids)))

    def _get(self) -> Any:
        response = self._session.get(self.url, timeout=self._timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()


def _knows(snapshot: _Snapshot, kid: str | None) -> bool:
    # A token without a kid can only be checked against the keys at hand; fetching would not tell more.
    return kid is None or kid in snapshot.kids


def _parse(document: Any) -> KeySet:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("the JWKS is not a JSON object with a 'keys' list")
    keys: list[Key] = []
    for entry in document["keys"]:
        # Tokens are RS256 only; other key types, encryption keys and broken entries cannot sign one.
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        try:
            keys.append(RSAKey.import_key(entry))
        except (JoseError, ValueError, TypeError) as error:
            log.warning("JWKS key %r skipped: %s", entry.get("kid"), error)
    if not keys:
        raise ValueError("the JWKS holds no RSA signing key")
    return KeySet(keys)
