"""Taking in a push batch: parse and validate per item, tell new events from replays, then
apply the whole batch in ONE transaction. What an event does to orders, refunds and stock is
the order rules' business (server/orders/service.py): the push hands them the new events as
commands and answers each event from the outcome.

Idempotency: every accepted event id is stored in ``sync_events`` with a hash of its
content. The batch's events are inserted with ``INSERT … ON CONFLICT DO NOTHING RETURNING``
(in event-id order, so two concurrent copies of a batch lock rows in the same order and the
second simply waits and then finds everything present). Events that were already there are
answered ``duplicate`` (same hash) or ``conflict`` (different hash: recorded in
``sync_conflicts``, never applied). Only events inserted now take effect, so stock is
decremented exactly once per order. No statement is issued per row: every table is written
with one executemany per batch.

Replays are answered before any parsing: each event's raw JSON (as received, re-serialised
by orjson in its own key order) is hashed too, and an event whose stored ``raw_hash`` matches
was accepted with exactly these bytes before, so it passed every check then and is answered
from its stored outcome without validation or a write transaction. Anything else (new, or
the same event formatted differently) takes the full path, where ``content_hash`` (over the
validated, canonical form) still tells a harmless re-format from a conflict.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

import orjson
from pydantic import ValidationError
from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.orm import Session

from server.api import has_nul
from server.bulk import insert_returning, select_by_keys
from server.clerks.push import CLERK_EVENT_TYPES, ClerkCommand, ClerkEvent, apply_clerk_events
from server.db import in_transaction
from server.delivery.push import (
    DELIVERY_EVENT_TYPES,
    DeliveryCommand,
    DeliveryEvent,
    apply_delivery_events,
)
from server.errors import field_path
from server.models import SyncConflict, SyncEvent
from server.orders.service import (
    OrderBatch,
    OrderCommand,
    OrderOutcome,
    PlaceOrder,
    RefundOrder,
    VoidOrder,
    arithmetic_problem,
)
from server.reports.summaries import count_refused_events
from server.services import Services
from server.shifts.push import SHIFT_EVENT_TYPES, ShiftCommand, ShiftEvent, apply_shift_events
from server.terminals.auth import Caller
from sync.protocol import (
    EVENT_TYPES,
    EventResult,
    EventStatus,
    OrderPaidEvent,
    OrderRefundedEvent,
    OrderVoidedEvent,
    PushResponse,
)

log = logging.getLogger("shopsmart.server.push")


Event = (
    OrderPaidEvent | OrderVoidedEvent | OrderRefundedEvent | DeliveryEvent | ShiftEvent | ClerkEvent
)
# Events the order rules do not check before their id is stored (issues 13 and 14).
_SIDE_COMMANDS = (DeliveryCommand, ShiftCommand, ClerkCommand)


@dataclass(frozen=True, slots=True)
class Candidate:
    index: int
    event: Event
    content_hash: str
    order_hash: str | None = None  # order.paid: the hash of the payload alone
    raw_hash: str | None = None  # the event's JSON as received (see the module docstring)


class StoredEvent(NamedTuple):
    """An event's idempotency record, as read before the batch is applied."""

    content_hash: str
    outcome: str
    raw_hash: str | None


def _rejected(
    index: int, event_id: uuid.UUID | None, reason: str, message: str, field: str | None = None
) -> EventResult:
    return EventResult(
        index=index,
        event_id=event_id,
        status="rejected",
        reason=reason,
        message=message,
        field=field,
    )


def _loose_event_id(raw: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw.get("event_id")))
    except ValueError:
        return None


def _raw_hash(prefix: bytes, raw: Any) -> str | None:
    """The hash of an event's JSON as received (key order kept), or None if it is not an
    object orjson can write (e.g. an integer beyond 64 bits: the full path judges it)."""
    if not isinstance(raw, dict):
        return None
    try:
        return hashlib.sha256(prefix + orjson.dumps(raw)).hexdigest()
    except (TypeError, orjson.JSONEncodeError):
        return None


