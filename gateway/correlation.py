"""The correlation id of the work in hand: a request's, or an application's in a worker.

It travels to the back-ends with every SOAP call (`X-Correlation-ID`), so one id follows a citizen's request
through the gateway's log, the fund's and the insurer's.
"""

from __future__ import annotations

import re
import uuid
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
    return uuid.uuid4().hex
