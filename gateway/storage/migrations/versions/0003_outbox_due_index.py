"""The outbox index of the workers' claim leaves parked entries out and follows the claim's order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

NOT_STALLED = sa.text("stalled_at IS NULL")


def upgrade() -> None:
    """Replace ix_outbox_available_at with ix_outbox_due: (available_at, application_id) of unparked entries."""
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["available_at", "application_id"],
        postgresql_where=NOT_STALLED,
        sqlite_where=NOT_STALLED,
    )
    op.drop_index("ix_outbox_available_at", table_name="outbox")


def downgrade() -> None:
    """Back to the plain index on available_at."""
    op.create_index("ix_outbox_available_at", "outbox", ["available_at"])
    op.drop_index("ix_outbox_due", table_name="outbox")