def _parse_item(
    index: int,
    raw: Any,
    event_id: uuid.UUID | None,
    store_id: uuid.UUID,
    maybe_nul: bool,
    raw_hash: str | None,
) -> Candidate | EventResult:
    """Schema and the event's own checks, and its content hash; not the order's
    arithmetic (``_check_consistency``), which a stored identical copy makes moot.
    ``event_id`` is the loose reading of the raw event's id (for answering a rejection)."""
    if not isinstance(raw, dict):
        return _rejected(index, None, "invalid_event", "an event must be a JSON object")
    if maybe_nul and has_nul(raw):
        return _rejected(index, event_id, "invalid_event", "text must not contain NUL characters")
    kind = raw.get("type")
    model = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(sorted(EVENT_TYPES))
        return _rejected(
            index,
            event_id,
            "unknown_event_type",
            f"event type {kind!r} is not known to this server (known: {known})",
            "type",
        )
    try:
        event: Event = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        return _rejected(index, event_id, "invalid_event", first["msg"], field_path(first["loc"]))
    if isinstance(event, OrderRefundedEvent):
        r = event.payload
        if r.cash_amount + r.card_amount != r.amount:
            return _rejected(
                index,
                event.event_id,
                "refund_parts_mismatch",
                f"cash {r.cash_amount} + card {r.card_amount} is not the amount {r.amount}",
                "payload.amount",
            )
        if r.card_amount and r.card_payment_id is None:
            return _rejected(
                index,
                event.event_id,
                "card_payment_missing",
                "a refund with a card part names the card payment it went back to",
                "payload.card_payment_id",
            )
    prefix = f"{store_id}|".encode()
    dumped = event.model_dump_json().encode()
    digest = hashlib.sha256(prefix + dumped).hexdigest()
    if isinstance(event, OrderPaidEvent):
        return Candidate(index, event, digest, _order_hash(prefix, dumped), raw_hash)
    return Candidate(index, event, digest, raw_hash=raw_hash)


def _check_consistency(c: Candidate) -> Candidate | EventResult:
    if isinstance(c.event, OrderPaidEvent):
        problem = arithmetic_problem(c.index, c.event.payload)
        if problem is not None:
            return _rejected(
                c.index,
                c.event.event_id,
                problem.reason or "",
                problem.message or "",
                f"payload.{problem.field}",
            )
    return c


_PAYLOAD_KEY = b',"payload":'


def _order_hash(prefix: bytes, event_json: bytes) -> str:
    """The hash of an order's payload JSON, cut out of its event's JSON (``payload`` is the
    event's last field and nothing before it can hold the key, so the slice is exactly what
    ``payload.model_dump_json()`` gives) instead of serialising the order twice."""
    start = event_json.index(_PAYLOAD_KEY) + len(_PAYLOAD_KEY)
    return hashlib.sha256(prefix + event_json[start:-1]).hexdigest()


