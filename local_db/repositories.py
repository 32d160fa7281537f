"""SQLite repositories. They work on one SQLAlchemy ``Connection`` (one transaction) each."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.domain.approval import Approval, ApprovalAction
from app.domain.audit import AuditAction, AuditEntry
from app.domain.card import CardStatus, LocalCardAttempt
from app.domain.cart import Cart
from app.domain.clerk import Clerk
from app.domain.events import DomainEvent
from app.domain.order import Order, OrderStatus, SyncState
from app.domain.product import Product, department_key, one_spelling_each
from app.domain.refund import Refund, RefundLine, RefundState
from app.domain.stock import StockMovement
from app.domain.sync import OutboxState, shown_sync_state
from app.domain.timestamps import now_iso, optional_utc_iso, utc_iso
from app.ports import EventEncoder
from local_db.codec import (
    cart_from_json,
    cart_to_json,
    clerk_from_row,
    from_iso,
    line_values,
    order_from_rows,
    order_values,
    product_from_row,
    product_values,
    tender_values,
)
from local_db.models import (
    APPROVALS,
    AUDIT,
    BARCODES,
    CARD_ATTEMPTS,
    CLERKS,
    LINES,
    ORDERS,
    OUTBOX,
    PARKED,
    PRODUCTS,
    REFUNDS,
    SEQUENCES,
    SETTINGS,
    TENDERS,
)

# The sale path runs prepared SQL straight on the DB-API connection of the current
# transaction: SQLAlchemy's per-statement machinery costs more than SQLite's own work there
# (docs/benchmarks.md). The column lists come from the models, so they cannot drift.


def _insert_sql(table: Table, skip: tuple[str, ...] = ()) -> str:
    columns = [c.name for c in table.columns if c.name not in skip]
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )


INSERT_ORDER = _insert_sql(ORDERS)
INSERT_LINES = _insert_sql(LINES)
INSERT_TENDERS = _insert_sql(TENDERS)
INSERT_OUTBOX = _insert_sql(OUTBOX, skip=("seq", "acked_at"))
MOVE_STOCK = "UPDATE products SET stock = stock + :change WHERE id = :pid AND stock IS NOT NULL"
NEXT_SEQUENCE = "UPDATE sequences SET value = value + 1 WHERE name = :name RETURNING value"


def _dbapi(connection: Connection) -> Any:
    """The sqlite3 connection under ``connection``, inside its open transaction."""
    return connection.connection.driver_connection


def upsert(
    connection: Connection, table: Table, values: dict[str, Any], *, keep: tuple[str, ...] = ()
) -> None:
    """Insert ``values`` as a row of ``table``; if its primary key exists, update that row
    with every given column except the key and those in ``keep``."""
    key = [column.name for column in table.primary_key.columns]
    statement = sqlite_insert(table).values(values)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=key,
            set_={k: v for k, v in values.items() if k not in key and k not in keep},
        )
    )


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


BARCODES_OF = (
    select(BARCODES.c.product_id, BARCODES.c.code)
    .where(BARCODES.c.product_id.in_(bindparam("ids", expanding=True)))
    .order_by(BARCODES.c.code)
)
NAMES_STARTING = (
    select(PRODUCTS)
    .where(
        PRODUCTS.c.name_key >= bindparam("low"),
        PRODUCTS.c.name_key < bindparam("high"),
        PRODUCTS.c.active.is_(True),
    )
    .order_by(PRODUCTS.c.name_key)
    .limit(bindparam("limit"))
)

SHORT_PREFIX = 3  # below this many letters, search by name prefix instead of FTS
RANK_WINDOW = 400  # full-text matches ranked per query (see search())
RANKED_WINDOW = text(
    "SELECT p.* FROM ("
    "  SELECT rowid, bm25(products_fts, 10.0, 3.0, 1.0) AS score FROM products_fts"
    "  WHERE products_fts MATCH :q LIMIT :window"
    ") AS m JOIN products p ON p.rowid = m.rowid "
    "WHERE p.active ORDER BY m.score LIMIT :limit"
)
_WORD = re.compile(r"\w+", re.UNICODE)


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def fts_query(words: list[str]) -> str:
    """Each word as a quoted prefix term, all required: ``"whole"* "mil"*``."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


class SqliteProductRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _barcodes_for(self, product_ids: list[str]) -> dict[str, tuple[str, ...]]:
        if not product_ids:
            return {}
        rows = self._c.execute(BARCODES_OF, {"ids": product_ids})
        result: dict[str, list[str]] = {}
        for product_id, code in rows:
            result.setdefault(product_id, []).append(code)
        return {key: tuple(codes) for key, codes in result.items()}

    def _products(self, rows: Sequence[Any]) -> list[Product]:
        codes = self._barcodes_for([row.id for row in rows])
        return [product_from_row(row, codes.get(row.id, ())) for row in rows]

    def by_id(self, product_id: str) -> Product | None:
        row = self._c.execute(select(PRODUCTS).where(PRODUCTS.c.id == product_id)).first()
        return self._products([row])[0] if row else None

    def by_code(self, code: str) -> Product | None:
        """Exact lookup: barcode/PLU through its primary-key index, else SKU (unique index)."""
        code = code.strip()
        row = self._c.execute(
            select(PRODUCTS)
            .join(BARCODES, BARCODES.c.product_id == PRODUCTS.c.id)
            .where(BARCODES.c.code == code)
        ).first()
        if row is None:
            row = self._c.execute(select(PRODUCTS).where(PRODUCTS.c.sku == code)).first()
        return self._products([row])[0] if row else None

    def search(self, text_query: str, limit: int = 20) -> list[Product]:
        """Prefix search as the clerk types; a few milliseconds whatever the input.

        1. Names that start with what was typed come first, alphabetically, straight from the
           lower-cased name index — the only step for one- and two-letter input, where a ranked
           full-text query over thousands of matches would freeze the register.
        2. From three letters on, the rest is an FTS5 prefix query over name, brand and
           department, every word required, ranked by bm25 — among the first
           ``RANK_WINDOW`` matches only, so a common prefix ("org…") costs no more than a rare
           one. Typing one more letter narrows the matches and the ranking becomes exact.
        """
        words = [w.casefold() for w in _WORD.findall(text_query)]
        if not words:
            return []
        prefix = " ".join(text_query.split()).casefold()
        rows = list(
            self._c.execute(
                NAMES_STARTING,
                {"low": prefix, "high": prefix_upper_bound(prefix), "limit": limit},
            ).all()
        )
        if len(rows) < limit and not all(len(w) < SHORT_PREFIX for w in words):
            seen = {row.id for row in rows}
            more = self._c.execute(
                RANKED_WINDOW, {"q": fts_query(words), "window": RANK_WINDOW, "limit": limit * 2}
            ).all()
            rows.extend(row for row in more if row.id not in seen)
        return self._products(rows[:limit])

    def _department_spellings(self, *, active_only: bool) -> list[tuple[str, int]]:
        query = select(PRODUCTS.c.department, func.count()).where(PRODUCTS.c.department != "")
        if active_only:
            query = query.where(PRODUCTS.c.active.is_(True))
        rows = self._c.execute(query.group_by(PRODUCTS.c.department))
        return [(name, count) for name, count in rows]

    def departments(self) -> list[str]:
        """One entry per department (app.domain.product.department_key: "bakery" and
        "Bakery" are one), in the spelling most of its products carry."""
        shown = one_spelling_each(self._department_spellings(active_only=True))
        return sorted(shown.values(), key=department_key)

    def in_department(self, department: str, limit: int = 60) -> list[Product]:
        key = department_key(department)
        spellings = [
            name
            for name, _count in self._department_spellings(active_only=True)
            if department_key(name) == key
        ]
        rows = self._c.execute(
            select(PRODUCTS)
            .where(PRODUCTS.c.department.in_(spellings), PRODUCTS.c.active.is_(True))
            .order_by(PRODUCTS.c.name_key)
            .limit(limit)
        ).all()
        return self._products(rows)

    def adopt_department_spellings(self, spellings: Iterable[str]) -> int:
        """Products of a department spelled otherwise take ``spellings`` (the server's, on
        pull), so the till lists each department once, as the server writes it."""
        wanted = one_spelling_each((), spellings)
        changed = 0
        for name, _count in self._department_spellings(active_only=False):
            spelling = wanted.get(department_key(name))
            if spelling is not None and spelling != name:
                result = self._c.execute(
                    update(PRODUCTS)
                    .where(PRODUCTS.c.department == name)
                    .values(department=spelling, updated_at=now_iso())
                )
                changed += result.rowcount
        return changed

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(PRODUCTS)).scalar_one())

    def upsert_many(self, products: Iterable[Product]) -> int:
        stamp = now_iso()
        items = list(products)
        if not items:
            return 0
        values = [product_values(p, stamp) for p in items]
        statement = sqlite_insert(PRODUCTS)
        statement = statement.on_conflict_do_update(
            index_elements=[PRODUCTS.c.id],
            set_={key: statement.excluded[key] for key in values[0] if key != "id"},
        )
        for chunk in _chunks(values):
            self._c.execute(statement, chunk)
        for ids in _chunks([p.id for p in items]):
            self._c.execute(delete(BARCODES).where(BARCODES.c.product_id.in_(ids)))
        codes = [{"code": code, "product_id": p.id} for p in items for code in p.barcodes]
        for chunk in _chunks(codes):
            self._c.execute(insert(BARCODES), chunk)
        return len(items)

    def replace_all(self, products: Iterable[Product]) -> int:
        self._c.execute(delete(BARCODES))
        self._c.execute(delete(PRODUCTS))
        return self.upsert_many(products)

    def move_stock(self, movements: Sequence[StockMovement]) -> None:
        """Apply movements (app.domain.stock) to tracked stock; untracked stays None."""
        if movements:
            _dbapi(self._c).executemany(
                MOVE_STOCK, [{"pid": m.product_id, "change": m.change} for m in movements]
            )


