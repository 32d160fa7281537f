"""The push's part for issue 14's shift events, applied in the push's transaction.

- ``shift.opened`` stores the shift (its float per denomination).
- ``cash.moved`` stores a paid in, paid out or no-sale of a shift.
- ``shift.closed`` stores the Z report: one row per (store, terminal, z_number). A
  provisional report becomes final when its final event arrives (the till sends both, as
  two events). A final row is never changed: the same report again is a ``duplicate``, a
  different one a ``conflict``; a provisional arriving after its final is a duplicate (the
  final already holds all it said and more). A Z number already used by another shift, or
  a shift already closed under another Z number, is a conflict.

Everything is the caller's store's: shift ids, movement ids and Z numbers of another store
are neither read nor in the way, and a terminal may only close its own terminal's shifts
(``terminal_code`` is the code it enrolled with).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.models import CashMovement, Shift, ZReportRow
from server.orders.service import OrderOutcome
from server.sql import dialect_insert
from server.terminals.auth import Caller
from sync.protocol import (
    CashMovedEvent,
    ShiftClosedEvent,
    ShiftClosedPayload,
    ShiftOpenedEvent,
)

ShiftEvent = ShiftOpenedEvent | CashMovedEvent | ShiftClosedEvent
SHIFT_EVENT_TYPES = (ShiftOpenedEvent, CashMovedEvent, ShiftClosedEvent)


@dataclass(frozen=True, slots=True)
class ShiftCommand:
    key: int  # the event's index in the push
    event: ShiftEvent


def _z_hash(payload: ShiftClosedPayload) -> str:
    return hashlib.sha256(payload.model_dump_json().encode()).hexdigest()


def _wrong_terminal(key: int, sent: str, who: Caller) -> OrderOutcome:
    return OrderOutcome(
        key,
        "rejected",
        "terminal_code_mismatch",
        f"terminal {who.terminal_code} cannot report for terminal {sent}",
        "terminal_code",
    )


def apply_shift_events(
    session: Session, who: Caller, commands: Sequence[ShiftCommand], now: datetime
) -> list[OrderOutcome]:
    """Apply the batch's new shift events in the order they were sent (a till queues the
    opening before its movements and its close); one outcome per command."""
    outcomes = []
    for command in sorted(commands, key=lambda c: c.key):
        event = command.event
        if isinstance(event, ShiftOpenedEvent):
            outcomes.append(_open(session, who, command.key, event, now))
        elif isinstance(event, CashMovedEvent):
            outcomes.append(_move(session, who, command.key, event, now))
        else:
            outcomes.append(_close(session, who, command.key, event, now))
    return outcomes


def _open(
    session: Session, who: Caller, key: int, event: ShiftOpenedEvent, now: datetime
) -> OrderOutcome:
    p = event.payload
    if p.terminal_code != who.terminal_code:
        return _wrong_terminal(key, p.terminal_code, who)
    stmt = dialect_insert(session, Shift.__table__).values(
        store_id=who.store_id,
        id=p.shift_id,
        terminal_id=who.terminal(),
        terminal_code=who.terminal_code,
        opened_at=p.opened_at,
        opened_by=p.clerk_id,
        float_amount=p.float_amount,
        float_count=dict(p.float_count),
        event_id=event.event_id,
        received_at=now,
    )
    # the close may have arrived first (it made the row from the Z): the opening adds the float
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["store_id", "id"],
            set_={
                "float_amount": stmt.excluded.float_amount,
                "float_count": stmt.excluded.float_count,
                "opened_at": stmt.excluded.opened_at,
                "opened_by": stmt.excluded.opened_by,
                "event_id": stmt.excluded.event_id,
            },
        )
    )
    return OrderOutcome(key, "accepted")


def _move(
    session: Session, who: Caller, key: int, event: CashMovedEvent, now: datetime
) -> OrderOutcome:
    p = event.payload
    stmt = (
        dialect_insert(session, CashMovement.__table__)
        .values(
            store_id=who.store_id,
            id=p.movement_id,
            shift_id=p.shift_id,
            terminal_id=who.terminal(),
            kind=p.kind,
            amount=p.amount,
            reason=p.reason,
            clerk_id=p.clerk_id,
            approval_id=str(p.approval_id) if p.approval_id else None,
            at=p.at,
            event_id=event.event_id,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["store_id", "id"])
        .returning(CashMovement.__table__.c.id)
    )
    if session.execute(stmt).first() is None:
        return OrderOutcome(
            key,
            "conflict",
            "conflict",
            f"cash movement {p.movement_id} was received before under another event",
        )
    return OrderOutcome(key, "accepted")


def _close(
    session: Session, who: Caller, key: int, event: ShiftClosedEvent, now: datetime
) -> OrderOutcome:
    p = event.payload
    if p.terminal_code != who.terminal_code:
        return _wrong_terminal(key, p.terminal_code, who)
    digest = _z_hash(p)
    stored = session.execute(
        select(ZReportRow.shift_id, ZReportRow.status, ZReportRow.content_hash).where(
            ZReportRow.store_id == who.store_id,
            ZReportRow.terminal_code == who.terminal_code,
            ZReportRow.z_number == p.z_number,
        )
    ).first()
    if stored is not None:
        if stored.shift_id != p.shift_id:
            return _conflict(key, f"Z {p.z_number} of {who.terminal_code} is another shift's")
        if stored.content_hash == digest:
            return OrderOutcome(key, "duplicate")
        if stored.status == "final":
            if p.status == "provisional":  # older news than the final already stored
                return OrderOutcome(key, "duplicate")
            return _conflict(key, f"Z {p.z_number} of {who.terminal_code} is final, differently")
        if p.status == "provisional":
            return _conflict(
                key, f"provisional Z {p.z_number} of {who.terminal_code} was received differently"
            )
        session.execute(
            update(ZReportRow)
            .where(
                ZReportRow.store_id == who.store_id,
                ZReportRow.terminal_code == who.terminal_code,
                ZReportRow.z_number == p.z_number,
                ZReportRow.status == "provisional",
            )
            .values(**_z_values(p), content_hash=digest, event_id=event.event_id, updated_at=now)
        )
        _close_shift(session, who, p, now, event)
        return OrderOutcome(key, "accepted")
    other = session.scalar(
        select(ZReportRow.z_number).where(
            ZReportRow.store_id == who.store_id, ZReportRow.shift_id == p.shift_id
        )
    )
    if other is not None:
        return _conflict(key, f"shift {p.shift_id} was closed as Z {other}")
    session.add(
        ZReportRow(
            store_id=who.store_id,
            terminal_code=who.terminal_code,
            z_number=p.z_number,
            shift_id=p.shift_id,
            terminal_id=who.terminal(),
            content_hash=digest,
            event_id=event.event_id,
            received_at=now,
            updated_at=now,
            **_z_values(p),
        )
    )
    session.flush()
    _close_shift(session, who, p, now, event)
    return OrderOutcome(key, "accepted")


def _conflict(key: int, message: str) -> OrderOutcome:
    return OrderOutcome(key, "conflict", "conflict", message)


def _z_values(p: ShiftClosedPayload) -> dict[str, object]:
    return {
        "status": p.status,
        "closed_at": p.closed_at,
        "closed_by": p.closed_by,
        "counted": dict(p.counted),
        "counted_total": p.counted_total,
        "expected_cash": p.expected_cash,
        "difference": p.difference,
        "net_sales": p.figures.net_sales,
        "figures": p.figures.model_dump(mode="json"),
        "waiting": list(p.waiting),
        "synced_after_close": list(p.synced_after_close),
        "finalised_at": p.finalised_at,
    }


def _close_shift(
    session: Session, who: Caller, p: ShiftClosedPayload, now: datetime, event: ShiftClosedEvent
) -> None:
    """The shift row closed (made from the Z when its opening has not arrived yet)."""
    stmt = dialect_insert(session, Shift.__table__).values(
        store_id=who.store_id,
        id=p.shift_id,
        terminal_id=who.terminal(),
        terminal_code=who.terminal_code,
        opened_at=p.opened_at,
        opened_by=p.opened_by,
        float_amount=p.figures.float_amount,
        float_count={},
        closed_at=p.closed_at,
        closed_by=p.closed_by,
        event_id=event.event_id,
        received_at=now,
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["store_id", "id"],
            set_={"closed_at": stmt.excluded.closed_at, "closed_by": stmt.excluded.closed_by},
        )
    )
