"""Card payment attempts kept until settled (with the cart they pay for).

Revision ID: 0006_card_attempts
Revises: 0005_audit_log
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_card_attempts"
down_revision = "0005_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_attempts",
        sa.Column("payment_id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("clerk_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("pay_url", sa.Text, nullable=False, server_default=""),
        sa.Column("cart", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("payment_id", name="pk_card_attempts"),
    )
    op.create_index("ix_card_attempts_order_id", "card_attempts", ["order_id"])
    op.create_index("ix_card_attempts_status", "card_attempts", ["status"])


def downgrade() -> None:
    op.drop_table("card_attempts")
