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
        tenders=settle_tenders(totals.total, tenders),
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
