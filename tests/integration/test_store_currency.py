"""A store whose currency has other decimals than the euro (JPY: none) reads every amount of
a use case's message in its own currency: ¥1234 is "1234", never "12.34"."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.approval import ApprovalNeeded
from app.domain.cart import Cart
from app.domain.errors import InvalidInput, TenderShortfall
from app.domain.order import TenderInput, TenderKind
from app.domain.product import Product
from app.services.checkout import complete_sale, override_price
from app.services.refunds import refund_order

GREEN_TEA = Product(
    id="0190d5b4-0000-7000-8000-0000000000a1",
    sku="TEA-SENCHA",
    name="Sencha 100 g",
    unit_price=1234,  # ¥1234
    tax_class="food",
    stock=10,
)


@pytest.fixture
def yen_store(terminal):
    """The test till, as a store in Japan that sells in yen."""
    terminal.store = replace(terminal.store, currency="JPY", locale="en_JP")
    with terminal.uow() as uow:
        uow.products.upsert_many([GREEN_TEA])
        uow.commit()
    return terminal


def sell(terminal, clerk, cash):
    return complete_sale(
        terminal.uow(),
        Cart(currency="JPY").add(GREEN_TEA),
        [TenderInput(TenderKind.CASH, cash)],
        clerk,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )


def test_a_yen_sale_short_of_its_total_names_the_shortfall_in_yen(yen_store, clerk):
    with pytest.raises(TenderShortfall) as refused:
        sell(yen_store, clerk, 1000)
    assert refused.value.message == "tendered 1000 does not cover the total 1234: 234 still due"


def test_a_yen_price_override_asks_the_manager_in_yen(yen_store, clerk):
    cart = Cart(currency="JPY").add(GREEN_TEA)
    with pytest.raises(ApprovalNeeded) as needed:
        override_price(
            yen_store.uow(), cart, 1, 999, "shelf label says 999", clerk, yen_store.clock
        )
    assert needed.value.reason == "changing the price of Sencha 100 g from 1234 to 999"
    with pytest.raises(InvalidInput) as unchanged:
        override_price(yen_store.uow(), cart, 1, 1234, "same", clerk, yen_store.clock)
    assert unchanged.value.message == "Sencha 100 g already costs 1234"


def test_a_yen_refund_names_what_is_left_and_what_it_asks_for_in_yen(yen_store, clerk):
    order = sell(yen_store, clerk, 2000)

    def refund(amount):
        return refund_order(
            yen_store.uow,
            None,
            order.id,
            "customer returned it",
            clerk,
            yen_store.clock,
            yen_store.ids,
            amount=amount,
        )

    with pytest.raises(InvalidInput) as too_much:
        refund(5000)
    assert too_much.value.message == (
        f"at most 1234 is left to refund of order {order.receipt_no}, not 5000"
    )
    with pytest.raises(ApprovalNeeded) as needed:
        refund(234)
    assert needed.value.reason == f"refunding 234 of {order.receipt_no}"
