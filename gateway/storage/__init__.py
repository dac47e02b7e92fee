"""The gateway's own database: applications, their outbox and idempotency keys (SQLite or PostgreSQL)."""

from __future__ import annotations

from gateway.ports import ConcurrentUpdate, InvalidCursor
from gateway.storage.database import make_engine
from gateway.storage.migrate import current, downgrade, head, upgrade
from gateway.storage.store import SqlApplicationStore

__all__ = [
    "ConcurrentUpdate",
    "InvalidCursor",
    "SqlApplicationStore",
    "current",
    "downgrade",
    "head",
    "make_engine",
    "upgrade",
]
