"""The till's side of sync: the outbox in order, per-event results, and pulled pages.

Implements the ``SyncStore`` protocol of ``sync.engine`` structurally (no import of sync/).
Every method is one short transaction on the writer engine, run from the sync worker thread.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.domain.barcode import BarcodeClaim, barcode_taken
from app.domain.delivery import BookingStatus, Customer, PhoneOrder
from app.domain.errors import PosError
from app.domain.order import SyncState
from app.domain.product import Product
from app.domain.sync import (
    CURSOR_SETTING,
    TERMINAL_ID_SETTING,
    CustomerRecord,
    OutboxEvent,
    OutboxState,
    PulledKind,
    PulledPage,
    PushOutcome,
    ResultStatus,
    SyncCounts,
    UnusableRow,
    product_from_wire,
    product_wire_json,
)
from app.domain.timestamps import now_iso, utc_iso
from local_db.codec import from_iso
from local_db.models import (
    CLERKS,
    CUSTOMERS,
    ORDERS,
    OUTBOX,
    PRODUCTS,
    SLOTS,
    UNUSABLE_ROWS,
)
from local_db.phone_orders import (
    PHONE_ORDERS,
    SLOT_ALLOTMENTS,
    SLOT_BOOKINGS,
    SqlitePhoneOrderRepository,
    write_customer,
    write_phone_order,
)
from local_db.repositories import SqliteProductRepository, SqliteSettingsRepository, upsert

log = logging.getLogger("shopsmart.sync")

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
# The phone order an outbox event is about (phone_order.placed names it ``id``, the others
# ``order_id``): its sync state follows this till's events about it, as a sale's does.
_PHONE_ORDER_OF = (
    "SELECT coalesce(json_extract(payload, '$.payload.order_id'), "
    "json_extract(payload, '$.payload.id')) FROM outbox "
    "WHERE event_type LIKE 'phone_order.%' AND event_id IN (" + _IDS + ")"
)
_PHONE_SENT = (
    f"UPDATE phone_orders SET sync_state = '{SyncState.SENT.value}' "
    f"WHERE id IN ({_PHONE_ORDER_OF}) AND sync_state = '{SyncState.QUEUED.value}'"
)
_PHONE_DONE = (
    f"UPDATE phone_orders SET sync_state = '{SyncState.ACKNOWLEDGED.value}', sync_error = '' "
    f"WHERE id IN ({_PHONE_ORDER_OF})"
)
_PHONE_REFUSED = (
    f"UPDATE phone_orders SET sync_state = '{SyncState.REJECTED.value}', sync_error = ? "
    f"WHERE id IN ({_PHONE_ORDER_OF})"
)
_PHONE_WAITING_AGAIN = (
    f"UPDATE phone_orders SET sync_state = ? WHERE id IN ({_PHONE_ORDER_OF}) AND sync_state = ?"
)
# A refused transition is undone on this till (the order is back in the state it was moved
# from; the pull then brings whatever the server holds).
_UNDO_TRANSITION = (
    "UPDATE phone_orders SET state = json_extract(o.payload, '$.payload.from_state'), "
    "version = phone_orders.version - 1 FROM outbox AS o "
    "WHERE o.event_id = ? AND o.event_type = 'phone_order.transitioned' "
    "AND phone_orders.id = json_extract(o.payload, '$.payload.order_id') "
    "AND phone_orders.state = json_extract(o.payload, '$.payload.to_state')"
)
_BOOKINGS_PENDING = (
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE state IN ('"
    + "', '".join(s.value for s in (OutboxState.PENDING, OutboxState.SENT))
    + "') AND event_type = 'phone_order.placed')"
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
            c.exec_driver_sql(_PHONE_SENT, (ids,))

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
                c.exec_driver_sql(_PHONE_DONE, (ids,))
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
                # A refused phone-order event is shown on the order to whoever tried it
                # (an illegal or overtaken transition), not only in the manager's queue.
                for o in refused:
                    c.exec_driver_sql(_PHONE_REFUSED, (phone_refusal(o), json.dumps([o.event_id])))
                    c.exec_driver_sql(_UNDO_TRANSITION, (o.event_id,))

    def record_transport_error(self, event_ids: list[str], message: str) -> None:
        """No answer came (offline, timeout, a proxy's error page): the events wait to be
        sent again, and their orders say so — "waiting", not "sent" — until a request
        carrying them is out again."""
        if not event_ids:
            return
        with self._engine.begin() as c:
            c.execute(
                update(OUTBOX).where(OUTBOX.c.event_id.in_(event_ids)).values(last_error=message)
            )
            c.execute(
                update(ORDERS)
                .where(ORDERS.c.id.in_(event_ids), ORDERS.c.sync_state == SyncState.SENT.value)
                .values(sync_state=SyncState.QUEUED.value)
            )
            c.exec_driver_sql(
                _PHONE_WAITING_AGAIN,
                (SyncState.QUEUED.value, json.dumps(event_ids), SyncState.SENT.value),
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
            c.exec_driver_sql(
                _PHONE_WAITING_AGAIN,
                (SyncState.QUEUED.value, json.dumps([event_id]), SyncState.REJECTED.value),
            )

    def bookings_pending(self) -> bool:
        """Whether the outbox still holds ``phone_order.placed`` events (the pull says so:
        the server then keeps this till's slot allotments as they are)."""
        with self._engine.connect() as c:
            pending = bool(c.exec_driver_sql(_BOOKINGS_PENDING).scalar())
            c.rollback()
        return pending

    def counts(self) -> SyncCounts:
        """Events waiting and rejected, pulled rows kept aside."""
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
            unusable = c.execute(select(func.count()).select_from(UNUSABLE_ROWS)).scalar_one()
            c.rollback()
        return SyncCounts(int(waiting), int(rejected), int(unusable))

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
        """Apply one page and its cursor in ONE transaction: a crash resumes at this page.

        A row the till cannot use is kept aside in ``unusable_rows`` with the reason, and the
        rest of the page is applied: the products are checked against this till's catalog
        before anything is written (a barcode or sku another product holds), each stock row
        needs its product. A row applied or tombstoned here leaves ``unusable_rows``; so does
        one kept aside earlier that can be used now (a product whose barcode was freed, the
        stock of a product that arrived).

        Should SQLite still refuse the checked products, the page is applied again from the
        start with each product written alone in a savepoint (savepoints cost a statement
        journal, so the usual path goes without)."""
        try:
            self._apply_pull(page, one_by_one=False)
        except IntegrityError:
            self._apply_pull(page, one_by_one=True)

    def _apply_pull(self, page: PulledPage, *, one_by_one: bool) -> None:
        aside = list(page.unusable)
        with self._engine.begin() as c:
            waiting = _waiting_aside(c)
            products = list({product.id: product for product in page.products}.values())
            retried: list[Product] = []
            if waiting[PulledKind.PRODUCT] and (products or page.deleted_product_ids):
                fresh = {product.id for product in products} | {
                    row.key for row in page.unusable if row.kind == PulledKind.PRODUCT.value
                }
                retried = _products_aside(c, exclude=fresh)
            applied: list[Product] = []
            if products or retried:
                applied, refused = _claim(c, products, retried, page.deleted_product_ids)
                aside.extend(refused)
                aside.extend(_upsert_products(c, applied, one_by_one))
            if page.deleted_product_ids:
                c.execute(
                    update(PRODUCTS)
                    .where(PRODUCTS.c.id.in_(page.deleted_product_ids))
                    .values(deleted=True, active=False)
                )
            stock = list(page.stock)
            if waiting[PulledKind.STOCK] and applied:
                stock = _stock_aside(c, [product.id for product in applied]) + stock
            if stock:
                aside.extend(_apply_stock(c, stock))
            if page.clerks:
                _unlock_clerks_with_a_new_pin(c, page.clerks)
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
            if page.customers:
                _apply_customers(c, page.customers)
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
                        "unit": slot.unit.value,
                        "max_weight_g": slot.max_weight_g,
                        "cutoff_minutes": slot.cutoff_minutes,
                        "lead_time_minutes": slot.lead_time_minutes,
                        "postcode_prefixes": json.dumps(list(slot.postcode_prefixes)),
                        "free": slot.free,
                    },
                )
            if page.deleted_slot_ids:
                c.execute(
                    update(SLOTS).where(SLOTS.c.id.in_(page.deleted_slot_ids)).values(active=False)
                )
            if page.allotments:
                own = SqliteSettingsRepository(c).get(TERMINAL_ID_SETTING)
                for allotment in page.allotments:
                    if own and allotment.terminal_id and allotment.terminal_id != own:
                        continue  # another till's share: not this till's to book
                    upsert(
                        c,
                        SLOT_ALLOTMENTS,
                        {
                            "slot_id": allotment.slot_id,
                            "allotted_total": allotment.allotted_total,
                            "used": allotment.used,
                        },
                    )
            for order in page.phone_orders:
                _apply_phone_order(c, order)
            if any(waiting.values()):
                used = {
                    PulledKind.PRODUCT: [product.id for product in applied]
                    + page.deleted_product_ids,
                    PulledKind.STOCK: [pid for pid, _qty in stock] + page.deleted_product_ids,
                    PulledKind.CLERK: [clerk.id for clerk in page.clerks] + page.deleted_clerk_ids,
                    PulledKind.CUSTOMER: [customer.id for customer in page.customers],
                    PulledKind.DELIVERY_SLOT: [slot.id for slot in page.slots]
                    + page.deleted_slot_ids,
                    PulledKind.SLOT_ALLOTMENT: [a.slot_id for a in page.allotments],
                    PulledKind.PHONE_ORDER: [order.id for order in page.phone_orders],
                }
                _forget_aside(c, used, keep=aside)
            if aside:
                _keep_aside(c, aside)
            SqliteSettingsRepository(c).put(CURSOR_SETTING, page.next_cursor)

    def unusable_rows(self) -> list[UnusableRow]:
        """Pulled rows kept aside, for a manager: kind, name or key, and why."""
        with self._engine.connect() as c:
            rows = c.execute(
                select(UNUSABLE_ROWS).order_by(UNUSABLE_ROWS.c.kind, UNUSABLE_ROWS.c.name)
            ).all()
            c.rollback()
        return [
            UnusableRow(row.kind, row.key, row.name, row.reason, row.payload, from_iso(row.seen_at))
            for row in rows
        ]


