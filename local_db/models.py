"""Typed SQLAlchemy models of the terminal's SQLite store (schema owned by Alembic)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProductRow(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # lower-cased, for prefixes
    brand: Mapped[str] = mapped_column(String(120), default="")
    department: Mapped[str] = mapped_column(String(120), default="", index=True)
    unit_price: Mapped[int] = mapped_column(Integer)
    tax_class: Mapped[str] = mapped_column(String(32))
    sold_by: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)  # tombstone from the server
    attributes: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[str] = mapped_column(String(40))


class BarcodeRow(Base):
    __tablename__ = "product_barcodes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    terminal_code: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    clerk_id: Mapped[str] = mapped_column(String(36))
    clerk_name: Mapped[str] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12), default="counter")
    created_at: Mapped[str] = mapped_column(String(40), index=True)
    paid_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    subtotal: Mapped[int] = mapped_column(Integer)
    discount_total: Mapped[int] = mapped_column(Integer)
    tax_total: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean)
    tax_breakdown: Mapped[str] = mapped_column(Text)  # JSON list of per-class entries
    sync_state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    sync_error: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    refunded_total: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_orders_terminal_sequence", "terminal_code", "sequence", unique=True),
    )


class OrderLineRow(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(36))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sold_by: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    gross: Mapped[int] = mapped_column(Integer)
    line_discount: Mapped[int] = mapped_column(Integer)
    order_discount_share: Mapped[int] = mapped_column(Integer)
    net: Mapped[int] = mapped_column(Integer)
    tax_class: Mapped[str] = mapped_column(String(32))
    tax_rate_bp: Mapped[int] = mapped_column(Integer)
    discount_reason: Mapped[str] = mapped_column(Text, default="")


class TenderRow(Base):
    __tablename__ = "tenders"

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    tendered: Mapped[int] = mapped_column(Integer)
    change: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(Text, default="")


class OutboxRow(Base):
    """One event waiting for (or done with) the server, in the order it happened."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    acked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class SequenceRow(Base):
    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class SettingRow(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ClerkRow(Base):
    __tablename__ = "clerks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(12))
    pin_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ParkedSaleRow(Base):
    __tablename__ = "parked_sales"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    clerk_id: Mapped[str] = mapped_column(String(36))
    parked_at: Mapped[str] = mapped_column(String(40))
    total: Mapped[int] = mapped_column(Integer)
    cart: Mapped[str] = mapped_column(Text)  # JSON of the cart


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="", index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class DeliverySlotRow(Base):
    __tablename__ = "delivery_slots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    starts_at: Mapped[str] = mapped_column(String(40), index=True)
    ends_at: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40), index=True)
    clerk_id: Mapped[str] = mapped_column(String(36))
    clerk_name: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)


class CardAttemptRow(Base):
    __tablename__ = "card_attempts"

    payment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    clerk_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[str] = mapped_column(String(40))
    pay_url: Mapped[str] = mapped_column(Text, default="")
    cart: Mapped[str] = mapped_column(Text)


class RefundRow(Base):
    """A refund of (part of) an order; ``id`` is also the refund_id at the payment service."""

    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    card_amount: Mapped[int] = mapped_column(Integer)
    cash_amount: Mapped[int] = mapped_column(Integer)
    card_payment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    lines: Mapped[str] = mapped_column(Text)  # JSON [[line_no, quantity], ...]
    clerk_id: Mapped[str] = mapped_column(String(36))
    clerk_name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[str] = mapped_column(String(40))
    refunded_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    failure: Mapped[str] = mapped_column(Text, default="")
