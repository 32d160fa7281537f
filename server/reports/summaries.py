"""The report summaries, kept by the push in the transaction of what they sum.

Four tables (migrations 0012 and 0013) hold sums the reports read instead of a million order
lines:

- ``report_sales``: per store, local date and hour, terminal and clerk — sales (count, gross
  before any discount, discounts, sales amount, tax, orders with a discount), refunds and voids (count, amount);
- ``report_tenders``: per store, local date, terminal and tender kind — payments taken
  (count, amount) and refunded;
- ``report_products``: per store, local date, terminal and product — lines, quantity and net
  amount sold, with the product's sku, name and department when it was pushed;
- ``report_product_days``: the same per store, local date and product without the terminal
  (read when a report asks for no terminal: a month is a quarter of the rows at four tills).

The rules (the same as app.domain.report's): a sale counts on the store's local date and
hour of its ``paid_at``, at the terminal and clerk on the order. A void takes the order out
of its sale's buckets again and counts the void on the local date and hour of ``voided_at``
(at the order's terminal, under the order's clerk: the sale that was voided). A refund counts on the local date
and hour of ``refunded_at``, at the terminal that pushed it, under its clerk; its cash part
is a cash refund, its card part a card refund. Local means the store's ``time_zone`` as it
is when the event is pushed; ``rebuild_summaries`` sums a store again from the base rows
(``shopsmart-server store set-time-zone`` runs it).

Every write is one adding upsert per table per batch, rows sorted by key (concurrent batches
lock them in one order), issued by ``OrderBatch.settle`` before the stock rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.domain.report import check_time_zone, local_date_hour, store_zone
from server.bulk import upsert_adding
from server.catalog.repository import CatalogRepository, SqlCatalogRepository
from server.models import (
    AuditEntry,
    Order,
    OrderLine,
    OrderRefund,
    Product,
    ReportProductDays,
    ReportProducts,
    ReportSales,
    ReportTenders,
    Store,
    Tender,
    Terminal,
    TerminalActivity,
)
from server.sql import dialect_insert
from server.terminals.auth import Caller

SALES_SUMS = (
    "orders",
    "gross",
    "discounts",
    "sales",
    "tax",
    "discounted_orders",
    "refunds_count",
    "refunds",
    "voids_count",
    "voids",
)
TENDER_SUMS = ("count", "amount", "refunds")
PRODUCT_SUMS = ("lines", "quantity", "net")
OPEN_PRICE_NAME = "Open-price items"  # product_key "" sums every line without a product


class SoldLine(Protocol):
    @property
    def product_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def net(self) -> int: ...


class TakenTender(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def amount(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Sale:
    """The figures of one order that the summaries sum (a wire order or a stored row)."""

    paid_at: datetime
    terminal_code: str
    clerk_id: str
    clerk_name: str
    gross: int  # Σ line gross: before any discount
    discount_total: int
    total: int
    tax_total: int


def store_time_zone(session: Session, store_id: uuid.UUID) -> ZoneInfo:
    name = session.scalars(select(Store.time_zone).where(Store.id == store_id)).one()
    return store_zone(name)


def catalog_departments(catalog: CatalogRepository, product_ids: Iterable[str]) -> dict[str, str]:
    """The department of each known product among ``product_ids`` (one lean query)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    if isinstance(catalog, SqlCatalogRepository):
        rows = catalog.session.execute(
            select(Product.id, Product.document["department"].as_string()).where(
                Product.id.in_(ids)
            )
        )
        return {pid: department or "" for pid, department in rows}
    return {pid: doc.department for pid, doc in catalog.get_many(ids).items()}


