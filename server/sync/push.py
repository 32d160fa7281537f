"""Taking in a push batch: validate per item, then apply the whole batch in ONE transaction.

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
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

import orjson
from pydantic import ValidationError
from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.api import has_nul
from server.bulk import copy_rows, insert_returning, select_by_keys
from server.errors import field_path
from server.models import (
    Clerk,
    Customer,
    Flag,
    Order,
    OrderLine,
    OrderRefund,
    Payment,
    PaymentRefund,
    StockLevel,
    SyncConflict,
    SyncEvent,
    Tender,
)
from server.services import Services
from server.sync.changes import record_changes
from server.terminals.auth import Caller
from sync.protocol import (
    EVENT_TYPES,
    EventResult,
    EventStatus,
    OrderPaidEvent,
    OrderRefundedEvent,
    OrderVoidedEvent,
    PushResponse,
    check_order_consistency,
)

log = logging.getLogger("shopsmart.server.push")

RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
ATTEMPTS = 4

Event = OrderPaidEvent | OrderVoidedEvent | OrderRefundedEvent


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
        problem = check_order_consistency(c.event.payload)
        if problem is not None:
            return _rejected(
                c.index,
                c.event.event_id,
                problem.reason,
                problem.message,
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
    stored = _stored_events(svc, list(queried))
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
        stored.update(_stored_events(svc, unread))
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
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with svc.sessions() as session, session.begin():
                return _apply(session, svc, who, candidates, repeats, stored)
        except DBAPIError as exc:
            sqlstate = getattr(exc.orig, "sqlstate", None)
            if attempt < ATTEMPTS and (sqlstate in RETRYABLE_SQLSTATES or "locked" in str(exc)):
                log.warning(
                    "push batch retried", extra={"event": "push_retry", "sqlstate": sqlstate}
                )
                continue
            raise
    raise AssertionError("unreachable: the last attempt returns or raises")


class _Batch:
    """The writes of one batch, gathered so each table gets one executemany."""

    def __init__(self, session: Session, svc: Services, who: Caller) -> None:
        self.session = session
        self.svc = svc
        self.who = who
        self.conn = session.connection()
        self.results: dict[int, EventResult] = {}
        self.conflicts: list[dict[str, Any]] = []
        self.flags: list[dict[str, Any]] = []
        self.stock_delta: dict[str, int] = defaultdict(int)
        self.stock_orders: dict[str, list[str]] = defaultdict(list)
        self.outcome_updates: list[dict[str, Any]] = []
        self.now = datetime.now(UTC)

    def insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        copy_rows(self.session, table, rows)

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


def _apply(
    session: Session,
    svc: Services,
    who: Caller,
    candidates: list[Candidate],
    repeats: list[Candidate],
    stored: dict[uuid.UUID, StoredEvent],
) -> dict[int, EventResult]:
    batch = _Batch(session, svc, who)
    now = batch.now
    # Stored before with this very content (a replay): answered from the stored row, never
    # inserted again. Anything else takes the full path, whatever the earlier read saw.
    known = [c for c in candidates if _same_as_stored(c, stored)]
    candidates = [c for c in candidates if not _same_as_stored(c, stored)]
    candidates = _drop_voids_of_unknown_orders(batch, candidates)
    candidates = _drop_unconfirmed_card_tenders(batch, candidates)
    candidates = _drop_refunds_that_do_not_fit(batch, candidates)
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
            session, SyncEvent, rows, conflict=("event_id",), returning=("event_id",)
        )
        inserted = {r[0] for r in found}
    _answer_known_events(batch, [c for c in candidates if c.event.event_id not in inserted])
    fresh = [c for c in candidates if c.event.event_id in inserted]
    _apply_paid(batch, [c for c in fresh if isinstance(c.event, OrderPaidEvent)])
    _apply_voids(batch, [c for c in fresh if isinstance(c.event, OrderVoidedEvent)])
    _apply_refunds(batch, [c for c in fresh if isinstance(c.event, OrderRefundedEvent)])
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
        conflict=("event_id", "received_hash"),
        returning=("id",),
    )
    if batch.outcome_updates:
        table = cast(Table, SyncEvent.__table__)
        batch.conn.execute(
            update(table)
            .where(table.c.event_id == bindparam("b_event_id"))
            .values(outcome=bindparam("b_outcome")),
            batch.outcome_updates,
        )
    batch.insert(Flag, batch.flags)
    # Stock last: its rows are the ones concurrent batches of a store contend for, so their
    # locks are held only from here to the commit (oversold flags follow the levels).
    batch.flags = []
    _apply_stock(batch)
    batch.insert(Flag, batch.flags)
    return batch.results


def _drop_voids_of_unknown_orders(batch: _Batch, candidates: list[Candidate]) -> list[Candidate]:
    """A void of an order this store never sent is rejected (an order of another store is
    just as unknown)."""
    voids = [c for c in candidates if isinstance(c.event, OrderVoidedEvent)]
    if not voids:
        return candidates
    in_batch = {c.event.payload.id for c in candidates if isinstance(c.event, OrderPaidEvent)}
    wanted = {c.event.payload.order_id for c in voids if isinstance(c.event, OrderVoidedEvent)}
    known = set(
        batch.session.scalars(
            select(Order.id).where(Order.id.in_(wanted), Order.store_id == batch.who.store_id)
        )
    )
    kept = []
    for c in candidates:
        event = c.event
        if isinstance(event, OrderVoidedEvent) and event.payload.order_id not in known | in_batch:
            batch.results[c.index] = _rejected(
                c.index,
                event.event_id,
                "unknown_order",
                f"order {event.payload.order_id} is not known for this store",
                "payload.order_id",
            )
        else:
            kept.append(c)
    return kept


def _card_payment_refs(event: OrderPaidEvent) -> list[tuple[int, uuid.UUID]]:
    """(tender index, payment id) of the card tenders whose reference is a payment id."""
    refs = []
    for i, tender in enumerate(event.payload.tenders):
        if tender.kind != "card" or not tender.reference:
            continue
        try:
            refs.append((i, uuid.UUID(tender.reference)))
        except ValueError:
            continue
    return refs


def _drop_unconfirmed_card_tenders(batch: _Batch, candidates: list[Candidate]) -> list[Candidate]:
    """A card tender whose ``reference`` is a payment id must match a payment of this
    store that Stripe confirmed, for this order and for exactly the tender's amount;
    otherwise the order is rejected (it may not be finalised). Card tenders with another
    reference (an external card terminal) are accepted and flagged."""
    wanted = {
        ref
        for c in candidates
        if isinstance(c.event, OrderPaidEvent)
        for _, ref in _card_payment_refs(c.event)
    }
    if not wanted:
        return candidates
    payments = {
        p.id: p
        for p in batch.session.execute(
            select(Payment.id, Payment.order_id, Payment.status, Payment.amount_received).where(
                Payment.id.in_(wanted), Payment.store_id == batch.who.store_id
            )
        )
    }
    kept = []
    for c in candidates:
        event = c.event
        problem: tuple[str, str, str] | None = None
        if isinstance(event, OrderPaidEvent):
            for i, ref in _card_payment_refs(event):
                found = payments.get(ref)
                tender = event.payload.tenders[i]
                where = f"payload.tenders[{i}]"
                if found is None or found.status != "succeeded":
                    state = "unknown" if found is None else found.status
                    problem = (
                        "card_payment_not_confirmed",
                        f"card payment {ref} is {state}, not confirmed by the payment service",
                        f"{where}.reference",
                    )
                elif found.order_id != event.payload.id:
                    problem = (
                        "card_payment_not_confirmed",
                        f"card payment {ref} belongs to another order",
                        f"{where}.reference",
                    )
                elif found.amount_received != tender.amount:
                    problem = (
                        "card_amount_mismatch",
                        f"the card tender is {tender.amount} but payment {ref} captured "
                        f"{found.amount_received}",
                        f"{where}.amount",
                    )
                if problem:
                    break
        if problem is None:
            kept.append(c)
        else:
            batch.results[c.index] = _rejected(c.index, event.event_id, *problem)
    return kept


def _same_as_stored(c: Candidate, stored: dict[uuid.UUID, StoredEvent]) -> bool:
    row = stored.get(c.event.event_id)
    return row is not None and row.content_hash == c.content_hash


def _stored_events(svc: Services, ids: list[uuid.UUID]) -> dict[uuid.UUID, StoredEvent]:
    """The idempotency records of the events among ``ids`` already stored."""
    if not ids:
        return {}
    with svc.sessions() as session, session.begin():
        return _stored_rows(session, ids)


def _stored_rows(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, StoredEvent]:
    found = select_by_keys(
        session, SyncEvent, "event_id", ids, ("content_hash", "outcome", "raw_hash")
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
        rows.update(_stored_rows(batch.session, missing))
    for c in known:
        row = rows[c.event.event_id]
        if row.content_hash != c.content_hash:
            batch.conflict(c, row.content_hash, "this event_id was received before, differently")
        else:
            batch.results[c.index] = _known_result(c.index, c.event.event_id, row.outcome)


def _apply_paid(batch: _Batch, paid: list[Candidate]) -> None:
    if not paid:
        return
    who = batch.who
    hashes: dict[uuid.UUID, str] = {}  # order content hash by event id
    firsts: dict[uuid.UUID, Candidate] = {}  # the first event of each order id in the batch
    again: list[Candidate] = []  # further events for an order id already in the batch
    for c in sorted(paid, key=lambda c: c.index):
        assert isinstance(c.event, OrderPaidEvent)
        assert c.order_hash is not None
        hashes[c.event.event_id] = c.order_hash
        if c.event.payload.id in firsts:
            again.append(c)
        else:
            firsts[c.event.payload.id] = c
    paid = [firsts[k] for k in sorted(firsts)]
    order_rows = []
    for c in paid:
        assert isinstance(c.event, OrderPaidEvent)
        o = c.event.payload
        order_rows.append(
            {
                "id": o.id,
                "store_id": who.store_id,
                "terminal_id": who.terminal_id,
                "event_id": c.event.event_id,
                "content_hash": hashes[c.event.event_id],
                "receipt_no": o.receipt_no,
                "terminal_code": o.terminal_code,
                "sequence": o.sequence,
                "clerk_id": o.clerk_id,
                "clerk_name": o.clerk_name,
                "currency": o.currency,
                "status": o.status,
                "kind": o.kind,
                "created_at": o.created_at,
                "paid_at": o.paid_at,
                "subtotal": o.subtotal,
                "discount_total": o.discount_total,
                "tax_total": o.tax_total,
                "total": o.total,
                "prices_include_tax": o.prices_include_tax,
                "customer_id": o.customer.id if o.customer else None,
                "customer": o.customer.model_dump(mode="json") if o.customer else None,
                "tax": [_fields(t) for t in o.tax],
                "voided_at": None,
                "void_reason": None,
                "received_at": batch.now,
            }
        )
    found = insert_returning(batch.session, Order, order_rows, conflict=("id",), returning=("id",))
    new_orders = {r[0] for r in found}
    _answer_known_orders(batch, [c for c in paid if _order_id(c) not in new_orders] + again, hashes)
    accepted = [c for c in paid if _order_id(c) in new_orders]
    lines: list[dict[str, Any]] = []
    tenders: list[dict[str, Any]] = []
    customers: dict[uuid.UUID, dict[str, Any]] = {}
    product_ids = set()
    for c in accepted:
        assert isinstance(c.event, OrderPaidEvent)
        o = c.event.payload
        for line in o.lines:
            lines.append({"order_id": o.id, **_fields(line)})
            product_ids.add(line.product_id)
            delta = line.quantity  # units, or grams for weighed products
            batch.stock_delta[line.product_id] -= delta
            batch.stock_orders[line.product_id].append(str(o.id))
        for position, tender in enumerate(o.tenders, start=1):
            tenders.append({"order_id": o.id, "position": position, **_fields(tender)})
        if o.customer is not None:
            customers[o.customer.id] = {
                "id": o.customer.id,
                "store_id": who.store_id,
                "name": o.customer.name,
                "phone": o.customer.phone,
                "email": o.customer.email,
                "deleted": False,
                "updated_at": batch.now,
            }
        batch.result(c, "accepted")
    batch.insert(OrderLine, lines)
    batch.insert(Tender, tenders)
    _queue_confirmations(batch, accepted)
    if customers:
        rows = [customers[k] for k in sorted(customers)]
        found = insert_returning(batch.session, Customer, rows, conflict=("id",), returning=("id",))
        record_changes(batch.session, "customer", (str(r[0]) for r in found), who.store_id)
    _flag_orders(batch, accepted, product_ids)


def _fields(model: Any) -> dict[str, Any]:
    """``model.model_dump()`` of a flat model (only plain field values, no nested models):
    its field values as a new dict, without a trip through the serializer per row."""
    return dict(model.__dict__)


def _queue_confirmations(batch: _Batch, accepted: list[Candidate]) -> None:
    """The order confirmation e-mail for accepted orders with a customer e-mail address,
    in the push's transaction (once per order: a card payment may have queued it already)."""
    from server.mail.notifications import queue_order_confirmation

    for c in accepted:
        assert isinstance(c.event, OrderPaidEvent)
        o = c.event.payload
        if o.customer is None or not o.customer.email:
            continue
        queue_order_confirmation(
            batch.session,
            store_id=batch.who.store_id,
            order_id=o.id,
            to=o.customer.email,
            currency=o.currency,
            paid=o.total,
            summary=None,
            payment_ref=o.receipt_no,
        )


