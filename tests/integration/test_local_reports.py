"""The till's own reports (local_db/reports.py) keep the store's local days: the time zone the
server sent at enrollment decides on which day a sale counts; a clerk filter keeps one clerk's
figures, and a report without clerks refuses it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import open_terminal
from app.domain.cart import Cart
from app.domain.clerk import Role
from app.domain.money import round_half_up
from app.domain.order import TenderInput, TenderKind
from app.domain.report import ReportName
from app.services.checkout import complete_sale
from app.services.clerks import create_clerk
from app.services.reports import ReportRequest, local_report
from sync import protocol as p
from sync.credentials import EncryptedFileKeyring, TokenStore
from sync.enrollment import enroll
from tests.fakes import StepClock
from ui.sample_catalog import barcode_of, sample_products


class NewYorkServer:
    """Enrollment with a store in New York (UTC−5 in November)."""

    def enroll(self, code: str, terminal_code: str, name: str = "") -> p.EnrollResponse:
        store = p.StoreInfo(
            id="store-1", code="S07", name="Hudson St", currency="EUR", time_zone="America/New_York"
        )
        return p.EnrollResponse(
            terminal_id="term-1", token="secret", terminal_code=terminal_code, store=store
        )


def sample_till(data_dir: Path) -> Any:
    """A till with the sample catalog (ui.sample_catalog); the caller closes it."""
    terminal = open_terminal(data_dir)
    with terminal.uow() as uow:
        uow.products.replace_all(sample_products())
        uow.commit()
    return terminal


def test_sales_count_on_the_local_day_of_the_time_zone_the_server_sent(tmp_path: Path) -> None:
    terminal = sample_till(tmp_path / "till")
    try:
        maria = create_clerk(terminal.uow(), "Maria", "246810", Role.MANAGER, terminal.ids)
        with terminal.read() as uow:
            coffee = uow.products.by_code(barcode_of("Ground coffee 500 g"))
        cart = Cart(currency="EUR").add(coffee)
        total = cart.totals(terminal.store.taxes).total

        def sell(at: datetime) -> Any:
            tenders = [TenderInput(TenderKind.CASH, total)]
            args = (terminal.store, StepClock(at), terminal.ids)
            return complete_sale(terminal.uow(), cart, tenders, maria, *args)

        sell(datetime(2026, 11, 24, 3, 30, tzinfo=UTC))  # 23 Nov 22:30 in New York
        sell(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # 24 Nov 10:00 in New York
        request = ReportRequest(ReportName.SALES_BY_DAY, date(2026, 11, 23), date(2026, 11, 24))

        def days() -> dict[Any, Any]:
            table = local_report(terminal.local_reports(), maria, request)
            return {row[0]: row[1] for row in table.rows}

        assert days() == {"2026-11-24": 2}  # Europe/Dublin (UTC+0) until the server says

        tokens = TokenStore(EncryptedFileKeyring(tmp_path / "tokens", "correct horse battery"))
        enroll(terminal.uow, tokens, "https://pos.example.com", "CODE", "T01",
               transport=NewYorkServer())  # type: ignore[arg-type]  # fmt: skip
        assert days() == {"2026-11-23": 1, "2026-11-24": 1}
        by_hour = ReportRequest(ReportName.SALES_BY_HOUR, date(2026, 11, 23), date(2026, 11, 24))
        hours = local_report(terminal.local_reports(), maria, by_hour)
        assert [(row[0], row[1]) for row in hours.rows] == [(10, 1), (22, 1)]
        assert hours.time_zone == "America/New_York" and hours.local_only
    finally:
        terminal.close()


def test_the_shifts_report_offline_lists_this_tills_z_reports_with_their_variance(
    tmp_path: Path,
) -> None:
    from app.domain.shift import CashCount
    from app.services.shifts import close_shift, open_shift

    terminal = open_terminal(tmp_path / "till")
    try:
        maria = create_clerk(terminal.uow(), "Maria", "246810", Role.MANAGER, terminal.ids)
        float_count = CashCount.from_counts("EUR", {2000: 5})
        at = StepClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
        args = (terminal.ids, at, terminal.store, maria)
        open_shift(terminal.uow(), *args, float_count)
        at.moment = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
        close_shift(terminal.uow(), *args, CashCount.from_counts("EUR", {2000: 4, 500: 1, 200: 2}))
        request = ReportRequest(ReportName.SHIFTS, date(2026, 11, 25), date(2026, 11, 25))
        table = local_report(terminal.local_reports(), maria, request, terminal.read)
        assert table.local_only and table.rows == (
            ("T01", 1, "final", "2026-11-25T08:00:00.000000+00:00",
             "2026-11-25T18:00:00.000000+00:00", "Maria", 0, 10_000, 8_900, -1_100, 0),
        )  # fmt: skip
        another_day = ReportRequest(ReportName.SHIFTS, date(2026, 11, 26), date(2026, 11, 26))
        assert local_report(terminal.local_reports(), maria, another_day, terminal.read).rows == ()
    finally:
        terminal.close()


def test_a_clerk_filter_keeps_that_clerks_figures_and_a_report_without_clerks_refuses_it(
    tmp_path: Path,
) -> None:
    """Offline, one clerk's reports equal sums taken here over that clerk's sales (a sale under
    the clerk on the order, a refund under the clerk who gave it, a void under the clerk of
    the sale it takes back, as on the server); an unknown clerk (another store's) has
    nothing; tenders, departments, products and low stock have no clerk and refuse one."""
    from app.domain.audit import AuditAction, AuditEntry
    from app.domain.cart import Discount, DiscountKind
    from app.domain.order import OrderStatus
    from app.domain.refund import Refund, RefundState
    from app.domain.report import ClerkFilterRefused
    from app.domain.shift import CashCount
    from app.services.shifts import close_shift, open_shift

    terminal = sample_till(tmp_path / "till")
    try:
        maria = create_clerk(terminal.uow(), "Maria", "246810", Role.MANAGER, terminal.ids)
        ben = create_clerk(terminal.uow(), "Ben", "1357", Role.CLERK, terminal.ids)
        with terminal.read() as uow:
            coffee = uow.products.by_code(barcode_of("Ground coffee 500 g"))
            milk = uow.products.by_code(barcode_of("Whole milk 1 L"))
        orders = []
        for n in range(8):
            cart = Cart(currency="EUR").add(coffee).add(milk, 1 + n % 3)
            if n in (2, 5):
                line = cart.lines[0].line_id
                cart = cart.set_line_discount(line, Discount(DiscountKind.PERCENT, 1000, "dented"))
            total = cart.totals(terminal.store.taxes).total
            at = StepClock(datetime(2026, 11, 23 + n // 4, 9 + 2 * n, 10, tzinfo=UTC))
            clerk = (maria, ben, ben)[n % 3]
            tenders = [TenderInput(TenderKind.CASH, total)]
            orders.append(
                complete_sale(
                    terminal.uow(), cart, tenders, clerk, terminal.store, at, terminal.ids
                )
            )
        # Ben refunds 300 of Maria's first sale; Maria voids Ben's second sale
        refunded_at = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
        refund = Refund(
            "r-1", orders[0].id, 300, 0, 300, None, "Damaged", (), ben.id, "Ben",
            refunded_at, RefundState.DONE, refunded_at,
        )  # fmt: skip
        voided = orders[1]
        with terminal.uow() as uow:
            uow.refunds.add(refund)
            uow.orders.set_refunded_total(orders[0].id, 300)
            uow.orders.set_status(voided.id, OrderStatus.VOIDED)
            uow.audit.add(
                AuditEntry(
                    datetime(2026, 11, 23, 18, 0, tzinfo=UTC), maria.id, "Maria",
                    AuditAction.ORDER_VOIDED, "Wrong items", voided.total, voided.receipt_no,
                )
            )  # fmt: skip
            uow.commit()
        # a shift Maria opened and closed
        at = StepClock(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
        shift_args = (terminal.ids, at, terminal.store, maria)
        open_shift(terminal.uow(), *shift_args, CashCount.from_counts("EUR", {2000: 5}))
        at.moment = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
        close_shift(terminal.uow(), *shift_args, CashCount.from_counts("EUR", {2000: 5}))

        first, last = date(2026, 11, 23), date(2026, 11, 24)

        def report(name: ReportName, clerk: str | None) -> Any:
            request = ReportRequest(name, first, last, clerk=clerk)
            return local_report(terminal.local_reports(), maria, request, terminal.read)

        sales = [o for o in orders if o.id != voided.id]
        for clerk in (maria, ben):
            theirs = [o for o in sales if o.clerk_id == clerk.id]
            given = 300 if clerk is ben else 0
            voids = (1, voided.total) if voided.clerk_id == clerk.id else (0, 0)
            assert voided.clerk_id == ben.id  # Ben's sale, voided by Maria
            assert {o.clerk_id for o in theirs} == {clerk.id} and len(theirs) >= 2
            days: dict[str, list[int]] = {}
            for o in theirs:
                day = days.setdefault(o.paid_at.date().isoformat(), [0, 0, 0, 0, 0])
                for i, value in enumerate(
                    (1, o.total + o.discount_total, o.discount_total, o.total, o.tax_total)
                ):
                    day[i] += value
            if given:
                days.setdefault("2026-11-24", [0, 0, 0, 0, 0])
            by_day = report(ReportName.SALES_BY_DAY, clerk.id)
            assert by_day.clerk == clerk.id
            assert {r[0]: r[1:] for r in by_day.rows} == {
                d: (n, g, dc, s, given if d == "2026-11-24" else 0,
                    s - (given if d == "2026-11-24" else 0), t)
                for d, (n, g, dc, s, t) in days.items()
            }  # fmt: skip
            hours: dict[int, list[int]] = {}
            for o in theirs:
                hour = hours.setdefault(o.paid_at.hour, [0, 0])
                hour[0] += 1
                hour[1] += o.total
            assert {r[0]: list(r[1:]) for r in report(ReportName.SALES_BY_HOUR, clerk.id).rows} == (
                hours
            )
            count, amount = len(theirs), sum(o.total for o in theirs)
            assert report(ReportName.CLERKS, clerk.id).rows == (
                (clerk.id, clerk.name, count, amount, round_half_up(amount, count),
                 1 if given else 0, given, *voids),
            )  # fmt: skip
            assert report(ReportName.TERMINALS, clerk.id).rows == (
                ("T01", count, amount, round_half_up(amount, count), given, amount - given),
            )
            discounted = [o for o in theirs if o.discount_total]
            assert {r[0]: r[1:] for r in report(ReportName.ADJUSTMENTS, clerk.id).rows} == {
                "refunds": (1 if given else 0, given),
                "voids": voids,
                "discounts": (len(discounted), sum(o.discount_total for o in discounted)),
            }
            shifts = report(ReportName.SHIFTS, clerk.id).rows
            assert [(r[0], r[1], r[5]) for r in shifts] == (
                [("T01", 1, "Maria")] if clerk is maria else []
            )

        # every clerk's figures add up to the till's
        everyone = report(ReportName.SALES_BY_DAY, None).totals
        one_each = [report(ReportName.SALES_BY_DAY, c.id).totals for c in (maria, ben)]
        assert everyone == {k: sum(t[k] for t in one_each) for k in everyone}

        # a clerk this till does not know (another store's): nothing
        for name in (ReportName.SALES_BY_DAY, ReportName.CLERKS, ReportName.SHIFTS):
            assert report(name, "c-of-another-store").rows == ()
        assert [r[1:] for r in report(ReportName.ADJUSTMENTS, "c-of-another-store").rows] == [
            (0, 0)
        ] * 3

        for name in (
            ReportName.TENDERS, ReportName.DEPARTMENTS, ReportName.PRODUCTS, ReportName.LOW_STOCK,
        ):  # fmt: skip
            with pytest.raises(
                ClerkFilterRefused, match="clerk filter applies to sales-by-day"
            ) as e:
                report(name, maria.id)
            assert e.value.field == "clerk" and f"the {name.value} report has no clerk" in str(
                e.value.message
            )
    finally:
        terminal.close()
