"""Stalled outbox entries: parked after too many failed attempts until an operator resumes them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add outbox.stalled_at (NULL: an entry the workers may claim)."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("stalled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop outbox.stalled_at (parked entries become due again)."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("stalled_at")