def _order_id(c: Candidate) -> uuid.UUID:
    assert isinstance(c.event, OrderPaidEvent)
    return c.event.payload.id


def _answer_known_orders(
    batch: _Batch, known: list[Candidate], hashes: dict[uuid.UUID, str]
) -> None:
    """Orders already stored (or earlier in this batch) under another event id: the same
    order is a duplicate; a different order under the same order id is a conflict."""
    if not known:
        return
    query = select(Order.id, Order.content_hash).where(Order.id.in_([_order_id(c) for c in known]))
    stored = {oid: digest for oid, digest in batch.session.execute(query)}
    for c in known:
        order_id = _order_id(c)
        if stored.get(order_id) == hashes[c.event.event_id]:
            batch.result(c, "duplicate")
            outcome = "duplicate"
        else:
            batch.conflict(c, stored.get(order_id, ""), f"order {order_id} exists, differently")
            outcome = "conflict"
        batch.outcome_updates.append({"b_event_id": c.event.event_id, "b_outcome": outcome})


def _flag_orders(batch: _Batch, accepted: list[Candidate], product_ids: set[str]) -> None:
    """Orders are facts: accepted at the price paid; anything odd becomes a flag."""
    if not accepted:
        return
    who = batch.who
    prices = batch.svc.catalog(batch.session).unit_prices(product_ids)
    clerks = {
        str(i)
        for i in batch.session.scalars(select(Clerk.id).where(Clerk.store_id == who.store_id))
    }
    for c in accepted:
        assert isinstance(c.event, OrderPaidEvent)
        o = c.event.payload

        def flag(kind: str, product_id: str | None = None, order: Any = o, **detail: Any) -> None:
            batch.flags.append(
                {
                    "store_id": who.store_id,
                    "kind": kind,
                    "order_id": order.id,
                    "product_id": product_id,
                    "detail": {"receipt_no": order.receipt_no, **detail},
                    "created_at": batch.now,
                }
            )

        if o.terminal_code != who.terminal_code:
            flag("terminal_code_mismatch", enrolled_as=who.terminal_code, sent=o.terminal_code)
        card_refs = {i for i, _ in _card_payment_refs(c.event)}
        for i, tender in enumerate(o.tenders):
            if tender.kind == "card" and i not in card_refs:
                flag("card_payment_unverified", tender=i, amount=tender.amount)
        if o.currency != who.currency:
            flag("currency_mismatch", store_currency=who.currency, sent=o.currency)
        if o.clerk_id not in clerks:
            flag("unknown_clerk", clerk_id=o.clerk_id, clerk_name=o.clerk_name)
        for line in o.lines:
            price = prices.get(line.product_id)
            if price is None:
                flag("unknown_product", line.product_id, line_no=line.line_no, sku=line.sku)
            elif price != line.unit_price:
                flag(
                    "price_mismatch",
                    line.product_id,
                    line_no=line.line_no,
                    sku=line.sku,
                    paid_unit_price=line.unit_price,
                    catalog_unit_price=price,
                )


