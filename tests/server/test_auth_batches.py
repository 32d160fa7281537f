"""The authorisation matrix for pushes: an event of store S2 whose target is an order of store
S1 changes nothing of S1's, alone or in one batch with S2's own ``order.paid`` under that
order's id (the batch that used to refund another store's order), on PostgreSQL and on the
embedded SQLite server. Ids are the store's own: another store using an id learns nothing,
and S2's own order under the id is simply S2's (migration 0009)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.admin import service as admin
from server.app import create_app
from server.config import TestConfig
from server.db import unit_of_work, upgrade_database
from server.models import (
    Customer,
    CustomerAddress,
    DeliverySlot,
    Flag,
    MailOutbox,
    Order,
    OrderRefund,
    PhoneOrder,
    StockLevel,
    SyncConflict,
    SyncEvent,
)
from server.orders.service import OrderBatch, RefundOrder, VoidOrder
from server.terminals.auth import authenticate
from sync.protocol import OrderRefundPayload, OrderVoidPayload
from tests.server.builders import order, paid_event, push_body, void_event
from tests.server.conftest import EnrolledTerminal, Shop, services_of
from tests.server.phone_builders import (
    customer_event,
    phone_order_event,
    picked_event,
    tomorrow_at,
    transition_event,
)
from tests.server.test_refunds import refund_event


@pytest.fixture(params=["postgresql", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "sqlite":  # the embedded default: no DATABASE_URL
        config = TestConfig(database_url="", data_dir=tmp_path / "data")
        upgrade_database(config.sqlalchemy_url)
    else:
        config = TestConfig(database_url=request.getfixturevalue("migrated_url"))
    app = create_app(config)
    yield app
    services_of(app).close()


def push(client: FlaskClient, terminal: EnrolledTerminal, events: list[dict[str, Any]]) -> Any:
    answer = client.post("/api/v1/sync/push", json=push_body(events), headers=terminal.headers)
    assert answer.status_code == 200, answer.json
    return answer.json["results"]


def store_state(app: Flask, store_id: uuid.UUID) -> dict[str, Any]:
    """Everything of a store that a push of another store could have touched."""
    with services_of(app).sessions() as session:
        return {
            "orders": sorted(
                (str(o.id), o.status, o.refunded_total, o.content_hash)
                for o in session.scalars(select(Order).where(Order.store_id == store_id))
            ),
            "refunds": session.scalar(select(func.count()).where(OrderRefund.store_id == store_id)),
            "mail": sorted(
                (m.kind, m.to_address, m.dedupe_key)
                for m in session.scalars(select(MailOutbox).where(MailOutbox.store_id == store_id))
            ),
            "stock": sorted(
                (s.product_id, s.quantity)
                for s in session.scalars(select(StockLevel).where(StockLevel.store_id == store_id))
            ),
            "flags": session.scalar(select(func.count()).where(Flag.store_id == store_id)),
        }


@pytest.fixture
def s1_order(client: FlaskClient, shop: Shop) -> dict[str, Any]:
    """A sale of store S1 with a customer e-mail address (a refund of it would be mailed)."""
    payload = order(
        clerk_id=shop.s1.clerk_id,
        lines=[("p1", 3), ("p2", 1)],
        unit_prices={"p1": 101, "p2": 102},
        customer={"id": str(uuid.uuid4()), "name": "Ada", "phone": "", "email": "ada@example.com"},
    )
    (answer,) = push(client, shop.s1, [paid_event(payload)])
    assert answer["status"] == "accepted"
    return payload


def s2_copy_of(payload: dict[str, Any], shop: Shop) -> dict[str, Any]:
    """S2's own order under S1's order id (its clerk, its till): stored as S2's."""
    return {**payload, "clerk_id": shop.s2.clerk_id, "terminal_code": "T02"}


def aimed_at(kind: str, payload: dict[str, Any], shop: Shop) -> dict[str, Any]:
    """S2's event of ``kind`` whose target is S1's order."""
    if kind == "order.paid":
        return paid_event(s2_copy_of(payload, shop))
    if kind == "order.voided":
        return void_event(payload["id"])
    return refund_event(payload["id"], payload["total"], lines=[(1, 3), (2, 1)])


