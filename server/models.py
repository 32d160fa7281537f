"""The server's tables: typed SQLAlchemy 2.0 declarative models (PostgreSQL, or SQLite)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL, JSON (text) on SQLite.
Document = JSON().with_variant(JSONB(), "postgresql")
# BIGINT that still autoincrements on SQLite (only INTEGER PRIMARY KEY does there).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC on either database: aware datetimes in, aware UTC datetimes out.

    PostgreSQL keeps ``timestamptz`` and answers in the session's time zone; SQLite keeps
    text without an offset and answers naive datetimes. Both are stored as UTC and read back
    with ``tzinfo=UTC``, so a value from the database compares with ``datetime.now(UTC)`` and
    goes on the wire with its offset. A naive datetime is refused: its zone is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the server keeps UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: stored as UTC without the offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Timestamp = UtcDateTime()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Store(Base):
    __tablename__ = "stores"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    # IANA zone of the store's local dates and hours in reports (migration 0012)
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Europe/Dublin", server_default="Europe/Dublin"
    )
    # a card-link phone order is authorised for its estimate plus this share (migration 0010)
    authorisation_headroom_bp: Mapped[int] = mapped_column(Integer, default=1500)


class Terminal(Base):
    __tablename__ = "terminals"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class EnrollmentCode(Base):
    __tablename__ = "enrollment_codes"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    terminal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("terminals.id"))


class Clerk(Base):
    __tablename__ = "clerks"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Customer(Base):
    """A store's customer; ``id`` is the till's and names a customer within its store only
    (migration 0009): another store may hold a customer under the same id."""

    __tablename__ = "customers"
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    notes: Mapped[str] = mapped_column(String(1000), default="", server_default="")  # 0011

    __table_args__ = (PrimaryKeyConstraint("store_id", "id"),)


class DeliverySlot(Base):
    __tablename__ = "delivery_slots"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(Timestamp)
    ends_at: Mapped[datetime] = mapped_column(Timestamp)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its rules and running totals (migration 0011; server/delivery/slots.py): ``held`` is
    # the sum over terminals of allotted_total - used, so a booking outside any allotment
    # fits while booked + held + units <= capacity.
    unit: Mapped[str] = mapped_column(String(8), default="orders", server_default="orders")
    max_weight_g: Mapped[int | None] = mapped_column(Integer)
    cutoff_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lead_time_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    postcode_prefixes: Mapped[list[str]] = mapped_column(
        Document, default=list, server_default="[]"
    )
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    booked_weight_g: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Product(Base):
    """The catalog when it lives in SQL: the whole document in ``document`` (JSONB)."""

    __tablename__ = "products"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    document: Mapped[dict[str, Any]] = mapped_column(Document)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class ProductBarcode(Base):
    __tablename__ = "product_barcodes"
    barcode: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )


class StockLevel(Base):
    __tablename__ = "stock_levels"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)


class CatalogIntent(Base):
    """A catalog write to a separate store (MongoDB) about to happen (server/admin/service.py).

    Committed before the write, deleted in the transaction that announces the products in
    the change log; one left behind (the process died in between) is announced later by
    ``admin.announce_leftover_catalog_writes``, so no catalog change is ever skipped."""

    __tablename__ = "catalog_intents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_ids: Mapped[list[str]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class RateBucket(Base):
    """A terminal's request budget, shared by every worker (server/ratelimit.py).

    UNLOGGED on PostgreSQL (migration 0005): no WAL per request; after a database crash the
    buckets simply start full again. Times are seconds since the epoch."""

    __tablename__ = "rate_buckets"
    terminal_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    allowed: Mapped[bool] = mapped_column(Boolean)  # the last request's answer


class SyncEvent(Base):
    """Every accepted (or conflicting) event id: the idempotency record of the push."""

    __tablename__ = "sync_events"
    # An event id is the store's: another store's terminal may send the same id and learns
    # nothing from the answer (migration 0008).
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    type: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The event's JSON as received (server/sync/push.py): a byte-identical replay is answered
    # from this record before any parsing. NULL for events stored before migration 0004.
    raw_hash: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Order(Base):
    """An order pushed by a till. Order (and refund, payment, customer) ids are each store's
    own namespace (migration 0009): the key is ``(store_id, id)``, so another store's order
    under the same id is neither in the way nor visible, and every lookup names the store."""

    __tablename__ = "orders"
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    content_hash: Mapped[str] = mapped_column(String(64))
    receipt_no: Mapped[str] = mapped_column(String(64))
    terminal_code: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(BigInteger)
    clerk_id: Mapped[str] = mapped_column(String(64))
    clerk_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    paid_at: Mapped[datetime] = mapped_column(Timestamp)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    discount_total: Mapped[int] = mapped_column(BigInteger)
    tax_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    customer: Mapped[dict[str, Any] | None] = mapped_column(Document)
    tax: Mapped[list[dict[str, Any]]] = mapped_column(Document)
    voided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    refunded_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the till's shift (0012)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),
        Index("ix_orders_store_id_paid_at", "store_id", "paid_at"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sold_by: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    gross: Mapped[int] = mapped_column(BigInteger)
    line_discount: Mapped[int] = mapped_column(BigInteger)
    order_discount_share: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    tax_class: Mapped[str] = mapped_column(String(64))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    discount_reason: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "order_id"], ["orders.store_id", "orders.id"], ondelete="CASCADE"
        ),
    )


class Tender(Base):
    __tablename__ = "tenders"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    tendered: Mapped[int] = mapped_column(BigInteger)
    change: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "order_id"], ["orders.store_id", "orders.id"], ondelete="CASCADE"
        ),
    )


class OrderRefund(Base):
    """A refund made at a till (``order.refunded``); ``id`` is the till's refund_id (the
    same id as the card part's ``payment_refunds`` row, if it has one)."""

    __tablename__ = "order_refunds"
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    amount: Mapped[int] = mapped_column(BigInteger)
    cash_amount: Mapped[int] = mapped_column(BigInteger)
    card_amount: Mapped[int] = mapped_column(BigInteger)
    card_payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(String(200))
    clerk_id: Mapped[str] = mapped_column(String(64))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(Document)
    refunded_at: Mapped[datetime] = mapped_column(Timestamp)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),
        ForeignKeyConstraint(["store_id", "order_id"], ["orders.store_id", "orders.id"]),
        UniqueConstraint("store_id", "event_id"),
    )


