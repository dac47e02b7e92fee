"""The initial tables: applications with their history, the outbox and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Timestamps are stored in UTC; the application's UtcDateTime type keeps them timezone-aware on SQLite too.
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "applications",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("owner_sub", sa.Text(), nullable=False),
        sa.Column("owner_snils", sa.String(11), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("enp", sa.String(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("rejection", sa.JSON(), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
    )
    op.create_index("ix_applications_enp", "applications", ["enp"])
    op.create_index(
        "ix_applications_owner_list",
        "applications",
        ["owner_sub", sa.text("created_at DESC"), sa.text("id DESC")],
    )

    op.create_table(
        "application_history",
        sa.Column("application_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("application_id", "seq", name="pk_application_history"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_application_history_application_id_applications",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "outbox",
        sa.Column("application_id", sa.Text(), nullable=False),
        sa.Column("available_at", Timestamp, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("lease_until", Timestamp, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("application_id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_outbox_application_id_applications",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_outbox_available_at", "outbox", ["available_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("owner_sub", sa.Text(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("application_id", sa.Text(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("owner_sub", "key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    """Drop the tables, children first."""
    op.drop_table("idempotency_keys")
    op.drop_index("ix_outbox_available_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("application_history")
    op.drop_index("ix_applications_owner_list", table_name="applications")
    op.drop_index("ix_applications_enp", table_name="applications")
    op.drop_table("applications")
