"""Phone orders on the server: placing one (its slot booking confirmed, moved or left
unplaced), its transitions, its picking, and the e-mails to the customer.

Each function works in the caller's transaction and answers an ``OrderOutcome`` (the push
answers the event from it; the REST endpoints turn a refusal into a 4xx).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.delivery import (
    Address,
    BookingStatus,
    FulfilmentState,
    PickedLine,
    PickStatus,
    check_fulfilment_transition,
    picked_totals,
)
from app.domain.errors import IllegalTransition, PosError
from app.domain.money import format_money
from app.domain.product import SoldBy, format_quantity
from app.domain.store import StoreProfile
from app.domain.tax import DEFAULT_TAX_TABLE, TaxRate, TaxTable
from server.mail.notifications import queue_mail
from server.models import (
    Customer,
    DeliverySlot,
    PhoneOrder,
    PhoneOrderLine,
    PhoneOrderPayment,
    PhoneOrderPickedLine,
    PhoneOrderTransition,
    SlotBooking,
    Store,
)
from server.orders.service import OrderOutcome
from server.payments.phone import (
    note_cancelled,
    note_delivered,
    open_authorisation,
    pay_urls,
)
from server.sync.changes import record_changes
from sync.protocol import (
    AddressData,
    CustomerSnapshotData,
    PhoneOrderData,
    PhoneOrderLineData,
    PhoneOrderPayload,
    PhoneOrderPickedPayload,
    PhoneOrderTransitionPayload,
    PickedLineData,
)

from .slots import give_back, move_booking, store_zone, take_allotted, take_unallotted

TERMINAL_STATES = frozenset({FulfilmentState.DELIVERED, FulfilmentState.CANCELLED})


def _refused(key: int, reason: str, message: str, field: str | None = None) -> OrderOutcome:
    return OrderOutcome(key, "rejected", reason, message, field)


def _address(data: dict[str, Any]) -> Address:
    return Address(
        id=str(data.get("id", "")),
        label=str(data.get("label", "")),
        line1=str(data.get("line1", "")),
        line2=str(data.get("line2", "")),
        postcode=str(data.get("postcode", "")),
        city=str(data.get("city", "")),
        country=str(data.get("country", "")),
        notes=str(data.get("notes", "")),
    )


# ----------------------------------------------------------------------------- placing


def place_phone_order(
    session: Session,
    store_id: uuid.UUID,
    terminal_id: uuid.UUID,
    key: int,
    order: PhoneOrderPayload,
    event_id: uuid.UUID,
    now: datetime,
) -> OrderOutcome:
    """Store the order and book its slot. A firm booking takes the terminal's allotment; a
    provisional one is confirmed while the slot has free places, else moved to the nearest
    slot that takes it, else left unplaced (staff phone the customer)."""
    if session.get(PhoneOrder, {"store_id": store_id, "id": order.id}) is not None:
        return OrderOutcome(key, "duplicate")
    customer = session.get(Customer, {"store_id": store_id, "id": order.customer_id})
    if customer is None or customer.deleted:
        return _refused(
            key,
            "unknown_customer",
            f"customer {order.customer_id} is not a customer of this store",
            "customer_id",
        )
    booking = order.booking
    slot = session.get(DeliverySlot, booking.slot_id)
    if slot is None or slot.store_id != store_id or slot.deleted:
        return _refused(
            key,
            "unknown_slot",
            f"delivery slot {booking.slot_id} is not this store's",
            "booking.slot_id",
        )
    taken = session.scalar(
        select(SlotBooking.booking_id).where(
            SlotBooking.store_id == store_id, SlotBooking.booking_id == booking.booking_id
        )
    )
    if taken is not None:
        return _refused(
            key,
            "booking_exists",
            f"booking {booking.booking_id} is in use",
            "booking.booking_id",
        )
    address = order.address.model_dump(mode="json")
    status, placed_in = _book(session, store_id, terminal_id, order, slot, now)
    session.add(
        SlotBooking(
            store_id=store_id,
            booking_id=booking.booking_id,
            slot_id=(placed_in or slot).id,
            requested_slot_id=slot.id,
            order_id=order.id,
            terminal_id=terminal_id,
            units=booking.units,
            weight_g=booking.weight_g,
            status=status,
            allotted=status == BookingStatus.FIRM,
            source="terminal",
            booked_at=booking.booked_at,
            received_at=now,
            released_at=now if placed_in is None else None,
        )
    )
    moved_from = slot.id if status in (BookingStatus.MOVED, BookingStatus.UNPLACED) else None
    session.add(
        PhoneOrder(
            store_id=store_id,
            id=order.id,
            terminal_id=terminal_id,
            event_id=event_id,
            order_no=order.order_no,
            terminal_code=order.terminal_code,
            clerk_id=order.clerk_id,
            clerk_name=order.clerk_name,
            customer_id=order.customer_id,
            customer={
                "id": str(customer.id),
                "name": customer.name,
                "phone": customer.phone,
                "email": customer.email,
                "notes": customer.notes,
            },
            address=address,
            customer_email=order.customer_email,
            note=order.note,
            slot_id=placed_in.id if placed_in is not None else None,
            booking_id=booking.booking_id,
            booking_status=status,
            moved_from_slot_id=moved_from,
            state=FulfilmentState.RECEIVED,
            version=1,
            cancel_reason="",
            payment_method=order.payment_method,
            currency=order.currency,
            estimated_subtotal=order.estimated_subtotal,
            estimated_tax_total=order.estimated_tax_total,
            estimated_total=order.estimated_total,
            actual_subtotal=0,
            actual_tax_total=0,
            actual_total=0,
            created_at=order.created_at,
            updated_at=now,
            received_at=now,
        )
    )
    session.flush()
    session.add_all(
        PhoneOrderLine(store_id=store_id, order_id=order.id, **line.model_dump())
        for line in order.lines
    )
    session.flush()
    record_changes(session, "phone_order", [str(order.id)], store_id)
    record_changes(session, "delivery_slot", {str(slot.id), str((placed_in or slot).id)}, store_id)
    stored = session.get_one(PhoneOrder, {"store_id": store_id, "id": order.id})
    queue_phone_order_confirmed(session, stored, placed_in)
    if status == BookingStatus.MOVED and placed_in is not None:
        queue_slot_moved(session, stored, slot, placed_in)
    open_authorisation(session, stored)  # card link: the authorisation and its link mailed
    return OrderOutcome(key, "accepted")


def _book(
    session: Session,
    store_id: uuid.UUID,
    terminal_id: uuid.UUID,
    order: PhoneOrderPayload,
    slot: DeliverySlot,
    now: datetime,
) -> tuple[BookingStatus, DeliverySlot | None]:
    b = order.booking
    if b.status == "firm" and take_allotted(
        session, store_id, slot.id, terminal_id, b.units, b.weight_g
    ):
        return BookingStatus.FIRM, slot
    # a booking outside the allotment stays in its slot only if the slot has not started
    if slot.starts_at > now and take_unallotted(session, store_id, slot.id, b.units, b.weight_g):
        return (BookingStatus.FIRM if b.status == "firm" else BookingStatus.CONFIRMED), slot
    session.refresh(slot)
    moved = move_booking(
        session,
        store_id,
        slot,
        b.units,
        b.weight_g,
        _address(order.address.model_dump(mode="json")),
        now,
    )
    if moved is None:
        return BookingStatus.UNPLACED, None
    return BookingStatus.MOVED, moved


# ---------------------------------------------------------------------------- transitions


def transition_phone_order(
    session: Session,
    store_id: uuid.UUID,
    terminal_id: uuid.UUID,
    key: int,
    change: PhoneOrderTransitionPayload,
    now: datetime,
) -> OrderOutcome:
    """Apply one transition: refused ``illegal_transition`` when the state machine does not
    allow it, ``transition_overtaken`` when ``from_state`` is no longer the order's state
    (another till moved it first). The same transition id again gets the same answer."""
    order = session.get(
        PhoneOrder, {"store_id": store_id, "id": change.order_id}, with_for_update=True
    )
    if order is None:
        return _refused(key, "unknown_order", f"no phone order {change.order_id}", "order_id")
    known = session.get(
        PhoneOrderTransition, {"store_id": store_id, "transition_id": change.transition_id}
    )
    if known is not None:
        if known.outcome == "accepted":
            return OrderOutcome(key, "duplicate")
        return _refused(key, known.outcome, _refusal_message(known.outcome, known), "to_state")
    current = FulfilmentState(order.state)
    target = FulfilmentState(change.to_state)
    outcome = "accepted"
    message = ""
    if FulfilmentState(change.from_state) != current:
        outcome = "transition_overtaken"
        message = (
            f"order {order.order_no} is already {current.value}, not {change.from_state}: "
            f"another till moved it first"
        )
    else:
        try:
            check_fulfilment_transition(current, target)
        except IllegalTransition as exc:
            outcome, message = "illegal_transition", str(exc)
    session.add(
        PhoneOrderTransition(
            store_id=store_id,
            transition_id=change.transition_id,
            order_id=order.id,
            terminal_id=terminal_id,
            from_state=change.from_state,
            to_state=change.to_state,
            reason=change.reason,
            clerk_id=change.clerk_id,
            outcome=outcome,
            at=change.at,
            received_at=now,
        )
    )
    if outcome != "accepted":
        return _refused(
            key, outcome, message, "from_state" if "overtaken" in outcome else "to_state"
        )
    order.state = target
    order.version += 1
    order.updated_at = now
    if target is FulfilmentState.CANCELLED:
        order.cancel_reason = change.reason
        _release_booking(session, order, now)
        note_cancelled(session, store_id, order.id)  # released / refunded after the commit
    elif target is FulfilmentState.DELIVERED:
        note_delivered(session, order)  # paid at the door: the final receipt
    session.flush()
    record_changes(session, "phone_order", [str(order.id)], store_id)
    return OrderOutcome(key, "accepted")


def _refusal_message(reason: str, known: PhoneOrderTransition) -> str:
    return f"transition {known.from_state} → {known.to_state} was refused ({reason})"


def _release_booking(session: Session, order: PhoneOrder, now: datetime) -> None:
    booking = session.get(SlotBooking, {"store_id": order.store_id, "booking_id": order.booking_id})
    if booking is None or booking.released_at is not None:
        return
    give_back(
        session,
        order.store_id,
        booking.slot_id,
        booking.units,
        booking.weight_g,
        booking.terminal_id if booking.allotted else None,
    )
    booking.released_at = now
    record_changes(session, "delivery_slot", [str(booking.slot_id)], order.store_id)


def release_booking(
    session: Session, store_id: uuid.UUID, booking: SlotBooking, now: datetime
) -> None:
    """``DELETE /delivery-slots/{id}/bookings/{booking_id}``: the places go back."""
    if booking.released_at is not None:
        return
    give_back(
        session,
        store_id,
        booking.slot_id,
        booking.units,
        booking.weight_g,
        booking.terminal_id if booking.allotted else None,
    )
    booking.released_at = now
    record_changes(session, "delivery_slot", [str(booking.slot_id)], store_id)


# ---------------------------------------------------------------------------- picking


def _tax_table(lines: Sequence[Any]) -> TaxTable:
    """The rates the till priced the lines with (the server keeps no tax table per store)."""
    rates = {line.tax_class: line.tax_rate_bp for line in lines}
    return TaxTable(
        rates=tuple(TaxRate(cls, bp, cls) for cls, bp in sorted(rates.items())),
        prices_include_tax=DEFAULT_TAX_TABLE.prices_include_tax,
    )


def record_picking(
    session: Session,
    store_id: uuid.UUID,
    key: int,
    pick: PhoneOrderPickedPayload,
    now: datetime,
) -> OrderOutcome:
    """Keep the picked lines after re-checking their totals with the sale arithmetic."""
    order = session.get(
        PhoneOrder, {"store_id": store_id, "id": pick.order_id}, with_for_update=True
    )
    if order is None:
        return _refused(key, "unknown_order", f"no phone order {pick.order_id}", "order_id")
    if FulfilmentState(order.state) in TERMINAL_STATES:
        return _refused(
            key,
            "order_closed",
            f"order {order.order_no} is {order.state}: no more picking",
            "order_id",
        )
    ordered = {
        n
        for (n,) in session.execute(
            select(PhoneOrderLine.line_no).where(
                PhoneOrderLine.store_id == store_id, PhoneOrderLine.order_id == order.id
            )
        )
    }
    for i, line in enumerate(pick.lines):
        if line.line_no not in ordered:
            return _refused(
                key,
                "unknown_line",
                f"order {order.order_no} has no line {line.line_no}",
                f"lines[{i}].line_no",
            )
    try:
        picked = [
            PickedLine(
                line_no=line.line_no,
                status=PickStatus(line.status),
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                sold_by=SoldBy(line.sold_by),
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_class=line.tax_class,
                tax_rate_bp=line.tax_rate_bp,
                net=line.net,
            )
            for line in pick.lines
        ]
        totals = picked_totals(picked, StoreProfile(taxes=_tax_table(pick.lines)))
    except (PosError, ValueError) as exc:
        return _refused(key, "invalid_picking", str(exc), "lines")
    expected = (totals.subtotal, totals.tax_total, totals.total)
    if expected != (pick.subtotal, pick.tax_total, pick.total):
        return _refused(
            key,
            "picked_totals_mismatch",
            f"the picked lines come to subtotal {expected[0]}, tax {expected[1]}, total "
            f"{expected[2]}, not {pick.subtotal}, {pick.tax_total}, {pick.total}",
            "total",
        )
    session.execute(
        delete(PhoneOrderPickedLine).where(
            PhoneOrderPickedLine.store_id == store_id, PhoneOrderPickedLine.order_id == order.id
        )
    )
    session.add_all(
        PhoneOrderPickedLine(store_id=store_id, order_id=order.id, **line.model_dump())
        for line in pick.lines
    )
    order.actual_subtotal = pick.subtotal
    order.actual_tax_total = pick.tax_total
    order.actual_total = pick.total
    order.version += 1
    order.updated_at = now
    session.flush()
    record_changes(session, "phone_order", [str(order.id)], store_id)
    return OrderOutcome(key, "accepted")


# ---------------------------------------------------------------------------- reading


def phone_orders_data(session: Session, orders: Sequence[PhoneOrder]) -> list[PhoneOrderData]:
    if not orders:
        return []
    store_ids = {o.store_id for o in orders}
    ids = [o.id for o in orders]
    lines: dict[tuple[uuid.UUID, uuid.UUID], list[PhoneOrderLineData]] = {}
    for row in session.scalars(
        select(PhoneOrderLine)
        .where(PhoneOrderLine.store_id.in_(store_ids), PhoneOrderLine.order_id.in_(ids))
        .order_by(PhoneOrderLine.line_no)
    ):
        lines.setdefault((row.store_id, row.order_id), []).append(
            PhoneOrderLineData.model_validate(row, from_attributes=True)
        )
    picked: dict[tuple[uuid.UUID, uuid.UUID], list[PickedLineData]] = {}
    for prow in session.scalars(
        select(PhoneOrderPickedLine)
        .where(PhoneOrderPickedLine.store_id.in_(store_ids), PhoneOrderPickedLine.order_id.in_(ids))
        .order_by(PhoneOrderPickedLine.line_no)
    ):
        picked.setdefault((prow.store_id, prow.order_id), []).append(
            PickedLineData.model_validate(prow, from_attributes=True)
        )
    slot_ids = {o.slot_id for o in orders if o.slot_id} | {
        o.moved_from_slot_id for o in orders if o.moved_from_slot_id
    }
    slots = {
        s.id: s for s in session.scalars(select(DeliverySlot).where(DeliverySlot.id.in_(slot_ids)))
    }
    payments = {
        (p.store_id, p.order_id): p
        for p in session.scalars(
            select(PhoneOrderPayment).where(
                PhoneOrderPayment.store_id.in_(store_ids), PhoneOrderPayment.order_id.in_(ids)
            )
        )
    }
    links = pay_urls(session, payments.values())
    found = []
    for o in orders:
        slot = slots.get(o.slot_id) if o.slot_id else None
        moved_from = slots.get(o.moved_from_slot_id) if o.moved_from_slot_id else None
        pay = payments.get((o.store_id, o.id))
        found.append(
            PhoneOrderData(
                id=str(o.id),
                order_no=o.order_no,
                terminal_code=o.terminal_code,
                clerk_id=o.clerk_id,
                clerk_name=o.clerk_name,
                customer=CustomerSnapshotData.model_validate(o.customer),
                address=AddressData.model_validate(o.address),
                lines=lines.get((o.store_id, o.id), []),
                picked=picked.get((o.store_id, o.id), []),
                note=o.note,
                slot_id=str(o.slot_id) if o.slot_id else None,
                booking_id=str(o.booking_id),
                booking_status=o.booking_status,  # type: ignore[arg-type]
                moved_from_slot_id=str(o.moved_from_slot_id) if o.moved_from_slot_id else None,
                state=o.state,  # type: ignore[arg-type]
                version=o.version,
                payment_method=o.payment_method,  # type: ignore[arg-type]
                payment_status=_payment_status(o, pay),
                authorised_amount=pay.authorised_amount if pay else 0,
                captured_amount=pay.captured_amount if pay else 0,
                estimated_total=o.estimated_total,
                actual_total=o.actual_total,
                currency=o.currency,
                created_at=o.created_at,
                updated_at=o.updated_at,
                cancel_reason=o.cancel_reason,
                slot_starts_at=slot.starts_at if slot else None,
                slot_ends_at=slot.ends_at if slot else None,
                moved_from_starts_at=moved_from.starts_at if moved_from else None,
                shortfall=pay.shortfall if pay else 0,
                pay_url=links.get((o.store_id, o.id)),
            )
        )
    return found


def _payment_status(order: PhoneOrder, pay: PhoneOrderPayment | None) -> str:
    if pay is not None:
        return str(pay.status)
    if order.state == FulfilmentState.DELIVERED and order.payment_method != "card_link":
        return "paid_at_door"
    return "none"


# ---------------------------------------------------------------------------- e-mails


def _slot_text(session: Session, slot: DeliverySlot | None) -> str:
    """The window in the store's time zone, as the customer reads it."""
    if slot is None:
        return "to be arranged: we will phone you"
    zone = store_zone(session, slot.store_id)
    starts, ends = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    return f"{starts:%a %d %b %Y, %H:%M}–{ends:%H:%M} ({starts:%Z})"


