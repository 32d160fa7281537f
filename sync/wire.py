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
from app.domain.order import Order, line_fields, order_fields, tender_fields
from app.domain.refund import Refund
from app.domain.timestamps import utc_iso
from app.ports import EncodedEvent
from sync import protocol as p

ORDER_PAID: Final = "order.paid"
ORDER_VOIDED: Final = "order.voided"
ORDER_REFUNDED: Final = "order.refunded"


def order_payload(order: Order) -> dict[str, Any]:
    """``p.OrderPayload`` as JSON types."""
    return {
        **order_fields(order),
        "customer": None,
        "lines": [line_fields(line) for line in order.lines],
        "tenders": [tender_fields(t) for t in order.tenders],
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