class SummaryDeltas:
    """What one transaction adds to a store's summaries, written by ``write``."""

    def __init__(self, store_id: uuid.UUID, zone: ZoneInfo) -> None:
        self.store_id = store_id
        self.zone = zone
        self.sales: defaultdict[tuple[date, int, str, str], list[int]] = defaultdict(
            lambda: [0] * len(SALES_SUMS)
        )
        self.clerk_names: dict[tuple[date, int, str, str], str] = {}
        self.tenders: defaultdict[tuple[date, str, str], list[int]] = defaultdict(
            lambda: [0] * len(TENDER_SUMS)
        )
        self.products: defaultdict[tuple[date, str, str], list[int]] = defaultdict(
            lambda: [0] * len(PRODUCT_SUMS)
        )
        self.product_names: dict[tuple[date, str, str], tuple[str, str, str]] = {}

    def _sales_key(self, moment: datetime, terminal: str, clerk: str) -> tuple[date, int, str, str]:
        day, hour = local_date_hour(moment, self.zone)
        return (day, hour, terminal, clerk)

    def sale(
        self,
        sale: Sale,
        lines: Iterable[SoldLine],
        tenders: Iterable[TakenTender],
        departments: Mapping[str, str],
        *,
        sign: int = 1,
    ) -> None:
        """A paid order (``sign`` −1: the same order taken out again, as a void does)."""
        key = self._sales_key(sale.paid_at, sale.terminal_code, sale.clerk_id)
        sums = self.sales[key]
        sums[0] += sign
        sums[1] += sign * sale.gross
        sums[2] += sign * sale.discount_total
        sums[3] += sign * sale.total
        sums[4] += sign * sale.tax_total
        sums[5] += sign * (1 if sale.discount_total else 0)
        if sign > 0 and sale.clerk_name:
            self.clerk_names[key] = sale.clerk_name
        day = key[0]
        for tender in tenders:
            t = self.tenders[(day, sale.terminal_code, tender.kind)]
            t[0] += sign
            t[1] += sign * tender.amount
        for line in lines:
            product_key = line.product_id or ""
            pkey = (day, sale.terminal_code, product_key)
            p = self.products[pkey]
            p[0] += sign
            p[1] += sign * line.quantity
            p[2] += sign * line.net
            if sign > 0:
                if product_key:
                    names = (line.sku, line.name, departments.get(product_key, ""))
                else:
                    names = ("", OPEN_PRICE_NAME, "")
                self.product_names[pkey] = names

    def void(
        self,
        sale: Sale,
        lines: Iterable[SoldLine],
        tenders: Iterable[TakenTender],
        voided_at: datetime,
    ) -> None:
        self.sale(sale, lines, tenders, {}, sign=-1)
        sums = self.sales[self._sales_key(voided_at, sale.terminal_code, sale.clerk_id)]
        sums[8] += 1
        sums[9] += sale.total

    def refund(
        self,
        refunded_at: datetime,
        terminal_code: str,
        clerk_id: str,
        amount: int,
        cash_amount: int,
        card_amount: int,
    ) -> None:
        key = self._sales_key(refunded_at, terminal_code, clerk_id)
        sums = self.sales[key]
        sums[6] += 1
        sums[7] += amount
        for kind, part in (("cash", cash_amount), ("card", card_amount)):
            if part:
                self.tenders[(key[0], terminal_code, kind)][2] += part

    def write(self, session: Session) -> None:
        """One adding upsert per table, rows in key order; the deltas are then empty."""
        store_id = self.store_id
        sales = [
            {
                "store_id": store_id,
                "local_date": day,
                "local_hour": hour,
                "terminal_code": terminal,
                "clerk_id": clerk,
                "clerk_name": self.clerk_names.get((day, hour, terminal, clerk), ""),
                **dict(zip(SALES_SUMS, sums, strict=True)),
            }
            for (day, hour, terminal, clerk), sums in sorted(self.sales.items())
        ]
        upsert_adding(
            session,
            ReportSales,
            sales,
            conflict=("store_id", "local_date", "local_hour", "terminal_code", "clerk_id"),
            add=SALES_SUMS,
            keep_nonempty=("clerk_name",),
        )
        tenders = [
            {
                "store_id": store_id,
                "local_date": day,
                "terminal_code": terminal,
                "kind": kind,
                **dict(zip(TENDER_SUMS, sums, strict=True)),
            }
            for (day, terminal, kind), sums in sorted(self.tenders.items())
        ]
        upsert_adding(
            session,
            ReportTenders,
            tenders,
            conflict=("store_id", "local_date", "terminal_code", "kind"),
            add=TENDER_SUMS,
        )
        products = []
        days: defaultdict[tuple[date, str], list[int]] = defaultdict(
            lambda: [0] * len(PRODUCT_SUMS)
        )
        day_names: dict[tuple[date, str], tuple[str, str, str]] = {}
        for key, sums in sorted(self.products.items()):
            sku, name, department = self.product_names.get(key, ("", "", ""))
            day, terminal, product_key = key
            day_sums = days[(day, product_key)]
            for i, value in enumerate(sums):
                day_sums[i] += value
            old_sku, old_name, old_department = day_names.get((day, product_key), ("", "", ""))
            day_names[(day, product_key)] = (
                sku or old_sku,
                name or old_name,
                department or old_department,
            )
            products.append(
                {
                    "store_id": store_id,
                    "local_date": day,
                    "terminal_code": terminal,
                    "product_key": product_key,
                    "sku": sku,
                    "name": name,
                    "department": department,
                    **dict(zip(PRODUCT_SUMS, sums, strict=True)),
                }
            )
        upsert_adding(
            session,
            ReportProducts,
            products,
            conflict=("store_id", "local_date", "terminal_code", "product_key"),
            add=PRODUCT_SUMS,
            keep_nonempty=("sku", "name", "department"),
        )
        product_days = []
        for (day, product_key), sums in sorted(days.items()):
            sku, name, department = day_names[(day, product_key)]
            product_days.append(
                {
                    "store_id": store_id,
                    "local_date": day,
                    "product_key": product_key,
                    "sku": sku,
                    "name": name,
                    "department": department,
                    **dict(zip(PRODUCT_SUMS, sums, strict=True)),
                }
            )
        upsert_adding(
            session,
            ReportProductDays,
            product_days,
            conflict=("store_id", "local_date", "product_key"),
            add=PRODUCT_SUMS,
            keep_nonempty=("sku", "name", "department"),
        )
        self.sales.clear()
        self.clerk_names.clear()
        self.tenders.clear()
        self.products.clear()
        self.product_names.clear()


