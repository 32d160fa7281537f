"""The till's domain events on the wire: the one place they become protocol JSON.

``encode_event`` writes the compact JSON text the outbox keeps and the engine pushes as is;
``wire_event`` parses it back with the pydantic model of ``sync.protocol`` that the server
parses it with. The sale path does not validate each event (measured: a fifth of a sale's
commit); tests/unit/test_wire.py validates every kind of event, over generated carts, with
those models instead. Timestamps are written in the shop's one format
(``utc_iso``: UTC, microseconds, ``+00:00``) and ids as given, so the bytes are those tills
always queued: a replay is byte-identical and answered ``duplicate``.

The composition root (``app.bootstrap``) hands this encoder to the unit of work; local_db
never imports sync.
"""

from __future__ import annotations

import json
from typing import Any, Final

from app.domain.events import DomainEvent, OrderRefunded, OrderVoided, SaleCompleted
from app.domain.order import Order
from app.domain.refund import Refund
from app.domain.timestamps import optional_utc_iso, utc_iso
from app.ports import EncodedEvent
from sync import protocol as p

ORDER_PAID: Final = "order.paid"
ORDER_VOIDED: Final = "order.voided"
ORDER_REFUNDED: Final = "order.refunded"


def order_payload(order: Order) -> dict[str, Any]:
    """``p.OrderPayload`` as JSON types (built by hand: ``asdict`` deep-copies, and this is on
    the sale path)."""
    return {
        "id": order.id,
        "receipt_no": order.receipt_no,
        "terminal_code": order.terminal_code,
        "sequence": order.sequence,
        "clerk_id": order.clerk_id,
        "clerk_name": order.clerk_name,
        "currency": order.currency,
        "status": order.status.value,
        "kind": order.extra.get("kind", "counter"),
        "created_at": utc_iso(order.created_at),
        "paid_at": optional_utc_iso(order.paid_at),
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "tax_total": order.tax_total,
        "total": order.total,
        "prices_include_tax": order.prices_include_tax,
        "customer": None,
        "lines": [
            {
                "line_no": line.line_no,
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "sold_by": line.sold_by.value,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "gross": line.gross,
                "line_discount": line.line_discount,
                "order_discount_share": line.order_discount_share,
                "net": line.net,
                "tax_class": line.tax_class,
                "tax_rate_bp": line.tax_rate_bp,
                "discount_reason": line.discount_reason,
            }
            for line in order.lines
        ],
        "tenders": [
            {
                "kind": t.kind.value,
                "amount": t.amount,
                "tendered": t.tendered,
                "change": t.change,
                "reference": t.reference,
            }
            for t in order.tenders
        ],
        "tax": [
            {
                "tax_class": e.tax_class,
                "label": e.label,
                "rate_bp": e.rate_bp,
                "taxable": e.taxable,
                "tax": e.tax,
            }
            for e in order.tax
        ],
    }


def refund_payload(refund: Refund) -> dict[str, Any]:
    """``p.OrderRefundPayload`` as JSON types."""
    assert refund.refunded_at is not None
    return {
        "refund_id": refund.id,
        "order_id": refund.order_id,
        "amount": refund.amount,
        "cash_amount": refund.cash_amount,
        "card_amount": refund.card_amount,
        "card_payment_id": refund.card_payment_id,
        "reason": refund.reason,
        "refunded_at": utc_iso(refund.refunded_at),
        "clerk_id": refund.clerk_id,
        "lines": [{"line_no": ln.line_no, "quantity": ln.quantity} for ln in refund.lines],
    }


def _wire_form(event: DomainEvent) -> tuple[str, dict[str, Any]]:
    """(event type, payload as JSON types) of a domain event."""
    if isinstance(event, SaleCompleted):
        return ORDER_PAID, order_payload(event.order)
    if isinstance(event, OrderVoided):
        return (
            ORDER_VOIDED,
            {
                "order_id": event.order_id,
                "reason": event.reason,
                "voided_at": utc_iso(event.voided_at),
                "clerk_id": event.clerk_id,
            },
        )
    if isinstance(event, OrderRefunded):
        return ORDER_REFUNDED, refund_payload(event.refund)
    raise TypeError(f"no wire form for {type(event).__name__}")


def wire_event(event: DomainEvent) -> p.OrderPaidEvent | p.OrderVoidedEvent | p.OrderRefundedEvent:
    """The protocol model of a domain event, parsed from its JSON as the server parses it
    (a ``pydantic.ValidationError`` says what the server would refuse)."""
    encoded = encode_event(event)
    return p.EVENT_TYPES[encoded.event_type].model_validate_json(encoded.body)


def encode_event(event: DomainEvent) -> EncodedEvent:
    """The event as the outbox keeps it and the server is sent it (compact JSON)."""
    event_type, payload = _wire_form(event)
    body = json.dumps(
        {
            "event_id": event.event_id,
            "type": event_type,
            "occurred_at": utc_iso(event.occurred_at),
            "payload": payload,
        },
        separators=(",", ":"),
    )
    return EncodedEvent(event.event_id, event_type, body)
