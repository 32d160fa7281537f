"""The till's side of sync: the outbox in order, per-event results, and pulled pages.

Implements the ``SyncStore`` protocol of ``sync.engine`` structurally (no import of sync/).
Every method is one short transaction on the writer engine, run from the sync worker thread.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, case, func, select, update

from app.domain.order import SyncState
from app.domain.sync import (
    CURSOR_SETTING,
    OutboxEvent,
    OutboxState,
    PulledPage,
    PushOutcome,
    ResultStatus,
)
from app.domain.timestamps import now_iso, utc_iso
from local_db.codec import from_iso
from local_db.models import CLERKS, CUSTOMERS, ORDERS, OUTBOX, PRODUCTS, SLOTS
from local_db.repositories import SqliteProductRepository, SqliteSettingsRepository, upsert

LAST_SYNC_KEY = "sync.last_success_at"
WAITING_STATES = (OutboxState.PENDING.value, OutboxState.SENT.value)

# A batch's ids go in as ONE JSON array parameter (json_each), so each statement has a fixed
# text that sqlite3 prepares once, instead of a new 200-placeholder IN list every batch.
_IDS = "SELECT value FROM json_each(?)"
_MARK_SENT = (
    f"UPDATE outbox SET state = '{OutboxState.SENT.value}', attempts = attempts + 1 "
    f"WHERE event_id IN ({_IDS})",
    f"UPDATE orders SET sync_state = '{SyncState.SENT.value}' "
    f"WHERE id IN ({_IDS}) AND sync_state = '{SyncState.QUEUED.value}'",
)
_MARK_DONE = (
    f"UPDATE outbox SET state = '{OutboxState.DONE.value}', acked_at = ?, last_error = '' "
    f"WHERE event_id IN ({_IDS})",
    f"UPDATE orders SET sync_state = '{SyncState.ACKNOWLEDGED.value}', sync_error = '' "
    f"WHERE id IN ({_IDS})",
)


class SqliteSyncStore:
    def __init__(self, writer: Engine) -> None:
        self._engine = writer

    # ------------------------------------------------------------------ push side

    def pending_events(self, limit: int, after_seq: int = 0) -> list[OutboxEvent]:
        """Events still to deliver, oldest first (rejected ones wait for a manager)."""
        with self._engine.connect() as c:
            rows = c.execute(
                select(OUTBOX)
                .where(OUTBOX.c.state.in_(WAITING_STATES), OUTBOX.c.seq > after_seq)
                .order_by(OUTBOX.c.seq)
                .limit(limit)
            ).all()
            c.rollback()
        return [_event(row) for row in rows]

    def mark_sent(self, event_ids: list[str]) -> None:
        """Before a batch goes out: count the attempt; the order shows 'sent'."""
        if not event_ids:
            return
        ids = json.dumps(event_ids)
        with self._engine.begin() as c:
            for sql in _MARK_SENT:
                c.exec_driver_sql(sql, (ids,))

    def record_results(self, outcomes: list[PushOutcome]) -> None:
        """Apply the server's per-event answers in one transaction.

        accepted/duplicate → done, the order is acknowledged; rejected/conflict → kept,
        visible with the server's reason, never retried blindly and never dropped.
        """
        if not outcomes:
            return
        stamp = now_iso()
        done = [o.event_id for o in outcomes if o.status.is_done]
        refused = [o for o in outcomes if not o.status.is_done]
        with self._engine.begin() as c:
            if done:
                ids = json.dumps(done)
                c.exec_driver_sql(_MARK_DONE[0], (stamp, ids))
                c.exec_driver_sql(_MARK_DONE[1], (ids,))
            if refused:
                c.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.event_id == bindparam("eid"))
                    .values(state=OutboxState.REJECTED.value, last_error=bindparam("why")),
                    [{"eid": o.event_id, "why": describe(o)} for o in refused],
                )
                c.execute(
                    update(ORDERS)
                    .where(ORDERS.c.id == bindparam("eid"))
                    .values(sync_state=SyncState.REJECTED.value, sync_error=bindparam("why")),
                    [{"eid": o.event_id, "why": describe(o)} for o in refused],
                )

    def record_transport_error(self, event_ids: list[str], message: str) -> None:
        if not event_ids:
            return
        with self._engine.begin() as c:
            c.execute(
                update(OUTBOX).where(OUTBOX.c.event_id.in_(event_ids)).values(last_error=message)
            )

    def resend(self, event_id: str) -> None:
        """A manager fixed the cause: put a rejected event back in the queue."""
        with self._engine.begin() as c:
            c.execute(
                update(OUTBOX)
                .where(OUTBOX.c.event_id == event_id, OUTBOX.c.state == OutboxState.REJECTED.value)
                .values(state=OutboxState.PENDING.value)
            )
            c.execute(
                update(ORDERS)
                .where(ORDERS.c.id == event_id)
                .values(sync_state=SyncState.QUEUED.value, sync_error="")
            )

    def counts(self) -> tuple[int, int]:
        """(waiting, rejected) events."""
        with self._engine.connect() as c:
            waiting, rejected = c.execute(
                select(
                    func.coalesce(
                        func.sum(case((OUTBOX.c.state.in_(WAITING_STATES), 1), else_=0)), 0
                    ),
                    func.coalesce(
                        func.sum(case((OUTBOX.c.state == OutboxState.REJECTED.value, 1), else_=0)),
                        0,
                    ),
                )
            ).one()
            c.rollback()
        return int(waiting), int(rejected)

    def rejected_events(self) -> list[OutboxEvent]:
        with self._engine.connect() as c:
            rows = c.execute(
                select(OUTBOX)
                .where(OUTBOX.c.state == OutboxState.REJECTED.value)
                .order_by(OUTBOX.c.seq)
            ).all()
            c.rollback()
        return [_event(row) for row in rows]

    # ------------------------------------------------------------------ pull side

    def cursor(self) -> str:
        with self._engine.begin() as c:
            return SqliteSettingsRepository(c).get(CURSOR_SETTING)

    def last_success(self) -> datetime | None:
        with self._engine.begin() as c:
            return from_iso(SqliteSettingsRepository(c).get(LAST_SYNC_KEY))

    def note_success(self, at: datetime) -> None:
        with self._engine.begin() as c:
            SqliteSettingsRepository(c).put(LAST_SYNC_KEY, utc_iso(at))

    def apply_pull(self, page: PulledPage) -> None:
        """Apply one page and its cursor in ONE transaction: a crash resumes at this page."""
        with self._engine.begin() as c:
            products = SqliteProductRepository(c)
            if page.products:
                # Keep local stock: server stock arrives as its own change kind.
                known = {
                    row.id: row.stock
                    for row in c.execute(
                        select(PRODUCTS.c.id, PRODUCTS.c.stock).where(
                            PRODUCTS.c.id.in_([p.id for p in page.products])
                        )
                    )
                }
                products.upsert_many(
                    [
                        replace(p, stock=known[p.id]) if p.id in known and p.stock is None else p
                        for p in page.products
                    ]
                )
            if page.deleted_product_ids:
                c.execute(
                    update(PRODUCTS)
                    .where(PRODUCTS.c.id.in_(page.deleted_product_ids))
                    .values(deleted=True, active=False)
                )
            if page.stock:
                c.execute(
                    update(PRODUCTS)
                    .where(PRODUCTS.c.id == bindparam("pid"))
                    .values(stock=bindparam("qty")),
                    [{"pid": pid, "qty": qty} for pid, qty in page.stock],
                )
            for clerk in page.clerks:
                upsert(
                    c,
                    CLERKS,
                    {
                        "id": clerk.id,
                        "name": clerk.name,
                        "role": clerk.role,
                        "pin_hash": clerk.pin_hash,
                        "active": clerk.active,
                        "failed_attempts": 0,
                    },
                    keep=("failed_attempts",),  # wrong PINs counted on this till survive a pull
                )
            if page.deleted_clerk_ids:
                c.execute(
                    update(CLERKS)
                    .where(CLERKS.c.id.in_(page.deleted_clerk_ids))
                    .values(active=False)
                )
            for customer in page.customers:
                upsert(
                    c,
                    CUSTOMERS,
                    {
                        "id": customer.id,
                        "name": customer.name,
                        "phone": customer.phone,
                        "email": customer.email,
                        "deleted": customer.deleted,
                    },
                )
            for slot in page.slots:
                upsert(
                    c,
                    SLOTS,
                    {
                        "id": slot.id,
                        "starts_at": utc_iso(slot.starts_at),
                        "ends_at": utc_iso(slot.ends_at),
                        "capacity": slot.capacity,
                        "booked": slot.booked,
                        "active": slot.active,
                    },
                )
            if page.deleted_slot_ids:
                c.execute(
                    update(SLOTS).where(SLOTS.c.id.in_(page.deleted_slot_ids)).values(active=False)
                )
            SqliteSettingsRepository(c).put(CURSOR_SETTING, page.next_cursor)


def _event(row: Any) -> OutboxEvent:
    return OutboxEvent(
        seq=row.seq,
        event_id=row.event_id,
        event_type=row.event_type,
        payload_json=row.payload,
        state=OutboxState(row.state),
        attempts=row.attempts,
        last_error=row.last_error,
    )


def describe(outcome: PushOutcome) -> str:
    if outcome.status is ResultStatus.CONFLICT:
        head = "conflict: the server holds different content for this id"
    else:
        head = f"rejected ({outcome.reason or 'no reason given'})"
    return f"{head}: {outcome.message}" if outcome.message else head
