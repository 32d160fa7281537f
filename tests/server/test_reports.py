"""The server's reports reconcile to the cent with sums computed here, independently, from the
orders, refunds and voids a seeded month of three tills pushed (PostgreSQL and SQLite), for the
store, one terminal and one clerk, and the summaries the push keeps equal what the base rows
say."""

from __future__ import annotations

import random
import uuid
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
from sync.protocol import MANAGER_HEADER
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
from tests.server.test_shifts import OPENED_AT, _closed, _event

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
    """Every report's figures, summed here from the generated sales alone: a sale and its
    void under the clerk on the order, a refund under the clerk who gave it."""

    def __init__(
        self, sales: list[Sale], terminal: str | None = None, clerk: str | None = None
    ) -> None:
        self.day, self.hour, self.clerk, self.till = _sums(7), _sums(2), _sums(6), _sums(3)
        self.tender, self.product, self.department = _sums(3), _sums(3), _sums(2)
        self.adjust = {"refunds": [0, 0], "voids": [0, 0], "discounts": [0, 0]}
        self.names: dict[str, str] = {}
        for s in sales:
            o = s.payload
            mine = terminal in (None, o["terminal_code"]) and clerk in (None, o["clerk_id"])
            if mine and _in_month(o["paid_at"]) and s.voided_at is None:
                self._sale(o)
            if mine and s.voided_at is not None and _in_month(s.voided_at.isoformat()):
                self.adjust["voids"][0] += 1
                self.adjust["voids"][1] += o["total"]
                self.clerk[o["clerk_id"]][4] += 1
                self.clerk[o["clerk_id"]][5] += o["total"]
            for r in s.refunds:
                theirs = clerk in (None, r["clerk_id"])
                if terminal in (None, r["terminal"]) and theirs and _in_month(r["refunded_at"]):
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


NO_CLERK_REPORTS = ("departments", "products", "tenders", "low-stock", "flags", "terminal-health")


def _check_every_report(shop: ReportShop, token: str, want: Expected, **scope: Any) -> None:
    """Every report against ``want``; with a clerk in ``scope``, the reports that have clerks
    (the others refuse the filter: ``_check_clerk_refused``)."""
    query = {"from": FIRST.isoformat(), "to": LAST.isoformat(), "limit": 1000, **scope}
    by_clerk = "clerk" in scope

    def report(name: str, **extra: Any) -> dict[str, Any]:
        found: dict[str, Any] = shop.report(name, token, **{**query, **extra})
        assert found["time_zone"] == "Europe/Dublin"
        assert found["clerk"] == scope.get("clerk")
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
    if not by_clerk:
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
    if not by_clerk:
        assert {r[0]: r[1:] for r in report("tenders")["rows"]} == {
            k: [n, a, rf, a - rf] for k, (n, a, rf) in want.tender.items()
        }
    assert {r[0]: r[1:] for r in report("adjustments")["rows"]} == want.adjust


def _check_clerk_refused(shop: ReportShop, token: str, clerk: str) -> None:
    """A report whose rows carry no clerk answers a clerk filter with a 422 naming the
    parameter and the reports it is for, never the whole store's figures."""
    for name in NO_CLERK_REPORTS:
        answer = shop.client.get(
            f"/api/v1/reports/{name}",
            query_string={"from": FIRST.isoformat(), "to": LAST.isoformat(), "clerk": clerk},
            headers={**shop.tills[0].headers, MANAGER_HEADER: token},
        )
        assert answer.status_code == 422, (name, answer.json)
        error = answer.json
        assert error is not None and error["field"] == "clerk", error
        assert error["error"] == "clerk_filter_not_supported"
        applies = "sales-by-day, sales-by-hour, clerks, terminals, adjustments, shifts"
        assert f"the {name} report has no clerk" in error["message"]
        assert applies in error["message"], error


