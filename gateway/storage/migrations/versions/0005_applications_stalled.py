"""Whether an application is stalled, as a column of its own rather than read from its last history note.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


# Plain ALTER TABLE, not a batch: on SQLite a batch copies the table and drops the old one, and dropping it deletes
# the rows of the outbox and the history that refer to it (ON DELETE CASCADE). SQLite has both since 3.35.


def upgrade() -> None:
    """Add applications.stalled, true for the applications whose outbox entry is parked now."""
    op.add_column("applications", sa.Column("stalled", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE applications SET stalled = true "
        "WHERE id IN (SELECT application_id FROM outbox WHERE stalled_at IS NOT NULL)"
    )


def downgrade() -> None:
    """Drop applications.stalled (the parked outbox entries still say which are stalled)."""
    op.drop_column("applications", "stalled")
