"""The server's reports reconcile to the cent with sums computed here, independently, from the
orders, refunds and voids a seeded month of three tills pushed (PostgreSQL and SQLite), and the
summaries the push keeps equal what the base rows say."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.domain.money import round_half_up
from server.catalog.repository import SqlCatalogRepository
from server.models import (
    Order,
    OrderLine,
    OrderRefund,
    ReportProductDays,
    ReportProducts,
    ReportSales,
    ReportTenders,
    Tender,
)
from server.reports.summaries import rebuild_summaries
from tests.server.conftest import services_of
from tests.server.report_builders import (
    DEPARTMENT,
    ReportShop,
    Sale,
    generate_month,
    migrated_sqlite_dir,  # noqa: F401 - a fixture
    paid,
    push_month,
    report_app,  # noqa: F401 - a fixture
    report_shop,
)

ZONE = ZoneInfo("Europe/Dublin")
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)  # summer time ends on 25 October


def _local(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(ZONE)


def _in_month(moment: str) -> bool:
    return FIRST <= _local(moment).date() <= LAST


Sums = defaultdict[Any, list[int]]


def _sums(width: int) -> Sums:
    return defaultdict(lambda: [0] * width)


class Expected:
    """Every report's figures, summed here from the generated sales alone."""

    def __init__(self, sales: list[Sale], terminal: str | None = None) -> None:
        self.day, self.hour, self.clerk, self.till = _sums(7), _sums(2), _sums(6), _sums(3)
        self.tender, self.product, self.department = _sums(3), _sums(3), _sums(2)
        self.adjust = {"refunds": [0, 0], "voids": [0, 0], "discounts": [0, 0]}
        self.names: dict[str, str] = {}
        for s in sales:
            o = s.payload
            mine = terminal in (None, o["terminal_code"])
            if mine and _in_month(o["paid_at"]) and s.voided_at is None:
                self._sale(o)
            if mine and s.voided_at is not None and _in_month(s.voided_at.isoformat()):
                self.adjust["voids"][0] += 1
                self.adjust["voids"][1] += o["total"]
                self.clerk[o["clerk_id"]][4] += 1
                self.clerk[o["clerk_id"]][5] += o["total"]
            for r in s.refunds:
                if terminal in (None, r["terminal"]) and _in_month(r["refunded_at"]):
                    self._refund(r)

    def _sale(self, o: dict[str, Any]) -> None:
        local = _local(o["paid_at"])
        day = self.day[local.date().isoformat()]
        gross = sum(line["gross"] for line in o["lines"])
        for i, value in enumerate((1, gross, o["discount_total"], o["total"])):
            day[i] += value
        day[6] += o["tax_total"]
        self.hour[local.hour][0] += 1
        self.hour[local.hour][1] += o["total"]
        self.clerk[o["clerk_id"]][0] += 1
        self.clerk[o["clerk_id"]][1] += o["total"]
        self.names[o["clerk_id"]] = o["clerk_name"]
        self.till[o["terminal_code"]][0] += 1
        self.till[o["terminal_code"]][1] += o["total"]
        if o["discount_total"]:
            self.adjust["discounts"][0] += 1
            self.adjust["discounts"][1] += o["discount_total"]
        for t in o["tenders"]:
            self.tender[t["kind"]][0] += 1
            self.tender[t["kind"]][1] += t["amount"]
        for line in o["lines"]:
            p = self.product[line["product_id"]]
            p[0] += 1
            p[1] += line["quantity"]
            p[2] += line["net"]
            self.department[DEPARTMENT[line["product_id"]]][0] += 1
            self.department[DEPARTMENT[line["product_id"]]][1] += line["net"]

    def _refund(self, r: dict[str, Any]) -> None:
        self.day[_local(r["refunded_at"]).date().isoformat()][4] += r["amount"]
        self.clerk[r["clerk_id"]][2] += 1
        self.clerk[r["clerk_id"]][3] += r["amount"]
        self.till[r["terminal"]][2] += r["amount"]
        self.tender["cash"][2] += r["cash_amount"]
        self.adjust["refunds"][0] += 1
        self.adjust["refunds"][1] += r["amount"]