def _apply_voids(batch: _Batch, voids: list[Candidate]) -> None:
    if not voids:
        return
    voided: list[uuid.UUID] = []
    for c in sorted(voids, key=lambda c: c.index):
        assert isinstance(c.event, OrderVoidedEvent)
        v = c.event.payload
        done = batch.session.execute(
            update(Order)
            .where(
                and_(Order.id == v.order_id, Order.store_id == batch.who.store_id),
                Order.status == "paid",
                Order.refunded_total == 0,  # stock of refunded lines went back already
            )
            .values(status="voided", voided_at=v.voided_at, void_reason=v.reason)
            .returning(Order.id)
        ).first()
        if done is not None:
            voided.append(v.order_id)
        batch.result(c, "accepted")
    if voided:
        for product_id, quantity, order_id in batch.session.execute(
            select(OrderLine.product_id, OrderLine.quantity, OrderLine.order_id).where(
                OrderLine.order_id.in_(voided)
            )
        ):
            batch.stock_delta[product_id] += quantity
            batch.stock_orders[product_id].append(str(order_id))


def _apply_stock(batch: _Batch) -> None:
    deltas = {k: v for k, v in batch.stock_delta.items() if v}
    if not deltas:
        return
    who = batch.who
    rows = [
        {"store_id": who.store_id, "product_id": p, "quantity": deltas[p]} for p in sorted(deltas)
    ]
    found = insert_returning(
        batch.session,
        StockLevel,
        rows,
        conflict=("store_id", "product_id"),
        returning=("product_id", "quantity"),
        add_on_conflict="quantity",
    )
    levels = {pid: qty for pid, qty in found}
    for product_id, quantity in sorted(levels.items()):
        if quantity < 0 and deltas[product_id] < 0:
            orders = batch.stock_orders[product_id]
            batch.flags.append(
                {
                    "store_id": who.store_id,
                    "kind": "oversold",
                    "order_id": uuid.UUID(orders[-1]),
                    "product_id": product_id,
                    "detail": {"quantity": quantity, "orders": orders[-20:]},
                    "created_at": batch.now,
                }
            )
    record_changes(batch.session, "stock", levels.keys(), who.store_id)