def _mail_context(session: Session, order: PhoneOrder) -> dict[str, Any]:
    store = session.get(Store, order.store_id)
    lines = session.scalars(
        select(PhoneOrderLine)
        .where(PhoneOrderLine.store_id == order.store_id, PhoneOrderLine.order_id == order.id)
        .order_by(PhoneOrderLine.line_no)
    ).all()
    address = order.address
    payment = {
        "door_cash": "cash at the door",
        "door_card": "card at the door",
        "card_link": "by card: we send you a link to authorise the amount",
    }.get(order.payment_method, order.payment_method)
    return {
        "store_name": store.name if store else "ShopSmart",
        "customer_name": order.customer.get("name", ""),
        "order_no": order.order_no,
        "lines": [
            {
                "name": line.name,
                "quantity": format_quantity(line.quantity, line.sold_by),
                "amount": format_money(line.net, order.currency),
                "weighed": line.sold_by == SoldBy.WEIGHT,
            }
            for line in lines
        ],
        "estimated_total": format_money(order.estimated_total, order.currency),
        "address": ", ".join(
            part
            for part in (
                address.get("line1"),
                address.get("line2"),
                address.get("postcode"),
                address.get("city"),
            )
            if part
        ),
        "payment": payment,
    }


def queue_phone_order_confirmed(
    session: Session, order: PhoneOrder, slot: DeliverySlot | None
) -> int | None:
    """The customer's confirmation once the order reaches the server (once per order)."""
    if not order.customer_email:
        return None
    return queue_mail(
        session,
        store_id=order.store_id,
        kind="phone_order_confirmed",
        dedupe_key=f"phone_order_confirmed:{order.store_id}:{order.id}",
        to=order.customer_email,
        subject=f"Your order {order.order_no}",
        template="phone_order_confirmed",
        context={**_mail_context(session, order), "slot": _slot_text(session, slot)},
    )


def queue_slot_moved(
    session: Session, order: PhoneOrder, old: DeliverySlot, new: DeliverySlot
) -> int | None:
    """Tell the customer their delivery moved to another slot (once per booking)."""
    if not order.customer_email:
        return None
    return queue_mail(
        session,
        store_id=order.store_id,
        kind="slot_moved",
        dedupe_key=f"slot_moved:{order.store_id}:{order.booking_id}",
        to=order.customer_email,
        subject=f"New delivery time for your order {order.order_no}",
        template="slot_moved",
        context={
            **_mail_context(session, order),
            "old_slot": _slot_text(session, old),
            "new_slot": _slot_text(session, new),
        },
    )