ITEM_SEARCH_SALES = 5000  # how far back the history's search by item looks


class SqliteOrderRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, order: Order) -> None:
        db = _dbapi(self._c)
        db.execute(INSERT_ORDER, order_values(order))
        db.executemany(INSERT_LINES, [line_values(order.id, ln) for ln in order.lines])
        if order.tenders:
            db.executemany(
                INSERT_TENDERS,
                [tender_values(order.id, i, t) for i, t in enumerate(order.tenders, start=1)],
            )

    def _load(self, rows: Sequence[Any]) -> list[Order]:
        ids = [row.id for row in rows]
        if not ids:
            return []
        lines: dict[str, list[Any]] = {}
        for ln in self._c.execute(
            select(LINES).where(LINES.c.order_id.in_(ids)).order_by(LINES.c.line_no)
        ):
            lines.setdefault(ln.order_id, []).append(ln)
        tenders: dict[str, list[Any]] = {}
        for t in self._c.execute(
            select(TENDERS).where(TENDERS.c.order_id.in_(ids)).order_by(TENDERS.c.seq)
        ):
            tenders.setdefault(t.order_id, []).append(t)
        return [order_from_rows(r, lines.get(r.id, []), tenders.get(r.id, [])) for r in rows]

    def load_rows(self, rows: Sequence[Any]) -> list[Order]:
        """Orders of rows of the orders table (their lines and tenders read in two queries)."""
        return self._load(rows)

    def _one(self, condition: Any) -> Order | None:
        found = self._load(self._c.execute(select(ORDERS).where(condition)).all())
        return found[0] if found else None

    def get(self, order_id: str) -> Order | None:
        return self._one(ORDERS.c.id == order_id)

    def by_receipt_no(self, receipt_no: str) -> Order | None:
        return self._one(ORDERS.c.receipt_no == receipt_no)

    def set_status(self, order_id: str, status: OrderStatus) -> None:
        self._c.execute(update(ORDERS).where(ORDERS.c.id == order_id).values(status=status.value))

    def set_refunded_total(self, order_id: str, refunded_total: int) -> None:
        self._c.execute(
            update(ORDERS).where(ORDERS.c.id == order_id).values(refunded_total=refunded_total)
        )

    def recent(self, limit: int = 100, query: str = "", day: str | None = None) -> list[Order]:
        """Newest first; ``query`` matches a receipt number part or, when it has a letter, an
        item of the sale (its name, any case, or its SKU): a customer without a receipt says
        what they bought. ``day`` is YYYY-MM-DD (UTC)."""
        statement = select(ORDERS).order_by(ORDERS.c.created_at.desc()).limit(limit)
        wanted = query.strip()
        if wanted:
            found = ORDERS.c.receipt_no.contains(wanted.upper(), autoescape=True)
            if any(ch.isalpha() for ch in wanted):
                # Among the newest ITEM_SEARCH_SALES sales (a return comes back within weeks),
                # with EXISTS so the walk stops at ``limit`` matches: over 100,000 sales an IN
                # list of every matching line took 3 s, an unbounded EXISTS 2.6 s for no match.
                oldest = (
                    select(ORDERS.c.created_at)
                    .order_by(ORDERS.c.created_at.desc())
                    .offset(ITEM_SEARCH_SALES - 1)
                    .limit(1)
                    .scalar_subquery()
                )
                with_item = (
                    select(LINES.c.line_no)
                    .where(
                        LINES.c.order_id == ORDERS.c.id,
                        or_(LINES.c.name.contains(wanted, autoescape=True), LINES.c.sku == wanted),
                    )
                    .exists()
                )
                found = or_(
                    found, and_(ORDERS.c.created_at >= func.coalesce(oldest, ""), with_item)
                )
            statement = statement.where(found)
        if day:
            statement = statement.where(
                ORDERS.c.created_at >= day, ORDERS.c.created_at < day + "T99"
            )
        return self._load(self._c.execute(statement).all())

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(ORDERS)).scalar_one())


