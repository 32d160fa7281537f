"""The manager's reports over this till's own SQLite (offline; app/services/reports.py).

The same reports, columns and figures as the server's (app.domain.report), over the sales this
till made: a sale counts on the store's local date and hour of its payment, a voided sale is no
sale (its void counts on the day of the void), a refund on the day it was given. The store's
time zone is the ``time_zone`` setting (the server's, saved at enrollment), Europe/Dublin by
default. Rows are selected in SQL by their UTC moments (``local_days_utc``, daylight saving
included) and grouped by local day or hour here, where the time zone is known. A clerk filter
(the reports of ``CLERK_REPORTS`` only) keeps the sales on that clerk's orders, the refunds
that clerk gave and the voids of that clerk's sales, as the clerks report counts them (and as
the server does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from app.domain.audit import ASKED_BY
from app.domain.money import round_half_up
from app.domain.report import (
    DEFAULT_TIME_ZONE,
    LOW_STOCK_UNITS,
    Cell,
    ReportName,
    ReportTable,
    check_clerk_filter,
    local_date_hour,
    local_days_utc,
    report_table,
    store_zone,
)
from app.domain.timestamps import utc_iso
from app.services.reports import ReportRequest

TIME_ZONE_SETTING = "time_zone"


def _average(amount: int, count: int) -> int | None:
    return round_half_up(amount, count) if count else None


def _share(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in basis points (10000 = 100 %)."""
    return round_half_up(part * 10000, whole) if whole else None


