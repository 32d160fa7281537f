"""The final receipt of a phone order: what was picked (substitutions, weights as weighed),
what was not available, the totals priced as a sale, and what was charged — queued once per
order (``final_receipt:<store_id>:<order_id>``) after the card capture, or at delivery for an
order paid at the door."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.money import format_money
from app.domain.product import format_quantity
from server.mail.notifications import queue_mail
from server.models import (
    DeliverySlot,
    PhoneOrder,
    PhoneOrderLine,
    PhoneOrderPayment,
    PhoneOrderPickedLine,
    Store,
)

NOT_AUTHORISED = "not authorised by card"  # the order discount of a shortfall staff absorbed


def queue_final_receipt(session: Session, card: PhoneOrderPayment) -> int | None:
    """The receipt after the card was charged (captured, and topped up if staff chose so)."""
    order = session.get(PhoneOrder, {"store_id": card.store_id, "id": card.order_id})
    if order is None:
        return None
    absorbed = card.shortfall if card.decision == "capture_authorised" else 0
    return queue_phone_order_receipt(
        session,
        order,
        to=card.customer_email or order.customer_email,
        paid=card.captured_amount,
        paid_how="charged to your card",
        absorbed=absorbed,
    )


def queue_phone_order_receipt(
    session: Session,
    order: PhoneOrder,
    *,
    to: str,
    paid: int,
    paid_how: str,
    absorbed: int = 0,
) -> int | None:
    """The final receipt of ``order`` (also for an order paid at the door, at delivery)."""
    key = {"store_id": order.store_id, "order_id": order.id}
    ordered = {
        line.line_no: line
        for line in session.scalars(
            select(PhoneOrderLine).filter_by(**key).order_by(PhoneOrderLine.line_no)
        )
    }
    picked = session.scalars(
        select(PhoneOrderPickedLine).filter_by(**key).order_by(PhoneOrderPickedLine.line_no)
    ).all()
    money = _money(order.currency)
    lines = []
    for line in picked:
        was = ordered.get(line.line_no)
        if line.status == "not_available":
            note = "not available"
        elif line.status == "substituted" and was is not None:
            note = f"instead of {was.name}"
        else:
            note = ""
        if was is not None and was.sold_by == "weight" and line.status != "not_available":
            ordered_q = format_quantity(was.quantity, was.sold_by)
            note = f"{note + '; ' if note else ''}ordered about {ordered_q}"
        lines.append(
            {
                "name": line.name,
                "quantity": format_quantity(line.quantity, line.sold_by) if line.quantity else "–",
                "unit_price": money(line.unit_price),
                "net": money(line.net),
                "note": note,
            }
        )
    store = session.get(Store, order.store_id)
    store_name = store.name if store else "ShopSmart"
    slot = session.get(DeliverySlot, order.slot_id) if order.slot_id else None
    delivery = (
        f"{slot.starts_at:%a %d %b %Y, %H:%M}–{slot.ends_at:%H:%M}" if slot is not None else ""
    )
    context = {
        "store_name": store_name,
        "customer_name": (order.customer or {}).get("name", ""),
        "order_no": order.order_no,
        "lines": lines,
        "subtotal": money(order.actual_subtotal),
        "tax_total": money(order.actual_tax_total),
        "total": money(order.actual_total),
        "absorbed": money(absorbed) if absorbed else "",
        "absorbed_reason": NOT_AUTHORISED,
        "paid": money(paid),
        "paid_how": paid_how,
        "delivery": delivery,
    }
    return queue_mail(
        session,
        store_id=order.store_id,
        kind="final_receipt",
        dedupe_key=f"final_receipt:{order.store_id}:{order.id}",
        to=to,
        subject=f"Your receipt for order {order.order_no} at {store_name}",
        template="final_receipt",
        context=context,
    )


def _money(currency: str) -> Callable[[int], str]:
    def money(value: int) -> str:
        return format_money(int(value), currency)

    return money