def ingest(
    svc: Services, who: Caller, raw_events: Sequence[Any], maybe_nul: bool = False
) -> PushResponse:
    """Apply a batch; ``maybe_nul``: the raw body may hold NUL characters (check items)."""
    first_by_id: dict[uuid.UUID, Candidate] = {}
    repeats: list[Candidate] = []
    prefix = f"{who.store_id}|".encode()
    raw_hashes = [_raw_hash(prefix, raw) for raw in raw_events]
    loose_ids = [_loose_event_id(raw) if isinstance(raw, dict) else None for raw in raw_events]
    # A replay is answered from the stored hashes (one query, before any parsing or write).
    queried = {i for i in loose_ids if i is not None}
    stored = _stored_events(svc, who, list(queried))
    results = _answer_byte_identical(loose_ids, raw_hashes, stored)
    parsed = [
        _parse_item(index, raw, loose_ids[index], who.store_id, maybe_nul, raw_hashes[index])
        for index, raw in enumerate(raw_events)
        if index not in results
    ]
    unread = [
        c.event.event_id
        for c in parsed
        if isinstance(c, Candidate) and c.event.event_id not in queried
    ]
    if unread:  # an id spelled so that the loose reading missed it
        stored.update(_stored_events(svc, who, unread))
    for item in parsed:
        checked = item
        # An event stored with this very content passed every check then.
        if isinstance(item, Candidate) and not _same_as_stored(item, stored):
            checked = _check_consistency(item)
        if isinstance(checked, EventResult):
            results[checked.index] = checked
        elif checked.event.event_id in first_by_id:
            repeats.append(checked)
        else:
            first_by_id[checked.event.event_id] = checked
    applied: dict[int, EventResult] = {}
    if first_by_id or repeats:
        applied = _apply_with_retries(svc, who, list(first_by_id.values()), repeats, stored)
    results.update(applied)
    ordered = [results[i] for i in range(len(raw_events))]
    counts: defaultdict[str, int] = defaultdict(int)
    for result in ordered:
        counts[result.status] += 1
    if counts["rejected"] or counts["conflict"]:  # terminal health (server/reports/)
        count_refused_events(svc.sessions, who, counts["rejected"] + counts["conflict"])
    return PushResponse(
        results=ordered,
        accepted=counts["accepted"],
        duplicates=counts["duplicate"],
        rejected=counts["rejected"],
        conflicts=counts["conflict"],
    )


def _answer_byte_identical(
    event_ids: list[uuid.UUID | None],
    raw_hashes: list[str | None],
    stored: dict[uuid.UUID, StoredEvent],
) -> dict[int, EventResult]:
    """The answers to events stored before with exactly these bytes (by index). An id that
    appears twice in the batch is left to the full path, which decides between the copies."""
    seen = Counter(event_ids)
    answers = {}
    for index, (event_id, raw_hash) in enumerate(zip(event_ids, raw_hashes, strict=True)):
        if event_id is None or raw_hash is None or seen[event_id] > 1:
            continue
        row = stored.get(event_id)
        if row is not None and row.raw_hash == raw_hash:
            answers[index] = _known_result(index, event_id, row.outcome)
    return answers


def _apply_with_retries(
    svc: Services,
    who: Caller,
    candidates: list[Candidate],
    repeats: list[Candidate],
    stored: dict[uuid.UUID, StoredEvent],
) -> dict[int, EventResult]:
    """The batch in one transaction, run again after a deadlock or serialization failure
    (two batches of a store taking stock rows in another order; SQLite busy)."""
    return in_transaction(
        svc.sessions,
        lambda session: _apply(session, svc, who, candidates, repeats, stored),
        what="push batch",
    )


class _Batch:
    """The push's own writes of one batch (results, conflicts, outcomes), gathered so each
    table gets one executemany."""

    def __init__(self, session: Session, who: Caller, now: datetime) -> None:
        self.session = session
        self.who = who
        self.conn = session.connection()
        self.results: dict[int, EventResult] = {}
        self.conflicts: list[dict[str, Any]] = []
        self.outcome_updates: list[dict[str, Any]] = []
        self.now = now

    def result(self, c: Candidate, status: EventStatus, **extra: Any) -> None:
        self.results[c.index] = EventResult(
            index=c.index, event_id=c.event.event_id, status=status, **extra
        )

    def conflict(self, c: Candidate, stored_hash: str, message: str) -> None:
        self.conflicts.append(
            {
                "event_id": c.event.event_id,
                "store_id": self.who.store_id,
                "terminal_id": self.who.terminal_id,
                "stored_hash": stored_hash,
                "received_hash": c.content_hash,
                "received": c.event.model_dump(mode="json"),
                "detected_at": self.now,
            }
        )
        self.result(c, "conflict", reason="conflict", message=message)

    def answer(self, c: Candidate, outcome: OrderOutcome) -> None:
        """An event's answer from what the order rules made of it."""
        if outcome.status == "rejected":
            where = f"payload.{outcome.field}" if outcome.field else None
            self.results[c.index] = _rejected(
                c.index, c.event.event_id, outcome.reason or "", outcome.message or "", where
            )
            return
        if outcome.status == "conflict":
            self.conflict(c, outcome.stored_hash, outcome.message or "")
        else:
            self.result(c, outcome.status)
        if outcome.status != "accepted":  # the event was stored as accepted a moment ago
            self.outcome_updates.append(
                {"b_event_id": c.event.event_id, "b_outcome": outcome.status}
            )


