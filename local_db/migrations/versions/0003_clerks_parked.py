"""Clerks (PIN hashes, lockout) and parked sales.

Revision ID: 0003_clerks_parked
Revises: 0002_product_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_clerks_parked"
down_revision = "0002_product_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clerks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("pin_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_clerks"),
    )
    op.create_table(
        "parked_sales",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("clerk_id", sa.String(36), nullable=False),
        sa.Column("parked_at", sa.String(40), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("cart", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_parked_sales"),
    )


def downgrade() -> None:
    op.drop_table("parked_sales")
    op.drop_table("clerks")
