"""The message journal: who signed each SOAP message the gateway sent and received.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the journal and its indexes: by message id, to show a piece of work; by time, to purge."""
    op.create_table(
        "message_journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("wsa_message_id", sa.String(64)),
        sa.Column("relates_to", sa.String(64)),
        sa.Column("signer", sa.Text),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("signature", sa.Text),
        sa.Column("reason", sa.String(500)),
    )
    op.create_index("ix_message_journal_at", "message_journal", ["at"])
    op.create_index("ix_message_journal_message_id", "message_journal", ["message_id"])


def downgrade() -> None:
    """Drop the journal."""
    op.drop_index("ix_message_journal_message_id", table_name="message_journal")
    op.drop_index("ix_message_journal_at", table_name="message_journal")
    op.drop_table("message_journal")
