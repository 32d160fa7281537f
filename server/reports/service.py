"""Every manager report, computed with SQL over what the tills synced, for one store.

Dates are the store's local dates (``stores.time_zone``); the sales reports read the
summaries the push keeps (server/reports/summaries.py, whose docstring has the rules), the
others read the base tables. A clerk filter keeps the rows of that clerk of the store in the
reports whose rows carry a clerk (``app.domain.report.CLERK_REPORTS``: the sales rows by the
clerk of ``report_sales``, the shifts that clerk opened or closed); the others refuse it.
Each function answers one ``ReportTable`` (app.domain.report): the same SQL on PostgreSQL and
on the embedded SQLite.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from app.domain.money import format_money, round_half_up
from app.domain.report import (
    LOW_STOCK_UNITS,
    Cell,
    ReportName,
    ReportTable,
    check_clerk_filter,
    check_date_range,
    local_days_utc,
    report_table,
    store_zone,
)
from server.catalog.repository import CatalogRepository, SqlCatalogRepository
from server.models import (
    Flag,
    Order,
    Product,
    RateBucket,
    ReportProductDays,
    ReportProducts,
    ReportSales,
    ReportTenders,
    Shift,
    StockLevel,
    Store,
    Terminal,
    TerminalActivity,
    ZReportRow,
)

REPORT_FLAGS = ("oversold", "price_mismatch")
NO_DEPARTMENT = "(no department)"


@dataclass(frozen=True, slots=True)
class ReportRequest:
    store_id: uuid.UUID
    from_date: date
    to_date: date
    terminal: str | None = None
    limit: int = 50
    order: str = "top"  # products: top | slow
    clerk: str | None = None  # a clerk id: only that clerk's rows (CLERK_REPORTS only)


@dataclass(frozen=True, slots=True)
class _Context:
    session: Session
    request: ReportRequest
    time_zone: str
    catalog: CatalogRepository
    currency: str


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _int(value: Any) -> int:
    return int(value or 0)


def _average(amount: int, count: int) -> int | None:
    return round_half_up(amount, count) if count > 0 else None


def _in_range(ctx: _Context, model: Any) -> list[ColumnElement[bool]]:
    r = ctx.request
    where = [
        model.store_id == r.store_id,
        model.local_date >= r.from_date,
        model.local_date <= r.to_date,
    ]
    if r.terminal:
        where.append(model.terminal_code == r.terminal)
    if r.clerk is not None:  # only the summaries with a clerk (check_clerk_filter)
        where.append(model.clerk_id == r.clerk)
    return where


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _rows(ctx: _Context, stmt: Any) -> list[Any]:
    return list(ctx.session.execute(stmt))


# --------------------------------------------------------------------------- sales


def sales_by_day(ctx: _Context) -> list[tuple[Cell, ...]]:
    s = ReportSales
    stmt = (
        select(
            s.local_date,
            _sum(s.orders),
            _sum(s.gross),
            _sum(s.discounts),
            _sum(s.sales),
            _sum(s.refunds),
            _sum(s.tax),
        )
        .where(*_in_range(ctx, s))
        .group_by(s.local_date)
        .order_by(s.local_date)
    )
    rows: list[tuple[Cell, ...]] = []
    for day, orders, gross, discounts, sales, refunds, tax in _rows(ctx, stmt):
        o, g, d, sa, rf, t = map(_int, (orders, gross, discounts, sales, refunds, tax))
        rows.append((_day(day), o, g, d, sa, rf, sa - rf, t))
    return rows


def sales_by_hour(ctx: _Context) -> list[tuple[Cell, ...]]:
    s = ReportSales
    stmt = (
        select(s.local_hour, _sum(s.orders), _sum(s.sales))
        .where(*_in_range(ctx, s))
        .group_by(s.local_hour)
        .order_by(s.local_hour)
    )
    return [(_int(h), _int(o), _int(a)) for h, o, a in _rows(ctx, stmt)]


def _product_summary(ctx: _Context) -> Any:
    """The product summary to read: per till only when a terminal is asked for."""
    return ReportProducts if ctx.request.terminal else ReportProductDays


def departments(ctx: _Context) -> list[tuple[Cell, ...]]:
    p = _product_summary(ctx)
    stmt = (
        select(p.department, _sum(p.lines), _sum(p.net))
        .where(*_in_range(ctx, p))
        .group_by(p.department)
        .having(func.sum(p.lines) != 0)
        .order_by(func.sum(p.net).desc(), p.department)
    )
    found = [(d, _int(n), _int(a)) for d, n, a in _rows(ctx, stmt)]
    total = sum(a for _, _, a in found)
    return [
        (d or NO_DEPARTMENT, n, a, round_half_up(a * 10_000, total) if total else None)
        for d, n, a in found
    ]


def products(ctx: _Context) -> list[tuple[Cell, ...]]:
    """Top (or slow) sellers by sales amount: the sums first, over every product, then the
    names of only the ones shown (a max() of text over every summary row costs more than
    the sums)."""
    p = _product_summary(ctx)
    net = func.sum(p.net)
    ordering = (net.desc(), p.product_key) if ctx.request.order == "top" else (net, p.product_key)
    stmt = (
        select(p.product_key, _sum(p.lines), _sum(p.quantity), _sum(p.net))
        .where(*_in_range(ctx, p))
        .group_by(p.product_key)
        .having(func.sum(p.lines) != 0)
        .order_by(*ordering)
        .limit(ctx.request.limit)
    )
    sums = _rows(ctx, stmt)
    if not sums:
        return []
    names_stmt = (
        select(p.product_key, func.max(p.sku), func.max(p.name), func.max(p.department))
        .where(*_in_range(ctx, p), p.product_key.in_([k for k, *_ in sums]))
        .group_by(p.product_key)
    )
    names = {key: rest for key, *rest in _rows(ctx, names_stmt)}
    rows: list[tuple[Cell, ...]] = []
    for key, n, q, a in sums:
        sku, name, dep = names.get(key, ("", "", ""))
        rows.append((key or None, sku, name, dep or NO_DEPARTMENT, _int(n), _int(q), _int(a)))
    return rows


def clerks(ctx: _Context) -> list[tuple[Cell, ...]]:
    s = ReportSales
    stmt = (
        select(
            s.clerk_id,
            func.max(s.clerk_name),
            _sum(s.orders),
            _sum(s.sales),
            _sum(s.refunds_count),
            _sum(s.refunds),
            _sum(s.voids_count),
            _sum(s.voids),
        )
        .where(*_in_range(ctx, s))
        .group_by(s.clerk_id)
        .order_by(func.sum(s.sales).desc(), s.clerk_id)
    )
    rows: list[tuple[Cell, ...]] = []
    for clerk_id, name, *sums in _rows(ctx, stmt):
        orders, sales, rc, rf, vc, vd = map(_int, sums)
        rows.append(
            (clerk_id, name or None, orders, sales, _average(sales, orders), rc, rf, vc, vd)
        )
    return rows


def terminals(ctx: _Context) -> list[tuple[Cell, ...]]:
    s = ReportSales
    stmt = (
        select(s.terminal_code, _sum(s.orders), _sum(s.sales), _sum(s.refunds))
        .where(*_in_range(ctx, s))
        .group_by(s.terminal_code)
        .order_by(s.terminal_code)
    )
    rows: list[tuple[Cell, ...]] = []
    for code, *sums in _rows(ctx, stmt):
        orders, sales, refunds = map(_int, sums)
        rows.append((code, orders, sales, _average(sales, orders), refunds, sales - refunds))
    return rows


def tenders(ctx: _Context) -> list[tuple[Cell, ...]]:
    t = ReportTenders
    stmt = (
        select(t.kind, _sum(t.count), _sum(t.amount), _sum(t.refunds))
        .where(*_in_range(ctx, t))
        .group_by(t.kind)
        .order_by(t.kind)
    )
    rows: list[tuple[Cell, ...]] = []
    for kind, *sums in _rows(ctx, stmt):
        count, amount, refunds = map(_int, sums)
        rows.append((kind, count, amount, refunds, amount - refunds))
    return rows


def adjustments(ctx: _Context) -> list[tuple[Cell, ...]]:
    s = ReportSales
    stmt = select(
        _sum(s.refunds_count),
        _sum(s.refunds),
        _sum(s.voids_count),
        _sum(s.voids),
        _sum(s.discounted_orders),
        _sum(s.discounts),
    ).where(*_in_range(ctx, s))
    rc, rf, vc, vd, dc, ds = map(_int, ctx.session.execute(stmt).one())
    return [("refunds", rc, rf), ("voids", vc, vd), ("discounts", dc, ds)]


# --------------------------------------------------------------------------- shifts, stock, flags


def _utc_range(ctx: _Context) -> tuple[datetime, datetime]:
    r = ctx.request
    return local_days_utc(r.from_date, r.to_date, store_zone(ctx.time_zone))


def shifts(ctx: _Context) -> list[tuple[Cell, ...]]:
    """Z history (closed in the range) with variances, then the shifts still open that
    opened in the range; newest first within each."""
    r = ctx.request
    start, end = _utc_range(ctx)
    z = ZReportRow
    stmt = (
        select(
            z.terminal_code,
            z.z_number,
            z.status,
            Shift.opened_at,
            z.closed_at,
            z.closed_by,
            z.net_sales,
            z.expected_cash,
            z.counted_total,
            z.difference,
            z.synced_after_close,
        )
        .outerjoin(Shift, and_(Shift.store_id == z.store_id, Shift.id == z.shift_id))
        .where(z.store_id == r.store_id, z.closed_at >= start, z.closed_at < end)
        .order_by(z.closed_at.desc(), z.terminal_code)
        .limit(r.limit)
    )
    if r.terminal:
        stmt = stmt.where(z.terminal_code == r.terminal)
    if r.clerk is not None:  # the shifts the clerk opened or closed
        stmt = stmt.where((z.closed_by == r.clerk) | (Shift.opened_by == r.clerk))
    rows: list[tuple[Cell, ...]] = []
    for code, number, status, opened, closed, by, net, expected, counted, diff, late in _rows(
        ctx, stmt
    ):
        rows.append(
            (
                code,
                _int(number),
                status,
                _iso(opened),
                _iso(closed),
                by,
                _int(net),
                _int(expected),
                _int(counted),
                _int(diff),
                len(late or []),
            )
        )
    open_stmt = (
        select(Shift.terminal_code, Shift.opened_at, Shift.float_amount)
        .where(
            Shift.store_id == r.store_id,
            Shift.closed_at.is_(None),
            Shift.opened_at >= start,
            Shift.opened_at < end,
            ~select(z.shift_id)
            .where(z.store_id == Shift.store_id, z.shift_id == Shift.id)
            .exists(),
        )
        .order_by(Shift.opened_at.desc())
        .limit(r.limit)
    )
    if r.terminal:
        open_stmt = open_stmt.where(Shift.terminal_code == r.terminal)
    if r.clerk is not None:
        open_stmt = open_stmt.where(Shift.opened_by == r.clerk)
    for code, opened, _float in _rows(ctx, open_stmt):
        rows.append((code, None, "open", _iso(opened), None, None, None, None, None, None, None))
    return rows[: r.limit]


def low_stock(ctx: _Context) -> list[tuple[Cell, ...]]:
    """Products at or below LOW_STOCK_UNITS (grams: a thousand times that), lowest first:
    one join with the catalog when it is in SQL, else the catalog asked for the candidates."""
    r = ctx.request
    if isinstance(ctx.catalog, SqlCatalogRepository):
        doc = Product.document
        weight = doc["sold_by"].as_string() == "weight"
        limit = case((weight, LOW_STOCK_UNITS * 1000), else_=LOW_STOCK_UNITS)
        stmt = (
            select(StockLevel.product_id, Product.sku, doc["name"].as_string(), StockLevel.quantity)
            .join(Product, Product.id == StockLevel.product_id)
            .where(
                StockLevel.store_id == r.store_id,
                StockLevel.quantity <= limit,
                Product.deleted.is_(False),
            )
            .order_by(StockLevel.quantity, StockLevel.product_id)
            .limit(r.limit)
        )
        return [(pid, sku, name, _int(q)) for pid, sku, name, q in _rows(ctx, stmt)]
    stmt = (
        select(StockLevel.product_id, StockLevel.quantity)
        .where(StockLevel.store_id == r.store_id, StockLevel.quantity <= LOW_STOCK_UNITS * 1000)
        .order_by(StockLevel.quantity, StockLevel.product_id)
    )
    levels = _rows(ctx, stmt)
    docs = ctx.catalog.get_many(pid for pid, _ in levels)
    rows: list[tuple[Cell, ...]] = []
    for pid, quantity in levels:
        found = docs.get(pid)
        if found is None or found.deleted:
            continue
        if quantity <= LOW_STOCK_UNITS * (1000 if found.sold_by == "weight" else 1):
            rows.append((pid, found.sku, found.name, _int(quantity)))
        if len(rows) >= r.limit:
            break
    return rows


def _flag_detail(ctx: _Context, kind: str, detail: dict[str, Any]) -> str:
    money = ctx.currency
    if kind == "price_mismatch":
        paid = format_money(_int(detail.get("paid_unit_price")), money)
        listed = format_money(_int(detail.get("catalog_unit_price")), money)
        return f"line {detail.get('line_no')}: paid {paid}, catalog {listed}"
    if kind == "oversold":
        return f"stock {detail.get('quantity')} after the sale"
    return ""


def flags(ctx: _Context) -> list[tuple[Cell, ...]]:
    """Oversold and price-mismatch flags raised in the range, newest first, with their
    order's receipt and till: the flags first (limited), then their orders by key; with a
    terminal filter, the flags of that terminal's orders."""
    r = ctx.request
    start, end = _utc_range(ctx)
    stmt = (
        select(Flag.created_at, Flag.kind, Flag.order_id, Flag.product_id, Flag.detail)
        .where(
            Flag.store_id == r.store_id,
            Flag.kind.in_(REPORT_FLAGS),
            Flag.created_at >= start,
            Flag.created_at < end,
        )
        .order_by(Flag.created_at.desc(), Flag.id.desc())
        .limit(r.limit)
    )
    if r.terminal:
        stmt = stmt.where(
            Flag.order_id.in_(
                select(Order.id).where(
                    Order.store_id == r.store_id, Order.terminal_code == r.terminal
                )
            )
        )
    found = _rows(ctx, stmt)
    order_ids = list({order_id for _, _, order_id, _, _ in found if order_id is not None})
    receipts = (
        {
            oid: (receipt, code)
            for oid, receipt, code in _rows(
                ctx,
                select(Order.id, Order.receipt_no, Order.terminal_code).where(
                    Order.store_id == r.store_id, Order.id.in_(order_ids)
                ),
            )
        }
        if order_ids
        else {}
    )
    rows: list[tuple[Cell, ...]] = []
    for at, kind, order_id, pid, detail in found:
        receipt, code = receipts.get(order_id, (None, None))
        rows.append((_iso(at), kind, receipt, code, pid, _flag_detail(ctx, kind, detail or {})))
    return rows


