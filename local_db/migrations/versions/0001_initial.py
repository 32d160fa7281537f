"""Initial schema: catalog, orders, lines, tenders, outbox, sequences, settings.

Revision ID: 0001_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("brand", sa.String(120), nullable=False, server_default=""),
        sa.Column("department", sa.String(120), nullable=False, server_default=""),
        sa.Column("unit_price", sa.Integer, nullable=False),
        sa.Column("tax_class", sa.String(32), nullable=False),
        sa.Column("sold_by", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("stock", sa.Integer, nullable=True),
        sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("sku", name="uq_products_sku"),
    )
    op.create_index("ix_products_department", "products", ["department"])
    op.create_table(
        "product_barcodes",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_product_barcodes"),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], ondelete="CASCADE",
            name="fk_product_barcodes_product_id_products",
        ),
    )
    op.create_index("ix_product_barcodes_product_id", "product_barcodes", ["product_id"])
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("receipt_no", sa.String(40), nullable=False),
        sa.Column("terminal_code", sa.String(16), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("clerk_id", sa.String(36), nullable=False),
        sa.Column("clerk_name", sa.String(60), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False, server_default="counter"),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("paid_at", sa.String(40), nullable=True),
        sa.Column("subtotal", sa.Integer, nullable=False),
        sa.Column("discount_total", sa.Integer, nullable=False),
        sa.Column("tax_total", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("prices_include_tax", sa.Boolean, nullable=False),
        sa.Column("tax_breakdown", sa.Text, nullable=False),
        sa.Column("sync_state", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("sync_error", sa.Text, nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("receipt_no", name="uq_orders_receipt_no"),
    )
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_index("ix_orders_sync_state", "orders", ["sync_state"])
    op.create_index(
        "ix_orders_terminal_sequence", "orders", ["terminal_code", "sequence"], unique=True
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("product_id", sa.String(36), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sold_by", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Integer, nullable=False),
        sa.Column("gross", sa.Integer, nullable=False),
        sa.Column("line_discount", sa.Integer, nullable=False),
        sa.Column("order_discount_share", sa.Integer, nullable=False),
        sa.Column("net", sa.Integer, nullable=False),
        sa.Column("tax_class", sa.String(32), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer, nullable=False),
        sa.Column("discount_reason", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_order_lines"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], ondelete="CASCADE",
            name="fk_order_lines_order_id_orders",
        ),
    )
    op.create_table(
        "tenders",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("tendered", sa.Integer, nullable=False),
        sa.Column("change", sa.Integer, nullable=False),
        sa.Column("reference", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("order_id", "seq", name="pk_tenders"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], ondelete="CASCADE", name="fk_tenders_order_id_orders"
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("acked_at", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_state", "outbox", ["state"])
    op.create_table(
        "sequences",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sequences"),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )


def downgrade() -> None:
    for table in (
        "settings", "sequences", "outbox", "tenders", "order_lines", "orders",
        "product_barcodes", "products",
    ):
        op.drop_table(table)
