"""The unfinished applications by the time of their last change: a partial index for `without_progress`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

UNFINISHED = "status IN ('accepted', 'verifying', 'issuing')"


def upgrade() -> None:
    """Create the index: every scrape of /metrics reads the idle applications, which would scan the whole table."""
    op.create_index(
        "ix_applications_unfinished_since",
        "applications",
        ["updated_at", "id"],
        postgresql_where=sa.text(UNFINISHED),
        sqlite_where=sa.text(UNFINISHED),
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_applications_unfinished_since", table_name="applications")
