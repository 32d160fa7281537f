"""Order, refund, payment and customer ids are each store's own namespace

These ids come from the tills and were primary keys shared by every store, so a terminal of
another store that sent an order (refund, payment, customer) under an id already in use got
a different answer than for a free id, and its own row could not be stored. The tables are
now keyed by ``(store_id, id)``; order lines and tenders carry their order's store, and the
child tables refer to ``(store_id, order_id)`` / ``(store_id, payment_id)``. A till refund's
event id is unique per store (as sync_events are since 0008), and the e-mail outbox's
dedupe keys of order confirmations, payment links and refund receipts name the store.

A downgrade fails if two stores hold the same id by then (the old keys cannot hold both).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINES = (("order_lines", "line_no"), ("tenders", "position"))
_PARENTS = ("customers", "orders", "payments")
_MAIL_KINDS = ("order_confirmation", "payment_link", "refund_receipt")


def upgrade() -> None:
    for table, _ in _LINES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_order_id_orders", type_="foreignkey")
            batch_op.add_column(sa.Column("store_id", sa.Uuid(), nullable=True))
        op.execute(
            f"UPDATE {table} SET store_id = "
            f"(SELECT orders.store_id FROM orders WHERE orders.id = {table}.order_id)"
        )
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("fk_order_refunds_order_id_orders", type_="foreignkey")
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("fk_payment_refunds_payment_id_payments", type_="foreignkey")

    for table in _PARENTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", ["store_id", "id"])

    for table, number in _LINES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("store_id", existing_type=sa.Uuid(), nullable=False)
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", ["store_id", "order_id", number])
            batch_op.create_foreign_key(
                f"fk_{table}_store_id_orders",
                "orders",
                ["store_id", "order_id"],
                ["store_id", "id"],
                ondelete="CASCADE",
            )
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("pk_order_refunds", type_="primary")
        batch_op.create_primary_key("pk_order_refunds", ["store_id", "id"])
        batch_op.drop_constraint("uq_order_refunds_event_id", type_="unique")
        batch_op.create_unique_constraint("uq_order_refunds_store_id", ["store_id", "event_id"])
        batch_op.create_foreign_key(
            "fk_order_refunds_store_id_orders",
            "orders",
            ["store_id", "order_id"],
            ["store_id", "id"],
        )
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("pk_payment_refunds", type_="primary")
        batch_op.create_primary_key("pk_payment_refunds", ["store_id", "id"])
        batch_op.create_foreign_key(
            "fk_payment_refunds_store_id_payments",
            "payments",
            ["store_id", "payment_id"],
            ["store_id", "id"],
        )
    _rewrite_dedupe_keys(add_store=True)


def downgrade() -> None:
    _rewrite_dedupe_keys(add_store=False)
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("fk_payment_refunds_store_id_payments", type_="foreignkey")
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("fk_order_refunds_store_id_orders", type_="foreignkey")
        batch_op.drop_constraint("uq_order_refunds_store_id", type_="unique")
        batch_op.create_unique_constraint("uq_order_refunds_event_id", ["event_id"])
    for table, _ in _LINES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_store_id_orders", type_="foreignkey")
    for table in _PARENTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", ["id"])
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("pk_order_refunds", type_="primary")
        batch_op.create_primary_key("pk_order_refunds", ["id"])
        batch_op.create_foreign_key(
            "fk_order_refunds_order_id_orders", "orders", ["order_id"], ["id"]
        )
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.drop_constraint("pk_payment_refunds", type_="primary")
        batch_op.create_primary_key("pk_payment_refunds", ["id"])
        batch_op.create_foreign_key(
            "fk_payment_refunds_payment_id_payments", "payments", ["payment_id"], ["id"]
        )
    for table, number in _LINES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", ["order_id", number])
            batch_op.drop_column("store_id")
            batch_op.create_foreign_key(
                f"fk_{table}_order_id_orders", "orders", ["order_id"], ["id"], ondelete="CASCADE"
            )


def _rewrite_dedupe_keys(*, add_store: bool) -> None:
    """``kind:rest`` ⇄ ``kind:store_id:rest`` for the e-mails that name a till's id."""
    mail = sa.table(
        "mail_outbox",
        sa.column("id", sa.BigInteger()),
        sa.column("store_id", sa.Uuid()),
        sa.column("dedupe_key", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(mail.c.id, mail.c.store_id, mail.c.dedupe_key).where(
            mail.c.store_id.is_not(None),
            sa.or_(*(mail.c.dedupe_key.like(f"{kind}:%") for kind in _MAIL_KINDS)),
        )
    ).all()
    for row_id, store_id, key in rows:
        kind, rest = key.split(":", 1)
        if add_store:
            new_key = f"{kind}:{store_id}:{rest}"
        elif rest.startswith(f"{store_id}:"):
            new_key = f"{kind}:{rest[len(str(store_id)) + 1 :]}"
        else:
            continue
        connection.execute(sa.update(mail).where(mail.c.id == row_id).values(dedupe_key=new_key))