# S2's order under S1's id is S2's own; a void or refund of an order S2 never placed is of an
# unknown order. With S2's own order.paid first in the batch, the target is that order of S2.
EXPECTED = {
    "order.paid": ("accepted", None),
    "order.voided": ("rejected", "unknown_order"),
    "order.refunded": ("rejected", "unknown_order"),
}
EXPECTED_AFTER_OWN_ORDER = {
    "order.paid": ("duplicate", None),  # the same order twice in one batch
    "order.voided": ("accepted", None),
    "order.refunded": ("accepted", None),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
@pytest.mark.parametrize("mixed", [False, True], ids=["alone", "with-conflicting-order.paid"])
def test_event_aimed_at_another_stores_order_changes_nothing_of_it(
    app: Flask,
    client: FlaskClient,
    shop: Shop,
    s1_order: dict[str, Any],
    kind: str,
    mixed: bool,
) -> None:
    before = store_state(app, shop.s1.store_id)
    events = [aimed_at(kind, s1_order, shop)]
    if mixed:  # S2 first places its own order under S1's order id, in the same batch
        events.insert(0, paid_event(s2_copy_of(s1_order, shop)))
    expected = (EXPECTED_AFTER_OWN_ORDER if mixed else EXPECTED)[kind]
    for sent in range(2):  # sent again: answered the same, still nothing of S1's changed
        results = push(client, shop.s2, events)
        status, reason = expected
        if sent and status == "accepted":
            status = "duplicate"
        assert (results[-1]["status"], results[-1]["reason"]) == (status, reason), results
        if mixed:
            assert results[0]["status"] == ("duplicate" if sent else "accepted")
        assert store_state(app, shop.s1.store_id) == before
    # S1's own refund of all of it still fits, and S1's customer gets S1's receipt only
    (own,) = push(client, shop.s1, [refund_event(s1_order["id"], s1_order["total"])])
    assert own["status"] == "accepted", own
    with services_of(app).sessions() as session:
        refunds = session.scalars(
            select(OrderRefund).where(OrderRefund.store_id == shop.s1.store_id)
        ).all()
        assert [(str(r.order_id), r.store_id) for r in refunds] == [
            (s1_order["id"], shop.s1.store_id)
        ]
        mails = session.scalars(
            select(MailOutbox).where(
                MailOutbox.kind == "refund_receipt", MailOutbox.to_address == "ada@example.com"
            )
        )
        assert sorted(str(m.store_id) for m in mails) == sorted(
            [str(shop.s1.store_id)]
            + ([str(shop.s2.store_id)] if mixed and kind == "order.refunded" else [])
        )


def test_void_and_refund_of_another_stores_order_are_refused_even_past_the_checks(
    app: Flask, client: FlaskClient, shop: Shop, s1_order: dict[str, Any]
) -> None:
    """The writes themselves take only the caller's orders (a batch of another store may
    take an order id between the checks and the writes)."""
    before = store_state(app, shop.s1.store_id)
    svc = services_of(app)
    with svc.sessions() as session, session.begin():
        s2 = authenticate(session, f"Bearer {shop.s2.token}")
        batch = OrderBatch(session, s2, svc.catalog(session))
        refund = refund_event(s1_order["id"], 101, lines=[(1, 1)])["payload"]
        void = void_event(s1_order["id"])["payload"]
        outcomes = batch.apply(
            [
                RefundOrder(0, OrderRefundPayload.model_validate(refund), uuid.uuid4()),
                VoidOrder(1, OrderVoidPayload.model_validate(void)),
            ]
        )
        batch.settle()
    assert sorted((o.key, o.status, o.reason) for o in outcomes) == [
        (0, "rejected", "unknown_order"),
        (1, "rejected", "unknown_order"),
    ]
    assert store_state(app, shop.s1.store_id) == before


def test_an_event_id_of_another_store_is_taken_as_new(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    mine = paid_event(order(clerk_id=shop.s1.clerk_id, lines=[("p3", 1)]))
    (first,) = push(client, shop.s1, [mine])
    assert first["status"] == "accepted"
    theirs = {
        **paid_event(order(terminal_code="T02", lines=[("p3", 1)])),
        "event_id": mine["event_id"],
    }
    (answer,) = push(client, shop.s2, [theirs])
    assert answer["status"] == "accepted", answer  # not "conflict": nothing of S1 is revealed
    (again,) = push(client, shop.s1, [mine])
    assert again["status"] == "duplicate"
    with services_of(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(SyncConflict)) == 0
        assert sorted(session.scalars(select(SyncEvent.store_id))) == sorted(
            [shop.s1.store_id, shop.s2.store_id]
        )


# ------------------------------------------------------------------ phone orders (issue 13)


def phone_state(app: Flask, store_id: uuid.UUID) -> dict[str, Any]:
    """Everything of a store's phone orders another store's push could have touched."""
    with services_of(app).sessions() as session:
        return {
            "customers": sorted(
                (str(c.id), c.name, c.phone, c.email, c.updated_at.isoformat())
                for c in session.scalars(select(Customer).where(Customer.store_id == store_id))
            ),
            "addresses": sorted(
                (str(a.id), a.line1, a.postcode)
                for a in session.scalars(
                    select(CustomerAddress).where(CustomerAddress.store_id == store_id)
                )
            ),
            "orders": sorted(
                (str(o.id), o.state, o.version, o.actual_total, str(o.slot_id))
                for o in session.scalars(select(PhoneOrder).where(PhoneOrder.store_id == store_id))
            ),
            "slots": sorted(
                (str(s.id), s.booked, s.held)
                for s in session.scalars(
                    select(DeliverySlot).where(DeliverySlot.store_id == store_id)
                )
            ),
            "mail": session.scalar(select(func.count()).where(MailOutbox.store_id == store_id)),
        }


@pytest.fixture
def s1_phone_order(app: Flask, client: FlaskClient, shop: Shop) -> dict[str, Any]:
    """Store S1's customer, slot and phone order (in picking)."""
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        slot = admin.add_delivery_slot(session, store, tomorrow_at(10), timedelta(hours=2), 5)
        slot_id = str(slot.id)
    customer = customer_event()
    placed = phone_order_event(customer["payload"]["id"], slot_id, status="provisional")
    oid = placed["payload"]["id"]
    answers = push(
        client, shop.s1, [customer, placed, transition_event(oid, "received", "picking")]
    )
    assert [a["status"] for a in answers] == ["accepted"] * 3
    return {"customer": customer["payload"], "slot_id": slot_id, "order": placed["payload"]}


def phone_aimed_at(kind: str, s1: dict[str, Any]) -> dict[str, Any]:
    """S2's event of ``kind`` whose target is S1's customer, slot or phone order."""
    oid = s1["order"]["id"]
    if kind == "customer.saved":  # S1's customer id, S2's details: S2's own customer
        return customer_event(s1["customer"]["id"], name="Mallory", email="m@example.com")
    if kind == "phone_order.placed":
        return phone_order_event(s1["customer"]["id"], s1["slot_id"], status="firm")
    if kind == "phone_order.transitioned":
        return transition_event(oid, "picking", "cancelled", "not yours")
    return picked_event(oid, 900)


PHONE_EXPECTED = {
    "phone_order.placed": ("rejected", "unknown_customer"),
    "phone_order.transitioned": ("rejected", "unknown_order"),
    "phone_order.picked": ("rejected", "unknown_order"),
    "customer.saved": ("accepted", None),
}
# After S2's own customer.saved under S1's customer id: the customer is S2's, the slot still
# S1's; the orders are still S1's alone.
PHONE_EXPECTED_AFTER_OWN_CUSTOMER = {
    **PHONE_EXPECTED,
    "phone_order.placed": ("rejected", "unknown_slot"),
}


def test_phone_events_aimed_at_another_stores_customer_order_or_slot_change_nothing_of_it(
    app: Flask, client: FlaskClient, shop: Shop, s1_phone_order: dict[str, Any]
) -> None:
    """Each kind alone, then after S2's own customer.saved under S1's customer id, each
    batch sent twice (the second time answered the same, or as a duplicate)."""
    before = phone_state(app, shop.s1.store_id)
    for mixed in (False, True):
        for kind in PHONE_EXPECTED:  # customer.saved last: it gives S2 the customer id
            events = [phone_aimed_at(kind, s1_phone_order)]
            if mixed:
                events.insert(0, customer_event(s1_phone_order["customer"]["id"], name="Eve"))
            status, reason = (PHONE_EXPECTED_AFTER_OWN_CUSTOMER if mixed else PHONE_EXPECTED)[kind]
            for sent in range(2):
                results = push(client, shop.s2, events)
                expected = "duplicate" if sent and status == "accepted" else status
                assert (results[-1]["status"], results[-1]["reason"]) == (expected, reason), (
                    kind,
                    mixed,
                    results,
                )
                assert phone_state(app, shop.s1.store_id) == before, (kind, mixed)
    # S2's pull shows none of S1's phone orders, slots or allotments
    changes = client.get("/api/v1/sync/pull", headers=shop.s2.headers).json["changes"]  # type: ignore[index]
    assert not [
        c for c in changes if c["kind"] in ("phone_order", "delivery_slot", "slot_allotment")
    ]