class Flag(Base):
    """Something a manager should look at: price mismatch, oversold stock, unknown product."""

    __tablename__ = "flags"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    product_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (Index("ix_flags_store_id_id", "store_id", "id"),)


class SyncConflict(Base):
    """An event id pushed again with different content: recorded, never applied."""

    __tablename__ = "sync_conflicts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    stored_hash: Mapped[str] = mapped_column(String(64))
    received_hash: Mapped[str] = mapped_column(String(64))
    received: Mapped[dict[str, Any]] = mapped_column(Document)
    detected_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (UniqueConstraint("store_id", "event_id", "received_hash"),)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    detail: Mapped[dict[str, Any]] = mapped_column(Document)


class ChangeEntry(Base):
    """What terminals pull: one row per change, written in the changing transaction.

    ``txid`` is the writing transaction's id (PostgreSQL ``pg_current_xact_id()``; 0 on
    SQLite, whose single writer commits in id order). Readers page by ``(txid, id)`` and
    never go past the oldest transaction still in flight, so no commit is ever skipped.
    """

    __tablename__ = "change_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # None: every store (catalog)
    kind: Mapped[str] = mapped_column(String(16))
    entity_key: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_change_log_txid_id", "txid", "id"),)


class Payment(Base):
    """One card payment attempt for an order, backed by exactly one Stripe PaymentIntent.

    ``id`` is the terminal's payment_id (the idempotency key of ``POST /payments``);
    ``(store_id, order_id, attempt)`` is unique, and the PaymentIntent is created by whoever
    holds the ``creating_until`` lease, after looking it up at Stripe when an earlier try may
    have created it already. Card data never comes here: only Stripe's ids and outcomes.
    """

    __tablename__ = "payments"
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    attempt: Mapped[int] = mapped_column(Integer)
    request_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    order_summary: Mapped[dict[str, Any] | None] = mapped_column(Document)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(255))
    gateway_tries: Mapped[int] = mapped_column(Integer, default=0)
    creating_until: Mapped[datetime | None] = mapped_column(Timestamp)
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    decline_code: Mapped[str | None] = mapped_column(String(64))
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str | None] = mapped_column(String(500))
    pay_token: Mapped[str] = mapped_column(String(64), unique=True)
    pay_token_expires_at: Mapped[datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    succeeded_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # "manual": a phone order's authorisation, captured after picking (migration 0010)
    capture_method: Mapped[str] = mapped_column(String(16), default="automatic")
    amount_capturable: Mapped[int] = mapped_column(BigInteger, default=0)
    captured_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),  # a payment id is the store's (0009)
        UniqueConstraint("store_id", "order_id", "attempt"),  # per store (migration 0008)
    )