# --------------------------------------------------------------------------- rows kept aside


def _waiting_aside(c: Connection) -> dict[PulledKind, bool]:
    """Which kinds have rows kept aside (one indexed read: the usual answer is none)."""
    kinds = {row.kind for row in c.execute(select(UNUSABLE_ROWS.c.kind).distinct())}
    return {kind: kind.value in kinds for kind in PulledKind}


def _keep_aside(c: Connection, rows: list[UnusableRow]) -> None:
    stamp = now_iso()
    latest = {(row.kind, row.key): row for row in rows}  # the last word on a row wins
    statement = sqlite_insert(UNUSABLE_ROWS)
    statement = statement.on_conflict_do_update(
        index_elements=[UNUSABLE_ROWS.c.kind, UNUSABLE_ROWS.c.key],
        set_={
            "name": statement.excluded.name,
            "reason": statement.excluded.reason,
            "payload": statement.excluded.payload,
            "seen_at": statement.excluded.seen_at,
        },
    )
    c.execute(
        statement,
        [
            {
                "kind": row.kind,
                "key": row.key,
                "name": row.name,
                "reason": row.reason,
                "payload": row.payload,
                "seen_at": stamp,
            }
            for row in latest.values()
        ],
    )
    first = next(iter(latest.values()))
    log.warning(
        "%d pulled row(s) kept aside, e.g. %s %s: %s",
        len(latest),
        first.kind,
        first.key,
        first.reason,
    )


