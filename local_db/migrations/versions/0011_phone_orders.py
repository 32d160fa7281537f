"""Phone and delivery orders (issue 13): customers gain addresses, notes and a name key for
search; delivery slots gain their rules (unit, weight cap, cut-off, lead time, postcodes) and
the free places the server last announced; this till's slot allotments; its own slot
bookings; phone orders with their ordered and picked lines.

Revision ID: 0011_phone_orders
Revises: 0010_shifts
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_phone_orders"
down_revision = "0010_shifts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("name_key", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("notes", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("updated_at", sa.String(40), nullable=False, server_default=""))
        batch.create_index("ix_customers_name_key", ["name_key"])
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name FROM customers")).fetchall()
    for customer_id, name in rows:  # casefold, as the repository writes it
        bind.execute(
            sa.text("UPDATE customers SET name_key = :key WHERE id = :id"),
            {"key": " ".join(name.split()).casefold(), "id": customer_id},
        )
    op.create_table(
        "customer_addresses",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("line1", sa.String(200), nullable=False),
        sa.Column("line2", sa.String(200), nullable=False),
        sa.Column("postcode", sa.String(32), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_addresses"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_addresses_customer_id_customers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_customer_addresses_customer_id", "customer_addresses", ["customer_id"])
    with op.batch_alter_table("delivery_slots") as batch:
        batch.add_column(sa.Column("unit", sa.String(8), nullable=False, server_default="orders"))
        batch.add_column(sa.Column("max_weight_g", sa.Integer))
        batch.add_column(
            sa.Column("cutoff_minutes", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("lead_time_minutes", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("postcode_prefixes", sa.Text, nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("free", sa.Integer))
    op.create_table(
        "slot_allotments",
        sa.Column("slot_id", sa.String(36), nullable=False),
        sa.Column("allotted_total", sa.Integer, nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("slot_id", name="pk_slot_allotments"),
    )
    op.create_table(
        "slot_bookings",
        sa.Column("booking_id", sa.String(36), nullable=False),
        sa.Column("slot_id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("weight_g", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("booked_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("booking_id", name="pk_slot_bookings"),
    )
    op.create_index("ix_slot_bookings_slot_id", "slot_bookings", ["slot_id"])
    op.create_table(
        "phone_orders",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_no", sa.String(64), nullable=False),
        sa.Column("terminal_code", sa.String(20), nullable=False),
        sa.Column("clerk_id", sa.String(36), nullable=False),
        sa.Column("clerk_name", sa.String(60), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("slot_id", sa.String(36), nullable=False),
        sa.Column("slot_starts_at", sa.String(40), nullable=False),
        sa.Column("slot_ends_at", sa.String(40), nullable=False),
        sa.Column("booking_id", sa.String(36), nullable=False),
        sa.Column("booking_status", sa.String(16), nullable=False),
        sa.Column("moved_from_slot_id", sa.String(36), nullable=False),
        sa.Column("moved_from_starts_at", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("cancel_reason", sa.Text, nullable=False),
        sa.Column("payment_method", sa.String(16), nullable=False),
        sa.Column("payment_status", sa.String(20), nullable=False),
        sa.Column("authorised_amount", sa.Integer, nullable=False),
        sa.Column("captured_amount", sa.Integer, nullable=False),
        sa.Column("estimated_total", sa.Integer, nullable=False),
        sa.Column("actual_total", sa.Integer, nullable=False),
        sa.Column("shortfall", sa.Integer, nullable=False),
        sa.Column("pay_url", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("sync_state", sa.String(16), nullable=False),
        sa.Column("sync_error", sa.Text, nullable=False),
        sa.Column("customer_told", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_phone_orders"),
    )
    op.create_index("ix_phone_orders_slot_id", "phone_orders", ["slot_id"])
    op.create_index("ix_phone_orders_state", "phone_orders", ["state"])
    op.create_table(
        "phone_order_lines",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sold_by", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Integer, nullable=False),
        sa.Column("tax_class", sa.String(32), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer, nullable=False),
        sa.Column("net", sa.Integer, nullable=False),
        sa.Column("substitution", sa.String(16), nullable=False),
        sa.Column("substitute_product_id", sa.String(36), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_phone_order_lines"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["phone_orders.id"],
            name="fk_phone_order_lines_order_id_phone_orders",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "phone_order_picked_lines",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sold_by", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Integer, nullable=False),
        sa.Column("tax_class", sa.String(32), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer, nullable=False),
        sa.Column("net", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_phone_order_picked_lines"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["phone_orders.id"],
            name="fk_phone_order_picked_lines_order_id_phone_orders",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("phone_order_picked_lines")
    op.drop_table("phone_order_lines")
    op.drop_index("ix_phone_orders_state", table_name="phone_orders")
    op.drop_index("ix_phone_orders_slot_id", table_name="phone_orders")
    op.drop_table("phone_orders")
    op.drop_index("ix_slot_bookings_slot_id", table_name="slot_bookings")
    op.drop_table("slot_bookings")
    op.drop_table("slot_allotments")
    with op.batch_alter_table("delivery_slots") as batch:
        for name in (
            "free",
            "postcode_prefixes",
            "lead_time_minutes",
            "cutoff_minutes",
            "max_weight_g",
            "unit",
        ):
            batch.drop_column(name)
    op.drop_index("ix_customer_addresses_customer_id", table_name="customer_addresses")
    op.drop_table("customer_addresses")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("ix_customers_name_key")
        for name in ("updated_at", "notes", "name_key"):
            batch.drop_column(name)
