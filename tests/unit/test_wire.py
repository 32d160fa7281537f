"""The till's outbound events on the wire (sync.wire): what the server is sent, byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.domain.cart import TaxBreakdownEntry
from app.domain.events import OrderRefunded, OrderVoided, SaleCompleted
from app.domain.order import Order, OrderLine, OrderStatus, Tender, TenderKind
from app.domain.product import SoldBy
from app.domain.refund import Refund, RefundLine, RefundState
from sync import protocol as p
from sync.wire import encode_event

NOW = datetime(2026, 11, 25, 12, 0, 1, 5, tzinfo=UTC)
ORDER_ID = "0190f1c2-0000-7000-8000-000000000001"
PAYMENT = "0190f1c2-0000-7000-8000-0000000000aa"

ORDER = Order(
    id=ORDER_ID,
    receipt_no="T01-000001",
    terminal_code="T01",
    sequence=1,
    clerk_id="c1",
    clerk_name="Maria",
    currency="EUR",
    status=OrderStatus.PAID,
    created_at=NOW,
    paid_at=NOW,
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


@pytest.mark.parametrize("card_payment_id", [None, PAYMENT])
def test_a_refund_encodes_as_the_protocol_payload(card_payment_id):
    refund = Refund(
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
    request = p.PushRequest.model_validate(
        {"protocol_version": p.PROTOCOL_VERSION, "events": [json.loads(e.body) for e in events]}
    )
    assert [e.type for e in request.events] == ["order.paid", "order.voided"]


def test_an_event_the_server_would_refuse_is_not_queued():
    """The adapter validates with the protocol's models: a sale that is not paid never
    reaches the outbox in a shape the server would reject."""
    with pytest.raises(ValueError, match="status"):
        encode_event(SaleCompleted(ORDER.with_status(OrderStatus.VOIDED), NOW))
