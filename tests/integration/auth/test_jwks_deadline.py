"""The authorization server's keys are fetched within a deadline for the whole answer, as a back-end call is."""

from __future__ import annotations

import json
import time

import pytest
from joserfc.jwk import RSAKey

from adapters.soap import new_session
from gateway.auth.jwks import JwksCache, JwksUnavailable
from tests.support.loopback import Drip, loopback_backend

pytestmark = pytest.mark.network  # a server on loopback

DEADLINE = 1.0
BOUND = 5.0  # far below the 30 s the answer takes to drip: the deadline, not the answer, ended the wait
JWKS = json.dumps({"keys": [RSAKey.generate_key(2048, parameters={"kid": "k1"}).as_dict(private=False)]}).encode()
ANSWER = JWKS  # the server writes its own status line and headers


def test_a_jwks_dripped_a_byte_at_a_time_is_given_up_at_the_deadline() -> None:
    drip = Drip(ANSWER, interval=30 / len(ANSWER))
    with loopback_backend(drip) as server:
        cache = JwksCache(f"{server.base_url}/jwks", new_session(), timeout=DEADLINE)
        started = time.monotonic()
        with pytest.raises(JwksUnavailable):
            cache.key_set_for("k1")
        waited = time.monotonic() - started

        assert server.hung_up.wait(10), "the fetch let go of the connection before the answer was complete"
        assert not server.finished.is_set()
        assert waited < BOUND, f"the fetch lasted {waited:.1f} s against a deadline of {DEADLINE} s"


def test_a_jwks_in_small_pieces_within_the_deadline_is_read_whole() -> None:
    drip = Drip(ANSWER, interval=0.01, chunk=max(len(ANSWER) // 10, 1))
    with loopback_backend(drip) as server:
        cache = JwksCache(f"{server.base_url}/jwks", new_session(), timeout=30)
        keys = cache.key_set_for("k1")
        # The client may have the last byte before the server notes that it sent it.
        assert server.finished.wait(5)
    assert [key.kid for key in keys.keys] == ["k1"]
