"""Rows ↔ domain objects (plain functions, no ORM identity: the UI gets frozen dataclasses)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.domain.cart import Cart, CartLine, Discount, DiscountKind, TaxBreakdownEntry
from app.domain.clerk import Clerk, Role
from app.domain.order import (
    Order,
    OrderLine,
    OrderStatus,
    SyncState,
    Tender,
    TenderKind,
    line_fields,
    order_fields,
    tender_fields,
)
from app.domain.product import Product, SoldBy


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def product_from_row(row: Any, barcodes: tuple[str, ...]) -> Product:
    """Rows were validated when written, so they are not checked again on every read."""
    return Product.from_store(
        id=row.id,
        sku=row.sku,
        name=row.name,
        brand=row.brand,
        department=row.department,
        unit_price=row.unit_price,
        tax_class=row.tax_class,
        sold_by=SoldBy(row.sold_by),
        active=bool(row.active),
        stock=row.stock,
        barcodes=barcodes,
        attributes=json.loads(row.attributes) if row.attributes not in ("", "{}") else {},
    )


def product_values(product: Product, updated_at: str) -> dict[str, Any]:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "name_key": product.name.casefold(),
        "brand": product.brand,
        "department": product.department,
        "unit_price": product.unit_price,
        "tax_class": product.tax_class,
        "sold_by": product.sold_by.value,
        "active": product.active,
        "stock": product.stock,
        "deleted": False,
        "attributes": json.dumps(product.attributes, sort_keys=True),
        "updated_at": updated_at,
    }


def order_values(order: Order) -> dict[str, Any]:
    return {
        **order_fields(order),
        "tax_breakdown": json.dumps(
            [[e.tax_class, e.label, e.rate_bp, e.taxable, e.tax] for e in order.tax]
        ),
        "sync_state": order.sync_state.value,
        "sync_error": order.sync_error,
        "note": order.note,
        "refunded_total": order.refunded_total,
        "shift_id": order.shift_id,
    }


def line_values(order_id: str, line: OrderLine) -> dict[str, Any]:
    """A line row is the line as the protocol carries it, plus its order id."""
    return {"order_id": order_id, **line_fields(line)}


def tender_values(order_id: str, seq: int, tender: Tender) -> dict[str, Any]:
    return {"order_id": order_id, "seq": seq, **tender_fields(tender)}


def order_from_rows(row: Any, lines: list[Any], tenders: list[Any]) -> Order:
    return Order(
        id=row.id,
        receipt_no=row.receipt_no,
        terminal_code=row.terminal_code,
        sequence=row.sequence,
        clerk_id=row.clerk_id,
        clerk_name=row.clerk_name,
        currency=row.currency,
        status=OrderStatus(row.status),
        created_at=datetime.fromisoformat(row.created_at),
        paid_at=from_iso(row.paid_at),
        lines=tuple(
            OrderLine(
                line_no=ln.line_no,
                product_id=ln.product_id,
                sku=ln.sku,
                name=ln.name,
                sold_by=SoldBy(ln.sold_by),
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                gross=ln.gross,
                line_discount=ln.line_discount,
                order_discount_share=ln.order_discount_share,
                net=ln.net,
                tax_class=ln.tax_class,
                tax_rate_bp=ln.tax_rate_bp,
                discount_reason=ln.discount_reason,
            )
            for ln in lines
        ),
        tenders=tuple(
            Tender(TenderKind(t.kind), t.amount, t.tendered, t.change, t.reference) for t in tenders
        ),
        tax=tuple(TaxBreakdownEntry(*entry) for entry in json.loads(row.tax_breakdown)),
        subtotal=row.subtotal,
        discount_total=row.discount_total,
        tax_total=row.tax_total,
        total=row.total,
        prices_include_tax=bool(row.prices_include_tax),
        sync_state=SyncState(row.sync_state),
        sync_error=row.sync_error,
        note=row.note,
        extra={"kind": row.kind},
        refunded_total=row.refunded_total,
        shift_id=row.shift_id,
    )


def cart_to_json(cart: Cart) -> str:
    def discount(d: Discount | None) -> list[Any] | None:
        if d is None:
            return None
        if d.approver_id:
            return [d.kind.value, d.value, d.reason, d.approver_id, d.approver_name]
        return [d.kind.value, d.value, d.reason]

    def line(ln: CartLine) -> dict[str, Any]:
        row = {
            "line_id": ln.line_id,
            "product_id": ln.product_id,
            "sku": ln.sku,
            "name": ln.name,
            "unit_price": ln.unit_price,
            "tax_class": ln.tax_class,
            "sold_by": ln.sold_by.value,
            "quantity": ln.quantity,
            "discount": discount(ln.discount),
        }
        if ln.approver_id:  # an open price a manager approved
            row["approver"] = [ln.approver_id, ln.approver_name]
        return row

    return json.dumps(
        {
            "currency": cart.currency,
            "next_line_id": cart.next_line_id,
            "order_id": cart.order_id,
            "order_discount": discount(cart.order_discount),
            "lines": [line(ln) for ln in cart.lines],
        }
    )


def cart_from_json(text: str) -> Cart:
    data = json.loads(text)

    def discount(raw: list[Any] | None) -> Discount | None:
        """[kind, value, reason] or, approved by a manager, [..., approver id, name]."""
        if not raw:
            return None
        approver = raw[3:5] if len(raw) >= 5 else ["", ""]
        return Discount(DiscountKind(raw[0]), raw[1], raw[2], approver[0], approver[1])

    return Cart(
        currency=data["currency"],
        next_line_id=data["next_line_id"],
        order_id=data.get("order_id", ""),
        order_discount=discount(data["order_discount"]),
        lines=tuple(
            CartLine(
                line_id=ln["line_id"],
                product_id=ln["product_id"],
                sku=ln["sku"],
                name=ln["name"],
                unit_price=ln["unit_price"],
                tax_class=ln["tax_class"],
                sold_by=SoldBy(ln["sold_by"]),
                quantity=ln["quantity"],
                discount=discount(ln["discount"]),
                approver_id=ln.get("approver", ["", ""])[0],
                approver_name=ln.get("approver", ["", ""])[1],
            )
            for ln in data["lines"]
        ),
    )


def clerk_from_row(row: Any) -> Clerk:
    return Clerk(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        pin_hash=row.pin_hash,
        active=bool(row.active),
        failed_attempts=row.failed_attempts,
        locked_until=from_iso(row.locked_until),
    )
