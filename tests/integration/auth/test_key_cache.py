"""The authorization server's keys: cached, fetched again for a new kid, not hammered, survived when it fails."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from gateway.auth import JwksCache, JwksUnavailable
from tests.support.auth import (
    MIN_REFETCH_INTERVAL,
    CountingSession,
    FakeClock,
    KeyServer,
    bearer,
    challenge,
    claims,
    forge,
    jwks_cache,
    new_key,
    protected_app,
    serving,
)

# The tests talk to key servers over HTTP.
pytestmark = pytest.mark.network

ISSUER = "https://esia.test/oauth"
TTL = 300


@dataclass
class Stand:
    """A stand-in authorization server, the app that trusts it and what the app fetched."""

    keys: KeyServer
    url: str
    session: CountingSession
    clock: FakeClock
    cache: JwksCache
    client: FlaskClient

    def status_of(self, token: str) -> int:
        """Call a protected view with `token`; return the status."""
        return self.client.get("/applications", headers=bearer(token)).status_code

    @property
    def fetches(self) -> int:
        """How many times the app asked for the JWKS."""
        return self.session.urls.count(self.url)


@pytest.fixture(scope="module")
def old_key() -> RSAKey:
    """The key the server signs with at first."""
    return new_key()


@pytest.fixture(scope="module")
def next_key() -> RSAKey:
    """The key it rotates to."""
    return new_key()


@pytest.fixture
def stand(old_key: RSAKey) -> Iterator[Stand]:
    """A key server publishing `old_key`, and an app on a fake clock that reads it."""
    keys = KeyServer([old_key])
    with serving(keys) as url, CountingSession() as session:
        clock = FakeClock()
        cache = jwks_cache(url, session, clock)
        yield Stand(keys, url, session, clock, cache, protected_app(ISSUER, cache).test_client())


def test_new_kid_after_key_rotation_is_fetched_once_and_accepted(
    stand: Stand, old_key: RSAKey, next_key: RSAKey
) -> None:
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 200
    stand.keys.keys = [old_key, next_key]
    stand.clock.advance(MIN_REFETCH_INTERVAL + 1)

    assert stand.status_of(forge(next_key, claims(ISSUER))) == 200
    assert stand.status_of(forge(next_key, claims(ISSUER))) == 200
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 200
    assert stand.fetches == 2


def test_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval(stand: Stand, old_key: RSAKey) -> None:
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 200
    stand.clock.advance(MIN_REFETCH_INTERVAL + 1)

    for _ in range(20):
        stand.clock.advance(0.2)
        assert stand.status_of(forge(old_key, claims(ISSUER), kid="made-up-kid")) == 401

    assert stand.fetches == 2


def test_unknown_kid_right_after_a_fetch_is_refused_without_another_fetch(stand: Stand, old_key: RSAKey) -> None:
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 200

    assert stand.status_of(forge(old_key, claims(ISSUER), kid="made-up-kid")) == 401
    assert stand.fetches == 1


def test_token_without_a_kid_is_checked_against_the_only_cached_key(stand: Stand, old_key: RSAKey) -> None:
    assert stand.status_of(forge(old_key, claims(ISSUER), kid=None)) == 200


def test_jwks_is_fetched_again_when_its_ttl_runs_out(stand: Stand, old_key: RSAKey, next_key: RSAKey) -> None:
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 200
    # A retracted key stops working at the next scheduled refresh, with no token asking for it.
    stand.keys.keys = [next_key]
    stand.clock.advance(TTL)

    assert stand.status_of(forge(old_key, claims(ISSUER))) == 401
    assert stand.fetches == 2


def test_failed_refresh_keeps_the_cached_keys_and_is_logged(
    stand: Stand, old_key: RSAKey, caplog: pytest.LogCaptureFixture
) -> None:
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 200
    stand.keys.failing = True
    stand.clock.advance(TTL)

    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        assert stand.status_of(forge(old_key, claims(ISSUER))) == 200

    assert stand.fetches == 2
    assert any("keeping the cached keys" in record.getMessage() for record in caplog.records)


def test_without_any_key_set_tokens_are_refused_and_the_outage_is_logged(
    stand: Stand, old_key: RSAKey, caplog: pytest.LogCaptureFixture
) -> None:
    stand.keys.failing = True

    with caplog.at_level(logging.ERROR, logger="gateway.auth"):
        response = stand.client.get("/applications", headers=bearer(forge(old_key, claims(ISSUER))))

    assert response.status_code == 401
    assert challenge(response)["error"] == "invalid_token"
    assert any(record.levelno == logging.ERROR and stand.url in record.getMessage() for record in caplog.records)


def test_keys_come_back_after_an_outage_once_the_interval_has_passed(stand: Stand, old_key: RSAKey) -> None:
    stand.keys.failing = True
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 401
    stand.keys.failing = False

    assert stand.status_of(forge(old_key, claims(ISSUER))) == 401
    stand.clock.advance(MIN_REFETCH_INTERVAL)
    assert stand.status_of(forge(old_key, claims(ISSUER))) == 200
    assert stand.fetches == 2


def test_threads_asking_for_an_unknown_kid_at_once_share_one_fetch(stand: Stand) -> None:
    start = threading.Barrier(16)
    outcomes: list[str] = []

    def ask() -> None:
        start.wait()
        try:
            stand.cache.key_set_for("made-up-kid")
            outcomes.append("keys")
        except JwksUnavailable:
            outcomes.append("unavailable")

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert outcomes == ["keys"] * 16
    assert stand.fetches == 1