def _command(c: Candidate) -> OrderCommand | DeliveryCommand | ShiftCommand | ClerkCommand:
    """The order rules' command for a new event (or the phone-order part's, issue 13, or
    the shifts', issue 14)."""
    event = c.event
    if isinstance(event, SHIFT_EVENT_TYPES):
        return ShiftCommand(c.index, event)
    if isinstance(event, CLERK_EVENT_TYPES):
        return ClerkCommand(c.index, event)
    if isinstance(event, DELIVERY_EVENT_TYPES):
        return DeliveryCommand(c.index, event)
    if isinstance(event, OrderPaidEvent):
        assert c.order_hash is not None
        return PlaceOrder(c.index, event.payload, c.order_hash, event.event_id)
    if isinstance(event, OrderVoidedEvent):
        return VoidOrder(c.index, event.payload)
    return RefundOrder(c.index, event.payload, event.event_id)


def _apply(
    session: Session,
    svc: Services,
    who: Caller,
    candidates: list[Candidate],
    repeats: list[Candidate],
    stored: dict[uuid.UUID, StoredEvent],
) -> dict[int, EventResult]:
    orders = OrderBatch(session, who, svc.catalog(session))
    batch = _Batch(session, who, orders.now)
    now = batch.now
    # Stored before with this very content (a replay): answered from the stored row, never
    # inserted again. Anything else takes the full path, whatever the earlier read saw.
    known = [c for c in candidates if _same_as_stored(c, stored)]
    candidates = [c for c in candidates if not _same_as_stored(c, stored)]
    by_index = {c.index: c for c in candidates}
    commands = {c.index: _command(c) for c in candidates}
    # The order rules refuse what may not be applied before the event id is stored, so a
    # refused event can be sent again (say, once its card payment is confirmed).
    delivery = [k for k, command in commands.items() if isinstance(command, _SIDE_COMMANDS)]
    kept, refused = orders.check(
        [command for command in commands.values() if not isinstance(command, _SIDE_COMMANDS)]
    )
    for outcome in refused:
        batch.answer(by_index[outcome.key], outcome)
    candidates = [by_index[command.key] for command in kept] + [by_index[k] for k in delivery]
    candidates.sort(key=lambda c: c.event.event_id)
    _answer_known_events(batch, known, stored)
    inserted: set[uuid.UUID] = set()
    if candidates:
        rows = [
            {
                "event_id": c.event.event_id,
                "store_id": who.store_id,
                "terminal_id": who.terminal_id,
                "type": c.event.type,
                "content_hash": c.content_hash,
                "raw_hash": c.raw_hash,
                "outcome": "accepted",
                "received_at": now,
            }
            for c in candidates
        ]
        found = insert_returning(
            session, SyncEvent, rows, conflict=("store_id", "event_id"), returning=("event_id",)
        )
        inserted = {r[0] for r in found}
    _answer_known_events(batch, [c for c in candidates if c.event.event_id not in inserted])
    fresh = [commands[c.index] for c in candidates if c.event.event_id in inserted]
    late_refusals = []
    outcomes = orders.apply([f for f in fresh if not isinstance(f, _SIDE_COMMANDS)])
    outcomes += apply_delivery_events(
        session, who, [f for f in fresh if isinstance(f, DeliveryCommand)], now
    )
    outcomes += apply_shift_events(
        session, who, [f for f in fresh if isinstance(f, ShiftCommand)], now
    )
    outcomes += apply_clerk_events(
        session, who, [f for f in fresh if isinstance(f, ClerkCommand)], now
    )
    for outcome in outcomes:
        batch.answer(by_index[outcome.key], outcome)
        if outcome.status == "rejected":  # refused only now: the event id is not kept
            late_refusals.append(by_index[outcome.key].event.event_id)
    if late_refusals:
        table = cast(Table, SyncEvent.__table__)
        batch.conn.execute(
            delete(table).where(
                table.c.store_id == who.store_id, table.c.event_id.in_(late_refusals)
            )
        )
    for c in repeats:  # the same event twice in one batch: the first copy decides
        first = next(x for x in known + candidates if x.event.event_id == c.event.event_id)
        if first.content_hash == c.content_hash:
            batch.result(c, "duplicate")
        else:
            batch.conflict(c, first.content_hash, "the same event_id appears twice, differently")
    insert_returning(
        session,
        SyncConflict,
        batch.conflicts,
        conflict=("store_id", "event_id", "received_hash"),
        returning=("id",),
    )
    if batch.outcome_updates:
        table = cast(Table, SyncEvent.__table__)
        batch.conn.execute(
            update(table)
            .where(table.c.store_id == who.store_id, table.c.event_id == bindparam("b_event_id"))
            .values(outcome=bindparam("b_outcome")),
            batch.outcome_updates,
        )
    orders.settle()  # flags, then stock last (see server/orders/service.py)
    return batch.results


