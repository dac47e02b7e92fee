"""The correlation id of the work in hand: a request's, or an application's in a worker.

It travels to the back-ends with every SOAP call (`X-Correlation-ID`), so one id follows a citizen's request
through the gateway's log, the fund's and the insurer's.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar, Token

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# What a client may send as its own id; anything else is replaced, never echoed (no header injection).
SAFE_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


def set_correlation_id(value: str | None) -> Token[str | None]:
    """Set the id for the current context; `correlation_id.reset(token)` undoes it."""
    return correlation_id.set(value)


def accept_or_new(value: str | None) -> str:
    """A client's id when it is a safe one, else a new one."""
    if value and SAFE_ID.fullmatch(value):
        return value
    return new_id()


def new_id() -> str:
    """The fast path of `uuid.uuid4().hex`: the same 32 hex digits of a version 4 UUID from 16 random bytes, without
    building the UUID object around them (tests/unit/test_request_path.py holds the two equal)."""
    value = int.from_bytes(os.urandom(16), "big")
    return f"{value & _CLEAR_VERSION_AND_VARIANT | _VERSION_4_RFC_4122:032x}"


# What uuid.UUID(bytes=..., version=4) does to the random bits: the variant (RFC 4122) and the version (4).
_CLEAR_VERSION_AND_VARIANT = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_VERSION_4_RFC_4122 = (0x8000 << 48) | (4 << 76)
