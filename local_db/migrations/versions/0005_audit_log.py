"""Audit log of what a manager wants to see: removed lines, cancelled sales, voids.

Revision ID: 0005_audit_log
Revises: 0004_sync
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_log"
down_revision = "0004_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("clerk_id", sa.String(36), nullable=False),
        sa.Column("clerk_name", sa.String(60), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_table("audit_log")
