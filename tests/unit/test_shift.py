"""Shift rules: the drawer count, cash movements, and the X/Z figures of a shift checked
against sums worked out by hand from the orders; the provisional/final rule of a close
during an outage."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.audit import AuditAction, AuditEntry
from app.domain.cart import CartLine, Discount, DiscountKind, price_lines
from app.domain.errors import InvalidInput
from app.domain.order import (
    Order,
    OrderStatus,
    TenderInput,
    TenderKind,
    order_lines_from,
    settle_tenders,
)
from app.domain.product import SoldBy
from app.domain.refund import Refund, RefundState
from app.domain.shift import (
    DENOMINATIONS,
    CashCount,
    CashMovement,
    CashMovementKind,
    Shift,
    ShiftError,
    ShiftVoid,
    ZReport,
    ZReportFinal,
    ZStatus,
    check_cash_movement,
    close_z,
    final_z,
    z_figures,
)
from app.domain.tax import DEFAULT_TAX_TABLE, TaxRate, TaxTable
from tests.unit.builders import till_order

OPENED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
EXCLUSIVE = TaxTable(
    rates=(TaxRate("food", 700, "VAT 7 %"), TaxRate("standard", 1900, "VAT 19 %")),
    prices_include_tax=False,
)


def sale(
    seq: int,
    items: list[tuple[int, int, str]],
    tenders: list[TenderInput],
    *,
    clerk: str = "Maria",
    order_off: Discount | None = None,
    line_off: Discount | None = None,
    taxes: TaxTable = DEFAULT_TAX_TABLE,
    kind: str = "counter",
) -> Order:
    """An order priced by the real cart rules: items are (unit price, quantity, tax class)."""
    lines = tuple(
        CartLine(
            n,
            f"p{n}",
            f"SKU{n}",
            f"Item {n}",
            price,
            tax_class,
            SoldBy.EACH,
            qty,
            line_off if n == 1 else None,
        )
        for n, (price, qty, tax_class) in enumerate(items, start=1)
    )
    totals = price_lines(lines, order_off, taxes)
    return till_order(
        OPENED + timedelta(minutes=seq),
        id=f"o{seq}",
        receipt_no=f"T01-{seq:06d}",
        sequence=seq,
        clerk_name=clerk,
        lines=order_lines_from(totals, lines),
        tenders=settle_tenders(totals.total, tenders, currency="EUR"),
        tax=totals.tax,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        prices_include_tax=taxes.prices_include_tax,
        extra={"kind": kind},
    )


def cash(amount: int) -> TenderInput:
    return TenderInput(TenderKind.CASH, amount)


def card(amount: int) -> TenderInput:
    return TenderInput(TenderKind.CARD, amount, "ref")


def eur(counts: dict[int, int]) -> CashCount:
    return CashCount.from_counts("EUR", counts)


FLOAT = eur({2000: 5, 1000: 5, 200: 10, 50: 20})  # 100 + 50 + 20 + 10 = 180.00


def the_shift() -> Shift:
    return Shift("s1", "T01", OPENED, "c1", FLOAT, opened_by_name="Maria")


def day() -> dict[str, Any]:
    """One shift's worth: cash, card, split, discounts, two tax rates, a refund, a void, a
    cancellation, paid in and out, a no-sale, a phone order."""
    orders = [
        sale(1, [(250, 2, "food"), (1999, 1, "standard")], [cash(5000)]),  # change 25.01
        sale(2, [(1200, 3, "food")], [card(3600)], clerk="Ann"),
        sale(
            3,
            [(4999, 1, "standard"), (333, 3, "food")],
            [card(2000), cash(4000)],
            order_off=Discount(DiscountKind.PERCENT, 1000),
        ),
        sale(4, [(899, 2, "standard")], [cash(1798)], line_off=Discount(DiscountKind.AMOUNT, 150)),
        sale(5, [(1550, 1, "food")], [TenderInput(TenderKind.PAY_LATER, 1550)], kind="phone"),
    ]
    refund = Refund(
        "r1",
        "o2",
        1200,
        0,
        1200,
        None,
        "broken",
        (),
        "m1",
        "Sam",
        OPENED + timedelta(hours=1),
        RefundState.DONE,
        OPENED + timedelta(hours=1),
    )
    failed = replace(refund, id="r2", state=RefundState.FAILED, amount=500, cash_amount=500)
    void = ShiftVoid("o4", "T01-000004", orders[3].total, orders[3].total, OPENED)
    cancelled = AuditEntry(OPENED, "c1", "Maria", AuditAction.SALE_CANCELLED, "left", 777, "x")
    removed = AuditEntry(OPENED, "c1", "Maria", AuditAction.LINE_REMOVED, "no", 99, "y")
    moves = [
        CashMovement("m1", "s1", CashMovementKind.PAID_IN, 2500, "change", "c1", None, OPENED),
        CashMovement("m2", "s1", CashMovementKind.PAID_OUT, 1234, "window", "c1", None, OPENED),
        CashMovement("m3", "s1", CashMovementKind.NO_SALE, 0, "change", "c1", "a1", OPENED),
    ]
    return {
        "orders": orders,
        "refunds": [refund, failed],
        "voids": [void],
        "cancellations": [cancelled, removed],
        "movements": moves,
    }


# ------------------------------------------------------------------------------ the count


def test_denominations_are_largest_first_and_in_minor_units() -> None:
    for values in DENOMINATIONS.values():
        assert list(values) == sorted(values, reverse=True)
    assert DENOMINATIONS["EUR"][0] == 50000 and DENOMINATIONS["EUR"][-1] == 1


def test_count_total_is_the_sum_of_value_times_pieces() -> None:
    count = eur({5000: 2, 200: 3, 1: 7, 10: 0})
    assert count.total == 2 * 5000 + 3 * 200 + 7
    assert dict(count.counts) == {5000: 2, 200: 3, 1: 7}  # zero dropped, largest first
    assert CashCount.from_counts("EUR", count.as_wire()) == count  # the wire's string keys


def test_negative_count_is_refused_naming_the_denomination() -> None:
    with pytest.raises(InvalidInput, match=r"0\.50 cannot be negative") as caught:
        eur({50: -1})
    assert caught.value.field == "counts.50"


@pytest.mark.parametrize("bad", [300, 25, 0])
def test_unknown_denomination_is_named(bad: int) -> None:
    with pytest.raises(InvalidInput, match="is not a note or coin of EUR"):
        eur({bad: 1})


def test_count_must_be_whole_pieces_and_a_known_currency() -> None:
    with pytest.raises(InvalidInput, match="whole number"):
        CashCount.from_counts("EUR", {100: 1.5})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="'XYZ'"):
        CashCount.from_counts("XYZ", {100: 1})
    with pytest.raises(InvalidInput, match="'abc' is not a denomination"):
        CashCount.from_counts("EUR", {"abc": 1})


@pytest.mark.parametrize(
    ("kind", "amount", "reason", "message"),
    [
        (CashMovementKind.PAID_OUT, 100, " ", "a paid out needs a reason"),
        (CashMovementKind.PAID_IN, 0, "float top-up", "must be more than 0.00"),
        (CashMovementKind.PAID_OUT, -5, "x", "must be more than 0.00"),
        (CashMovementKind.NO_SALE, 100, "x", "moves no money"),
    ],
)
def test_bad_cash_movement_is_refused(
    kind: CashMovementKind, amount: int, reason: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_cash_movement(kind, amount, reason)


# ---------------------------------------------------------------------------- the figures


def test_z_figures_equal_independent_sums_over_the_orders() -> None:
    parts = day()
    orders: list[Order] = parts["orders"]
    figures = z_figures(
        orders,
        parts["refunds"],
        parts["voids"],
        parts["cancellations"],
        parts["movements"],
        FLOAT.total,
        clerks=["Maria"],
        phone_orders_taken=2,
    )
    # The orders priced by hand (prices include tax):
    # 1: 5.00 + 19.99 = 24.99, cash 50.00 handed over → 24.99 kept
    # 2: 36.00 card
    # 3: 49.99 + 9.99 = 59.98, 10 % off = 6.00 → 53.98: card 20.00 + cash 33.98 (40 handed)
    # 4: 17.98 − 1.50 = 16.48 cash (voided later in the shift)
    # 5: 15.50 pay later, a phone order
    totals = [2499, 3600, 5398, 1648, 1550]
    assert [o.total for o in orders] == totals
    assert figures.sales_count == 5
    assert (figures.first_receipt_no, figures.last_receipt_no) == ("T01-000001", "T01-000005")
    assert figures.clerks == ("Maria", "Ann")
    assert figures.discounts == 600 + 150
    assert figures.gross_sales == sum(totals) + 750 == 2499 + 3600 + 5998 + 1798 + 1550
    assert (figures.refunds_count, figures.refunds) == (1, 1200)  # the failed one gave nothing
    assert (figures.voids_count, figures.voids) == (1, 1648)
    assert (figures.cancellations_count, figures.cancellations) == (1, 777)
    assert figures.net_sales == sum(totals) - 1200 - 1648
    # tenders: change given back is not takings
    assert [(t.kind, t.count, t.amount) for t in figures.tenders] == [
        ("cash", 3, 2499 + 3398 + 1648),
        ("card", 2, 3600 + 2000),
        ("pay_later", 1, 1550),
    ]
    assert figures.cash_sales == 2499 + 3398 + 1648
    assert figures.cash_refunds == 1200
    assert figures.cash_voids == 1648
    assert (figures.paid_in, figures.paid_out, figures.no_sales) == (2500, 1234, 1)
    assert figures.float_amount == 18000
    assert figures.expected_cash == 18000 + 7545 - 1200 - 1648 + 2500 - 1234
    assert (figures.phone_orders_taken, figures.phone_orders_paid) == (2, 1)
    # tax per rate, worked out by hand: order 3's 6.00 off falls 5.00 on the 49.99 and 1.00
    # on the 9.99 (largest remainder); tax is included, rounded once per rate per order.
    by_rate = {t.rate_bp: t for t in figures.tax}
    assert by_rate[700].gross == 500 + 3600 + 899 + 1550
    assert by_rate[1900].gross == 1999 + 4499 + 1648
    assert by_rate[700].tax == 33 + 236 + 59 + 101
    assert by_rate[1900].tax == 319 + 718 + 263
    for line in by_rate.values():
        assert line.net == line.gross - line.tax
    assert sum(t.gross for t in figures.tax) == sum(totals)
    assert by_rate[1900].label == "VAT 19 %"


def test_tax_of_prices_without_tax_adds_the_tax_to_the_net() -> None:
    order = sale(1, [(1000, 1, "food"), (2000, 1, "standard")], [cash(10000)], taxes=EXCLUSIVE)
    figures = z_figures([order])
    by_rate = {t.rate_bp: t for t in figures.tax}
    assert (by_rate[700].net, by_rate[700].tax, by_rate[700].gross) == (1000, 70, 1070)
    assert (by_rate[1900].net, by_rate[1900].tax, by_rate[1900].gross) == (2000, 380, 2380)
    assert order.total == 3450 == figures.gross_sales == figures.cash_sales


def test_an_empty_shift_expects_its_float() -> None:
    figures = z_figures([], float_amount=FLOAT.total)
    assert figures.sales_count == 0 and figures.first_receipt_no == ""
    assert figures.expected_cash == FLOAT.total and figures.net_sales == 0


# ---------------------------------------------------------------------- provisional / final


def _close(unsynced: set[str], counted: CashCount) -> tuple[ZReport, dict[str, Any]]:
    parts = day()
    report = close_z(
        replace(the_shift(), closed_at=OPENED + timedelta(hours=8)),
        7,
        OPENED + timedelta(hours=8),
        "c1",
        counted,
        parts["orders"],
        unsynced,
        parts["refunds"],
        parts["voids"],
        parts["cancellations"],
        parts["movements"],
        clerks=["Maria"],
    )
    return report, parts


def test_close_with_everything_synced_is_final_at_once() -> None:
    counted = eur({10000: 2, 5000: 1, 2000: 1, 1: 3})
    report, _ = _close(set(), counted)
    assert report.status is ZStatus.FINAL
    assert report.waiting == () and report.finalised_at is not None
    assert report.difference == counted.total - report.expected_cash


def test_final_minus_provisional_is_exactly_the_late_sales() -> None:
    counted = eur({10000: 2, 5000: 1, 2000: 1})
    provisional, parts = _close({"o3", "o5"}, counted)
    assert provisional.status is ZStatus.PROVISIONAL
    orders: list[Order] = parts["orders"]
    late = [o for o in orders if o.id in {"o3", "o5"}]
    assert [s.receipt_no for s in provisional.waiting] == ["T01-000003", "T01-000005"]
    everything = z_figures(
        orders,
        parts["refunds"],
        parts["voids"],
        parts["cancellations"],
        parts["movements"],
        FLOAT.total,
        clerks=["Maria"],
    )
    # A late sale is never variance: the provisional expects the waiting cash too.
    assert provisional.expected_cash == everything.expected_cash
    final = final_z(provisional, everything, OPENED + timedelta(hours=9))
    assert final.status is ZStatus.FINAL and final.waiting == ()
    assert final.synced_after_close == provisional.waiting
    assert (final.z_number, final.counted, final.expected_cash) == (
        7,
        counted,
        provisional.expected_cash,
    )
    assert final.difference == provisional.difference
    p, f = provisional.figures, final.figures
    late_total = sum(o.total for o in late)
    assert f.sales_count - p.sales_count == 2
    assert f.gross_sales - p.gross_sales == late_total + sum(o.discount_total for o in late)
    assert f.discounts - p.discounts == 600
    assert f.net_sales - p.net_sales == late_total
    assert f.cash_sales - p.cash_sales == 3398
    assert f.tender("card").amount - p.tender("card").amount == 2000
    assert f.tender("pay_later").amount - p.tender("pay_later").amount == 1550
    assert sum(t.gross for t in f.tax) - sum(t.gross for t in p.tax) == late_total
    assert (f.refunds, f.voids, f.paid_out) == (p.refunds, p.voids, p.paid_out)
    assert f.expected_cash - p.expected_cash == 3398
    assert final.figures == everything
    with pytest.raises(ZReportFinal):
        final_z(final, everything, OPENED)


def test_a_final_z_cannot_be_changed() -> None:
    report, _ = _close(set(), eur({}))
    with pytest.raises(FrozenInstanceError):
        report.z_number = 8  # type: ignore[misc]


def test_final_refuses_figures_whose_cash_differs() -> None:
    provisional, parts = _close({"o3"}, eur({}))
    wrong = z_figures(parts["orders"], float_amount=0)
    with pytest.raises(ShiftError, match="cash changed after the close"):
        final_z(provisional, wrong, OPENED)


def test_counted_in_another_currency_is_refused() -> None:
    with pytest.raises(InvalidInput, match="counted in GBP"):
        close_z(the_shift(), 1, OPENED, "c1", CashCount.from_counts("GBP", {100: 1}), [], set())


def test_void_status_does_not_move_a_sale_out_of_its_shift() -> None:
    order = sale(1, [(500, 1, "food")], [cash(500)])
    voided = replace(order, status=OrderStatus.VOIDED)
    assert z_figures([voided]) == z_figures([order])
