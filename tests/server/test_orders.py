"""The order rules called directly, the way phone orders and the web shop will call them:
one ``place_orders`` that takes an order once, answers a repeat, refuses what may not be
applied, and moves stock."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask

from server.db import unit_of_work
from server.orders.service import OrderOutcome, PlaceOrder, RefundOrder, VoidOrder, place_orders
from server.terminals.auth import CallerKind, authenticate
from sync.protocol import OrderPayload, OrderRefundPayload, OrderVoidPayload
from tests.server.builders import order
from tests.server.conftest import Shop, services_of
from tests.server.test_push import stock_of


def _place(app: Flask, shop: Shop, commands: list[Any]) -> list[OrderOutcome]:
    svc = services_of(app)
    with unit_of_work(svc.sessions) as session:
        who = authenticate(session, f"Bearer {shop.s1.token}")
        assert who.kind is CallerKind.TERMINAL
        return place_orders(session, who, svc.catalog(session), commands)


def _placed(payload: dict[str, Any], key: int = 0, order_hash: str = "h1") -> PlaceOrder:
    return PlaceOrder(key, OrderPayload.model_validate(payload), order_hash, uuid.uuid4())


def test_an_order_is_taken_once_and_a_repeat_is_answered(app: Flask, shop: Shop) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 2)])
    before = stock_of(app, "p1")
    assert _place(app, shop, [_placed(payload)]) == [OrderOutcome(0, "accepted")]
    assert stock_of(app, "p1") == before - 2
    again = _place(app, shop, [_placed(payload, key=1), _placed(payload, key=2, order_hash="h2")])
    assert [(o.key, o.status) for o in again] == [(1, "duplicate"), (2, "conflict")]
    assert again[1].stored_hash == "h1"
    assert stock_of(app, "p1") == before - 2  # a repeat moves no stock


def test_an_order_whose_numbers_disagree_is_refused_with_its_path(app: Flask, shop: Shop) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 2)])
    payload["lines"][0]["gross"] += 1
    [outcome] = _place(app, shop, [_placed(payload)])
    assert (outcome.status, outcome.reason, outcome.field) == (
        "rejected",
        "line_gross_mismatch",
        "lines[0].gross",
    )


def test_an_unconfirmed_card_payment_refuses_the_order(app: Flask, shop: Shop) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 1)])
    tender = payload["tenders"][0]
    tender.update(kind="card", reference=str(uuid.uuid4()), tendered=tender["amount"], change=0)
    [outcome] = _place(app, shop, [_placed(payload)])
    assert (outcome.status, outcome.reason, outcome.field) == (
        "rejected",
        "card_payment_not_confirmed",
        "tenders[0].reference",
    )


def test_a_void_and_a_refund_in_the_batch_of_their_order(app: Flask, shop: Shop) -> None:
    sold = order(clerk_id=shop.s1.clerk_id, lines=[("p2", 3)])
    before = stock_of(app, "p2")
    refund = OrderRefundPayload.model_validate(
        {
            "refund_id": str(uuid.uuid4()),
            "order_id": sold["id"],
            "amount": 102,
            "cash_amount": 102,
            "card_amount": 0,
            "reason": "bruised",
            "refunded_at": sold["paid_at"],
            "clerk_id": shop.s1.clerk_id,
            "lines": [{"line_no": 1, "quantity": 1}],
        }
    )
    outcomes = _place(app, shop, [_placed(sold), RefundOrder(1, refund, uuid.uuid4())])
    assert [o.status for o in outcomes] == ["accepted", "accepted"]
    assert stock_of(app, "p2") == before - 2
    unknown = OrderVoidPayload.model_validate(
        {
            "order_id": str(uuid.uuid4()),
            "reason": "mistake",
            "voided_at": sold["paid_at"],
            "clerk_id": shop.s1.clerk_id,
        }
    )
    [outcome] = _place(app, shop, [VoidOrder(0, unknown)])
    assert (outcome.status, outcome.reason, outcome.field) == (
        "rejected",
        "unknown_order",
        "order_id",
    )