def _sale_of(row: Any) -> Sale:
    return Sale(
        paid_at=row.paid_at,
        terminal_code=row.terminal_code,
        clerk_id=row.clerk_id,
        clerk_name=row.clerk_name,
        gross=0,  # from its lines (_fill_lines_and_tenders)
        discount_total=row.discount_total,
        total=row.total,
        tax_total=row.tax_total,
    )


_SALE_COLUMNS = (
    Order.id,
    Order.paid_at,
    Order.terminal_code,
    Order.clerk_id,
    Order.clerk_name,
    Order.discount_total,
    Order.total,
    Order.tax_total,
)


def stored_sales(
    session: Session, store_id: uuid.UUID, order_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[Sale, list[Any], list[Any]]]:
    """Stored orders of a store as the summaries read them: the sale, its lines, its tenders."""
    ids = list(order_ids)
    if not ids:
        return {}
    found: dict[uuid.UUID, tuple[Sale, list[Any], list[Any]]] = {}
    for row in session.execute(
        select(*_SALE_COLUMNS).where(Order.store_id == store_id, Order.id.in_(ids))
    ):
        found[row.id] = (_sale_of(row), [], [])
    _fill_lines_and_tenders(session, store_id, found)
    return found


def _fill_lines_and_tenders(
    session: Session,
    store_id: uuid.UUID,
    found: dict[uuid.UUID, tuple[Sale, list[Any], list[Any]]],
) -> None:
    ids = list(found)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for line in session.execute(
            select(
                OrderLine.order_id,
                OrderLine.product_id,
                OrderLine.sku,
                OrderLine.name,
                OrderLine.quantity,
                OrderLine.net,
                OrderLine.gross,
            ).where(OrderLine.store_id == store_id, OrderLine.order_id.in_(chunk))
        ):
            found[line.order_id][1].append(line)
        for tender in session.execute(
            select(Tender.order_id, Tender.kind, Tender.amount).where(
                Tender.store_id == store_id, Tender.order_id.in_(chunk)
            )
        ):
            found[tender.order_id][2].append(tender)
    for order_id, (sale, lines, tenders) in found.items():
        found[order_id] = (replace(sale, gross=sum(ln.gross for ln in lines)), lines, tenders)


