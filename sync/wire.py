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

from app.domain.delivery import Address, Customer, phone_line_fields, picked_line_fields
from app.domain.events import (
    ApprovalUsed,
    ClerkSaved,
    CustomerSaved,
    DomainEvent,
    OrderRefunded,
    OrderVoided,
    PhoneOrderPicked,
    PhoneOrderPlaced,
    PhoneOrderTransitioned,
    SaleCompleted,
)
from app.domain.order import Order, line_fields, order_fields, tender_fields
from app.domain.refund import Refund
from app.domain.timestamps import utc_iso
from app.ports import EncodedEvent
from sync import protocol as p
from sync.shift_wire import shift_wire_form

ORDER_PAID: Final = "order.paid"
ORDER_VOIDED: Final = "order.voided"
ORDER_REFUNDED: Final = "order.refunded"
CUSTOMER_SAVED: Final = "customer.saved"
PHONE_ORDER_PLACED: Final = "phone_order.placed"
PHONE_ORDER_TRANSITIONED: Final = "phone_order.transitioned"
PHONE_ORDER_PICKED: Final = "phone_order.picked"
APPROVAL_USED: Final = "approval.used"
CLERK_SAVED: Final = "clerk.saved"


def order_payload(order: Order) -> dict[str, Any]:
    """``p.OrderPayload`` as JSON types (``shift_id`` only when the sale had a shift, so a
    sale of before shifts is the same bytes as ever)."""
    shift = {"shift_id": order.shift_id} if order.shift_id else {}
    return {
        **order_fields(order),
        **shift,
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


def address_payload(address: Address) -> dict[str, Any]:
    """``p.AddressPayload`` as JSON types."""
    return {
        "id": address.id,
        "label": address.label,
        "line1": address.line1,
        "line2": address.line2,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
        "notes": address.notes,
    }


def customer_payload(customer: Customer) -> dict[str, Any]:
    """``p.CustomerPayload`` as JSON types."""
    return {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "addresses": [address_payload(a) for a in customer.addresses],
        "notes": customer.notes,
        "updated_at": utc_iso(customer.updated_at),
    }


def phone_order_payload(event: PhoneOrderPlaced) -> dict[str, Any]:
    """``p.PhoneOrderPayload`` as JSON types."""
    order = event.order
    return {
        "id": order.id,
        "order_no": order.order_no,
        "terminal_code": order.terminal_code,
        "clerk_id": order.clerk_id,
        "clerk_name": order.clerk_name,
        "customer_id": order.customer.id,
        "address": address_payload(order.address),
        "currency": order.currency,
        "created_at": utc_iso(order.created_at),
        "lines": [phone_line_fields(line) for line in order.lines],
        "note": order.note,
        "estimated_subtotal": event.estimated_subtotal,
        "estimated_tax_total": event.estimated_tax_total,
        "estimated_total": order.estimated_total,
        "payment_method": order.payment_method.value,
        "customer_email": order.customer.email,
        "booking": {
            "booking_id": order.booking_id,
            "slot_id": order.slot_id,
            "units": event.units,
            "weight_g": event.weight_g,
            "status": order.booking_status.value,
            "booked_at": utc_iso(event.booked_at),
        },
    }


def _phone_wire_form(event: DomainEvent) -> tuple[str, dict[str, Any]] | None:
    """(event type, payload) of the phone-order events (issue 13), None for the others."""
    if isinstance(event, CustomerSaved):
        return CUSTOMER_SAVED, customer_payload(event.customer)
    if isinstance(event, PhoneOrderPlaced):
        return PHONE_ORDER_PLACED, phone_order_payload(event)
    if isinstance(event, PhoneOrderTransitioned):
        return (
            PHONE_ORDER_TRANSITIONED,
            {
                "order_id": event.order_id,
                "transition_id": event.transition_id,
                "from_state": event.from_state.value,
                "to_state": event.to_state.value,
                "reason": event.reason,
                "at": utc_iso(event.at),
                "clerk_id": event.clerk_id,
            },
        )
    if isinstance(event, PhoneOrderPicked):
        return (
            PHONE_ORDER_PICKED,
            {
                "order_id": event.order_id,
                "pick_id": event.pick_id,
                "at": utc_iso(event.at),
                "clerk_id": event.clerk_id,
                "lines": [picked_line_fields(line) for line in event.lines],
                "subtotal": event.subtotal,
                "tax_total": event.tax_total,
                "total": event.total,
            },
        )
    return None


def approval_payload(event: ApprovalUsed) -> dict[str, Any]:
    """``p.ApprovalUsedPayload`` as JSON types."""
    approval = event.approval
    assert approval.used_at is not None
    return {
        "approval_id": approval.id,
        "action": approval.action.value,
        "subject": approval.subject,
        "asked_by": approval.asked_by,
        "approved_by": approval.approved_by,
        "terminal_code": approval.terminal_code,
        "at": utc_iso(approval.at),
        "used_at": utc_iso(approval.used_at),
    }


def clerk_payload(event: ClerkSaved) -> dict[str, Any]:
    """``p.ClerkSavedPayload`` as JSON types."""
    clerk = event.clerk
    return {
        "clerk_id": clerk.id,
        "name": clerk.name,
        "role": clerk.role.value,
        "active": clerk.active,
        "pin_hash": clerk.pin_hash,
        "updated_at": utc_iso(event.updated_at),
        "by_clerk_id": event.by_clerk_id,
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
    if isinstance(event, ApprovalUsed):
        return APPROVAL_USED, approval_payload(event)
    if isinstance(event, ClerkSaved):
        return CLERK_SAVED, clerk_payload(event)
    phone = _phone_wire_form(event)
    if phone is not None:
        return phone
    shift = shift_wire_form(event)
    if shift is not None:
        return shift
    raise TypeError(f"no wire form for {type(event).__name__}")


def wire_event(event: DomainEvent) -> p.RequestModel:
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