# ---------------------------------------------------------------------------- refunds


@dataclass
class _RefundTarget:
    """What a refund is checked against: the order's total and lines, what is used up."""

    total: int
    status: str
    sold: dict[int, int]  # line_no → quantity
    refunded: int = 0
    refunded_qty: dict[int, int] | None = None


def _refund_targets(
    batch: _Batch, candidates: list[Candidate], wanted: set[uuid.UUID]
) -> dict[uuid.UUID, _RefundTarget]:
    session, store_id = batch.session, batch.who.store_id
    targets = {
        oid: _RefundTarget(total, status, {})
        for oid, total, status in session.execute(
            select(Order.id, Order.total, Order.status).where(
                Order.id.in_(wanted), Order.store_id == store_id
            )
        )
    }
    for oid, line_no, quantity in session.execute(
        select(OrderLine.order_id, OrderLine.line_no, OrderLine.quantity).where(
            OrderLine.order_id.in_(list(targets))
        )
    ):
        targets[oid].sold[line_no] = quantity
    for c in candidates:  # orders that arrive in this very batch
        event = c.event
        if isinstance(event, OrderPaidEvent) and event.payload.id in wanted:
            o = event.payload
            targets.setdefault(
                o.id, _RefundTarget(o.total, "paid", {ln.line_no: ln.quantity for ln in o.lines})
            )
    for target in targets.values():
        target.refunded_qty = {}
    for oid, amount, lines in session.execute(
        select(OrderRefund.order_id, OrderRefund.amount, OrderRefund.lines).where(
            OrderRefund.order_id.in_(list(targets))
        )
    ):
        target = targets[oid]
        target.refunded += amount
        assert target.refunded_qty is not None
        for line in lines or []:
            qty = target.refunded_qty
            qty[line["line_no"]] = qty.get(line["line_no"], 0) + line["quantity"]
    return targets