def _forget_aside(
    c: Connection, used: dict[PulledKind, list[str]], keep: list[UnusableRow]
) -> None:
    kept = {(row.kind, row.key) for row in keep}
    for kind, keys in used.items():
        keys = [key for key in keys if (kind.value, key) not in kept]
        if keys:
            c.exec_driver_sql(_FORGET, (kind.value, json.dumps(keys)))


_FORGET = f"DELETE FROM unusable_rows WHERE kind = ? AND key IN ({_IDS})"


def _products_aside(c: Connection, exclude: set[str]) -> list[Product]:
    """Products kept aside that read as products: tried again behind the page's own."""
    products = []
    for row in c.execute(
        select(UNUSABLE_ROWS.c.key, UNUSABLE_ROWS.c.payload).where(
            UNUSABLE_ROWS.c.kind == PulledKind.PRODUCT.value
        )
    ):
        if row.key in exclude:
            continue
        try:
            products.append(product_from_wire(json.loads(row.payload)))
        except (PosError, ValueError, KeyError, TypeError):
            continue  # still unusable as it is: it waits for a corrected version
    return products


def _stock_aside(c: Connection, product_ids: list[str]) -> list[tuple[str, int]]:
    rows = c.exec_driver_sql(
        f"SELECT payload FROM unusable_rows WHERE kind = '{PulledKind.STOCK.value}' "
        f"AND key IN ({_IDS})",
        (json.dumps(product_ids),),
    ).all()
    stock = []
    for (payload,) in rows:
        data = json.loads(payload)
        if isinstance(data.get("quantity"), int):
            stock.append((str(data["product_id"]), data["quantity"]))
    return stock


