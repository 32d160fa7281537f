"""The terminal's SQLite schema as SQLAlchemy Core tables (the schema is owned by Alembic).

Core ``Table`` objects, not ORM classes: the till reads and writes through Core statements and
plain SQL only, and importing ``sqlalchemy.orm`` to declare these tables cost ~6 MB of the
register's resident memory at start-up (docs/ui.md, start-up memory). ``nullable=False``
marks what the former ``Mapped[...]`` annotations without ``None`` did.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

PRODUCTS = Table(
    "products",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sku", String(64), unique=True, nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), index=True, nullable=False),  # lower-cased, for prefixes
    Column("brand", String(120), default="", nullable=False),
    Column("department", String(120), default="", index=True, nullable=False),
    Column("unit_price", Integer, nullable=False),
    Column("tax_class", String(32), nullable=False),
    Column("sold_by", String(8), nullable=False),
    Column("active", Boolean, default=True, nullable=False),
    Column("stock", Integer),
    Column("deleted", Boolean, default=False, nullable=False),  # tombstone from the server
    Column("attributes", Text, default="{}", nullable=False),
    Column("updated_at", String(40), nullable=False),
)

BARCODES = Table(
    "product_barcodes",
    metadata,
    Column("code", String(32), primary_key=True),
    Column(
        "product_id",
        String(36),
        ForeignKey("products.id", ondelete="CASCADE"),
        index=True,
        nullable=False,
    ),
)

ORDERS = Table(
    "orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("receipt_no", String(40), unique=True, nullable=False),
    Column("terminal_code", String(16), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("clerk_id", String(36), nullable=False),
    Column("clerk_name", String(60), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(12), nullable=False),
    Column("kind", String(12), default="counter", nullable=False),
    Column("created_at", String(40), index=True, nullable=False),
    Column("paid_at", String(40)),
    Column("subtotal", Integer, nullable=False),
    Column("discount_total", Integer, nullable=False),
    Column("tax_total", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("prices_include_tax", Boolean, nullable=False),
    Column("tax_breakdown", Text, nullable=False),  # JSON list of per-class entries
    Column("sync_state", String(16), default="queued", index=True, nullable=False),
    Column("sync_error", Text, default="", nullable=False),
    Column("note", Text, default="", nullable=False),
    Column("refunded_total", Integer, default=0, nullable=False),
    Column("shift_id", String(36), index=True),  # the shift open when it was paid (0010)
    Index("ix_orders_terminal_sequence", "terminal_code", "sequence", unique=True),
)

LINES = Table(
    "order_lines",
    metadata,
    Column("order_id", String(36), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("product_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("sold_by", String(8), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Integer, nullable=False),
    Column("gross", Integer, nullable=False),
    Column("line_discount", Integer, nullable=False),
    Column("order_discount_share", Integer, nullable=False),
    Column("net", Integer, nullable=False),
    Column("tax_class", String(32), nullable=False),
    Column("tax_rate_bp", Integer, nullable=False),
    Column("discount_reason", Text, default="", nullable=False),
)

TENDERS = Table(
    "tenders",
    metadata,
    Column("order_id", String(36), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("tendered", Integer, nullable=False),
    Column("change", Integer, nullable=False),
    Column("reference", Text, default="", nullable=False),
)

# One event waiting for (or done with) the server, in the order it happened.
OUTBOX = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), unique=True, nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("state", String(16), default="pending", index=True, nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
    Column("last_error", Text, default="", nullable=False),
    Column("acked_at", String(40)),
)

SEQUENCES = Table(
    "sequences",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

SETTINGS = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

CLERKS = Table(
    "clerks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("role", String(12), nullable=False),
    Column("pin_hash", Text, nullable=False),
    Column("active", Boolean, default=True, nullable=False),
    Column("failed_attempts", Integer, default=0, nullable=False),
    Column("locked_until", String(40)),
    Column("updated_at", String(40)),  # the last change (clerk.saved or pulled): newest wins
)

PARKED = Table(
    "parked_sales",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("label", String(80), nullable=False),
    Column("clerk_id", String(36), nullable=False),
    Column("parked_at", String(40), nullable=False),
    Column("total", Integer, nullable=False),
    Column("cart", Text, nullable=False),  # JSON of the cart
)

CUSTOMERS = Table(
    "customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("phone", String(40), default="", index=True, nullable=False),
    Column("email", String(200), default="", nullable=False),
    Column("deleted", Boolean, default=False, nullable=False),
    # Migration 0011 (phone orders): the name casefolded, for search by its start; notes;
    # the newest change (a pulled one older than this till's own does not overwrite it).
    Column("name_key", String(120), index=True, default="", nullable=False),
    Column("notes", Text, default="", nullable=False),
    Column("updated_at", String(40), default="", nullable=False),
)

SLOTS = Table(
    "delivery_slots",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("starts_at", String(40), index=True, nullable=False),
    Column("ends_at", String(40), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("booked", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    # Migration 0011: the slot's rules, and the free places the server last announced (less
    # this till's own provisional bookings since); NULL: capacity - booked.
    Column("unit", String(8), default="orders", nullable=False),
    Column("max_weight_g", Integer),
    Column("cutoff_minutes", Integer, default=0, nullable=False),
    Column("lead_time_minutes", Integer, default=0, nullable=False),
    Column("postcode_prefixes", Text, default="[]", nullable=False),  # JSON list
    Column("free", Integer),
)

AUDIT = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), index=True, nullable=False),
    Column("clerk_id", String(36), nullable=False),
    Column("clerk_name", String(60), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("detail", Text, nullable=False),
)

# A manager's approval (app.domain.approval): granted for one action on one subject, used once.
APPROVALS = Table(
    "approvals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("action", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("asked_by", String(36), nullable=False),
    Column("approved_by", String(36), nullable=False),
    Column("terminal_code", String(20), nullable=False),
    Column("at", String(40), nullable=False),
    Column("used_at", String(40)),
)

CARD_ATTEMPTS = Table(
    "card_attempts",
    metadata,
    Column("payment_id", String(36), primary_key=True),
    Column("order_id", String(36), index=True, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("status", String(20), index=True, nullable=False),
    Column("clerk_id", String(36), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("pay_url", Text, default="", nullable=False),
    Column("cart", Text, nullable=False),
)

# A refund of (part of) an order; ``id`` is also the refund_id at the payment service.
REFUNDS = Table(
    "refunds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), ForeignKey("orders.id"), index=True, nullable=False),
    Column("state", String(12), index=True, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("card_amount", Integer, nullable=False),
    Column("cash_amount", Integer, nullable=False),
    Column("card_payment_id", String(36)),
    Column("reason", Text, nullable=False),
    Column("lines", Text, nullable=False),  # JSON [[line_no, quantity], ...]
    Column("clerk_id", String(36), nullable=False),
    Column("clerk_name", String(60), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("refunded_at", String(40)),
    Column("failure", Text, default="", nullable=False),
)

# A pulled row the till could not apply (a bad barcode, a barcode another product holds, a
# timestamp without a zone...), kept aside with the reason until a corrected version of the
# same (kind, key) arrives, or its tombstone. The pull's cursor moves past it all the same.
UNUSABLE_ROWS = Table(
    "unusable_rows",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("seen_at", String(40), nullable=False),
)

# A shift of this terminal's drawer (app.domain.shift), its paid in/out and no-sales, and its
# Z report (migration 0010: triggers keep a final Z unchanged and the Z numbers gap-free).
SHIFTS = Table(
    "shifts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("terminal_code", String(16), nullable=False),
    Column("opened_at", String(40), nullable=False),
    Column("opened_by", String(36), nullable=False),
    Column("opened_by_name", String(60), default="", nullable=False),
    Column("currency", String(3), nullable=False),
    Column("float_count", Text, nullable=False),  # JSON {denomination: pieces}
    Column("state", String(12), index=True, nullable=False),
    Column("closed_at", String(40)),
    Column("closed_by", String(36)),
)

CASH_MOVEMENTS = Table(
    "cash_movements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("shift_id", String(36), ForeignKey("shifts.id"), index=True, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("clerk_id", String(36), nullable=False),
    Column("approval_id", String(36)),
    Column("at", String(40), nullable=False),
)

Z_REPORTS = Table(
    "z_reports",
    metadata,
    Column("shift_id", String(36), ForeignKey("shifts.id"), primary_key=True),
    Column("terminal_code", String(16), nullable=False),
    Column("z_number", Integer, nullable=False),
    Column("status", String(12), index=True, nullable=False),
    Column("closed_at", String(40), nullable=False),
    Column("finalised_at", String(40)),
    Column("counted_total", Integer, nullable=False),
    Column("expected_cash", Integer, nullable=False),
    Column("report", Text, nullable=False),  # the whole ZReport as JSON
    UniqueConstraint("terminal_code", "z_number"),
)