def _drop_refunds_that_do_not_fit(batch: _Batch, candidates: list[Candidate]) -> list[Candidate]:
    """A refund is rejected if its order is unknown to this store or voided, if it would
    give back more than was paid (or more of a line than was sold), or if its card part is
    not a refund the payment service confirmed for that payment of this order. Refunds
    already stored (a replay) are not checked again: the idempotency record answers them."""
    refunds = [c for c in candidates if isinstance(c.event, OrderRefundedEvent)]
    if not refunds:
        return candidates
    session = batch.session
    ids = [c.event.payload.refund_id for c in refunds if isinstance(c.event, OrderRefundedEvent)]
    stored = set(session.scalars(select(OrderRefund.id).where(OrderRefund.id.in_(ids))))
    wanted = {c.event.payload.order_id for c in refunds if isinstance(c.event, OrderRefundedEvent)}
    targets = _refund_targets(batch, candidates, wanted)
    card_refunds = {
        row.id: row
        for row in session.execute(
            select(
                PaymentRefund.id,
                PaymentRefund.status,
                PaymentRefund.amount,
                Payment.id.label("payment_id"),
                Payment.order_id,
            )
            .join(Payment, Payment.id == PaymentRefund.payment_id)
            .where(PaymentRefund.id.in_(ids), PaymentRefund.store_id == batch.who.store_id)
        )
    }
    rejected: set[int] = set()
    for c in sorted(refunds, key=lambda c: c.index):
        event = c.event
        assert isinstance(event, OrderRefundedEvent)
        r = event.payload
        if r.refund_id in stored:
            continue
        problem = _refund_problem(r, targets.get(r.order_id), card_refunds.get(r.refund_id))
        if problem is not None:
            batch.results[c.index] = _rejected(c.index, event.event_id, *problem)
            rejected.add(c.index)
            continue
        target = targets[r.order_id]
        target.refunded += r.amount  # later refunds in this batch see this one
        assert target.refunded_qty is not None
        for line in r.lines:
            target.refunded_qty[line.line_no] = (
                target.refunded_qty.get(line.line_no, 0) + line.quantity
            )
        stored.add(r.refund_id)
    return [c for c in candidates if c.index not in rejected]


