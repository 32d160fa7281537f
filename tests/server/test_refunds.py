"""order.refunded at push (idempotent, never more than paid, stock back once, card part
verified, receipt mailed) and cancelling an open card payment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.app import create_app
from server.models import MailOutbox, Order, OrderRefund
from tests.server.builders import order, paid_event, push_body, void_event
from tests.server.conftest import Shop, services_of
from tests.server.test_payments import (
    VISA,
    _card_order,
    _paid_payment,
    intent_of,
    pay_as_the_browser,
    payment_body,
    refund,
    start,
)
from tests.server.test_push import stock_of


@pytest.fixture
def app(payments_config: Any) -> Iterator[Flask]:
    app = create_app(payments_config)
    yield app
    services_of(app).close()


def refund_event(
    order_id: str,
    amount: int,
    *,
    lines: list[tuple[int, int]] = (),  # type: ignore[assignment]
    card_amount: int = 0,
    card_payment_id: str | None = None,
    refund_id: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "order.refunded",
        "occurred_at": "2026-11-25T14:00:00+00:00",
        "payload": {
            "refund_id": refund_id or str(uuid.uuid4()),
            "order_id": order_id,
            "amount": amount,
            "cash_amount": amount - card_amount,
            "card_amount": card_amount,
            "card_payment_id": card_payment_id,
            "reason": "damaged",
            "refunded_at": "2026-11-25T14:00:00+00:00",
            "clerk_id": "clerk",
            "lines": [{"line_no": n, "quantity": q} for n, q in lines],
        },
    }


def push(client: FlaskClient, shop: Shop, *events: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.post("/api/v1/sync/push", json=push_body(list(events)), headers=shop.s1.headers)
    assert answer.status_code == 200, answer.json
    return answer.json["results"]


def stored_order(app: Flask, order_id: str) -> tuple[str, int]:
    with services_of(app).sessions() as session:
        o = session.scalars(select(Order).where(Order.id == uuid.UUID(order_id))).one()
        return o.status, o.refunded_total


def test_refund_puts_stock_back_once_and_a_replay_changes_nothing(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 3), ("bananas", 1250)])
    push(client, shop, paid_event(payload))
    assert stock_of(app, "p1") == 100_000 - 3
    event = refund_event(payload["id"], 202, lines=[(1, 2), (2, 500)])
    (first,) = push(client, shop, event)
    assert first["status"] == "accepted", first
    assert stock_of(app, "p1") == 100_000 - 1
    assert stock_of(app, "bananas") == 100_000 - 750
    for _ in range(2):
        (again,) = push(client, shop, event)
        assert again["status"] == "duplicate"
    same_refund_new_event = {**event, "event_id": str(uuid.uuid4())}
    (dup,) = push(client, shop, same_refund_new_event)
    assert dup["status"] == "duplicate"
    assert stock_of(app, "p1") == 100_000 - 1
    assert stored_order(app, payload["id"]) == ("paid", 202)
    with services_of(app).sessions() as session:
        assert len(session.scalars(select(OrderRefund)).all()) == 1


def test_refunding_everything_makes_the_order_refunded_and_more_is_rejected(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p2", 2)])
    total = payload["total"]
    # the sale and two refunds in one batch: the second would be one cent too many
    results = push(
        client,
        shop,
        paid_event(payload),
        refund_event(payload["id"], total - 1, lines=[(1, 2)]),
        refund_event(payload["id"], 2),
    )
    assert [r["status"] for r in results] == ["accepted", "accepted", "rejected"]
    assert (results[2]["reason"], results[2]["field"]) == ("refund_exceeds_order", "payload.amount")
    (last,) = push(client, shop, refund_event(payload["id"], 1))
    assert last["status"] == "accepted"
    assert stored_order(app, payload["id"]) == ("refunded", total)
    (late,) = push(client, shop, refund_event(payload["id"], 1))
    assert late["reason"] == "refund_exceeds_order"
    push(client, shop, void_event(payload["id"]))
    assert stock_of(app, "p2") == 100_000  # the void does not return the lines again


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"order_id": str(uuid.uuid4())}, "unknown_order", "payload.order_id"),
        ({"lines": [{"line_no": 7, "quantity": 1}]}, "unknown_line", "payload.lines[0].line_no"),
        (
            {"lines": [{"line_no": 1, "quantity": 2}]},
            "refund_exceeds_line",
            "payload.lines[0].quantity",
        ),
        (  # one line named twice: together more than was sold
            {"lines": [{"line_no": 1, "quantity": 1}, {"line_no": 1, "quantity": 1}]},
            "refund_exceeds_line",
            "payload.lines[1].quantity",
        ),
        ({"cash_amount": 1}, "refund_parts_mismatch", "payload.amount"),
        (
            {"card_amount": 5, "cash_amount": 0, "card_payment_id": str(uuid.uuid4())},
            "card_refund_not_confirmed",
            "payload.card_payment_id",
        ),
    ],
)
def test_refunds_that_do_not_fit_are_rejected_and_change_nothing(
    app: Flask, client: FlaskClient, shop: Shop, change: dict[str, Any], reason: str, field: str
) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p3", 1)])
    push(client, shop, paid_event(payload))
    event = refund_event(payload["id"], 5, lines=[(1, 1)])
    event["payload"].update(change)
    (result,) = push(client, shop, event)
    assert (result["status"], result["reason"], result["field"]) == ("rejected", reason, field)
    assert stored_order(app, payload["id"]) == ("paid", 0)
    assert stock_of(app, "p3") == 100_000 - 1


def test_refund_of_another_stores_order_is_unknown(client: FlaskClient, shop: Shop) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p4", 1)])
    push(client, shop, paid_event(payload))
    answer = client.post(
        "/api/v1/sync/push",
        json=push_body([refund_event(payload["id"], 1)]),
        headers=shop.s2.headers,
    )
    assert answer.json["results"][0]["reason"] == "unknown_order"


def test_card_part_must_match_the_refund_the_payment_service_made(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    body = _paid_payment(app, client, shop, stripe_client)
    payload = _card_order(body, shop)
    push(client, shop, paid_event(payload))
    refund_id = str(uuid.uuid4())
    assert refund(client, shop, body["payment_id"], 500, refund_id).json["status"] == "succeeded"
    wrong = refund_event(
        payload["id"], 600, card_amount=600, card_payment_id=body["payment_id"], refund_id=refund_id
    )
    (mismatch,) = push(client, shop, wrong)
    assert (mismatch["reason"], mismatch["field"]) == (
        "card_amount_mismatch",
        "payload.card_amount",
    )
    right = refund_event(
        payload["id"], 500, card_amount=500, card_payment_id=body["payment_id"], refund_id=refund_id
    )
    (ok,) = push(client, shop, right)
    assert ok["status"] == "accepted"
    assert stored_order(app, payload["id"]) == ("paid", 500)
    with services_of(app).sessions() as session:
        mails = session.scalars(select(MailOutbox.kind).order_by(MailOutbox.id)).all()
    assert mails == ["order_confirmation", "refund_receipt"]  # one receipt, not two


def test_cash_refund_of_an_order_with_a_customer_address_is_receipted(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    customer = {"id": str(uuid.uuid4()), "name": "Ada", "email": "ada@example.com"}
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p5", 1)], customer=customer)
    push(client, shop, paid_event(payload))
    push(client, shop, refund_event(payload["id"], 50))
    with services_of(app).sessions() as session:
        mail = session.scalars(select(MailOutbox).where(MailOutbox.kind == "refund_receipt")).one()
    assert mail.to_address == "ada@example.com"
    assert "€0.50 in cash" in mail.text_body and payload["receipt_no"] in mail.text_body


# ----------------------------------------------------------------------------- cancel


def cancel(client: FlaskClient, shop: Shop, payment_id: str) -> Any:
    return client.post(
        f"/api/v1/payments/{payment_id}/cancel",
        json={"protocol_version": 1},
        headers=shop.s1.headers,
    )


def test_cancel_makes_an_open_payment_failed_and_unpayable(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    body = payment_body()
    start(client, shop.s1, body)
    intent = intent_of(app, body["payment_id"])
    answer = cancel(client, shop, body["payment_id"])
    assert answer.status_code == 200, answer.json
    assert (answer.json["status"], answer.json["decline_reason"]) == (
        "failed",
        "cancelled at the till",
    )
    assert answer.json["pay_url"] is None
    assert stripe_client.v1.payment_intents.retrieve(intent).status == "canceled"
    with pytest.raises(stripe.StripeError):
        pay_as_the_browser(stripe_client, intent, VISA)
    again = cancel(client, shop, body["payment_id"])
    assert again.json == answer.json  # idempotent
    status = client.get(f"/api/v1/payments/{body['payment_id']}", headers=shop.s1.headers)
    assert status.json["status"] == "failed"
    retry = start(client, shop.s1, payment_body(order_id=body["order_id"]))
    assert retry.status_code == 200  # a new attempt for the sale is possible


def test_cancel_after_the_customer_paid_answers_409_with_the_payment(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    body = payment_body()
    start(client, shop.s1, body)
    pay_as_the_browser(stripe_client, intent_of(app, body["payment_id"]), VISA)
    answer = cancel(client, shop, body["payment_id"])  # the server has not looked yet
    assert answer.status_code == 409
    assert answer.json["error"] == "payment_already_succeeded"
    assert answer.json["payment"]["status"] == "succeeded"
    assert answer.json["payment"]["payment_id"] == body["payment_id"]


def test_cancel_of_another_stores_payment_is_not_found(client: FlaskClient, shop: Shop) -> None:
    body = payment_body()
    start(client, shop.s1, body)
    other = client.post(
        f"/api/v1/payments/{body['payment_id']}/cancel",
        json={"protocol_version": 1},
        headers=shop.s2.headers,
    )
    assert other.status_code == 404
