"""Refunds (full or partial, card and/or cash) and each order's refunded total.

Revision ID: 0007_refunds
Revises: 0006_card_attempts
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_refunds"
down_revision = "0006_card_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: never a table rebuild of orders (its lines and tenders cascade)
    op.add_column(
        "orders", sa.Column("refunded_total", sa.Integer, nullable=False, server_default="0")
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("card_amount", sa.Integer, nullable=False),
        sa.Column("cash_amount", sa.Integer, nullable=False),
        sa.Column("card_payment_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
        sa.Column("clerk_id", sa.String(36), nullable=False),
        sa.Column("clerk_name", sa.String(60), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("refunded_at", sa.String(40), nullable=True),
        sa.Column("failure", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_refunds_order_id_orders"),
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])
    op.create_index("ix_refunds_state", "refunds", ["state"])


def downgrade() -> None:
    op.drop_table("refunds")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("refunded_total")