def _refund_problem(r: Any, target: _RefundTarget | None, card: Any) -> tuple[str, str, str] | None:
    if target is None:
        return (
            "unknown_order",
            f"order {r.order_id} is not known for this store",
            "payload.order_id",
        )
    if target.status == "voided":
        return ("order_voided", f"order {r.order_id} was voided", "payload.order_id")
    left = target.total - target.refunded
    if r.amount > left:
        return (
            "refund_exceeds_order",
            f"at most {left} is left to refund of this order (paid {target.total})",
            "payload.amount",
        )
    done = target.refunded_qty or {}
    for i, line in enumerate(r.lines):
        sold = target.sold.get(line.line_no)
        if sold is None:
            return (
                "unknown_line",
                f"the order has no line {line.line_no}",
                f"payload.lines[{i}].line_no",
            )
        if done.get(line.line_no, 0) + line.quantity > sold:
            return (
                "refund_exceeds_line",
                f"line {line.line_no}: {sold - done.get(line.line_no, 0)} of it is left to refund",
                f"payload.lines[{i}].quantity",
            )
    if r.card_amount:
        if (
            card is None
            or card.status != "succeeded"
            or card.payment_id != r.card_payment_id
            or card.order_id != r.order_id
        ):
            state = "unknown" if card is None else card.status
            return (
                "card_refund_not_confirmed",
                f"card refund {r.refund_id} of payment {r.card_payment_id} is {state}, not "
                "confirmed by the payment service for this order",
                "payload.card_payment_id",
            )
        if card.amount != r.card_amount:
            return (
                "card_amount_mismatch",
                f"the card part is {r.card_amount} but the payment service refunded {card.amount}",
                "payload.card_amount",
            )
    return None


