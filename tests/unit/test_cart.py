"""Pricing a cart: lines, weights, discounts, tax per class, inclusive and exclusive."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.cart import Cart, Discount, DiscountKind
from app.domain.errors import InvalidDiscount, InvalidQuantity
from app.domain.money import apply_basis_points, round_half_up, tax_included_in
from app.domain.product import Product, SoldBy
from app.domain.tax import DEFAULT_TAX_TABLE, TaxRate, TaxTable

MILK = Product(id="p-milk", sku="MILK", name="Whole milk 1 L", unit_price=109, tax_class="food")
WINE = Product(id="p-wine", sku="WINE", name="Rioja 0.75 L", unit_price=799, tax_class="standard")
BANANAS = Product(
    id="p-ban", sku="BAN", name="Bananas", unit_price=189, tax_class="food", sold_by=SoldBy.WEIGHT
)
EXCLUSIVE = TaxTable(DEFAULT_TAX_TABLE.rates, prices_include_tax=False)


def test_ui_sketch_cart_prices_as_written_in_docs():
    cart = Cart().add(MILK, 2).add(BANANAS, 742)
    totals = cart.totals(DEFAULT_TAX_TABLE)
    assert [line.gross for line in totals.lines] == [218, 140]  # 0.742 kg × 1.89 = 1.40238
    assert totals.total == 358
    assert [(t.tax_class, t.taxable, t.tax) for t in totals.tax] == [("food", 358, 23)]


def test_same_product_scanned_twice_merges_into_one_line():
    cart = Cart().add(MILK).add(MILK)
    assert len(cart.lines) == 1
    assert cart.lines[0].quantity == 2


def test_weighted_product_needs_a_weight():
    with pytest.raises(InvalidQuantity, match="sold by weight"):
        Cart().add(BANANAS)


@pytest.mark.parametrize("quantity", [0, -1, 10_000])
def test_absurd_quantities_are_refused_and_cart_unchanged(quantity):
    cart = Cart().add(MILK)
    with pytest.raises(InvalidQuantity):
        cart.set_quantity(1, quantity)
    assert cart.lines[0].quantity == 1


def test_line_and_order_discounts_apply_before_tax():
    cart = Cart().add(MILK, 10).add(WINE)
    cart = cart.set_line_discount(1, Discount(DiscountKind.PERCENT, 1000, "dented"))
    cart = cart.set_order_discount(Discount(DiscountKind.AMOUNT, 100))
    totals = cart.totals(DEFAULT_TAX_TABLE)
    assert totals.lines[0].line_discount == 109  # 10 % of 10.90
    assert totals.subtotal == 981 + 799
    assert totals.order_discount == 100
    assert sum(line.order_discount_share for line in totals.lines) == 100
    assert totals.total == 1680
    food = next(t for t in totals.tax if t.tax_class == "food")
    assert food.taxable == totals.lines[0].net
    assert food.tax == tax_included_in(food.taxable, 700)


def test_exclusive_prices_add_tax_on_top():
    totals = Cart().add(WINE, 3).totals(EXCLUSIVE)
    assert totals.tax_total == apply_basis_points(2397, 1900) == 455
    assert totals.total == 2397 + 455


def test_amount_discount_larger_than_the_line_is_refused():
    cart = Cart().add(MILK)
    with pytest.raises(InvalidDiscount, match="more than the line"):
        cart.set_line_discount(1, Discount(DiscountKind.AMOUNT, 110))


def test_percent_discount_over_100_is_refused():
    with pytest.raises(InvalidDiscount):
        Discount(DiscountKind.PERCENT, 10_001)


def test_unknown_tax_class_is_named():
    odd = Product(id="x", sku="X", name="Odd", unit_price=100, tax_class="luxury")
    with pytest.raises(Exception, match="luxury"):
        Cart().add(odd).totals(DEFAULT_TAX_TABLE)


products = st.builds(
    Product,
    id=st.uuids().map(str),
    sku=st.text("ABCDEFGHIJ0123456789", min_size=1, max_size=8),
    name=st.just("Item"),
    unit_price=st.integers(0, 100_000),
    tax_class=st.sampled_from(["food", "standard", "exempt"]),
    sold_by=st.sampled_from(list(SoldBy)),
)
discounts = st.one_of(
    st.none(),
    st.builds(Discount, st.just(DiscountKind.PERCENT), st.integers(1, 10_000)),
    st.builds(Discount, st.just(DiscountKind.AMOUNT), st.integers(1, 50_000)),
)


@st.composite
def carts(draw):
    cart = Cart()
    for product in draw(st.lists(products, min_size=1, max_size=12)):
        quantity = draw(st.integers(1, 5000) if product.by_weight else st.integers(1, 50))
        cart = cart.add(product, quantity)
        line = cart.lines[-1]
        discount = draw(discounts)
        if discount and not (discount.kind is DiscountKind.AMOUNT and discount.value > line.gross):
            cart = cart.set_line_discount(line.line_id, discount)
    order_discount = draw(discounts)
    try:
        cart = cart.set_order_discount(order_discount)
    except InvalidDiscount:
        pass
    return cart


@given(carts(), st.booleans())
def test_totals_equal_the_sum_of_lines_and_nothing_goes_negative(cart, inclusive):
    taxes = TaxTable(DEFAULT_TAX_TABLE.rates, prices_include_tax=inclusive)
    totals = cart.totals(taxes)
    nets = [line.net for line in totals.lines]
    assert all(net >= 0 for net in nets)
    assert all(line.gross - line.line_discount >= 0 for line in totals.lines)
    assert sum(nets) == totals.subtotal - totals.order_discount
    assert sum(t.taxable for t in totals.tax) == sum(nets)
    assert totals.tax_total == sum(t.tax for t in totals.tax)
    expected_total = sum(nets) + (0 if inclusive else totals.tax_total)
    assert totals.total == expected_total >= 0


@given(carts())
def test_tax_is_rounded_once_per_class_by_the_written_rule(cart):
    totals = cart.totals(DEFAULT_TAX_TABLE)
    for entry in totals.tax:
        assert entry.tax == round_half_up(entry.taxable * entry.rate_bp, 10_000 + entry.rate_bp)


@given(st.integers(1, 100_000), st.integers(0, 1_000_000))
def test_weighted_line_is_price_per_kg_times_grams_rounded_half_up(grams, price):
    product = Product(
        id="w", sku="W", name="W", unit_price=price, tax_class="food", sold_by=SoldBy.WEIGHT
    )
    line = Cart().add(product, grams).lines[0]
    assert line.gross == round_half_up(price * grams, 1000)


def test_zero_rated_class_has_no_tax():
    taxes = TaxTable((TaxRate("exempt", 0, "VAT 0 %"),))
    gift = Product(id="g", sku="G", name="Gift card", unit_price=2500, tax_class="exempt")
    assert Cart().add(gift).totals(taxes).tax_total == 0