class SqliteOutboxRepository:
    """Events for the server, kept as the JSON text that is pushed. ``encode`` turns a domain
    event into it (``sync.wire.encode_event``, given by the composition root)."""

    def __init__(self, connection: Connection, encode: EventEncoder | None = None) -> None:
        self._c = connection
        self._encode = encode

    def add(self, event: DomainEvent) -> None:
        if self._encode is None:
            raise RuntimeError("this unit of work was opened without an event encoder")
        encoded = self._encode(event)
        _dbapi(self._c).execute(
            INSERT_OUTBOX,
            {
                "event_id": encoded.event_id,
                "event_type": encoded.event_type,
                "payload": encoded.body,
                "created_at": now_iso(),
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "last_error": "",
            },
        )

    def pending_count(self) -> int:
        return int(
            self._c.execute(
                select(func.count())
                .select_from(OUTBOX)
                .where(OUTBOX.c.state != OutboxState.DONE.value)
            ).scalar_one()
        )

    def unacknowledged_follow_ups(
        self, order_ids: Sequence[str]
    ) -> dict[str, list[tuple[SyncState, str]]]:
        """Refunds and voids of these orders the server has not acknowledged (the sale's own
        event is the order's ``sync_state``). Reads only entries not done (indexed state)."""
        if not order_ids:
            return {}
        order_id = func.json_extract(OUTBOX.c.payload, "$.payload.order_id")
        rows = self._c.execute(
            select(order_id, OUTBOX.c.state, OUTBOX.c.last_error).where(
                OUTBOX.c.state.in_([s.value for s in OutboxState if s is not OutboxState.DONE]),
                OUTBOX.c.event_id.not_in(list(order_ids)),
                order_id.in_(list(order_ids)),
            )
        ).all()
        later: dict[str, list[tuple[SyncState, str]]] = {}
        for oid, state, why in rows:
            later.setdefault(str(oid), []).append((shown_sync_state(OutboxState(state), why), why))
        return later

    def entry(self, event_id: str) -> dict[str, Any] | None:
        row = self._c.execute(select(OUTBOX).where(OUTBOX.c.event_id == event_id)).first()
        return dict(row._mapping) if row else None


class SqliteSequenceRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def next_value(self, name: str) -> int:
        rows = _dbapi(self._c).execute(NEXT_SEQUENCE, {"name": name}).fetchall()
        value = rows[0][0] if rows else None
        if value is None:
            self._c.execute(insert(SEQUENCES), {"name": name, "value": 1})
            value = 1
        return int(value)