class SqliteReportQueries:
    """``LocalReportQueries`` on the till's reader engine (any thread: its own connection)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self._engine.connect() as connection, connection.begin():
            yield connection

    def run(self, request: ReportRequest) -> ReportTable:
        check_clerk_filter(request.report, request.clerk)
        with self._connect() as c:
            zone_name = self._setting(c, TIME_ZONE_SETTING) or DEFAULT_TIME_ZONE
            rows = self._rows(c, request, zone_name)
        return report_table(
            request.report,
            time_zone=zone_name,
            from_date=request.from_date,
            to_date=request.to_date,
            terminal=request.terminal,
            rows=rows,
            local_only=True,
            clerk=request.clerk,
        )

    def time_zone(self) -> str:
        with self._connect() as c:
            return self._setting(c, TIME_ZONE_SETTING) or DEFAULT_TIME_ZONE

    @staticmethod
    def _setting(c: Connection, key: str) -> str:
        value = c.execute(text("SELECT value FROM settings WHERE key = :k"), {"k": key}).scalar()
        return str(value) if value else ""

    # ------------------------------------------------------------------ the reports

    def _rows(self, c: Connection, request: ReportRequest, zone_name: str) -> list[list[Cell]]:
        zone = store_zone(zone_name)
        start, end = local_days_utc(request.from_date, request.to_date, zone)
        span = {
            "start": utc_iso(start),
            "end": utc_iso(end),
            "terminal": request.terminal,
            "clerk": request.clerk,
        }
        report = request.report

        def local(moment: str) -> tuple[str, int]:
            day, hour = local_date_hour(datetime.fromisoformat(moment), zone)
            return day.isoformat(), hour

        if report is ReportName.SALES_BY_DAY:
            days: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
            for paid_at, total, discount, tax, gross in self._sales(c, span):
                figures = days[local(paid_at)[0]]
                figures[0] += 1
                figures[1] += gross
                figures[2] += discount
                figures[3] += total
                figures[4] += tax
            refunds: dict[str, int] = defaultdict(int)
            for refunded_at, amount, *_rest in self._refunds(c, span):
                refunds[local(refunded_at)[0]] += amount
            return [
                [day, f[0], f[1], f[2], f[3], refunds[day], f[3] - refunds[day], f[4]]
                for day in sorted(set(days) | set(refunds))
                for f in (days[day],)
            ]
        if report is ReportName.SALES_BY_HOUR:
            hours: dict[int, list[int]] = defaultdict(lambda: [0, 0])
            for paid_at, total, _discount, _tax, _gross in self._sales(c, span):
                figures = hours[local(paid_at)[1]]
                figures[0] += 1
                figures[1] += total
            return [[hour, *hours[hour]] for hour in sorted(hours)]
        if report is ReportName.DEPARTMENTS:
            lines = c.execute(
                text(
                    "SELECT COALESCE(NULLIF(p.department, ''), 'No department') AS department, "
                    "COUNT(*), SUM(l.net) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                    "LEFT JOIN products p ON p.id = l.product_id "
                    f"WHERE {_SALE_FILTER} GROUP BY department ORDER BY SUM(l.net) DESC, "
                    "department"
                ),
                span,
            ).all()
            whole = sum(int(row[2]) for row in lines)
            return [
                [str(name), int(count), int(net), _share(int(net), whole)]
                for name, count, net in lines
            ]
        if report is ReportName.PRODUCTS:
            direction = "DESC" if request.order == "top" else "ASC"
            products = c.execute(
                text(
                    "SELECT l.product_id, l.sku, MAX(l.name), COALESCE(MAX(p.department), ''), "
                    "COUNT(*), SUM(l.quantity), SUM(l.net) FROM order_lines l "
                    "JOIN orders o ON o.id = l.order_id "
                    "LEFT JOIN products p ON p.id = l.product_id "
                    f"WHERE {_SALE_FILTER} GROUP BY l.product_id, l.sku "
                    f"ORDER BY SUM(l.net) {direction}, l.sku LIMIT :limit"
                ),
                {**span, "limit": request.limit},
            ).all()
            return [
                [str(r[0]), str(r[1]), str(r[2]), str(r[3]), *map(int, r[4:])] for r in products
            ]
        if report is ReportName.CLERKS:
            return self._clerks(c, span)
        if report is ReportName.TERMINALS:
            sales = c.execute(
                text(
                    "SELECT o.terminal_code, COUNT(*), SUM(o.total) FROM orders o "
                    f"WHERE {_SALE_FILTER} GROUP BY o.terminal_code"
                ),
                span,
            ).all()
            given: dict[str, int] = defaultdict(int)
            for _at, amount, _cash, _card, _clerk, _name, terminal in self._refunds(c, span):
                given[terminal] += amount
            per_terminal = {str(t): (int(n), int(s)) for t, n, s in sales}
            return [
                [t, n, s, _average(s, n), given[t], s - given[t]]
                for t in sorted(set(per_terminal) | set(given))
                for n, s in (per_terminal.get(t, (0, 0)),)
            ]
        if report is ReportName.TENDERS:
            taken = c.execute(
                text(
                    "SELECT t.kind, COUNT(*), SUM(t.amount) FROM tenders t "
                    "JOIN orders o ON o.id = t.order_id "
                    f"WHERE {_SALE_FILTER} GROUP BY t.kind"
                ),
                span,
            ).all()
            back: dict[str, int] = defaultdict(int)
            for _at, _amount, cash, card, *_rest in self._refunds(c, span):
                back["cash"] += cash
                back["card"] += card
            tenders = {str(kind): (int(n), int(a)) for kind, n, a in taken}
            kinds = [k for k in ("cash", "card", "pay_later") if k in tenders or back.get(k)]
            kinds += sorted(set(tenders) - set(kinds))
            return [
                [k, n, a, back.get(k, 0), a - back.get(k, 0)]
                for k in kinds
                for n, a in (tenders.get(k, (0, 0)),)
            ]
        if report is ReportName.ADJUSTMENTS:
            refunds_list = self._refunds(c, span)
            voids = self._voids(c, span)
            discounts = c.execute(
                text(
                    "SELECT COUNT(*), COALESCE(SUM(o.discount_total), 0) FROM orders o "
                    f"WHERE {_SALE_FILTER} AND o.discount_total > 0"
                ),
                span,
            ).one()
            return [
                ["refunds", len(refunds_list), sum(r[1] for r in refunds_list)],
                ["voids", len(voids), sum(v[1] for v in voids)],
                ["discounts", int(discounts[0]), int(discounts[1])],
            ]
        if report is ReportName.LOW_STOCK:
            stock = c.execute(
                text(
                    "SELECT id, sku, name, stock FROM products WHERE deleted = 0 AND active = 1 "
                    "AND stock IS NOT NULL AND ((sold_by = 'weight' AND stock <= :grams) OR "
                    "(sold_by != 'weight' AND stock <= :units)) ORDER BY stock, sku LIMIT :limit"
                ),
                {"grams": LOW_STOCK_UNITS * 1000, "units": LOW_STOCK_UNITS, "limit": request.limit},
            ).all()
            return [[str(r[0]), str(r[1]), str(r[2]), int(r[3])] for r in stock]
        raise ValueError(f"{report.value} is not computed on the till")

    # ------------------------------------------------------------------ the base rows

    @staticmethod
    def _sales(c: Connection, span: dict[str, Any]) -> Sequence[Any]:
        """(paid_at, total, discount_total, tax_total, gross) of each sale in the span; gross
        is its lines before any discount, as the server sums it."""
        return c.execute(
            text(
                "SELECT o.paid_at, o.total, o.discount_total, o.tax_total, "
                "(SELECT COALESCE(SUM(l.gross), 0) FROM order_lines l WHERE l.order_id = o.id) "
                f"FROM orders o WHERE {_SALE_FILTER}"
            ),
            span,
        ).all()

    @staticmethod
    def _refunds(
        c: Connection, span: dict[str, Any]
    ) -> list[tuple[str, int, int, int, str, str, str]]:
        """(refunded_at, amount, cash, card, clerk_id, clerk_name, terminal) of each refund
        given in the span."""
        rows = c.execute(
            text(
                "SELECT r.refunded_at, r.amount, r.cash_amount, r.card_amount, r.clerk_id, "
                "r.clerk_name, o.terminal_code FROM refunds r JOIN orders o ON o.id = r.order_id "
                "WHERE r.state = 'done' AND r.refunded_at >= :start AND r.refunded_at < :end "
                "AND (:terminal IS NULL OR o.terminal_code = :terminal) "
                "AND (:clerk IS NULL OR r.clerk_id = :clerk)"
            ),
            span,
        ).all()
        return [
            (str(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4]), str(r[5]), str(r[6]))
            for r in rows
        ]

    @staticmethod
    def _voids(c: Connection, span: dict[str, Any]) -> list[tuple[str, int, str, str]]:
        """(at, amount, clerk_id, clerk_name) of each paid sale voided in the span (the
        audit entry of the void names the sale's receipt). The clerk is the sale's, as on the
        server: a void takes back that clerk's sale, whoever voided it (the audit log keeps
        who did)."""
        rows = c.execute(
            text(
                "SELECT a.at, a.amount, o.clerk_id, o.clerk_name FROM audit_log a "
                "JOIN orders o ON (o.receipt_no = a.detail OR a.detail LIKE o.receipt_no "
                "|| :asked_by) "
                "WHERE a.action = 'order_voided' AND a.at >= :start AND a.at < :end "
                "AND (:terminal IS NULL OR o.terminal_code = :terminal) "
                "AND (:clerk IS NULL OR o.clerk_id = :clerk)"
            ),
            {**span, "asked_by": f"{ASKED_BY}%"},  # app.domain.audit.void_detail
        ).all()
        return [(str(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]

    def _clerks(self, c: Connection, span: dict[str, Any]) -> list[list[Cell]]:
        sales = c.execute(
            text(
                "SELECT o.clerk_id, MAX(o.clerk_name), COUNT(*), SUM(o.total) FROM orders o "
                f"WHERE {_SALE_FILTER} GROUP BY o.clerk_id"
            ),
            span,
        ).all()
        names = {str(r[0]): str(r[1]) for r in sales}
        figures: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
        for clerk_id, _name, count, total in sales:
            figures[str(clerk_id)][0:2] = [int(count), int(total)]
        for _at, amount, _cash, _card, clerk_id, name, _terminal in self._refunds(c, span):
            names.setdefault(clerk_id, name)
            figures[clerk_id][2] += 1
            figures[clerk_id][3] += amount
        for _at, amount, clerk_id, name in self._voids(c, span):
            names.setdefault(clerk_id, name)
            figures[clerk_id][4] += 1
            figures[clerk_id][5] += amount
        ordered = sorted(figures, key=lambda k: (-figures[k][1], names[k], k))
        return [
            [k, names[k], f[0], f[1], _average(f[1], f[0]), f[2], f[3], f[4], f[5]]
            for k in ordered
            for f in (figures[k],)
        ]


_SALE_FILTER = (
    "o.status IN ('paid', 'refunded') AND o.paid_at IS NOT NULL "
    "AND o.paid_at >= :start AND o.paid_at < :end "
    "AND (:terminal IS NULL OR o.terminal_code = :terminal) "
    "AND (:clerk IS NULL OR o.clerk_id = :clerk)"
)