class PaymentRefund(Base):
    """A refund of (part of) a card payment; ``id`` is the terminal's refund_id."""

    __tablename__ = "payment_refunds"
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    gateway_tries: Mapped[int] = mapped_column(Integer, default=0)
    creating_until: Mapped[datetime | None] = mapped_column(Timestamp)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),
        ForeignKeyConstraint(["store_id", "payment_id"], ["payments.store_id", "payments.id"]),
    )


class PhoneOrderPayment(Base):
    """The card side of a card-link phone order (migration 0010): its manual-capture
    authorisation (a ``payments`` row), an optional top-up payment, the actual total after
    picking, the shortfall staff decided on, and whether the order was cancelled."""

    __tablename__ = "phone_order_payments"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    order_no: Mapped[str] = mapped_column(String(32))
    customer_email: Mapped[str] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3))
    estimated_total: Mapped[int] = mapped_column(BigInteger)
    authorised_amount: Mapped[int] = mapped_column(BigInteger)
    authorisation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    top_up_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    actual_total: Mapped[int | None] = mapped_column(BigInteger)
    shortfall: Mapped[int] = mapped_column(BigInteger, default=0)
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    decision: Mapped[str | None] = mapped_column(String(20))
    capture_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[dict[str, Any] | None] = mapped_column(Document)
    picked: Mapped[dict[str, Any] | None] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (PrimaryKeyConstraint("store_id", "order_id"),)


class StripeEvent(Base):
    """Each webhook event id, recorded once in the transaction that applies it."""

    __tablename__ = "stripe_events"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class MailOutbox(Base):
    """An e-mail to send, written in the transaction of the event that causes it.

    status: queued → sending → sent; failed (permanent error, or out of attempts);
    unknown (the dispatcher stopped while SES had the message: it may have been sent, so it
    is never re-sent on its own — a manager decides with ``shopsmart-server mail retry``).
    ``claimed`` is the state between claim and the SES call, safe to hand out again.
    """

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(String)
    html_body: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(Timestamp)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)


class CustomerAddress(Base):
    """One of a customer's delivery addresses (``position`` keeps the till's order)."""

    __tablename__ = "customer_addresses"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(32))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    notes: Mapped[str] = mapped_column(String(500))

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),
        ForeignKeyConstraint(
            ["store_id", "customer_id"],
            ["customers.store_id", "customers.id"],
            ondelete="CASCADE",
        ),
        Index("ix_customer_addresses_store_id_customer_id", "store_id", "customer_id"),
    )


class SlotAllotment(Base):
    """A terminal's share of a slot: the server honours firm bookings up to
    ``allotted_total`` units in all, ``used`` of them are booked; ``announced_total`` is the
    value last sent to the terminal (lower than allotted_total while a lowering waits for the
    terminal to have seen it), announced by the change at cursor ``granted_change_pos``
    (server/delivery/allotments.py)."""

    __tablename__ = "slot_allotments"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_slots.id"), primary_key=True)
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"), primary_key=True)
    allotted_total: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer)
    announced_total: Mapped[int] = mapped_column(Integer)
    granted_change_pos: Mapped[str] = mapped_column(String(40))


