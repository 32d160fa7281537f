"""Order, refund, payment and customer ids are each store's own namespace (migration 0009).

A terminal of store S2 that sends an order, refund, customer or card payment under an id
store S1 already holds gets exactly the answer a fresh id gets, its own row is stored beside
S1's, and neither store sees the other's: not in the API, the pull, the admin listing, the
e-mail outbox nor the payment page. On PostgreSQL and on the embedded SQLite server."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.admin import listing
from server.app import create_app
from server.config import TestConfig
from server.db import upgrade_database
from server.models import Customer, MailOutbox, Order, OrderLine, OrderRefund, Payment, Tender
from tests.server.builders import order, paid_event, push_body
from tests.server.conftest import EnrolledTerminal, Shop, services_of
from tests.server.test_payments import VISA, pay_as_the_browser, payment_body, start
from tests.server.test_refunds import refund_event


@pytest.fixture(params=["postgresql", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "sqlite":  # the embedded default: no DATABASE_URL
        config = TestConfig(database_url="", data_dir=tmp_path / "data")
        upgrade_database(config.sqlalchemy_url)
    else:
        config = TestConfig(database_url=request.getfixturevalue("migrated_url"))
    if "stripe" in request.fixturenames:
        paying = request.getfixturevalue("payments_config")
        config = paying.replace(
            database_url=config.database_url,
            data_dir=config.data_dir if request.param == "sqlite" else paying.data_dir,
        )
    app = create_app(config)
    yield app
    services_of(app).close()


@pytest.fixture
def stripe(stripe_client: Any) -> Any:
    return stripe_client


def push(client: FlaskClient, terminal: EnrolledTerminal, events: list[dict[str, Any]]) -> Any:
    answer = client.post("/api/v1/sync/push", json=push_body(events), headers=terminal.headers)
    assert answer.status_code == 200, answer.json
    return answer.json["results"]


def answers(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A push's answers without what names the event (the ids differ by design)."""
    return [{k: v for k, v in r.items() if k != "event_id"} for r in results]


def sale(terminal: EnrolledTerminal, customer_id: str, name: str, email: str) -> dict[str, Any]:
    customer = {"id": customer_id, "name": name, "phone": "", "email": email}
    return order(
        terminal_code=terminal.terminal_code,
        clerk_id=terminal.clerk_id,
        lines=[("p1", 2), ("p2", 1)],
        customer=customer,
    )


