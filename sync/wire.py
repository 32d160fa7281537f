"""The till's domain events on the wire: the one place they become protocol JSON.

``encode_event`` builds the event with the pydantic models of ``sync.protocol`` (so what is
queued is what the server accepts) and writes the compact JSON text the outbox keeps and the
engine pushes as is. Timestamps are written in the shop's one format (``utc_iso``: UTC,
microseconds, ``+00:00``), so an event encodes to the same bytes every time: a replay after
a lost acknowledgement is byte-identical and answered ``duplicate``.

The composition root (``app.bootstrap``) hands this encoder to the unit of work; local_db
never imports sync.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from app.domain.events import DomainEvent, OrderRefunded, OrderVoided, SaleCompleted
from app.domain.order import Order
from app.domain.refund import Refund
from app.domain.timestamps import utc_iso
from app.ports import EncodedEvent
from sync import protocol as p

ORDER_PAID: Final = "order.paid"
ORDER_VOIDED: Final = "order.voided"
ORDER_REFUNDED: Final = "order.refunded"


def order_payload(order: Order) -> p.OrderPayload:
    return p.OrderPayload.model_validate(
        {
            "id": order.id,
            "receipt_no": order.receipt_no,
            "terminal_code": order.terminal_code,
            "sequence": order.sequence,
            "clerk_id": order.clerk_id,
            "clerk_name": order.clerk_name,
            "currency": order.currency,
            "status": order.status.value,
            "kind": order.extra.get("kind", "counter"),
            "created_at": order.created_at,
            "paid_at": order.paid_at,
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
    )


def refund_payload(refund: Refund) -> p.OrderRefundPayload:
    return p.OrderRefundPayload.model_validate(
        {
            "refund_id": refund.id,
            "order_id": refund.order_id,
            "amount": refund.amount,
            "cash_amount": refund.cash_amount,
            "card_amount": refund.card_amount,
            "card_payment_id": refund.card_payment_id,
            "reason": refund.reason,
            "refunded_at": refund.refunded_at,
            "clerk_id": refund.clerk_id,
            "lines": [{"line_no": ln.line_no, "quantity": ln.quantity} for ln in refund.lines],
        }
    )


def wire_event(event: DomainEvent) -> p.OrderPaidEvent | p.OrderVoidedEvent | p.OrderRefundedEvent:
    """The protocol model of a domain event."""
    if isinstance(event, SaleCompleted):
        return p.OrderPaidEvent(
            event_id=UUID(event.event_id),
            type=ORDER_PAID,
            occurred_at=event.occurred_at,
            payload=order_payload(event.order),
        )
    if isinstance(event, OrderVoided):
        return p.OrderVoidedEvent(
            event_id=UUID(event.event_id),
            type=ORDER_VOIDED,
            occurred_at=event.occurred_at,
            payload=p.OrderVoidPayload(
                order_id=UUID(event.order_id),
                reason=event.reason,
                voided_at=event.voided_at,
                clerk_id=event.clerk_id,
            ),
        )
    if isinstance(event, OrderRefunded):
        return p.OrderRefundedEvent(
            event_id=UUID(event.event_id),
            type=ORDER_REFUNDED,
            occurred_at=event.occurred_at,
            payload=refund_payload(event.refund),
        )
    raise TypeError(f"no wire form for {type(event).__name__}")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def encode_event(event: DomainEvent) -> EncodedEvent:
    """The event as the outbox keeps it and the server is sent it (compact JSON)."""
    model = wire_event(event)
    body = json.dumps(model.model_dump(), default=_plain, separators=(",", ":"))
    return EncodedEvent(event.event_id, model.type, body)