class SlotBooking(Base):
    """A booking of a slot: from a till's push (``source`` terminal) or the online endpoint
    (web). ``allotted``: it used its terminal's allotment (a firm booking)."""

    __tablename__ = "slot_bookings"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_slots.id"))
    requested_slot_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    terminal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    units: Mapped[int] = mapped_column(Integer)
    weight_g: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    allotted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(8))
    booked_at: Mapped[datetime] = mapped_column(Timestamp)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "booking_id"),
        Index("ix_slot_bookings_store_id_slot_id", "store_id", "slot_id"),
    )


class PhoneOrder(Base):
    """A phone or delivery order taken at a till (``phone_order.placed``), keyed by store.

    ``state`` and ``version`` change with each accepted transition; the card payment, if
    any, is its ``phone_order_payments`` row."""

    __tablename__ = "phone_orders"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    terminal_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    order_no: Mapped[str] = mapped_column(String(64))
    terminal_code: Mapped[str] = mapped_column(String(64))
    clerk_id: Mapped[str] = mapped_column(String(64))
    clerk_name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    customer: Mapped[dict[str, Any]] = mapped_column(Document)
    address: Mapped[dict[str, Any]] = mapped_column(Document)
    customer_email: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(String(1000))
    slot_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    booking_status: Mapped[str] = mapped_column(String(16))
    moved_from_slot_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    cancel_reason: Mapped[str] = mapped_column(String(200))
    payment_method: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    estimated_subtotal: Mapped[int] = mapped_column(BigInteger)
    estimated_tax_total: Mapped[int] = mapped_column(BigInteger)
    estimated_total: Mapped[int] = mapped_column(BigInteger)
    actual_subtotal: Mapped[int] = mapped_column(BigInteger)
    actual_tax_total: Mapped[int] = mapped_column(BigInteger)
    actual_total: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),
        Index("ix_phone_orders_store_id_slot_id", "store_id", "slot_id"),
    )


class PhoneOrderLine(Base):
    __tablename__ = "phone_order_lines"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sold_by: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_class: Mapped[str] = mapped_column(String(64))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    net: Mapped[int] = mapped_column(BigInteger)
    substitution: Mapped[str] = mapped_column(String(16))
    substitute_product_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500))

    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["phone_orders.store_id", "phone_orders.id"],
            ondelete="CASCADE",
        ),
    )


class PhoneOrderPickedLine(Base):
    __tablename__ = "phone_order_picked_lines"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sold_by: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_class: Mapped[str] = mapped_column(String(64))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    net: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["phone_orders.store_id", "phone_orders.id"],
            ondelete="CASCADE",
        ),
    )


class PhoneOrderTransition(Base):
    """Each transition a till asked for, with its outcome (accepted or the refusal)."""

    __tablename__ = "phone_order_transitions"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    transition_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    terminal_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200))
    clerk_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(Timestamp)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "transition_id"),
        ForeignKeyConstraint(
            ["store_id", "order_id"],
            ["phone_orders.store_id", "phone_orders.id"],
            ondelete="CASCADE",
        ),
        Index("ix_phone_order_transitions_store_id_order_id", "store_id", "order_id"),
    )


# --------------------------------------------------------------------------- issue 14 (0012)
# Shifts, Z reports, manager sessions and the report summaries (server/shifts/,
# server/reports/; migration 0012). Every table is keyed by store.


class Shift(Base):
    """A till's shift as its ``shift.opened`` event told it; closed by its Z report."""

    __tablename__ = "shifts"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    terminal_code: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(Timestamp)
    opened_by: Mapped[str] = mapped_column(String(64))
    float_amount: Mapped[int] = mapped_column(BigInteger)
    float_count: Mapped[dict[str, Any]] = mapped_column(Document)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),
        Index(
            "ix_shifts_store_id_terminal_code_opened_at", "store_id", "terminal_code", "opened_at"
        ),
    )


class CashMovement(Base):
    """Paid in, paid out or a no-sale drawer open during a shift (``cash.moved``)."""

    __tablename__ = "cash_movements"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    shift_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    clerk_id: Mapped[str] = mapped_column(String(64))
    approval_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(Timestamp)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "id"),
        Index("ix_cash_movements_store_id_shift_id", "store_id", "shift_id"),
    )