def events_for(
    payload: dict[str, Any], refund_id: str, event_ids: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    paid = paid_event(payload)
    refund = refund_event(payload["id"], payload["lines"][0]["net"], lines=[(1, 2)])
    refund["payload"]["refund_id"] = refund_id
    if event_ids:
        paid["event_id"], refund["event_id"] = event_ids
    return [paid, refund]


def test_orders_refunds_and_customers_under_another_stores_ids_are_stored_as_fresh(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    order_id, refund_id, customer_id = (str(uuid.uuid4()) for _ in range(3))
    s1_sale = {**sale(shop.s1, customer_id, "Ada", "ada@example.com"), "id": order_id}
    s1_events = events_for(s1_sale, refund_id)
    assert [r["status"] for r in push(client, shop.s1, s1_events)] == ["accepted", "accepted"]

    # S2's answer for a sale, a refund and a customer of fresh ids …
    fresh = sale(shop.s2, str(uuid.uuid4()), "Bob", "bob@example.com")
    expected = answers(push(client, shop.s2, events_for(fresh, str(uuid.uuid4()))))
    assert [r["status"] for r in expected] == ["accepted", "accepted"]
    # … is exactly its answer for its own ones under S1's ids (even S1's event ids)
    s2_sale = {**sale(shop.s2, customer_id, "Bob", "bob@example.com"), "id": order_id}
    s1_event_ids = (s1_events[0]["event_id"], s1_events[1]["event_id"])
    s2_events = events_for(s2_sale, refund_id, s1_event_ids)
    assert answers(push(client, shop.s2, s2_events)) == expected
    # replays are duplicates for each store, about its own rows
    assert [r["status"] for r in push(client, shop.s2, s2_events)] == ["duplicate"] * 2
    assert [r["status"] for r in push(client, shop.s1, s1_events)] == ["duplicate"] * 2

    for terminal, own in ((shop.s1, s1_sale), (shop.s2, s2_sale)):
        got = client.get(f"/api/v1/orders/{order_id}", headers=terminal.headers)
        assert got.status_code == 200, got.json
        assert got.json["terminal_code"] == terminal.terminal_code
        assert got.json["receipt_no"] == own["receipt_no"]
        assert [ln["quantity"] for ln in got.json["lines"]] == [2, 1]
        pulled = pull_customers(client, terminal, customer_id)
        assert pulled[customer_id]["name"] == own["customer"]["name"]

    svc = services_of(app)
    with svc.sessions() as session:
        both = {shop.s1.store_id, shop.s2.store_id}
        for model, shared in ((Order, order_id), (OrderRefund, refund_id), (Customer, customer_id)):
            owners = session.scalars(
                select(model.store_id).where(model.id == uuid.UUID(shared))
            ).all()
            assert sorted(owners) == sorted(both), model
        for model in (OrderLine, Tender):
            lines = session.scalars(select(model).where(model.order_id == uuid.UUID(order_id)))
            assert {r.store_id for r in lines} == both
        # each customer got their own store's confirmation and refund receipt
        mails = sorted(
            (m.to_address, m.kind, m.store_id == shop.s1.store_id)
            for m in session.scalars(select(MailOutbox))
        )
        assert mails == [
            ("ada@example.com", "order_confirmation", True),
            ("ada@example.com", "refund_receipt", True),
            ("bob@example.com", "order_confirmation", False),
            ("bob@example.com", "order_confirmation", False),
            ("bob@example.com", "refund_receipt", False),
            ("bob@example.com", "refund_receipt", False),
        ]
        for code, terminal in (("S1", shop.s1), ("S2", shop.s2)):
            listed = [r for r in listing.list_orders(session, code) if r["id"] == order_id]
            assert [(r["terminal"], r["refunded_total"]) for r in listed] == [
                (terminal.terminal_code, s1_sale["lines"][0]["net"])
            ]


def pull_customers(client: FlaskClient, terminal: EnrolledTerminal, wanted: str) -> dict[str, Any]:
    """The customers a terminal pulls, once ``wanted`` is among them (on PostgreSQL a pull
    stops before any transaction still open — another test's, in another database)."""
    deadline = time.monotonic() + 10
    found: dict[str, Any] = {}
    cursor = ""
    while True:
        page = client.get(
            "/api/v1/sync/pull", query_string={"cursor": cursor}, headers=terminal.headers
        ).json
        for change in page["changes"]:
            if change["kind"] == "customer":
                found[change["data"]["id"]] = change["data"]
        cursor = page["next_cursor"]
        if not page["has_more"] and (wanted in found or time.monotonic() > deadline):
            return found


def intent_of(app: Flask, terminal: EnrolledTerminal, payment_id: str) -> str:
    with services_of(app).sessions() as session:
        payment = session.get_one(
            Payment, {"store_id": terminal.store_id, "id": uuid.UUID(payment_id)}
        )
        assert payment.stripe_payment_intent_id
        return payment.stripe_payment_intent_id


def test_a_payment_and_its_refund_under_another_stores_ids_are_stored_as_fresh(
    app: Flask, client: FlaskClient, shop: Shop, stripe: Any
) -> None:
    payment_id, order_id, refund_id = (str(uuid.uuid4()) for _ in range(3))
    s1_body = payment_body(order_id=order_id, payment_id=payment_id, amount=1250)
    mine = start(client, shop.s1, s1_body)
    assert mine.status_code == 200, mine.json

    fresh = start(client, shop.s2, payment_body(amount=990, email="bob@example.com"))
    s2_body = payment_body(
        order_id=order_id, payment_id=payment_id, amount=990, email="bob@example.com"
    )
    theirs = start(client, shop.s2, s2_body)  # was 409 payment_id_reused
    assert (theirs.status_code, sorted(theirs.json)) == (fresh.status_code, sorted(fresh.json))
    assert (theirs.json["status"], theirs.json["amount"]) == ("pending", 990)
    assert theirs.json["pay_url"] != mine.json["pay_url"]
    assert intent_of(app, shop.s2, payment_id) != intent_of(app, shop.s1, payment_id)

    pay_as_the_browser(stripe, intent_of(app, shop.s2, payment_id), VISA)
    for terminal, status, amount in ((shop.s2, "succeeded", 990), (shop.s1, "pending", 1250)):
        got = client.get(f"/api/v1/payments/{payment_id}", headers=terminal.headers)
        assert (got.json["status"], got.json["amount"]) == (status, amount), got.json
    # each pay page shows its own store's payment
    for body, store_name, amount in ((mine, "High Street", "12.50"), (theirs, "Harbour", "9.90")):
        path = re.sub(r"^https?://[^/]+", "", body.json["pay_url"])
        page = client.get(path).get_data(as_text=True)
        assert store_name in page and amount in page

    pay_as_the_browser(stripe, intent_of(app, shop.s1, payment_id), VISA)
    assert (
        client.get(f"/api/v1/payments/{payment_id}", headers=shop.s1.headers).json["status"]
        == "succeeded"
    )
    for terminal, amount in ((shop.s2, 400), (shop.s1, 500)):  # one refund id, two stores
        answer = client.post(
            f"/api/v1/payments/{payment_id}/refunds",
            json={"protocol_version": 1, "refund_id": refund_id, "amount": amount},
            headers=terminal.headers,
        )
        assert answer.status_code == 200, answer.json
        assert (answer.json["status"], answer.json["payment_amount_refunded"]) == (
            "succeeded",
            amount,
        )
    with services_of(app).sessions() as session:
        receipts = sorted(
            m.to_address
            for m in session.scalars(select(MailOutbox).where(MailOutbox.kind == "refund_receipt"))
        )
    assert receipts == ["ada@example.com", "bob@example.com"]
