"""An Idempotency-Key keeps what its request came to, not the answer: the reasons of a refusal, as JSON.

Before, a refused request's key kept its HTTP status and the problem+json rendered for it; the reasons are read
back out of that body's `errors` (the fields of a Reason). A body they cannot be read from is forgotten: a retry
with its key is then checked again, and refused again (or accepted, once). Nothing of an application is lost.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

SOURCES = ("gateway", "fund", "insurer")
# The tables as this migration sees them, whatever the code's tables say later.
OLD_KEYS = sa.table(
    "idempotency_keys", sa.column("owner_sub"), sa.column("key"), sa.column("state"), sa.column("body"),
    sa.column("application_id"),
)  # fmt: skip
NEW_KEYS = sa.table("idempotency_keys", sa.column("owner_sub"), sa.column("key"), sa.column("reasons", sa.JSON()))
_REFUSED = sa.and_(OLD_KEYS.c.state == "done", OLD_KEYS.c.application_id.is_(None))

# Plain ALTER TABLE, as in 0005 (SQLite has ADD and DROP COLUMN since 3.35).


def upgrade() -> None:
    """Add idempotency_keys.reasons, fill it from the refusals' bodies, and drop status_code and body."""
    op.add_column("idempotency_keys", sa.Column("reasons", sa.JSON(none_as_null=True), nullable=True))
    connection = op.get_bind()
    refused = connection.execute(sa.select(OLD_KEYS.c.owner_sub, OLD_KEYS.c.key, OLD_KEYS.c.body).where(_REFUSED))
    for owner_sub, key, body in refused.all():
        of_key = sa.and_(NEW_KEYS.c.owner_sub == owner_sub, NEW_KEYS.c.key == key)
        reasons = reasons_of(body)
        if reasons is None:
            connection.execute(sa.delete(NEW_KEYS).where(of_key))
        else:
            connection.execute(sa.update(NEW_KEYS).where(of_key).values(reasons=reasons))
    op.drop_column("idempotency_keys", "body")
    op.drop_column("idempotency_keys", "status_code")


def downgrade() -> None:
    """Bring status_code and body back: 202 for the accepted keys; the refused ones are forgotten.

    A refusal's answer named the path it was sent to (`instance`), which the reasons do not keep, and the older
    code answers the kept body as it is: rather than answer a retry with a body that was never sent, the retry is
    checked again.
    """
    op.add_column("idempotency_keys", sa.Column("status_code", sa.Integer(), nullable=True))
    op.add_column("idempotency_keys", sa.Column("body", sa.Text(), nullable=True))
    keys = sa.table("idempotency_keys", sa.column("state"), sa.column("application_id"), sa.column("status_code"))
    connection = op.get_bind()
    done = keys.c.state == "done"
    connection.execute(sa.update(keys).where(done, keys.c.application_id.is_not(None)).values(status_code=202))
    connection.execute(sa.delete(keys).where(done, keys.c.application_id.is_(None)))
    op.drop_column("idempotency_keys", "reasons")


def reasons_of(body: str | None) -> list[dict[str, Any]] | None:
    """The reasons of a problem+json refusal, as the store keeps a Reason; None when it holds none to read."""
    try:
        problem = json.loads(body) if body else None
    except ValueError:
        return None
    errors = problem.get("errors") if isinstance(problem, dict) else None
    if not isinstance(errors, list) or not errors:
        return None
    reasons = [_reason(error) for error in errors]
    return None if any(reason is None for reason in reasons) else [r for r in reasons if r is not None]


def _reason(error: Any) -> dict[str, Any] | None:
    """One error of a problem+json as a stored Reason (details as sorted pairs, as the catalogue builds them)."""
    if not isinstance(error, dict):
        return None
    texts = [error.get(name) for name in ("code", "source", "message", "recommendation")]
    field, details = error.get("field"), error.get("details") or {}
    if not all(isinstance(text, str) for text in texts) or error.get("source") not in SOURCES:
        return None
    if not (field is None or isinstance(field, str)) or not isinstance(details, dict):
        return None
    if not all(isinstance(value, str) for value in details.values()):
        return None
    code, source, message, recommendation = texts
    pairs = [[name, details[name]] for name in sorted(details)]
    return {
        "code": code,
        "source": source,
        "message": message,
        "recommendation": recommendation,
        "field": field,
        "details": pairs,
    }