def terminal_health(ctx: _Context) -> list[tuple[Cell, ...]]:
    """Each terminal: active or revoked, last request, last sale, what waited to sync at its
    last Z, and how many of its events the server refused (rejected or conflicting)."""
    r = ctx.request
    stmt = (
        select(
            Terminal.id,
            Terminal.code,
            Terminal.name,
            Terminal.revoked_at,
            RateBucket.updated_at,
            TerminalActivity.refused,
        )
        .outerjoin(RateBucket, RateBucket.terminal_id == Terminal.id)
        .outerjoin(
            TerminalActivity,
            and_(
                TerminalActivity.terminal_id == Terminal.id,
                TerminalActivity.store_id == Terminal.store_id,
            ),
        )
        .where(Terminal.store_id == r.store_id)
        .order_by(Terminal.code, Terminal.enrolled_at)
        .limit(r.limit)
    )
    if r.terminal:
        stmt = stmt.where(Terminal.code == r.terminal)
    rows: list[tuple[Cell, ...]] = []
    for terminal_id, code, name, revoked, seen, refused in _rows(ctx, stmt):
        last_sale = ctx.session.scalar(
            select(func.max(Order.paid_at)).where(
                Order.store_id == r.store_id, Order.terminal_id == terminal_id
            )
        )
        waiting = ctx.session.scalar(
            select(ZReportRow.waiting)
            .where(ZReportRow.store_id == r.store_id, ZReportRow.terminal_id == terminal_id)
            .order_by(ZReportRow.z_number.desc())
            .limit(1)
        )
        seen_at = datetime.fromtimestamp(seen, UTC) if seen else None
        rows.append(
            (
                code,
                name or None,
                "revoked" if revoked else "active",
                _iso(seen_at),
                _iso(last_sale),
                len(waiting) if waiting is not None else None,
                _int(refused),
            )
        )
    return rows


