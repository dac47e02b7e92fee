"""An index on when idempotency keys were made, for purging the old ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ix_idempotency_keys_created_at."""
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