def _claim(
    c: Connection, products: list[Product], retried: list[Product], tombstoned: list[str]
) -> tuple[list[Product], list[UnusableRow]]:
    """Which products of the page can be written as they are. A barcode belongs to one
    product: one claimed by another product of this till (not deleted) keeps the claimant
    aside, naming the holder; so does a barcode listed twice, or an sku another product has.
    A barcode held by a deleted product passes to the claimant. Products are taken in page
    order, then those kept aside earlier (``retried``); a product's old barcodes are free
    once its new version is taken."""
    candidates = products + retried
    ids = [product.id for product in candidates]
    codes = sorted({code for product in candidates for code in product.barcodes})
    skus = sorted({product.sku for product in candidates})
    holder: dict[str, str] = {}  # barcode -> product id, for every barcode that matters here
    own: dict[str, set[str]] = {}  # product id -> its barcodes now
    for code, pid in c.exec_driver_sql(_HOLDERS, (json.dumps(codes), json.dumps(ids))):
        holder[code] = pid
        own.setdefault(pid, set()).add(code)
    known: dict[str, tuple[str, str, bool]] = {}  # id -> (name, sku, deleted)
    sku_holder: dict[str, str] = {}
    wanted = sorted(set(holder.values()) | set(ids))
    for pid, name, sku, deleted in c.exec_driver_sql(
        _OWNERS, (json.dumps(wanted), json.dumps(skus))
    ):
        known[pid] = (name, sku, bool(deleted))
        sku_holder[sku] = pid
    gone = set(tombstoned) | {pid for pid, (_n, _s, deleted) in known.items() if deleted}
    names = {pid: BarcodeClaim(pid, name, sku) for pid, (name, sku, _d) in known.items()}
    freed: list[str] = []
    usable: dict[str, Product] = {}
    refused: list[UnusableRow] = []
    retried_ids = {product.id for product in retried}
    for product in candidates:
        problem = _claim_problem(product, holder, sku_holder, gone, names)
        if problem:
            if product.id not in retried_ids:
                refused.append(
                    UnusableRow(
                        PulledKind.PRODUCT.value,
                        product.id,
                        str(BarcodeClaim(product.id, product.name, product.sku)),
                        problem,
                        product_wire_json(product),
                    )
                )
            continue
        for code in own.get(product.id, set()):
            if holder.get(code) == product.id:
                del holder[code]
        for code in product.barcodes:
            previous = holder.get(code, product.id)
            if previous != product.id:  # held by a deleted product
                freed.append(code)
                if previous in usable:  # one of this page, written below: without the code
                    codes_left = tuple(c for c in usable[previous].barcodes if c != code)
                    usable[previous] = replace(usable[previous], barcodes=codes_left)
            holder[code] = product.id
        own[product.id] = set(product.barcodes)
        old_sku = known.get(product.id, ("", "", False))[1]
        if old_sku and sku_holder.get(old_sku) == product.id:
            del sku_holder[old_sku]
        sku_holder[product.sku] = product.id
        names[product.id] = BarcodeClaim(product.id, product.name, product.sku)
        usable[product.id] = product
    if freed:
        c.exec_driver_sql(
            f"DELETE FROM product_barcodes WHERE code IN ({_IDS})", (json.dumps(freed),)
        )
    return list(usable.values()), refused