def rebuild_summaries(session: Session, store_id: uuid.UUID, catalog: CatalogRepository) -> None:
    """Sum a store's summaries again from its orders, voids and refunds (in the store's
    current time zone), in the caller's transaction."""
    for model in (ReportSales, ReportTenders, ReportProducts, ReportProductDays):
        session.execute(delete(model).where(model.store_id == store_id))
    deltas = SummaryDeltas(store_id, store_time_zone(session, store_id))
    order_ids = list(session.scalars(select(Order.id).where(Order.store_id == store_id)))
    for start in range(0, len(order_ids), 2000):
        chunk = order_ids[start : start + 2000]
        found: dict[uuid.UUID, tuple[Sale, list[Any], list[Any]]] = {}
        voids: dict[uuid.UUID, datetime] = {}
        for row in session.execute(
            select(*_SALE_COLUMNS, Order.voided_at).where(
                Order.store_id == store_id, Order.id.in_(chunk)
            )
        ):
            found[row.id] = (_sale_of(row), [], [])
            if row.voided_at is not None:
                voids[row.id] = row.voided_at
        _fill_lines_and_tenders(session, store_id, found)
        departments = catalog_departments(
            catalog, (ln.product_id for _, lines, _ in found.values() for ln in lines)
        )
        for order_id, (sale, lines, tenders) in found.items():
            deltas.sale(sale, lines, tenders, departments)
            if order_id in voids:
                deltas.void(sale, lines, tenders, voids[order_id])
        deltas.write(session)
    for refund in session.execute(
        select(
            OrderRefund.refunded_at,
            Terminal.code,
            OrderRefund.clerk_id,
            OrderRefund.amount,
            OrderRefund.cash_amount,
            OrderRefund.card_amount,
        )
        .join(Terminal, Terminal.id == OrderRefund.terminal_id)
        .where(OrderRefund.store_id == store_id)
    ):
        deltas.refund(*refund)
    deltas.write(session)


def count_refused_events(factory: sessionmaker[Session], who: Caller, refused: int) -> None:
    """Add ``refused`` (rejected or conflicting) events to the terminal's count, in a small
    transaction of its own: a push whose events were all fine writes nothing here."""
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        stmt = dialect_insert(session, TerminalActivity.__table__).values(
            store_id=who.store_id, terminal_id=who.terminal(), last_push_at=now, refused=refused
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["store_id", "terminal_id"],
                set_={
                    "last_push_at": now,
                    "refused": TerminalActivity.__table__.c.refused + refused,
                },
            )
        )


def set_store_time_zone(
    session: Session, store_id: uuid.UUID, time_zone: str, catalog: CatalogRepository
) -> None:
    """Move a store to another time zone (refused with ``InvalidTimeZone`` unless IANA knows
    it) and sum its summaries again in that zone, in the caller's transaction."""
    name = check_time_zone(time_zone)
    session.execute(update(Store).where(Store.id == store_id).values(time_zone=name))
    session.add(
        AuditEntry(
            actor="cli", action="store.set_time_zone", store_id=store_id, detail={"time_zone": name}
        )
    )
    rebuild_summaries(session, store_id, catalog)
