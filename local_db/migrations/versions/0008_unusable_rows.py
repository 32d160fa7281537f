"""Pulled rows the till could not apply, kept aside with their reason (never dropped).

Revision ID: 0008_unusable_rows
Revises: 0007_refunds
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_unusable_rows"
down_revision = "0007_refunds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unusable_rows",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("seen_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_unusable_rows"),
    )


def downgrade() -> None:
    op.drop_table("unusable_rows")