def _same_as_stored(c: Candidate, stored: dict[uuid.UUID, StoredEvent]) -> bool:
    row = stored.get(c.event.event_id)
    return row is not None and row.content_hash == c.content_hash


def _stored_events(
    svc: Services, who: Caller, ids: list[uuid.UUID]
) -> dict[uuid.UUID, StoredEvent]:
    """The idempotency records of the caller's store's events among ``ids`` already stored
    (event ids are the store's own: another store's are never read, so never revealed)."""
    if not ids:
        return {}
    with svc.sessions() as session, session.begin():
        return _stored_rows(session, who, ids)


def _stored_rows(
    session: Session, who: Caller, ids: list[uuid.UUID]
) -> dict[uuid.UUID, StoredEvent]:
    found = select_by_keys(
        session,
        SyncEvent,
        "event_id",
        ids,
        ("content_hash", "outcome", "raw_hash"),
        equal={"store_id": who.store_id},
    )
    return {row[0]: StoredEvent(*row[1:]) for row in found}


def _known_result(index: int, event_id: uuid.UUID, outcome: str) -> EventResult:
    """The answer to an event stored before with the same content."""
    if outcome == "conflict":
        return EventResult(
            index=index,
            event_id=event_id,
            status="conflict",
            reason="conflict",
            message="this event conflicted when received",
        )
    return EventResult(index=index, event_id=event_id, status="duplicate")


def _answer_known_events(
    batch: _Batch, known: list[Candidate], stored: dict[uuid.UUID, StoredEvent] | None = None
) -> None:
    """Events stored before (``stored``: their rows, if already read)."""
    if not known:
        return
    missing = [c.event.event_id for c in known if stored is None or c.event.event_id not in stored]
    rows = dict(stored or {})
    if missing:
        rows.update(_stored_rows(batch.session, batch.who, missing))
    for c in known:
        row = rows[c.event.event_id]
        if row.content_hash != c.content_hash:
            batch.conflict(c, row.content_hash, "this event_id was received before, differently")
        else:
            batch.results[c.index] = _known_result(c.index, c.event.event_id, row.outcome)