_REPORTS: dict[ReportName, Callable[[_Context], list[tuple[Cell, ...]]]] = {
    ReportName.SALES_BY_DAY: sales_by_day,
    ReportName.SALES_BY_HOUR: sales_by_hour,
    ReportName.DEPARTMENTS: departments,
    ReportName.PRODUCTS: products,
    ReportName.CLERKS: clerks,
    ReportName.TERMINALS: terminals,
    ReportName.TENDERS: tenders,
    ReportName.ADJUSTMENTS: adjustments,
    ReportName.SHIFTS: shifts,
    ReportName.LOW_STOCK: low_stock,
    ReportName.FLAGS: flags,
    ReportName.TERMINAL_HEALTH: terminal_health,
}


def run_report(
    session: Session, catalog: CatalogRepository, name: ReportName, request: ReportRequest
) -> ReportTable:
    """Report ``name`` of ``request.store_id`` over its local dates from…to (inclusive),
    of one clerk if asked (a report without a clerk dimension refuses the filter)."""
    check_date_range(request.from_date, request.to_date)
    check_clerk_filter(name, request.clerk)
    zone, currency = session.execute(
        select(Store.time_zone, Store.currency).where(Store.id == request.store_id)
    ).one()
    ctx = _Context(session, request, zone, catalog, currency)
    return report_table(
        name,
        time_zone=zone,
        from_date=request.from_date,
        to_date=request.to_date,
        terminal=request.terminal,
        rows=_REPORTS[name](ctx),
        clerk=request.clerk,
    )