def _apply_refunds(batch: _Batch, refunds: list[Candidate]) -> None:
    if not refunds:
        return
    who = batch.who
    rows = []
    for c in sorted(refunds, key=lambda c: c.index):
        assert isinstance(c.event, OrderRefundedEvent)
        r = c.event.payload
        rows.append(
            {
                "id": r.refund_id,
                "order_id": r.order_id,
                "store_id": who.store_id,
                "terminal_id": who.terminal_id,
                "event_id": c.event.event_id,
                "amount": r.amount,
                "cash_amount": r.cash_amount,
                "card_amount": r.card_amount,
                "card_payment_id": r.card_payment_id,
                "reason": r.reason,
                "clerk_id": r.clerk_id,
                "lines": [line.model_dump() for line in r.lines],
                "refunded_at": r.refunded_at,
                "received_at": batch.now,
            }
        )
    found = insert_returning(batch.session, OrderRefund, rows, conflict=("id",), returning=("id",))
    inserted = {row[0] for row in found}
    accepted: list[OrderRefundedEvent] = []
    for c in refunds:
        assert isinstance(c.event, OrderRefundedEvent)
        if c.event.payload.refund_id in inserted:
            accepted.append(c.event)
            batch.result(c, "accepted")
        else:  # the same refund under another event id: recorded once already
            batch.result(c, "duplicate")
            batch.outcome_updates.append({"b_event_id": c.event.event_id, "b_outcome": "duplicate"})
    if not accepted:
        return
    per_order: defaultdict[uuid.UUID, int] = defaultdict(int)
    for event in accepted:
        per_order[event.payload.order_id] += event.payload.amount
    table = cast(Table, Order.__table__)
    for order_id in sorted(per_order):
        batch.session.execute(
            update(table)
            .where(table.c.id == order_id, table.c.store_id == who.store_id)
            .values(refunded_total=table.c.refunded_total + per_order[order_id])
        )
        batch.session.execute(
            update(table)
            .where(
                table.c.id == order_id,
                table.c.status == "paid",
                table.c.refunded_total >= table.c.total,
            )
            .values(status="refunded")
        )
    if any(e.payload.lines for e in accepted):
        back: defaultdict[tuple[uuid.UUID, int], int] = defaultdict(int)
        for e in accepted:
            for line in e.payload.lines:
                back[(e.payload.order_id, line.line_no)] += line.quantity
        for order_id, line_no, product_id in batch.session.execute(
            select(OrderLine.order_id, OrderLine.line_no, OrderLine.product_id).where(
                OrderLine.order_id.in_({oid for oid, _ in back})
            )
        ):
            quantity = back.get((order_id, line_no))
            if quantity:
                batch.stock_delta[product_id] += quantity
                batch.stock_orders[product_id].append(str(order_id))
    _queue_refund_receipts(batch, accepted)


def _queue_refund_receipts(batch: _Batch, accepted: list[OrderRefundedEvent]) -> None:
    """The refund receipt for orders with a customer e-mail (the order's customer, else the
    card payment's address), in the push's transaction; once per refund."""
    from server.mail.notifications import queue_order_refund_receipt

    session = batch.session
    order_ids = {e.payload.order_id for e in accepted}
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(order_ids)))}
    payment_ids = {e.payload.card_payment_id for e in accepted if e.payload.card_payment_id}
    card_emails = (
        {
            pid: email
            for pid, email in session.execute(
                select(Payment.id, Payment.customer_email).where(Payment.id.in_(payment_ids))
            )
        }
        if payment_ids
        else {}
    )
    for event in accepted:
        r = event.payload
        order = orders.get(r.order_id)
        if order is None:
            continue
        email = (order.customer or {}).get("email") or (
            card_emails.get(r.card_payment_id) if r.card_payment_id else None
        )
        if not email:
            continue
        queue_order_refund_receipt(
            session,
            store_id=batch.who.store_id,
            refund_id=r.refund_id,
            to=email,
            currency=order.currency,
            refunded=r.amount,
            card_amount=r.card_amount,
            paid=order.total,
            refunded_total=order.refunded_total,
            reason=r.reason,
            receipt_no=order.receipt_no,
        )
