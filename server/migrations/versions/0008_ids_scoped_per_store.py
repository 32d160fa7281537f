"""Event ids and card payment attempts are unique per store, not across the chain

A push's event id and a card payment's ``(order_id, attempt)`` were unique over every store,
so another store's terminal could learn that an id was in use (``conflict``) or take an
order's first attempt so that the owner's own payment was refused. Both are now keyed by the
store as well.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_events", schema=None) as batch_op:
        batch_op.drop_constraint("pk_sync_events", type_="primary")
        batch_op.create_primary_key("pk_sync_events", ["store_id", "event_id"])
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sync_conflicts_event_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_sync_conflicts_store_id", ["store_id", "event_id", "received_hash"]
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payments_order_id", type_="unique")
        batch_op.drop_index("ix_payments_store_id_order_id")
        batch_op.create_unique_constraint(
            "uq_payments_store_id", ["store_id", "order_id", "attempt"]
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payments_store_id", type_="unique")
        batch_op.create_index("ix_payments_store_id_order_id", ["store_id", "order_id"])
        batch_op.create_unique_constraint("uq_payments_order_id", ["order_id", "attempt"])
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sync_conflicts_store_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_sync_conflicts_event_id", ["event_id", "received_hash"]
        )
    with op.batch_alter_table("sync_events", schema=None) as batch_op:
        batch_op.drop_constraint("pk_sync_events", type_="primary")
        batch_op.create_primary_key("pk_sync_events", ["event_id"])