def _rows(report: dict[str, Any]) -> list[list[Any]]:
    """The report's rows without the ones that are all zero (a day whose only sale was
    voided keeps a row of zeros in the summaries)."""
    return [
        row
        for row in report["rows"]
        if any(isinstance(c, int) and c for c in row[1:])
        or not any(isinstance(c, int) for c in row[1:])
    ]


def _average(amount: int, count: int) -> int | None:
    return round_half_up(amount, count) if count else None


def _check_every_report(shop: ReportShop, token: str, want: Expected, **scope: Any) -> None:
    query = {"from": FIRST.isoformat(), "to": LAST.isoformat(), "limit": 1000, **scope}

    def report(name: str, **extra: Any) -> dict[str, Any]:
        found: dict[str, Any] = shop.report(name, token, **{**query, **extra})
        assert found["time_zone"] == "Europe/Dublin"
        # every total is the sum of its column
        for key, total in found["totals"].items():
            index = [c["key"] for c in found["columns"]].index(key)
            assert total == sum(r[index] or 0 for r in found["rows"]), (name, key)
        return found

    by_day = {d: [o, g, dc, s, rf, s - rf, t] for d, (o, g, dc, s, rf, _, t) in want.day.items()}
    assert {r[0]: r[1:] for r in _rows(report("sales-by-day"))} == {
        d: v for d, v in by_day.items() if any(v)
    }
    assert {r[0]: r[1:] for r in _rows(report("sales-by-hour"))} == {
        h: v for h, v in want.hour.items() if any(v)
    }
    total = sum(v[1] for v in want.department.values())
    assert {r[0]: r[1:] for r in report("departments")["rows"]} == {
        d: [n, a, round_half_up(a * 10_000, total)] for d, (n, a) in want.department.items()
    }
    products = report("products")["rows"]
    assert {r[0]: [r[4], r[5], r[6]] for r in products} == dict(want.product)
    assert [r[6] for r in products] == sorted((r[6] for r in products), reverse=True)
    slow = report("products", order="slow", limit=3)["rows"]
    assert [r[6] for r in slow] == sorted(v[2] for v in want.product.values())[:3]
    assert {r[0]: r[1:] for r in _rows(report("clerks"))} == {
        c: [want.names.get(c), o, s, _average(s, o), rc, rf, vc, vd]
        for c, (o, s, rc, rf, vc, vd) in want.clerk.items()
        if any((o, s, rc, rf, vc, vd))
    }
    assert {r[0]: r[1:] for r in _rows(report("terminals"))} == {
        t: [o, s, _average(s, o), rf, s - rf]
        for t, (o, s, rf) in want.till.items()
        if any((o, s, rf))
    }
    assert {r[0]: r[1:] for r in report("tenders")["rows"]} == {
        k: [n, a, rf, a - rf] for k, (n, a, rf) in want.tender.items()
    }
    assert {r[0]: r[1:] for r in report("adjustments")["rows"]} == want.adjust


@pytest.mark.parametrize("seed", [14])
def test_a_month_of_three_tills_reconciles_to_the_cent(report_app: Flask, seed: int) -> None:  # noqa: F811
    """Every report against sums computed here from the generated orders, for the store and
    for one terminal; then the summaries against the base rows, and a rebuild changes
    nothing."""
    shop = report_shop(report_app)
    rng = random.Random(seed)
    codes = [t.terminal_code for t in shop.tills]
    sales = generate_month(rng, codes, FIRST, 31, 240)
    push_month(shop, sales)
    # another store's sales are never counted
    other = generate_month(rng, ["T01"], FIRST, 31, 20)
    assert set(shop.push(shop.other, [paid(s.payload) for s in other])) == {"accepted"}
    token = shop.manager_token()
    want = Expected(sales)
    assert want.adjust["voids"][0] > 5 and want.adjust["refunds"][0] > 10  # the mix is there
    _check_every_report(shop, token, want)
    _check_every_report(shop, token, Expected(sales, terminal="T02"), terminal="T02")
    _check_summaries_equal_the_base_rows_and_a_rebuild(report_app, shop)


