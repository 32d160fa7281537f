"""What a pull sends for the kinds of issue 13: customers (with addresses), delivery slots
(with their rules and ``free``), this terminal's slot allotments, and phone orders (every
till of the store sees every order and each of its transitions)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Customer, DeliverySlot, PhoneOrder, SlotAllotment
from sync.protocol import (
    CustomerChange,
    DeliverySlotChange,
    DeliverySlotData,
    PhoneOrderChange,
    SlotAllotmentChange,
    SlotAllotmentData,
)

from .allotments import ALLOTMENT_KIND, split_allotment_key
from .customers import customers_data
from .phone_orders import phone_orders_data
from .slots import slot_free

DELIVERY_KINDS = ("customer", "delivery_slot", ALLOTMENT_KIND, "phone_order")


def slot_data(slot: DeliverySlot) -> DeliverySlotData:
    return DeliverySlotData(
        id=str(slot.id),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        capacity=slot.capacity,
        booked=slot.booked,
        active=slot.active and not slot.deleted,
        deleted=slot.deleted,
        unit=slot.unit,  # type: ignore[arg-type]
        max_weight_g=slot.max_weight_g,
        cutoff_minutes=slot.cutoff_minutes,
        lead_time_minutes=slot.lead_time_minutes,
        postcode_prefixes=list(slot.postcode_prefixes or []),
        free=slot_free(slot),
    )


def allotment_data(row: SlotAllotment) -> SlotAllotmentData:
    """What the terminal is told: the announced value (see allotments.py)."""
    return SlotAllotmentData(
        slot_id=str(row.slot_id),
        terminal_id=str(row.terminal_id),
        allotted_total=row.announced_total,
        used=row.used,
    )


def _uuids(keys: Sequence[str]) -> list[uuid.UUID]:
    found = []
    for key in keys:
        try:
            found.append(uuid.UUID(key))
        except ValueError:
            continue
    return found


def delivery_changes(
    session: Session,
    store_id: uuid.UUID,
    terminal_id: uuid.UUID | None,
    keys: Mapping[str, Sequence[str]],
) -> dict[tuple[str, str], Any]:
    """The current state of each changed row of the caller's store, by (kind, key)."""
    state: dict[tuple[str, str], Any] = {}
    if keys.get("customer"):
        rows = session.scalars(
            select(Customer).where(
                Customer.store_id == store_id, Customer.id.in_(_uuids(keys["customer"]))
            )
        ).all()
        for data in customers_data(session, rows):
            state[("customer", data.id)] = CustomerChange(kind="customer", cursor="", data=data)
    if keys.get("delivery_slot"):
        for slot in session.scalars(
            select(DeliverySlot).where(
                DeliverySlot.store_id == store_id,
                DeliverySlot.id.in_(_uuids(keys["delivery_slot"])),
            )
        ):
            state[("delivery_slot", str(slot.id))] = DeliverySlotChange(
                kind="delivery_slot", cursor="", data=slot_data(slot)
            )
    if keys.get(ALLOTMENT_KIND) and terminal_id is not None:
        wanted = {}
        for key in keys[ALLOTMENT_KIND]:
            pair = split_allotment_key(key)
            if pair is not None and pair[1] == terminal_id:  # only the caller's own share
                wanted[pair[0]] = key
        if wanted:
            for row in session.scalars(
                select(SlotAllotment).where(
                    SlotAllotment.store_id == store_id,
                    SlotAllotment.terminal_id == terminal_id,
                    SlotAllotment.slot_id.in_(list(wanted)),
                )
            ):
                state[(ALLOTMENT_KIND, wanted[row.slot_id])] = SlotAllotmentChange(
                    kind="slot_allotment", cursor="", data=allotment_data(row)
                )
    if keys.get("phone_order"):
        orders = session.scalars(
            select(PhoneOrder).where(
                PhoneOrder.store_id == store_id, PhoneOrder.id.in_(_uuids(keys["phone_order"]))
            )
        ).all()
        for order in phone_orders_data(session, orders):
            state[("phone_order", order.id)] = PhoneOrderChange(
                kind="phone_order", cursor="", data=order
            )
    return state