# A page's ids, barcodes and skus go in as JSON arrays (json_each): one statement each.
_HOLDERS = (
    f"SELECT code, product_id FROM product_barcodes WHERE code IN ({_IDS}) "
    f"OR product_id IN ({_IDS})"
)
_OWNERS = f"SELECT id, name, sku, deleted FROM products WHERE id IN ({_IDS}) OR sku IN ({_IDS})"
_STOCK_OF = f"SELECT id, stock FROM products WHERE id IN ({_IDS})"
_PRESENT = f"SELECT id FROM products WHERE id IN ({_IDS})"


def _claim_problem(
    product: Product,
    holder: dict[str, str],
    sku_holder: dict[str, str],
    gone: set[str],
    names: dict[str, BarcodeClaim],
) -> str:
    seen: set[str] = set()
    for code in product.barcodes:
        if code in seen:
            return f"barcode {code} is listed twice"
        seen.add(code)
        other = holder.get(code)
        if other is not None and other != product.id and other not in gone:
            claimant = BarcodeClaim(product.id, product.name, product.sku)
            return barcode_taken(code, _holder(names, other), claimant).message
    other = sku_holder.get(product.sku)
    if other is not None and other != product.id:
        held = " (deleted)" if other in gone else ""
        return f"sku {product.sku} already belongs to {_holder(names, other)}{held}"
    return ""


def _holder(names: dict[str, BarcodeClaim], product_id: str) -> BarcodeClaim:
    """The product ``product_id`` as a person knows it (its id, if this till never had it)."""
    return names.get(product_id) or BarcodeClaim(product_id, product_id, "?")


def _upsert_products(c: Connection, products: list[Product], one_by_one: bool) -> list[UnusableRow]:
    """Write the checked products, keeping local stock (server stock is its own change
    kind). ``one_by_one``: each product alone in a savepoint, and one the database refuses
    is kept aside with the database's words."""
    if not products:
        return []
    ids = json.dumps([product.id for product in products])
    known: dict[str, int | None] = {
        pid: stock for pid, stock in c.exec_driver_sql(_STOCK_OF, (ids,))
    }
    rows = [
        replace(p, stock=known[p.id]) if p.id in known and p.stock is None else p for p in products
    ]
    repository = SqliteProductRepository(c)
    repository.adopt_department_spellings(sorted({p.department for p in rows}))  # the server's
    if not one_by_one:
        repository.upsert_many(rows)
        return []
    refused = []
    for product in rows:
        try:
            with c.begin_nested():
                repository.upsert_many([product])
        except IntegrityError as error:
            refused.append(
                UnusableRow(
                    PulledKind.PRODUCT.value,
                    product.id,
                    str(BarcodeClaim(product.id, product.name, product.sku)),
                    f"this till's catalog refused it: {error.orig}",
                    product_wire_json(product),
                )
            )
    return refused


def _apply_stock(c: Connection, stock: list[tuple[str, int]]) -> list[UnusableRow]:
    """Set server stock; a stock row for a product this till does not hold is kept aside
    (it applies once the product arrives)."""
    ids = json.dumps(sorted({pid for pid, _qty in stock}))
    present = {pid for (pid,) in c.exec_driver_sql(_PRESENT, (ids,))}
    known = [{"pid": pid, "qty": qty} for pid, qty in stock if pid in present]
    if known:
        c.execute(
            update(PRODUCTS)
            .where(PRODUCTS.c.id == bindparam("pid"))
            .values(stock=bindparam("qty")),
            known,
        )
    return [
        UnusableRow(
            PulledKind.STOCK.value,
            pid,
            f"stock of product {pid}",
            f"product {pid} is not on this till",
            json.dumps({"product_id": pid, "quantity": qty}),
        )
        for pid, qty in stock
        if pid not in present
    ]