def _check_summaries_equal_the_base_rows_and_a_rebuild(app: Flask, shop: ReportShop) -> None:
    svc = services_of(app)
    store_id = shop.tills[0].store_id

    def snapshot() -> dict[str, Any]:
        with svc.sessions() as session:
            return {
                model.__tablename__: sorted(
                    tuple(row)
                    for row in session.execute(
                        select(*model.__table__.columns).where(model.store_id == store_id)
                    )
                )
                for model in (ReportSales, ReportTenders, ReportProducts, ReportProductDays)
            }

    with svc.sessions() as session:

        def one(stmt: Any) -> int:
            return int(session.scalar(stmt) or 0)

        def summed(column: Any) -> int:  # a summary column over the store's rows
            return one(select(func.sum(column)).where(column.class_.store_id == store_id))

        live = (Order.store_id == store_id, Order.status != "voided")
        assert one(
            select(func.sum(ReportSales.sales)).where(ReportSales.store_id == store_id)
        ) == one(select(func.sum(Order.total)).where(*live))
        assert summed(ReportSales.orders) == one(
            select(func.count()).select_from(Order).where(*live)
        )
        assert summed(ReportSales.refunds) == one(
            select(func.sum(OrderRefund.amount)).where(OrderRefund.store_id == store_id)
        )
        assert summed(ReportSales.voids_count) == one(
            select(func.count())
            .select_from(Order)
            .where(Order.store_id == store_id, Order.status == "voided")
        )
        assert summed(ReportProducts.net) == one(
            select(func.sum(OrderLine.net))
            .join(Order, (Order.store_id == OrderLine.store_id) & (Order.id == OrderLine.order_id))
            .where(*live)
        )
        lines_of_live_orders = (
            select(func.sum(OrderLine.net), func.sum(OrderLine.quantity), func.count())
            .join(Order, (Order.store_id == OrderLine.store_id) & (Order.id == OrderLine.order_id))
            .where(*live)
        )
        want_net, want_quantity, want_lines = session.execute(lines_of_live_orders).one()
        assert (
            summed(ReportProductDays.net),
            summed(ReportProductDays.quantity),
            summed(ReportProductDays.lines),
        ) == (want_net, want_quantity, want_lines)
        p = ReportProducts
        per_till_by_day = {
            (day, key): (int(n), int(q), int(a), sku, name, dep)
            for day, key, n, q, a, sku, name, dep in session.execute(
                select(
                    p.local_date,
                    p.product_key,
                    func.sum(p.lines),
                    func.sum(p.quantity),
                    func.sum(p.net),
                    func.max(p.sku),
                    func.max(p.name),
                    func.max(p.department),
                )
                .where(p.store_id == store_id)
                .group_by(p.local_date, p.product_key)
            )
        }
        d = ReportProductDays
        by_day = {
            (day, key): (n, q, a, sku, name, dep)
            for day, key, n, q, a, sku, name, dep in session.execute(
                select(
                    d.local_date,
                    d.product_key,
                    d.lines,
                    d.quantity,
                    d.net,
                    d.sku,
                    d.name,
                    d.department,
                ).where(d.store_id == store_id)
            )
        }
        assert len(by_day) > 100 and by_day == per_till_by_day  # the tills' rows, summed per day
        assert summed(ReportTenders.amount) == one(
            select(func.sum(Tender.amount))
            .join(Order, (Order.store_id == Tender.store_id) & (Order.id == Tender.order_id))
            .where(*live)
        )
    before = snapshot()
    with svc.sessions() as session, session.begin():
        rebuild_summaries(session, store_id, SqlCatalogRepository(session))
    assert snapshot() == before