class SqliteParkedSaleRepository:
    def __init__(self, connection: Connection, total_of: Callable[[Cart], int]) -> None:
        self._c = connection
        self._total_of = total_of

    def park(self, sale_id: str, cart: Cart, clerk_id: str, label: str, at: datetime) -> None:
        self._c.execute(
            insert(PARKED),
            {
                "id": sale_id,
                "label": label[:80],
                "clerk_id": clerk_id,
                "parked_at": utc_iso(at),
                "total": self._total_of(cart),
                "cart": cart_to_json(cart),
            },
        )

    def take(self, sale_id: str) -> Cart | None:
        row = self._c.execute(select(PARKED.c.cart).where(PARKED.c.id == sale_id)).first()
        if row is None:
            return None
        self._c.execute(delete(PARKED).where(PARKED.c.id == sale_id))
        return cart_from_json(row[0])

    def list(self) -> list[tuple[str, str, str, datetime, int]]:
        rows = self._c.execute(select(PARKED).order_by(PARKED.c.parked_at.desc()))
        return [
            (row.id, row.label, row.clerk_id, datetime.fromisoformat(row.parked_at), row.total)
            for row in rows
        ]


class SqliteClerkRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def all(self) -> list[Clerk]:
        rows = self._c.execute(select(CLERKS).order_by(CLERKS.c.name))
        return [clerk_from_row(row) for row in rows]

    def get(self, clerk_id: str) -> Clerk | None:
        row = self._c.execute(select(CLERKS).where(CLERKS.c.id == clerk_id)).first()
        return clerk_from_row(row) if row else None

    def save(self, clerk: Clerk) -> None:
        upsert(
            self._c,
            CLERKS,
            {
                "id": clerk.id,
                "name": clerk.name,
                "role": clerk.role.value,
                "pin_hash": clerk.pin_hash,
                "active": clerk.active,
                "failed_attempts": clerk.failed_attempts,
                "locked_until": optional_utc_iso(clerk.locked_until),
            },
        )


class SqliteSettingsRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, key: str, default: str = "") -> str:
        value = self._c.execute(select(SETTINGS.c.value).where(SETTINGS.c.key == key)).scalar()
        return default if value is None else str(value)

    def put(self, key: str, value: str) -> None:
        upsert(self._c, SETTINGS, {"key": key, "value": value})


class SqliteAuditRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, entry: AuditEntry) -> None:
        self._c.execute(
            insert(AUDIT),
            {
                "at": utc_iso(entry.at),
                "clerk_id": entry.clerk_id,
                "clerk_name": entry.clerk_name,
                "action": entry.action.value,
                "reason": entry.reason,
                "amount": entry.amount,
                "detail": entry.detail,
            },
        )

    def recent(self, limit: int = 200) -> list[AuditEntry]:
        rows = self._c.execute(select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit))
        return [
            AuditEntry(
                datetime.fromisoformat(row.at),
                row.clerk_id,
                row.clerk_name,
                AuditAction(row.action),
                row.reason,
                row.amount,
                row.detail,
            )
            for row in rows
        ]


class SqliteApprovalRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, approval: Approval) -> None:
        self._c.execute(
            insert(APPROVALS),
            {
                "id": approval.id,
                "action": approval.action.value,
                "subject": approval.subject,
                "asked_by": approval.asked_by,
                "approved_by": approval.approved_by,
                "terminal_code": approval.terminal_code,
                "at": utc_iso(approval.at),
                "used_at": optional_utc_iso(approval.used_at),
            },
        )

    def get(self, approval_id: str) -> Approval | None:
        row = self._c.execute(select(APPROVALS).where(APPROVALS.c.id == approval_id)).first()
        if row is None:
            return None
        return Approval(
            id=row.id,
            action=ApprovalAction(row.action),
            subject=row.subject,
            asked_by=row.asked_by,
            approved_by=row.approved_by,
            terminal_code=row.terminal_code,
            at=datetime.fromisoformat(row.at),
            used_at=from_iso(row.used_at),
        )

    def mark_used(self, approval_id: str, used_at: datetime) -> None:
        self._c.execute(
            update(APPROVALS)
            .where(APPROVALS.c.id == approval_id, APPROVALS.c.used_at.is_(None))
            .values(used_at=utc_iso(used_at))
        )


class SqliteCardAttemptRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, attempt: LocalCardAttempt, cart: Cart) -> None:
        self._c.execute(
            insert(CARD_ATTEMPTS),
            {
                "payment_id": attempt.payment_id,
                "order_id": attempt.order_id,
                "amount": attempt.amount,
                "status": attempt.status.value,
                "clerk_id": attempt.clerk_id,
                "created_at": utc_iso(attempt.created_at),
                "pay_url": attempt.pay_url,
                "cart": cart_to_json(cart),
            },
        )

    def set_status(self, payment_id: str, status: CardStatus, pay_url: str | None = None) -> None:
        values: dict[str, Any] = {"status": status.value}
        if pay_url is not None:
            values["pay_url"] = pay_url
        self._c.execute(
            update(CARD_ATTEMPTS).where(CARD_ATTEMPTS.c.payment_id == payment_id).values(values)
        )

    def _attempt(self, row: Any) -> LocalCardAttempt:
        return LocalCardAttempt(
            row.payment_id,
            row.order_id,
            row.amount,
            CardStatus(row.status),
            row.clerk_id,
            datetime.fromisoformat(row.created_at),
            row.pay_url,
        )

    def for_order(self, order_id: str) -> list[LocalCardAttempt]:
        rows = self._c.execute(
            select(CARD_ATTEMPTS)
            .where(CARD_ATTEMPTS.c.order_id == order_id)
            .order_by(CARD_ATTEMPTS.c.created_at)
        )
        return [self._attempt(row) for row in rows]

    def unsettled(self) -> list[tuple[LocalCardAttempt, Cart]]:
        """Attempts whose sale is not complete and whose outcome is not yet acted on."""
        rows = self._c.execute(
            select(CARD_ATTEMPTS)
            .where(
                CARD_ATTEMPTS.c.status.in_(
                    [
                        CardStatus.PENDING.value,
                        CardStatus.REQUIRES_ACTION.value,
                        CardStatus.SUCCEEDED.value,
                        CardStatus.FAILED.value,
                    ]
                )
            )
            .order_by(CARD_ATTEMPTS.c.created_at)
        )
        return [(self._attempt(row), cart_from_json(row.cart)) for row in rows]


class SqliteRefundRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, refund: Refund) -> None:
        self._c.execute(
            insert(REFUNDS),
            {
                "id": refund.id,
                "order_id": refund.order_id,
                "state": refund.state.value,
                "amount": refund.amount,
                "card_amount": refund.card_amount,
                "cash_amount": refund.cash_amount,
                "card_payment_id": refund.card_payment_id,
                "reason": refund.reason,
                "lines": json.dumps([[ln.line_no, ln.quantity] for ln in refund.lines]),
                "clerk_id": refund.clerk_id,
                "clerk_name": refund.clerk_name,
                "created_at": utc_iso(refund.created_at),
                "refunded_at": optional_utc_iso(refund.refunded_at),
                "failure": refund.failure,
            },
        )

    def _refund(self, row: Any) -> Refund:
        return Refund(
            id=row.id,
            order_id=row.order_id,
            amount=row.amount,
            card_amount=row.card_amount,
            cash_amount=row.cash_amount,
            card_payment_id=row.card_payment_id,
            reason=row.reason,
            lines=tuple(RefundLine(int(n), int(q)) for n, q in json.loads(row.lines)),
            clerk_id=row.clerk_id,
            clerk_name=row.clerk_name,
            created_at=datetime.fromisoformat(row.created_at),
            state=RefundState(row.state),
            refunded_at=from_iso(row.refunded_at),
            failure=row.failure,
        )

    def get(self, refund_id: str) -> Refund | None:
        row = self._c.execute(select(REFUNDS).where(REFUNDS.c.id == refund_id)).first()
        return self._refund(row) if row else None

    def for_order(self, order_id: str) -> list[Refund]:
        rows = self._c.execute(
            select(REFUNDS)
            .where(REFUNDS.c.order_id == order_id)
            .order_by(REFUNDS.c.created_at, REFUNDS.c.id)
        )
        return [self._refund(row) for row in rows]

    def set_state(
        self,
        refund_id: str,
        state: RefundState,
        *,
        refunded_at: datetime | None = None,
        failure: str = "",
    ) -> None:
        values: dict[str, Any] = {"state": state.value, "failure": failure}
        if refunded_at is not None:
            values["refunded_at"] = utc_iso(refunded_at)
        self._c.execute(update(REFUNDS).where(REFUNDS.c.id == refund_id).values(values))

    def pending(self) -> list[Refund]:
        rows = self._c.execute(
            select(REFUNDS)
            .where(REFUNDS.c.state == RefundState.PENDING.value)
            .order_by(REFUNDS.c.created_at)
        )
        return [self._refund(row) for row in rows]
