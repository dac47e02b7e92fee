"""Application ids: `app_` + a ULID, so ids sort by creation time and say nothing about the person."""

from __future__ import annotations

import os
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "app_"
APPLICATION_ID_PATTERN = r"app_[0-9A-HJKMNP-TV-Z]{26}"


def new_application_id(now_ms: int | None = None) -> str:
    """A new ULID-based application id (48 bits of milliseconds, 80 random bits)."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return PREFIX + "".join(reversed(chars))