@pytest.mark.parametrize("seed", [14])
def test_a_month_of_three_tills_reconciles_to_the_cent(report_app: Flask, seed: int) -> None:  # noqa: F811
    """Every report against sums computed here from the generated orders, for the store, for
    one terminal and for one clerk (two clerks, and a clerk on one terminal; a clerk of
    another store: nothing); the reports without clerks refuse a clerk; then the summaries
    against the base rows, and a rebuild changes nothing."""
    shop = report_shop(report_app)
    rng = random.Random(seed)
    codes = [t.terminal_code for t in shop.tills]
    sales = generate_month(rng, codes, FIRST, 31, 240)
    push_month(shop, sales)
    # another store's sales are never counted: some under S1's clerk ids, some under its own
    other = generate_month(rng, ["T01"], FIRST, 31, 20)
    for s in other[::2]:
        s.payload["clerk_id"], s.payload["clerk_name"] = OTHER_CLERK, "Dora"
    assert set(shop.push(shop.other, [paid(s.payload) for s in other])) == {"accepted"}
    token = shop.manager_token()
    want = Expected(sales)
    assert want.adjust["voids"][0] > 5 and want.adjust["refunds"][0] > 10  # the mix is there
    _check_every_report(shop, token, want)
    _check_every_report(shop, token, Expected(sales, terminal="T02"), terminal="T02")
    for clerk in ("c-anna", "c-ben"):
        theirs = Expected(sales, clerk=clerk)
        assert theirs.adjust["voids"][0] and theirs.adjust["refunds"][0]  # their mix is there
        _check_every_report(shop, token, theirs, clerk=clerk)
    _check_every_report(
        shop, token, Expected(sales, "T02", "c-cora"), terminal="T02", clerk="c-cora"
    )
    _check_clerk_refused(shop, token, "c-anna")
    _check_shifts_by_clerk(shop, token)
    # S2's clerk, asked at S1: nothing of S1's (and none of S2's)
    for name in ("sales-by-day", "sales-by-hour", "clerks", "terminals", "adjustments", "shifts"):
        found = shop.report(
            name, token, **{"from": FIRST.isoformat(), "to": LAST.isoformat(), "clerk": OTHER_CLERK}
        )
        assert _rows(found) == [] and not any(found["totals"].values()), name
    _check_summaries_equal_the_base_rows_and_a_rebuild(report_app, shop)


OTHER_CLERK = "c-dora"  # a clerk of S2 only


def _check_shifts_by_clerk(shop: ReportShop, token: str) -> None:
    """The shifts report of one clerk: the Z reports of the shifts that clerk opened or
    closed, and the open shifts that clerk opened."""
    t01, t02, t03 = shop.tills
    pushed = []
    for till, opened_by, closed_by in ((t01, "c-anna", "c-ben"), (t02, "c-cora", "c-cora")):
        shift_id = str(uuid.uuid4())
        code = till.terminal_code
        opened = {"shift_id": shift_id, "terminal_code": code, "opened_at": OPENED_AT,
                  "clerk_id": opened_by, "float_amount": 10_000, "float_count": {"5000": 2}}  # fmt: skip
        closed = _closed(shift_id, "provisional", counted={"5000": 2}, terminal=code)
        closed.update(opened_by=opened_by, closed_by=closed_by)
        pushed.append(
            shop.push(till, [_event("shift.opened", opened), _event("shift.closed", closed)])
        )
    still_open = {"shift_id": str(uuid.uuid4()), "terminal_code": "T03", "opened_at": OPENED_AT,
                  "clerk_id": "c-anna", "float_amount": 10_000, "float_count": {"5000": 2}}  # fmt: skip
    pushed.append(shop.push(t03, [_event("shift.opened", still_open)]))
    assert pushed == [["accepted"] * 2, ["accepted"] * 2, ["accepted"]]
    month = {"from": FIRST.isoformat(), "to": LAST.isoformat()}

    def shifts(**clerk: str) -> list[tuple[str, int | None, str]]:
        rows = shop.report("shifts", token, **month, **clerk)["rows"]
        return sorted((r[0], r[1], r[2]) for r in rows)

    assert shifts() == [("T01", 1, "provisional"), ("T02", 1, "provisional"), ("T03", None, "open")]
    assert shifts(clerk="c-anna") == [("T01", 1, "provisional"), ("T03", None, "open")]
    assert shifts(clerk="c-ben") == [("T01", 1, "provisional")]  # closed it
    assert shifts(clerk="c-cora") == [("T02", 1, "provisional")]


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