def _apply_customers(c: Connection, customers: list[CustomerRecord]) -> None:
    """Pulled customers, with their addresses; one this till changed later than the pulled
    version (its own ``customer.saved`` still on the way) keeps this till's version."""
    ids = [customer.id for customer in customers]
    local = {
        row.id: row.updated_at
        for row in c.execute(
            select(CUSTOMERS.c.id, CUSTOMERS.c.updated_at).where(CUSTOMERS.c.id.in_(ids))
        )
    }
    for record in customers:
        mine = from_iso(local.get(record.id) or None)
        if mine is not None and record.updated_at is not None and mine > record.updated_at:
            continue
        if record.id in local and not record.addresses and record.updated_at is None:
            # a server that sends no addresses: keep this till's
            upsert(
                c,
                CUSTOMERS,
                {
                    "id": record.id,
                    "name": record.name,
                    "phone": record.phone,
                    "email": record.email,
                    "deleted": record.deleted,
                },
            )
            continue
        customer = Customer(
            id=record.id,
            name=record.name,
            phone=record.phone,
            email=record.email,
            addresses=record.addresses,
            notes=record.notes,
            updated_at=record.updated_at or _EPOCH,
        )
        write_customer(c, customer, deleted=record.deleted)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _apply_phone_order(c: Connection, order: PhoneOrder) -> None:
    """The server's word on a phone order wins (the queue every till sees), except that a
    change this till made that has not reached the server yet (a later version, still
    waiting) keeps its state and picking until the server answers it. This till's own
    marks stay: the sync state and refusal reason of its last event, whether the customer
    was told of a move (asked again when the booking moves anew)."""
    row = c.execute(
        select(
            PHONE_ORDERS.c.version,
            PHONE_ORDERS.c.state,
            PHONE_ORDERS.c.sync_state,
            PHONE_ORDERS.c.sync_error,
            PHONE_ORDERS.c.customer_told,
            PHONE_ORDERS.c.booking_status,
            PHONE_ORDERS.c.slot_id,
        ).where(PHONE_ORDERS.c.id == order.id)
    ).first()
    if row is None:
        write_phone_order(c, replace(order, sync_state=SyncState.ACKNOWLEDGED, sync_error=""))
    else:
        waiting = row.sync_state in (SyncState.QUEUED.value, SyncState.SENT.value)
        told = bool(row.customer_told) and (
            row.booking_status == order.booking_status.value and row.slot_id == order.slot_id
        )
        kept = replace(
            order,
            sync_state=SyncState(row.sync_state),
            sync_error=row.sync_error,
            customer_told=told,
        )
        if waiting and row.version > order.version:
            mine = SqlitePhoneOrderRepository(c).get(order.id)
            assert mine is not None
            kept = replace(
                kept,
                state=mine.state,
                version=mine.version,
                picked=mine.picked,
                actual_total=mine.actual_total,
                shortfall=mine.shortfall,
                cancel_reason=mine.cancel_reason,
                updated_at=mine.updated_at,
            )
        write_phone_order(c, kept)
    if order.booking_status is not BookingStatus.FIRM:
        c.execute(
            update(SLOT_BOOKINGS)
            .where(SLOT_BOOKINGS.c.booking_id == order.booking_id)
            .values(status=order.booking_status.value, slot_id=order.slot_id)
        )


def phone_refusal(outcome: PushOutcome) -> str:
    """The server's reason for refusing a phone-order event, as the clerk reads it."""
    return outcome.message or describe(outcome)


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


def _unlock_clerks_with_a_new_pin(c: Connection, clerks: Any) -> None:
    """A PIN the store owner set on the server (``shopsmart-server clerk set-pin``) is the way
    out of a lockout: a pulled clerk whose PIN hash differs from this till's starts afresh
    (no wrong tries counted, not locked). The same hash pulled again changes nothing."""
    pulled = {clerk.id: clerk.pin_hash for clerk in clerks}
    rows = c.execute(select(CLERKS.c.id, CLERKS.c.pin_hash).where(CLERKS.c.id.in_(pulled)))
    changed = [row.id for row in rows if row.pin_hash != pulled[row.id]]
    if changed:
        c.execute(
            update(CLERKS)
            .where(CLERKS.c.id.in_(changed))
            .values(failed_attempts=0, locked_until=None)
        )
