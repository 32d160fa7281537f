"""The server's check of an order's arithmetic agrees with how the till prices a sale."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import get_args

from hypothesis import given
from hypothesis import strategies as st

from app.domain.cart import MAX_EACH_QUANTITY, MAX_GRAMS, Cart, Discount, DiscountKind
from app.domain.clerk import Role
from app.domain.money import BASIS_POINTS, MAX_AMOUNT
from app.domain.order import (
    Order,
    TenderInput,
    TenderKind,
    order_lines_from,
    settle_tenders,
)
from app.domain.order_check import MAX_LINE_QUANTITY, check_order_consistency
from app.domain.product import Product, SoldBy
from app.domain.tax import DEFAULT_TAX_TABLE, TaxRate, TaxTable
from sync import protocol
from sync.protocol import OrderLinePayload
from tests.unit.builders import till_order

MILK = Product("milk", "MILK1", "Whole milk 1 L", 119, "food", barcodes=("4006381333931",))
SOAP = Product("soap", "SOAP1", "Soap", 249, "standard")
APPLES = Product("apples", "APL1", "Apples", 299, "food", sold_by=SoldBy.WEIGHT)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def paid_order(cart: Cart, taxes: TaxTable = DEFAULT_TAX_TABLE, cash: int = 0) -> Order:
    """The order the till makes of ``cart``: priced by the cart, paid by card (plus cash)."""
    totals = cart.totals(taxes)
    inputs = [TenderInput(TenderKind.CARD, totals.total - cash)] if totals.total > cash else []
    if cash:
        inputs.append(TenderInput(TenderKind.CASH, cash + 500))
    return till_order(
        NOW,
        lines=order_lines_from(totals, cart.lines),
        tenders=settle_tenders(totals.total, inputs, currency="EUR"),
        tax=totals.tax,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        prices_include_tax=taxes.prices_include_tax,
    )


def sample_cart() -> Cart:
    cart = Cart().add(MILK, 3).add(SOAP).add(APPLES, 1255)
    cart = cart.set_line_discount(2, Discount(DiscountKind.PERCENT, 1000, "dented"))
    return cart.set_order_discount(Discount(DiscountKind.AMOUNT, 37))


def test_an_order_priced_by_the_till_passes_the_check() -> None:
    assert check_order_consistency(paid_order(sample_cart(), cash=300)) is None


def test_tax_exclusive_prices_pass_the_check() -> None:
    exclusive = replace(DEFAULT_TAX_TABLE, prices_include_tax=False)
    assert check_order_consistency(paid_order(sample_cart(), exclusive)) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from([MILK, SOAP, APPLES]),
            st.integers(1, 50),
            st.integers(0, 5000),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 10_000),
    st.booleans(),
)
def test_every_cart_the_till_can_price_passes_the_check(
    picks: list[tuple[Product, int, int]], order_off_bp: int, include_tax: bool
) -> None:
    cart = Cart()
    for product, quantity, line_off_bp in picks:
        cart = cart.add(product, quantity * 37 if product.by_weight else quantity)
        if line_off_bp:
            line_id = cart.lines[-1].line_id
            cart = cart.set_line_discount(line_id, Discount(DiscountKind.PERCENT, line_off_bp))
    if order_off_bp:
        cart = cart.set_order_discount(Discount(DiscountKind.PERCENT, order_off_bp))
    taxes = TaxTable((TaxRate("food", 700, "7 %"), TaxRate("standard", 1900, "19 %")), include_tax)
    if cart.totals(taxes).total == 0:
        return  # nothing to pay: no tender can be taken
    assert check_order_consistency(paid_order(cart, taxes)) is None


def test_a_weighed_line_whose_gross_is_not_rounded_half_up_is_named() -> None:
    order = paid_order(Cart().add(APPLES, 1255))  # 2.99/kg × 1.255 kg = 375.245 → 375
    line = order.lines[0]
    wrong = replace(order, lines=(replace(line, gross=376, net=376),))
    problem = check_order_consistency(wrong)
    assert problem is not None
    assert (problem.reason, problem.field) == ("line_gross_mismatch", "lines[0].gross")
    assert "375" in problem.message


def test_a_line_above_the_tills_quantity_limit_is_refused() -> None:
    order = paid_order(Cart().add(MILK, 1))
    line = replace(order.lines[0], quantity=MAX_EACH_QUANTITY + 1)
    problem = check_order_consistency(replace(order, lines=(line,)))
    assert problem is not None
    assert (problem.reason, problem.field) == ("invalid_quantity", "lines[0].quantity")
    assert str(MAX_EACH_QUANTITY) in problem.message


def test_the_wire_takes_its_limits_and_names_from_the_domain() -> None:
    schema = OrderLinePayload.model_json_schema()["properties"]
    assert schema["quantity"]["maximum"] == MAX_LINE_QUANTITY == MAX_GRAMS
    assert schema["unit_price"]["maximum"] == MAX_AMOUNT
    assert schema["tax_rate_bp"]["maximum"] == BASIS_POINTS
    assert set(get_args(protocol.SoldBy)) == {s.value for s in SoldBy}
    assert set(get_args(protocol.TenderKind)) == {k.value for k in TenderKind}
    assert set(get_args(protocol.ClerkRole)) == {r.value for r in Role}


def test_change_given_on_a_card_tender_is_refused() -> None:
    order = paid_order(Cart().add(MILK, 1))
    card = replace(order.tenders[0], tendered=order.total + 10, change=10)
    problem = check_order_consistency(replace(order, tenders=(card,)))
    assert problem is not None
    assert (problem.reason, problem.field) == ("tender_mismatch", "tenders[0].change")


def test_tenders_that_do_not_pay_the_total_are_named() -> None:
    order = paid_order(Cart().add(MILK, 2))
    problem = check_order_consistency(replace(order, total=order.total + 1))
    assert problem is not None
    assert problem.reason == "total_mismatch"
