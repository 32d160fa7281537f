"""Phone orders, delivery slot rules, per-terminal slot allotments and bookings (issue 13)

Delivery slots gain their rules (capacity unit, optional weight cap, cut-off and lead time,
the postcodes they serve) and two running totals: ``held`` (the units allotted to terminals
and not yet used by them) and ``booked_weight_g``. ``slot_allotments`` is each terminal's
share of a slot (``allotted_total`` units it may book firm and the server honours, ``used``
of them booked, ``announced_total`` the value last sent to it, and the change-log position
of that announcement). ``slot_bookings`` records each booking
of a slot (from a till's push or the online endpoint). Customers gain notes and addresses;
phone orders are stored with their ordered and picked lines and a log of their transitions,
all keyed by store (their card payment is the row of ``phone_order_payments``, 0010).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BIG = sa.BigInteger()


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("delivery_slots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unit", sa.String(length=8), nullable=False, server_default="orders")
        )
        batch_op.add_column(sa.Column("max_weight_g", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("cutoff_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("lead_time_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("postcode_prefixes", _DOCUMENT, nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("held", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("booked_weight_g", _BIG, nullable=False, server_default="0"))

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notes", sa.String(length=1000), nullable=False, server_default="")
        )

    op.create_table(
        "customer_addresses",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=32), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["customers.store_id", "customers.id"],
            name=op.f("fk_customer_addresses_store_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_customer_addresses")),
    )
    op.create_index(
        "ix_customer_addresses_store_id_customer_id",
        "customer_addresses",
        ["store_id", "customer_id"],
        unique=False,
    )

    op.create_table(
        "slot_allotments",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("allotted_total", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("announced_total", sa.Integer(), nullable=False),
        sa.Column("granted_change_pos", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["delivery_slots.id"],
            name=op.f("fk_slot_allotments_slot_id_delivery_slots"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_slot_allotments_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_slot_allotments_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "slot_id", "terminal_id", name=op.f("pk_slot_allotments")
        ),
    )

    op.create_table(
        "slot_bookings",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("requested_slot_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("terminal_id", sa.Uuid(), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("weight_g", _BIG, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("allotted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        _ts("booked_at"),
        _ts("received_at"),
        _ts("released_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["delivery_slots.id"], name=op.f("fk_slot_bookings_slot_id_delivery_slots")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_slot_bookings_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "booking_id", name=op.f("pk_slot_bookings")),
    )
    op.create_index(
        "ix_slot_bookings_store_id_slot_id", "slot_bookings", ["store_id", "slot_id"], unique=False
    )

    op.create_table(
        "phone_orders",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("order_no", sa.String(length=64), nullable=False),
        sa.Column("terminal_code", sa.String(length=64), nullable=False),
        sa.Column("clerk_id", sa.String(length=64), nullable=False),
        sa.Column("clerk_name", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("customer", _DOCUMENT, nullable=False),
        sa.Column("address", _DOCUMENT, nullable=False),
        sa.Column("customer_email", sa.String(length=254), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("booking_status", sa.String(length=16), nullable=False),
        sa.Column("moved_from_slot_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("payment_method", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("estimated_subtotal", _BIG, nullable=False),
        sa.Column("estimated_tax_total", _BIG, nullable=False),
        sa.Column("estimated_total", _BIG, nullable=False),
        sa.Column("actual_subtotal", _BIG, nullable=False),
        sa.Column("actual_tax_total", _BIG, nullable=False),
        sa.Column("actual_total", _BIG, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("received_at"),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_phone_orders_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_phone_orders")),
    )
    op.create_index(
        "ix_phone_orders_store_id_slot_id", "phone_orders", ["store_id", "slot_id"], unique=False
    )

    op.create_table(
        "phone_order_lines",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sold_by", sa.String(length=8), nullable=False),
        sa.Column("quantity", _BIG, nullable=False),
        sa.Column("unit_price", _BIG, nullable=False),
        sa.Column("tax_class", sa.String(length=64), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("net", _BIG, nullable=False),
        sa.Column("substitution", sa.String(length=16), nullable=False),
        sa.Column("substitute_product_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["phone_orders.store_id", "phone_orders.id"],
            name=op.f("fk_phone_order_lines_store_id_phone_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "order_id", "line_no", name=op.f("pk_phone_order_lines")
        ),
    )

    op.create_table(
        "phone_order_picked_lines",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sold_by", sa.String(length=8), nullable=False),
        sa.Column("quantity", _BIG, nullable=False),
        sa.Column("unit_price", _BIG, nullable=False),
        sa.Column("tax_class", sa.String(length=64), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("net", _BIG, nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["phone_orders.store_id", "phone_orders.id"],
            name=op.f("fk_phone_order_picked_lines_store_id_phone_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "order_id", "line_no", name=op.f("pk_phone_order_picked_lines")
        ),
    )

    op.create_table(
        "phone_order_transitions",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("transition_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.Uuid(), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("clerk_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        _ts("at"),
        _ts("received_at"),
        sa.ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["phone_orders.store_id", "phone_orders.id"],
            name=op.f("fk_phone_order_transitions_store_id_phone_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "transition_id", name=op.f("pk_phone_order_transitions")
        ),
    )
    op.create_index(
        "ix_phone_order_transitions_store_id_order_id",
        "phone_order_transitions",
        ["store_id", "order_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_phone_order_transitions_store_id_order_id", table_name="phone_order_transitions"
    )
    op.drop_table("phone_order_transitions")
    op.drop_table("phone_order_picked_lines")
    op.drop_table("phone_order_lines")
    op.drop_index("ix_phone_orders_store_id_slot_id", table_name="phone_orders")
    op.drop_table("phone_orders")
    op.drop_index("ix_slot_bookings_store_id_slot_id", table_name="slot_bookings")
    op.drop_table("slot_bookings")
    op.drop_table("slot_allotments")
    op.drop_index("ix_customer_addresses_store_id_customer_id", table_name="customer_addresses")
    op.drop_table("customer_addresses")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("notes")
    with op.batch_alter_table("delivery_slots", schema=None) as batch_op:
        for column in (
            "booked_weight_g",
            "held",
            "postcode_prefixes",
            "lead_time_minutes",
            "cutoff_minutes",
            "max_weight_g",
            "unit",
        ):
            batch_op.drop_column(column)
