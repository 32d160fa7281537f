"""The receipt model and its printed text, built from a priced cart (no database, no Qt)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from app.domain.cart import Cart, Discount, DiscountKind
from app.domain.order import (
    OrderStatus,
    TenderInput,
    TenderKind,
    order_lines_from,
    settle_tenders,
)
from app.domain.product import Product, SoldBy
from app.domain.store import StoreProfile
from app.services.receipt import (
    build_receipt,
    format_rate,
    format_weight,
    receipt_text,
)
from tests.unit.builders import till_order

STORE = StoreProfile(store_name="Corner Grocer", store_address="1 High Street")
MILK = Product("p1", "MILK1", "Whole milk 1 L", 109, "food", barcodes=("4006381333931",))
BANANAS = Product("p2", "BAN", "Bananas, loose", 189, "food", SoldBy.WEIGHT, barcodes=("4011",))
SOAP = Product("p3", "SOAP", "Hand soap", 250, "standard")
BERLIN = timezone(timedelta(hours=1))


def make_order(cart: Cart, tenders: list[TenderInput], status: OrderStatus = OrderStatus.PAID):
    totals = cart.totals(STORE.taxes)
    paid = datetime(2026, 11, 24, 13, 3, tzinfo=UTC)
    return till_order(
        paid,
        receipt_no="T01-000042",
        sequence=42,
        status=status,
        lines=order_lines_from(totals, cart.lines),
        tenders=settle_tenders(totals.total, tenders, currency="EUR"),
        tax=totals.tax,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
    )


def sample_cart() -> Cart:
    cart = Cart().add(MILK, 2).add(BANANAS, 742).add(SOAP)
    soap_line = cart.lines[2].line_id
    return cart.set_line_discount(soap_line, Discount(DiscountKind.PERCENT, 1000, "damaged box"))


def test_weighted_line_shows_kilos_times_price_per_kilo() -> None:
    order = make_order(sample_cart(), [TenderInput(TenderKind.CASH, 1000)])
    receipt = build_receipt(order, STORE, tz=BERLIN)
    bananas = receipt.lines[1]
    assert bananas.detail == "0.742 kg × 1.89/kg"
    assert bananas.amount == 140  # 1.89 × 0.742 = 1.40238 → 1.40
    assert receipt.lines[0].detail == "2 × 1.09"
    assert receipt.lines[2].detail == ""


def test_receipt_text_has_everything_the_customer_needs() -> None:
    order = make_order(sample_cart(), [TenderInput(TenderKind.CASH, 1000)])
    text = receipt_text(build_receipt(order, STORE, tz=BERLIN))
    assert "Corner Grocer" in text and "1 High Street" in text
    assert "Receipt T01-000042" in text
    assert "2026-11-24 14:03" in text  # local time, not UTC
    assert "0.742 kg × 1.89/kg" in text
    assert "10 % discount (damaged box)" in text and "-0.25" in text
    assert "TOTAL EUR" in text and "5.83" in text  # 2.18 + 1.40 + 2.25
    assert "Cash" in text and "10.00" in text
    assert "Change" in text and "4.17" in text
    assert "incl. VAT 7 % on 3.58" in text and "incl. VAT 19 % on 2.25" in text
    assert "You saved 0.25" in text
    assert "Served by Maria" in text
    assert all(len(row) <= 42 for row in text.splitlines())


def test_split_tender_lists_each_tender_and_no_change_when_exact() -> None:
    cart = Cart().add(SOAP, 2)
    order = make_order(
        cart, [TenderInput(TenderKind.CASH, 200), TenderInput(TenderKind.PAY_LATER, 300)]
    )
    receipt = build_receipt(order, STORE, tz=UTC)
    assert [(t.label, t.amount) for t in receipt.tenders] == [("Cash", 200), ("Pay later", 300)]
    assert receipt.change == 0
    assert "Change" not in receipt_text(receipt)


def test_voided_order_is_marked_on_the_reprint() -> None:
    order = make_order(Cart().add(MILK), [TenderInput(TenderKind.CASH, 109)])
    text = receipt_text(build_receipt(replace(order, status=OrderStatus.VOIDED), STORE, tz=UTC))
    assert "*** VOIDED ***" in text


def test_order_discount_is_printed_once_below_the_subtotal() -> None:
    cart = Cart().add(MILK, 10).set_order_discount(Discount(DiscountKind.AMOUNT, 90))
    order = make_order(cart, [TenderInput(TenderKind.CASH, 1000)])
    receipt = build_receipt(order, STORE, tz=UTC)
    assert receipt.order_discount == 90
    assert receipt.total == 1000
    assert "Order discount" in receipt_text(receipt)


def test_long_names_wrap_instead_of_overflowing_the_paper() -> None:
    long = Product("p9", "LONG", "Extra virgin olive oil, cold pressed, 1 litre tin", 1299, "food")
    order = make_order(Cart().add(long), [TenderInput(TenderKind.CASH, 1299)])
    text = receipt_text(build_receipt(order, STORE, tz=UTC), width=32)
    assert all(len(row) <= 32 for row in text.splitlines())
    assert "12.99" in text


def test_formatting_helpers() -> None:
    assert format_weight(742) == "0.742 kg"
    assert format_weight(12050) == "12.050 kg"
    assert format_rate(700) == "7 %"
    assert format_rate(1050) == "10.5 %"


def a_refund(order, lines, amount, *, card=0, at_minute=10, refund_id="r1"):
    from app.domain.refund import Refund, RefundLine, RefundState

    moment = datetime(2026, 11, 24, 13, at_minute, tzinfo=UTC)
    return Refund(
        id=refund_id,
        order_id=order.id,
        amount=amount,
        card_amount=card,
        cash_amount=amount - card,
        card_payment_id=None,
        reason="one bottle broken",
        lines=tuple(RefundLine(n, q) for n, q in lines),
        clerk_id="m1",
        clerk_name="Sam",
        created_at=moment,
        state=RefundState.DONE,
        refunded_at=moment,
    )


def test_refund_receipt_names_the_sale_the_goods_the_money_and_who_approved_it() -> None:
    from app.services.receipt import build_refund_receipt, refund_receipt_text

    order = make_order(sample_cart(), [TenderInput(TenderKind.CASH, 1000)])
    first = a_refund(order, [(1, 1)], 109)
    second = a_refund(order, [(1, 1)], 109, at_minute=20, refund_id="r2")
    slip = build_refund_receipt(order, second, STORE, [first, second], tz=UTC)
    assert (slip.receipt_no, slip.amount, slip.cash_amount) == ("T01-000042", 109, 109)
    assert [(ln.name, ln.detail, ln.amount) for ln in slip.lines] == [
        ("Whole milk 1 L", "1 of 2", 109)
    ]
    assert slip.refunded_total == 218
    text = refund_receipt_text(slip)
    for words in (
        "Corner Grocer",
        "*** REFUND ***",
        "Receipt T01-000042",
        "2026-11-24 13:20",
        "Whole milk 1 L",
        "Reason: one bottle broken",
        "Approved by Sam · Till T01",
    ):
        assert words in text, words
    assert "In cash" in text and "To the card" not in text
    assert all(len(line) <= 42 for line in text.splitlines())


def test_a_reprint_is_a_copy_that_lists_its_refunds() -> None:
    order = make_order(sample_cart(), [TenderInput(TenderKind.CASH, 1000)])
    refund = a_refund(order, [(1, 1)], 109)
    copy = build_receipt(order, STORE, tz=UTC, copy=True, refunds=[refund])
    text = receipt_text(copy)
    assert "*** COPY ***" in text
    assert "REFUNDS" in text and "1 × Whole milk 1 L" in text and "approved by Sam" in text
    assert "Paid less refunds" in text
    original = receipt_text(build_receipt(order, STORE, tz=UTC))
    assert "COPY" not in original and "REFUNDS" not in original
