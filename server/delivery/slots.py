"""Booking a delivery slot so that it never overbooks, on PostgreSQL and SQLite alike.

Every booking is ONE conditional ``UPDATE`` of the slot row whose ``WHERE`` holds the
capacity rule, and its row count says whether it took:

- outside any allotment (the online endpoint, a provisional booking, a move):
  ``booked + held + units <= capacity`` (and the weight cap, when the slot has one);
- a firm booking within a terminal's allotment: first ``used + units <= allotted_total`` on
  the terminal's ``slot_allotments`` row, then ``booked += units, held -= units`` on the
  slot (the places were held for it, so they are there).

PostgreSQL re-checks the ``WHERE`` of an ``UPDATE`` against the newest committed row after
waiting for a concurrent writer of that row (READ COMMITTED), and SQLite has one writer at
a time, so no interleaving of requests and pushes can take more than the capacity.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.domain.delivery import Address, CapacityUnit, Slot, nearest_slot
from server.models import DeliverySlot, SlotAllotment, Store

_NO_SYNC = {"synchronize_session": False}


def slot_domain(row: DeliverySlot) -> Slot:
    return Slot(
        id=str(row.id),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        unit=CapacityUnit(row.unit),
        max_weight_g=row.max_weight_g,
        cutoff_minutes=row.cutoff_minutes,
        lead_time_minutes=row.lead_time_minutes,
        postcode_prefixes=tuple(row.postcode_prefixes or ()),
        booked=row.booked,
        active=row.active and not row.deleted,
    )


def slot_free(row: DeliverySlot) -> int:
    """Places anyone may book outside an allotment: capacity - booked - held."""
    return max(0, row.capacity - row.booked - row.held)


def take_unallotted(
    session: Session, store_id: uuid.UUID, slot_id: uuid.UUID, units: int, weight_g: int
) -> bool:
    """Book ``units`` of the slot's free places (not any terminal's allotment)."""
    s = DeliverySlot
    result = session.execute(
        update(s)
        .where(
            s.id == slot_id,
            s.store_id == store_id,
            s.active.is_(True),
            s.deleted.is_(False),
            s.booked + s.held + units <= s.capacity,
            or_(s.max_weight_g.is_(None), s.booked_weight_g + weight_g <= s.max_weight_g),
        )
        .values(booked=s.booked + units, booked_weight_g=s.booked_weight_g + weight_g),
        execution_options=_NO_SYNC,
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def take_allotted(
    session: Session,
    store_id: uuid.UUID,
    slot_id: uuid.UUID,
    terminal_id: uuid.UUID,
    units: int,
    weight_g: int,
) -> bool:
    """Book ``units`` within the terminal's allotment (False: the allotment has no room)."""
    a = SlotAllotment
    result = session.execute(
        update(a)
        .where(
            a.store_id == store_id,
            a.slot_id == slot_id,
            a.terminal_id == terminal_id,
            a.used + units <= a.allotted_total,
        )
        .values(used=a.used + units),
        execution_options=_NO_SYNC,
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    s = DeliverySlot
    session.execute(
        update(s)
        .where(s.id == slot_id, s.store_id == store_id)
        .values(
            booked=s.booked + units,
            held=s.held - units,
            booked_weight_g=s.booked_weight_g + weight_g,
        ),
        execution_options=_NO_SYNC,
    )
    return True


def give_back(
    session: Session,
    store_id: uuid.UUID,
    slot_id: uuid.UUID,
    units: int,
    weight_g: int,
    allotted_to: uuid.UUID | None,
) -> None:
    """Release a booking's places. One made within a terminal's allotment goes back to that
    allotment (``used`` and ``booked`` down, ``held`` up): the till stops counting a
    cancelled booking as its own, so its remaining allotment grows by as much."""
    s = DeliverySlot
    held: Any = s.held
    if allotted_to is not None:
        a = SlotAllotment
        session.execute(
            update(a)
            .where(a.store_id == store_id, a.slot_id == slot_id, a.terminal_id == allotted_to)
            .values(used=a.used - units),
            execution_options=_NO_SYNC,
        )
        held = s.held + units
    session.execute(
        update(s)
        .where(s.id == slot_id, s.store_id == store_id)
        .values(booked=s.booked - units, held=held, booked_weight_g=s.booked_weight_g - weight_g),
        execution_options=_NO_SYNC,
    )


def store_zone(session: Session, store_id: uuid.UUID) -> tzinfo:
    """The store's time zone (what "the same day" means for a move), UTC when unknown."""
    name = getattr(session.get(Store, store_id), "time_zone", None)
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def upcoming_slots(session: Session, store_id: uuid.UUID, now: datetime) -> list[DeliverySlot]:
    return list(
        session.scalars(
            select(DeliverySlot)
            .where(
                DeliverySlot.store_id == store_id,
                DeliverySlot.deleted.is_(False),
                DeliverySlot.ends_at > now,
            )
            .order_by(DeliverySlot.starts_at, DeliverySlot.id)
            .execution_options(populate_existing=True)
        )
    )


def move_booking(
    session: Session,
    store_id: uuid.UUID,
    original: DeliverySlot,
    units: int,
    weight_g: int,
    address: Address,
    now: datetime,
    *,
    rows: Sequence[DeliverySlot] | None = None,
) -> DeliverySlot | None:
    """Book the nearest slot that takes the booking (app.domain.delivery.nearest_slot: open,
    serving the address, with room; the same day first); None when none can. A slot that
    fills in the meantime is passed over for the next nearest."""
    candidates = list(rows) if rows is not None else upcoming_slots(session, store_id, now)
    by_id = {str(r.id): r for r in candidates}
    zone = store_zone(session, store_id)
    tried: set[str] = set()
    while True:
        left = [slot_domain(r) for r in candidates if str(r.id) not in tried]
        free = {str(r.id): slot_free(r) for r in candidates}
        weight_room = {
            str(r.id): r.max_weight_g - r.booked_weight_g
            for r in candidates
            if r.max_weight_g is not None
        }
        found = nearest_slot(
            left,
            units,
            weight_g,
            address,
            slot_domain(original),
            now,
            free,
            free_weight_g=weight_room,
            tz=zone,
        )
        if found is None:
            return None
        row = by_id[found.id]
        if take_unallotted(session, store_id, row.id, units, weight_g):
            session.refresh(row)
            return row
        tried.add(found.id)
        session.refresh(row)
