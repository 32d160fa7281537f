"""The till's outbound events on the wire (sync.wire): what the server is sent, byte for byte."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.domain.cart import Cart, Discount, DiscountKind, TaxBreakdownEntry
from app.domain.events import OrderRefunded, OrderVoided, SaleCompleted
from app.domain.order import (
    OrderLine,
    OrderStatus,
    Tender,
    TenderInput,
    TenderKind,
    order_lines_from,
    settle_tenders,
)
from app.domain.product import Product, SoldBy
from app.domain.refund import Refund, RefundLine, RefundState
from app.domain.tax import DEFAULT_TAX_TABLE
from sync import protocol as p
from sync.wire import encode_event, wire_event
from tests.unit.builders import till_order

NOW = datetime(2026, 11, 25, 12, 0, 1, 5, tzinfo=UTC)
ORDER_ID = "0190f1c2-0000-7000-8000-000000000001"
PAYMENT = "0190f1c2-0000-7000-8000-0000000000aa"

ORDER = till_order(
    NOW,
    id=ORDER_ID,
    lines=(
        OrderLine(
            1,
            "p1",
            "SKU1",
            "Crème 1",
            SoldBy.EACH,
            3,
            1000,
            3000,
            0,
            0,
            3000,
            "food",
            700,
            "dented",
        ),
        OrderLine(
            2, "p2", "SKU2", "Bananas", SoldBy.WEIGHT, 1250, 189, 236, 0, 0, 236, "food", 700
        ),
    ),
    tenders=(Tender(TenderKind.CASH, 3236, 5000, 1764, ""),),
    tax=(TaxBreakdownEntry("food", "Food 7 %", 700, 3236, 212),),
    subtotal=3236,
    discount_total=0,
    tax_total=212,
    total=3236,
)

# What the till queued before the adapter existed (hand-built dicts, compact JSON): replays of
# an event queued by an older till must stay byte-identical.
SALE_JSON = (
    '{"event_id":"0190f1c2-0000-7000-8000-000000000001","type":"order.paid",'
    '"occurred_at":"2026-11-25T12:00:01.000005+00:00","payload":{'
    '"id":"0190f1c2-0000-7000-8000-000000000001","receipt_no":"T01-000001",'
    '"terminal_code":"T01","sequence":1,"clerk_id":"c1","clerk_name":"Maria","currency":"EUR",'
    '"status":"paid","kind":"counter","created_at":"2026-11-25T12:00:01.000005+00:00",'
    '"paid_at":"2026-11-25T12:00:01.000005+00:00","subtotal":3236,"discount_total":0,'
    '"tax_total":212,"total":3236,"prices_include_tax":true,"customer":null,"lines":['
    '{"line_no":1,"product_id":"p1","sku":"SKU1","name":"Cr\\u00e8me 1","sold_by":"each",'
    '"quantity":3,"unit_price":1000,"gross":3000,"line_discount":0,"order_discount_share":0,'
    '"net":3000,"tax_class":"food","tax_rate_bp":700,"discount_reason":"dented"},'
    '{"line_no":2,"product_id":"p2","sku":"SKU2","name":"Bananas","sold_by":"weight",'
    '"quantity":1250,"unit_price":189,"gross":236,"line_discount":0,"order_discount_share":0,'
    '"net":236,"tax_class":"food","tax_rate_bp":700,"discount_reason":""}],'
    '"tenders":[{"kind":"cash","amount":3236,"tendered":5000,"change":1764,"reference":""}],'
    '"tax":[{"tax_class":"food","label":"Food 7 %","rate_bp":700,"taxable":3236,"tax":212}]}}'
)


def test_a_sale_encodes_to_the_bytes_the_till_always_sent():
    encoded = encode_event(SaleCompleted(ORDER, NOW))
    assert (encoded.event_id, encoded.event_type) == (ORDER_ID, "order.paid")
    assert encoded.body == SALE_JSON


def test_a_void_encodes_to_the_bytes_the_till_always_sent():
    event_id = "0190f1c2-0000-7000-8000-000000000002"
    encoded = encode_event(OrderVoided(event_id, ORDER_ID, "rang up twice", NOW, "m1"))
    assert encoded.event_type == "order.voided"
    assert encoded.body == (
        '{"event_id":"0190f1c2-0000-7000-8000-000000000002","type":"order.voided",'
        '"occurred_at":"2026-11-25T12:00:01.000005+00:00","payload":{'
        '"order_id":"0190f1c2-0000-7000-8000-000000000001","reason":"rang up twice",'
        '"voided_at":"2026-11-25T12:00:01.000005+00:00","clerk_id":"m1"}}'
    )


def a_refund(card_payment_id: str | None) -> Refund:
    return Refund(
        id="0190f1c2-0000-7000-8000-000000000003",
        order_id=ORDER_ID,
        amount=1000,
        card_amount=600 if card_payment_id else 0,
        cash_amount=400 if card_payment_id else 1000,
        card_payment_id=card_payment_id,
        reason="damaged",
        lines=(RefundLine(1, 1),),
        clerk_id="m1",
        clerk_name="Sam",
        created_at=NOW,
        state=RefundState.DONE,
        refunded_at=NOW,
    )


REFUND = a_refund(PAYMENT)


@pytest.mark.parametrize("card_payment_id", [None, PAYMENT])
def test_a_refund_encodes_as_the_protocol_payload(card_payment_id):
    refund = a_refund(card_payment_id)
    encoded = encode_event(OrderRefunded("0190f1c2-0000-7000-8000-000000000004", refund))
    assert encoded.event_type == "order.refunded"
    assert json.loads(encoded.body) == {
        "event_id": "0190f1c2-0000-7000-8000-000000000004",
        "type": "order.refunded",
        "occurred_at": "2026-11-25T12:00:01.000005+00:00",
        "payload": {
            "refund_id": refund.id,
            "order_id": ORDER_ID,
            "amount": 1000,
            "cash_amount": refund.cash_amount,
            "card_amount": refund.card_amount,
            "card_payment_id": card_payment_id,
            "reason": "damaged",
            "refunded_at": "2026-11-25T12:00:01.000005+00:00",
            "clerk_id": "m1",
            "lines": [{"line_no": 1, "quantity": 1}],
        },
    }


def test_every_encoded_event_is_a_valid_push():
    events = [
        encode_event(SaleCompleted(ORDER, NOW)),
        encode_event(OrderVoided("0190f1c2-0000-7000-8000-000000000002", ORDER_ID, "x", NOW, "m1")),
    ]
    events.append(encode_event(OrderRefunded("0190f1c2-0000-7000-8000-000000000004", REFUND)))
    request = p.PushRequest.model_validate(
        {"protocol_version": p.PROTOCOL_VERSION, "events": [json.loads(e.body) for e in events]}
    )
    assert [e.type for e in request.events] == ["order.paid", "order.voided", "order.refunded"]


def test_the_protocol_model_says_what_the_server_would_refuse():
    with pytest.raises(ValidationError, match="status"):
        wire_event(SaleCompleted(ORDER.with_status(OrderStatus.VOIDED), NOW))


PRODUCTS = [
    Product(id=f"p{n}", sku=f"SKU{n}", name=f"Item {n} é", unit_price=price, tax_class=tax)
    for n, (price, tax) in enumerate(
        [(1, "food"), (109, "food"), (799, "standard"), (250_000, "standard")]
    )
] + [
    Product(
        id="pw", sku="W", name="Bananas", unit_price=189, tax_class="food", sold_by=SoldBy.WEIGHT
    )
]
DISCOUNTS = st.none() | st.builds(
    Discount, st.just(DiscountKind.PERCENT), st.integers(1, 10_000), st.text(max_size=30)
)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(
        st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 99), DISCOUNTS), min_size=1, max_size=12
    ),
    order_discount=DISCOUNTS,
    include_tax=st.booleans(),
    cash_extra=st.integers(0, 10_000),
)
def test_every_sale_the_till_can_make_is_a_valid_push(
    items, order_discount, include_tax, cash_extra
):
    """Over generated carts (weights, discounts, both tax modes), what the outbox queues is
    accepted by the protocol's model with the same figures."""
    cart = Cart()
    for product, quantity, discount in items:
        grams = quantity * 37 if product.sold_by is SoldBy.WEIGHT else None
        cart = cart.add(product, grams if grams else quantity)
        if discount is not None:
            cart = cart.set_line_discount(cart.lines[-1].line_id, discount)
    cart = cart.set_order_discount(order_discount)
    taxes = replace(DEFAULT_TAX_TABLE, prices_include_tax=include_tax)
    totals = cart.totals(taxes)
    order = replace(
        ORDER,
        lines=order_lines_from(totals, cart.lines),
        tenders=settle_tenders(
            totals.total,
            [TenderInput(TenderKind.CASH, totals.total + cash_extra or 1)],
            currency="EUR",
        ),
        tax=totals.tax,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        prices_include_tax=include_tax,
    )
    event = wire_event(SaleCompleted(order, NOW))
    assert isinstance(event, p.OrderPaidEvent)
    assert event.payload.total == order.total
    assert [line.net for line in event.payload.lines] == [line.net for line in order.lines]
    assert sum(t.amount for t in event.payload.tenders) == order.total