class ZReportRow(Base):
    """One Z report per (store, terminal, z_number): provisional, then final. A final row is
    never changed: a later event for it is a duplicate if identical, else a conflict."""

    __tablename__ = "z_reports"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    terminal_code: Mapped[str] = mapped_column(String(64))
    z_number: Mapped[int] = mapped_column(BigInteger)
    shift_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    status: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime] = mapped_column(Timestamp)
    closed_by: Mapped[str] = mapped_column(String(64))
    counted: Mapped[dict[str, Any]] = mapped_column(Document)
    counted_total: Mapped[int] = mapped_column(BigInteger)
    expected_cash: Mapped[int] = mapped_column(BigInteger)
    difference: Mapped[int] = mapped_column(BigInteger)
    net_sales: Mapped[int] = mapped_column(BigInteger)
    figures: Mapped[dict[str, Any]] = mapped_column(Document)
    waiting: Mapped[list[Any]] = mapped_column(Document)
    synced_after_close: Mapped[list[Any]] = mapped_column(Document)
    finalised_at: Mapped[datetime | None] = mapped_column(Timestamp)
    content_hash: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("store_id", "terminal_code", "z_number"),
        UniqueConstraint("store_id", "shift_id"),
        Index("ix_z_reports_store_id_closed_at", "store_id", "closed_at"),
    )


class ManagerSession(Base):
    """A manager signed in for reports (15 minutes); only the token's hash is kept."""

    __tablename__ = "manager_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"))
    clerk_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class ManagerPinFailure(Base):
    """Wrong PINs in a row at the manager sign-in; 5 lock the clerk out for 5 minutes."""

    __tablename__ = "manager_pin_failures"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    clerk_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(Timestamp)


def _sum_column() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0")


class ReportSales(Base):
    """Sales summed per store, local date and hour, terminal and clerk, written by the push
    in the transaction of the order, void or refund it sums (server/reports/summaries.py)."""

    __tablename__ = "report_sales"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    local_hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    clerk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    clerk_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    orders: Mapped[int] = _sum_column()
    gross: Mapped[int] = _sum_column()
    discounts: Mapped[int] = _sum_column()
    sales: Mapped[int] = _sum_column()
    tax: Mapped[int] = _sum_column()
    discounted_orders: Mapped[int] = _sum_column()
    refunds_count: Mapped[int] = _sum_column()
    refunds: Mapped[int] = _sum_column()
    voids_count: Mapped[int] = _sum_column()
    voids: Mapped[int] = _sum_column()


class ReportTenders(Base):
    """Tenders taken and refunded per store, local date, terminal and tender kind."""

    __tablename__ = "report_tenders"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    terminal_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = _sum_column()
    amount: Mapped[int] = _sum_column()
    refunds: Mapped[int] = _sum_column()


class ReportProducts(Base):
    """Lines sold per store, local date, terminal and product (``product_key`` empty for
    open-price items); the department is the catalog's when the line was pushed."""

    __tablename__ = "report_products"
    __table_args__ = (  # one till's rows (a report with a terminal), migration 0014
        Index(
            "ix_report_products_store_id_terminal_code_local_date",
            "store_id",
            "terminal_code",
            "local_date",
        ),
    )
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    terminal_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), default="", server_default="")
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    department: Mapped[str] = mapped_column(String(200), default="", server_default="")
    lines: Mapped[int] = _sum_column()
    quantity: Mapped[int] = _sum_column()
    net: Mapped[int] = _sum_column()


class ReportProductDays(Base):
    """``report_products`` without the terminal: lines sold per store, local date and product,
    read by the departments and products reports when no terminal is asked for."""

    __tablename__ = "report_product_days"
    store_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    product_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), default="", server_default="")
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    department: Mapped[str] = mapped_column(String(200), default="", server_default="")
    lines: Mapped[int] = _sum_column()
    quantity: Mapped[int] = _sum_column()
    net: Mapped[int] = _sum_column()


class TerminalActivity(Base):
    """A terminal's last push and how many of its events the server refused."""

    __tablename__ = "terminal_activity"
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    terminal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("terminals.id"), primary_key=True)
    last_push_at: Mapped[datetime | None] = mapped_column(Timestamp)
    refused: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
