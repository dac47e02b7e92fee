"""One replacement in flight per policy, held by a partial unique index on applications.enp.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

IN_FLIGHT = "kind = 'replacement' AND status IN ('accepted', 'verifying', 'issuing')"


def upgrade() -> None:
    """Create the index; refuse, naming the applications, while two replacements of one policy are in flight."""
    doubled = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT id FROM applications WHERE {IN_FLIGHT} AND enp IN ("  # noqa: S608 - constant text
                f"SELECT enp FROM applications WHERE {IN_FLIGHT} GROUP BY enp HAVING count(*) > 1) ORDER BY id"
            )
        )
        .scalars()
        .all()
    )
    if doubled:
        # Which of them to keep is an operator's decision: either may be at the insurer already.
        raise RuntimeError(
            "two replacements of one policy are in flight: " + ", ".join(doubled) + "; let them finish or cancel "
            "one of each pair, then run the migration again"
        )
    op.create_index(
        "ux_applications_replacement_in_flight",
        "applications",
        ["enp"],
        unique=True,
        postgresql_where=sa.text(IN_FLIGHT),
        sqlite_where=sa.text(IN_FLIGHT),
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ux_applications_replacement_in_flight", table_name="applications")
