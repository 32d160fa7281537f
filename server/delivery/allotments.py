"""Each terminal's allotment of every upcoming slot, recomputed on every pull it makes.

A terminal's share of a slot is ``split_allotments(capacity - booked, active terminals)``
(app.domain.delivery), never more than the places free to it (``free`` plus what it holds
already). Three numbers per terminal and slot (``slot_allotments``): ``used`` (units it has
booked firm), ``allotted_total`` (what the server honours: ``held`` on the slot counts
``allotted_total - used`` of every terminal) and ``announced_total`` (what the terminal was
last told, by the change at ``granted_change_pos``).

- Raising is safe at once: the places are taken from ``free`` by a conditional UPDATE
  (``booked + held + delta <= capacity``) and announced.
- Lowering happens in two steps, so a firm booking is always honoured: the lower value is
  announced first (the places stay held); only on a later pull whose cursor is past that
  announcement, with ``bookings_pending=false`` (nothing booked against the old value is
  still on its way), does ``allotted_total`` drop to ``max(announced, used)`` and the rest
  of the places go back to ``free``.
- A revoked terminal can push nothing more: its held places go back to ``free`` at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.delivery import slot_open, split_allotments
from server.models import ChangeEntry, DeliverySlot, SlotAllotment, Terminal
from server.sql import current_txid, dialect_insert
from server.sync.changes import START, parse_cursor, record_changes

from .slots import slot_domain, slot_free, upcoming_slots

ALLOTMENT_KIND = "slot_allotment"
_NO_SYNC = {"synchronize_session": False}


def allotment_key(slot_id: uuid.UUID, terminal_id: uuid.UUID) -> str:
    """The change-log key of one terminal's allotment of one slot (exactly 64 characters)."""
    return slot_id.hex + terminal_id.hex


def split_allotment_key(key: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    try:
        return uuid.UUID(hex=key[:32]), uuid.UUID(hex=key[32:])
    except ValueError:
        return None


def _position(cursor: str) -> tuple[int, int]:
    return START if not cursor else parse_cursor(cursor)


def _announce(session: Session, store_id: uuid.UUID, key: str) -> str:
    """Write the change announcing an allotment; its cursor position."""
    record_changes(session, ALLOTMENT_KIND, [key], store_id)
    txid = current_txid(session)
    change_id = session.scalar(
        select(func.max(ChangeEntry.id)).where(
            ChangeEntry.txid == txid,
            ChangeEntry.kind == ALLOTMENT_KIND,
            ChangeEntry.entity_key == key,
        )
    )
    return f"{txid}.{change_id}"


def refresh_allotments(
    session: Session,
    store_id: uuid.UUID,
    terminal_id: uuid.UUID,
    cursor: str,
    bookings_pending: bool,
    now: datetime,
) -> None:
    """Recompute ``terminal_id``'s allotments of the store's upcoming slots (in the
    session's transaction) as the module docstring says."""
    slots = upcoming_slots(session, store_id, now)
    if not slots:
        return
    position = _position(cursor)
    active = sorted(
        str(t)
        for t in session.scalars(
            select(Terminal.id).where(Terminal.store_id == store_id, Terminal.revoked_at.is_(None))
        )
    )
    slot_ids = [s.id for s in slots]
    session.execute(
        dialect_insert(session, SlotAllotment)
        .values(
            [
                {
                    "store_id": store_id,
                    "slot_id": sid,
                    "terminal_id": terminal_id,
                    "allotted_total": 0,
                    "used": 0,
                    "announced_total": 0,
                    "granted_change_pos": "",
                }
                for sid in slot_ids
            ]
        )
        .on_conflict_do_nothing()
    )
    query = select(SlotAllotment).where(
        SlotAllotment.store_id == store_id, SlotAllotment.slot_id.in_(slot_ids)
    )
    # this terminal's rows locked (its own push may run meanwhile); a revoked terminal's
    # rows change no more, and the others' are only read
    rows = (
        session.scalars(
            query.where(SlotAllotment.terminal_id == terminal_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        + session.scalars(
            query.where(SlotAllotment.terminal_id != terminal_id).execution_options(
                populate_existing=True
            )
        ).all()
    )
    for found in rows:  # changed through UPDATEs only, never flushed by the ORM
        session.expunge(found)
    by_slot = {s.id: s for s in slots}
    touched: set[uuid.UUID] = set()
    for row in rows:
        if str(row.terminal_id) not in active and row.allotted_total > row.used:
            _set_allotted(session, row, row.used)  # revoked: its places are free again
            row.announced_total = min(row.announced_total, row.used)
            touched.add(row.slot_id)
    for row in rows:
        if row.terminal_id != terminal_id:
            continue
        slot = by_slot[row.slot_id]
        session.refresh(slot)
        if _refresh_one(session, slot, row, active, position, bookings_pending, now):
            touched.add(slot.id)
    if touched:
        record_changes(session, "delivery_slot", [str(s) for s in touched], store_id)


def _refresh_one(
    session: Session,
    slot: DeliverySlot,
    row: SlotAllotment,
    active: list[str],
    position: tuple[int, int],
    bookings_pending: bool,
    now: datetime,
) -> bool:
    """Move one allotment towards its share; whether the slot's free places changed."""
    held = row.allotted_total - row.used
    share = 0
    if slot_open(slot_domain(slot), now):
        share = split_allotments(slot.capacity - slot.booked, active).get(str(row.terminal_id), 0)
    target = row.used + max(0, min(share, slot_free(slot) + held))
    key = allotment_key(slot.id, row.terminal_id)
    if target > row.allotted_total:
        if not _hold_more(session, slot, target - row.allotted_total):
            return False
        _set_allotted(session, row, target, hold=False)
        row.announced_total = target
        row.granted_change_pos = _announce(session, slot.store_id, key)
        _save(session, row)
        return True
    if row.announced_total != target:  # within what is honoured: safe to tell at once
        row.announced_total = target
        row.granted_change_pos = _announce(session, slot.store_id, key)
        _save(session, row)
        return False
    seen = not row.granted_change_pos or position >= parse_cursor(row.granted_change_pos)
    if row.announced_total < row.allotted_total and seen and not bookings_pending:
        _set_allotted(session, row, max(row.announced_total, row.used))
        _save(session, row)
        return True
    return False


def _hold_more(session: Session, slot: DeliverySlot, delta: int) -> bool:
    s = DeliverySlot
    result = session.execute(
        update(s)
        .where(
            s.id == slot.id, s.store_id == slot.store_id, s.booked + s.held + delta <= s.capacity
        )
        .values(held=s.held + delta),
        execution_options=_NO_SYNC,
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _set_allotted(session: Session, row: SlotAllotment, total: int, *, hold: bool = True) -> None:
    """Set ``allotted_total`` (lowering gives the difference back to the slot's free places
    when ``hold``; a raise has taken its places already)."""
    if hold:
        s = DeliverySlot
        session.execute(
            update(s)
            .where(s.id == row.slot_id, s.store_id == row.store_id)
            .values(held=s.held - (row.allotted_total - total)),
            execution_options=_NO_SYNC,
        )
    row.allotted_total = total
    _save(session, row)


def _save(session: Session, row: SlotAllotment) -> None:
    a = SlotAllotment
    session.execute(
        update(a)
        .where(
            a.store_id == row.store_id, a.slot_id == row.slot_id, a.terminal_id == row.terminal_id
        )
        .values(
            allotted_total=row.allotted_total,
            announced_total=row.announced_total,
            granted_change_pos=row.granted_change_pos,
        ),
        execution_options=_NO_SYNC,
    )
