"""Sync: customers and delivery slots pulled from the server; product tombstones.

Revision ID: 0004_sync
Revises: 0003_clerks_parked
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_sync"
down_revision = "0003_clerks_parked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch "move and copy" would drop the FTS triggers of 0002.
    op.add_column(
        "products", sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False, server_default=""),
        sa.Column("email", sa.String(200), nullable=False, server_default=""),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_index("ix_customers_phone", "customers", ["phone"])
    op.create_table(
        "delivery_slots",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("starts_at", sa.String(40), nullable=False),
        sa.Column("ends_at", sa.String(40), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("booked", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_slots"),
    )
    op.create_index("ix_delivery_slots_starts_at", "delivery_slots", ["starts_at"])
    op.create_index("ix_outbox_state_seq", "outbox", ["state", "seq"])


def downgrade() -> None:
    op.drop_index("ix_outbox_state_seq", "outbox")
    op.drop_table("delivery_slots")
    op.drop_table("customers")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("deleted")
