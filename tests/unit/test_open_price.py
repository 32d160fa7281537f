"""Open-price items (goods without a barcode, price typed): the cart's line, the order check
the server runs, and the stock they do not move."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.cart import MAX_OPEN_PRICE, Cart, open_price_needs_approval
from app.domain.errors import InvalidInput
from app.domain.order_check import check_order_consistency
from app.domain.refund import RefundLine
from app.domain.stock import refund_changes, sale_changes
from app.domain.store import StoreProfile
from sync.protocol import OrderLinePayload
from tests.unit.test_order_check import MILK, paid_order


def test_an_open_price_line_is_one_unit_of_no_product_named_after_its_department() -> None:
    cart = (
        Cart().add(MILK).add_open_price("Bakery", 350, "food").add_open_price("Bakery", 350, "food")
    )
    open_lines = cart.lines[1:]
    assert [(ln.product_id, ln.sku, ln.name, ln.quantity) for ln in open_lines] == [
        ("", "", "Bakery (open price)", 1),
        ("", "", "Bakery (open price)", 1),
    ]  # never merged: two cakes are two lines
    assert all(ln.is_open_price for ln in open_lines) and not cart.lines[0].is_open_price
    assert cart.totals(StoreProfile().taxes).subtotal == MILK.unit_price + 700


@pytest.mark.parametrize(
    ("department", "price", "field"),
    [("", 350, "department"), ("Bakery", 0, "price"), ("Bakery", MAX_OPEN_PRICE + 1, "price")],
)
def test_an_open_price_needs_a_department_and_a_sane_price(
    department: str, price: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        Cart().add_open_price(department, price, "food")
    assert refused.value.field == field


def test_the_store_limit_decides_when_a_manager_approves() -> None:
    limit = StoreProfile().open_price_approval_limit
    assert limit == 5000
    assert not open_price_needs_approval(limit, limit)
    assert open_price_needs_approval(limit + 1, limit)
    cart = Cart().add_open_price("Deli", limit + 1, "food")
    assert cart.unapproved_open_prices(limit) == [cart.lines[0]]
    approved = Cart().add_open_price(
        "Deli", limit + 1, "food", approver_id="m1", approver_name="Sam"
    )
    assert approved.unapproved_open_prices(limit) == []


def test_the_server_check_accepts_an_open_price_line_and_the_wire_carries_it() -> None:
    order = paid_order(Cart().add(MILK).add_open_price("Bakery", 350, "food"))
    assert check_order_consistency(order) is None
    line = order.lines[1]
    payload = OrderLinePayload.model_validate(
        {**{f: getattr(line, f) for f in OrderLinePayload.model_fields}, "sold_by": "each"}
    )
    assert payload.product_id == "" and payload.sku == ""


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": 2, "gross": 700, "net": 700},
        {"sku": "CAKE"},
        {"unit_price": MAX_OPEN_PRICE + 1},
    ],
)
def test_the_server_check_refuses_an_open_price_line_that_is_not_one_unit(change: dict) -> None:
    order = paid_order(Cart().add_open_price("Bakery", 350, "food"))
    wrong = replace(order, lines=(replace(order.lines[0], **change),))
    problem = check_order_consistency(wrong)
    assert problem is not None and problem.reason == "open_price_line_invalid"


def test_an_open_price_line_moves_no_stock() -> None:
    order = paid_order(Cart().add(MILK).add_open_price("Bakery", 350, "food"))
    assert sale_changes(order) == {MILK.id: -1}
    returned = type("Returned", (), {"lines": (RefundLine(1, 1), RefundLine(2, 1))})()
    assert refund_changes(order, returned) == {MILK.id: 1}
