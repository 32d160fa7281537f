"""Phone orders on the server: allotments, firm and provisional bookings, moves and their
e-mails, transitions, picking, and the REST endpoints of issue 13."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from server.admin import service as admin
from server.db import make_engine, unit_of_work
from server.models import DeliverySlot, MailOutbox, SlotAllotment
from server.request_log import redact_path
from tests.server.builders import push_body
from tests.server.conftest import (
    EnrolledTerminal,
    Shop,
    enroll_terminal,
    served_on_loopback,
    services_of,
)
from tests.server.phone_builders import (
    customer_event,
    phone_order_event,
    picked_event,
    tomorrow_at,
    transition_event,
)
from tests.server.test_cli import cli_env, run  # noqa: F401  (cli_env: a fixture)

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def add_slot(app: Flask, hour: int, capacity: int, **rules: Any) -> str:
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        slot = admin.add_delivery_slot(
            session, store, tomorrow_at(hour), timedelta(hours=2), capacity, **rules
        )
        return str(slot.id)


def push(client: FlaskClient, who: EnrolledTerminal, *events: dict[str, Any]) -> list[Any]:
    response = client.post(PUSH, json=push_body(list(events)), headers=who.headers)
    assert response.status_code == 200, response.json
    results: list[Any] = response.json["results"]  # type: ignore[index]
    return results


def pull(
    client: FlaskClient, who: EnrolledTerminal, cursor: str = "", pending: bool = False
) -> tuple[list[Any], str]:
    changes: list[Any] = []
    while True:
        response = client.get(
            PULL,
            query_string={"cursor": cursor, "bookings_pending": str(pending).lower()},
            headers=who.headers,
        )
        assert response.status_code == 200, response.json
        body: Any = response.json
        changes += body["changes"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return changes, cursor


def latest(changes: list[Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for change in changes:
        if change["kind"] == kind:
            data = change["data"]
            found[data.get("id") or data.get("slot_id")] = data
    return found


def slot_row(app: Flask, slot_id: str) -> DeliverySlot:
    with unit_of_work(services_of(app).sessions) as session:
        row = session.get_one(DeliverySlot, uuid.UUID(slot_id))
        session.expunge(row)
        return row


def mails(app: Flask, kind: str) -> list[MailOutbox]:
    with unit_of_work(services_of(app).sessions) as session:
        rows = session.scalars(select(MailOutbox).where(MailOutbox.kind == kind)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_a_pull_allots_the_free_places_and_a_firm_booking_within_it_is_honoured(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=5)
    other = enroll_terminal(app, client, "S1", "T03")
    changes, _ = pull(client, shop.s1)
    mine = latest(changes, "slot_allotment")[slot]
    assert mine["terminal_id"] == shop.s1.terminal_id
    ids = sorted([shop.s1.terminal_id, other.terminal_id])
    assert mine["allotted_total"] == (3 if ids[0] == shop.s1.terminal_id else 2)
    assert latest(changes, "delivery_slot")[slot]["free"] == 5 - mine["allotted_total"]
    customer = customer_event()
    order = phone_order_event(customer["payload"]["id"], slot, status="firm")
    assert [r["status"] for r in push(client, shop.s1, customer, order)] == ["accepted"] * 2
    row = slot_row(app, slot)
    assert (row.booked, row.held) == (1, mine["allotted_total"] - 1)
    seen, _ = pull(client, other)
    queued = latest(seen, "phone_order")[order["payload"]["id"]]
    assert queued["booking_status"] == "firm"
    assert queued["state"] == "received"
    assert queued["customer"]["name"] == "Aoife Byrne"
    assert latest(seen, "customer")[customer["payload"]["id"]]["addresses"][0]["city"] == "Dublin"
    (confirmed,) = mails(app, "phone_order_confirmed")
    assert confirmed.to_address == "aoife@example.com"
    for told in ("Bananas", "charged by the weight picked", "1 Quay Street", "cash at the door"):
        assert told in confirmed.text_body
    dublin = ZoneInfo("Europe/Dublin")  # the store's time zone (the default)
    assert f"{tomorrow_at(10).astimezone(dublin):%H:%M}" in confirmed.text_body  # the slot
    # the other store sees none of it
    theirs, _ = pull(client, shop.s2)
    assert not [c for c in theirs if c["kind"] in ("phone_order", "customer", "slot_allotment")]


def test_provisional_bookings_are_confirmed_while_places_last_then_moved_then_unplaced(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    full = add_slot(app, 10, capacity=1)
    later_same_day = add_slot(app, 14, capacity=1)
    customer = customer_event()
    cid = customer["payload"]["id"]
    first = phone_order_event(cid, full, status="provisional", booked_at=tomorrow_at(1))
    second = phone_order_event(cid, full, status="provisional", booked_at=tomorrow_at(2))
    third = phone_order_event(cid, full, status="provisional", booked_at=tomorrow_at(3))
    # sent in reverse: the server still goes by booking time
    results = push(client, shop.s1, customer, third, second, first)
    assert [r["status"] for r in results] == ["accepted"] * 4
    changes, _ = pull(client, shop.s1)
    orders = latest(changes, "phone_order")
    assert orders[first["payload"]["id"]]["booking_status"] == "confirmed"
    moved = orders[second["payload"]["id"]]
    assert (moved["booking_status"], moved["slot_id"], moved["moved_from_slot_id"]) == (
        "moved",
        later_same_day,
        full,
    )
    unplaced = orders[third["payload"]["id"]]
    assert (unplaced["booking_status"], unplaced["slot_id"]) == ("unplaced", None)
    assert slot_row(app, full).booked == 1 and slot_row(app, later_same_day).booked == 1
    told = mails(app, "slot_moved")
    assert len(told) == 1 and "Now:" in told[0].text_body


def test_a_lowered_allotment_is_announced_first_and_freed_only_once_the_till_has_seen_it(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=4)
    _, cursor = pull(client, shop.s1)
    assert slot_row(app, slot).held == 4
    enroll_terminal(app, client, "S1", "T03")  # a second till: T01's share shrinks
    changes, _ = pull(client, shop.s1, cursor, pending=True)
    assert latest(changes, "slot_allotment")[slot]["allotted_total"] == 2  # told at once …
    assert slot_row(app, slot).held == 4  # … but the places stay held
    _, cursor2 = pull(client, shop.s1, cursor, pending=True)
    assert slot_row(app, slot).held == 4  # bookings may still be on their way
    pull(client, shop.s1, cursor2, pending=False)
    assert slot_row(app, slot).held == 2


def test_a_firm_booking_past_a_stale_allotment_is_still_honoured(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=2)
    pull(client, shop.s1)  # T01 holds both places
    customer = customer_event()
    cid = customer["payload"]["id"]
    results = push(
        client,
        shop.s1,
        customer,
        phone_order_event(cid, slot, status="firm"),
        phone_order_event(cid, slot, status="firm"),
    )
    assert [r["status"] for r in results] == ["accepted"] * 3
    row = slot_row(app, slot)
    assert (row.booked, row.held) == (2, 0)
    with unit_of_work(services_of(app).sessions) as session:
        used = session.scalar(select(SlotAllotment.used).where(SlotAllotment.slot_id == row.id))
    assert used == 2


def test_transitions_refuse_illegal_and_overtaken_moves_and_reach_every_till(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=3)
    other = enroll_terminal(app, client, "S1", "T03")
    customer = customer_event()
    order = phone_order_event(customer["payload"]["id"], slot, status="provisional")
    oid = order["payload"]["id"]
    push(client, shop.s1, customer, order)
    _, cursor = pull(client, other)
    illegal = push(client, shop.s1, transition_event(oid, "received", "delivered"))
    assert illegal[0]["status"] == "rejected"
    assert illegal[0]["reason"] == "illegal_transition"
    assert "delivered" in illegal[0]["message"]
    assert push(client, shop.s1, transition_event(oid, "received", "picking"))[0]["status"] == (
        "accepted"
    )
    overtaken = push(client, other, transition_event(oid, "received", "cancelled", "phoned"))
    assert overtaken[0]["reason"] == "transition_overtaken"
    assert "picking" in overtaken[0]["message"]
    changes, _ = pull(client, other, cursor)
    assert latest(changes, "phone_order")[oid]["state"] == "picking"
    # cancelling gives the place back
    booked = slot_row(app, slot).booked
    assert (
        push(client, other, transition_event(oid, "picking", "cancelled", "out of stock"))[0][
            "status"
        ]
        == "accepted"
    )
    assert slot_row(app, slot).booked == booked - 1


def test_picking_is_rechecked_with_the_sale_arithmetic(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=3)
    customer = customer_event()
    order = phone_order_event(customer["payload"]["id"], slot, status="provisional")
    oid = order["payload"]["id"]
    push(client, shop.s1, customer, order, transition_event(oid, "received", "picking"))
    wrong = push(client, shop.s1, picked_event(oid, 1100, total_delta=1))
    assert wrong[0]["reason"] == "picked_totals_mismatch"
    pick = picked_event(oid, 1100)
    assert push(client, shop.s1, pick)[0]["status"] == "accepted"
    changes, _ = pull(client, shop.s1)
    data = latest(changes, "phone_order")[oid]
    assert data["actual_total"] == pick["payload"]["total"]
    assert [line["quantity"] for line in data["picked"]] == [2, 1100]


def test_an_order_for_another_stores_customer_or_slot_is_refused(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=3)
    customer = customer_event()
    push(client, shop.s1, customer)
    theirs = push(client, shop.s2, phone_order_event(customer["payload"]["id"], slot))
    assert theirs[0]["reason"] == "unknown_customer"
    own = customer_event()
    refused = push(client, shop.s2, own, phone_order_event(own["payload"]["id"], slot))
    assert [r["status"] for r in refused] == ["accepted", "rejected"]
    assert refused[1]["reason"] == "unknown_slot"
    assert slot_row(app, slot).booked == 0


# ---------------------------------------------------------------------------------- REST


def test_booking_endpoint_books_until_full_then_answers_409_and_release_frees(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=2)
    url = f"/api/v1/delivery-slots/{slot}/bookings"
    ids = [str(uuid.uuid4()) for _ in range(3)]
    codes = [
        client.post(url, json={"booking_id": b, "units": 1}, headers=shop.s1.headers).status_code
        for b in ids
    ]
    assert codes == [201, 201, 409]
    full = client.post(url, json={"booking_id": ids[2], "units": 1}, headers=shop.s1.headers)
    assert full.json["error"] == "slot_full"  # type: ignore[index]
    again = client.post(url, json={"booking_id": ids[0], "units": 1}, headers=shop.s1.headers)
    assert again.status_code == 201  # a replay books nothing more
    assert slot_row(app, slot).booked == 2
    released = client.delete(f"{url}/{ids[0]}", headers=shop.s1.headers)
    assert released.status_code == 200 and released.json["released_at"]  # type: ignore[index]
    assert client.delete(f"{url}/{ids[0]}", headers=shop.s1.headers).status_code == 200
    assert slot_row(app, slot).booked == 1
    listed = client.get("/api/v1/delivery-slots", headers=shop.s1.headers).json
    assert [s["slot"]["free"] for s in listed["slots"]] == [1]  # type: ignore[index]
    # another store's terminal cannot see, book or release the slot
    assert (
        client.post(
            url, json={"booking_id": ids[1], "units": 1}, headers=shop.s2.headers
        ).status_code
        == 404
    )
    assert client.delete(f"{url}/{ids[1]}", headers=shop.s2.headers).status_code == 404
    assert client.get("/api/v1/delivery-slots", headers=shop.s2.headers).json == {"slots": []}


def test_customer_and_phone_order_endpoints_are_store_scoped(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot = add_slot(app, 10, capacity=3)
    customer = customer_event(phone="+353871234567", name="Aoife Byrne")
    cid = customer["payload"]["id"]
    order = phone_order_event(cid, slot, status="provisional")
    oid = order["payload"]["id"]
    push(client, shop.s1, customer, order)
    found = client.get(
        "/api/v1/customers", query_string={"phone": "353 87"}, headers=shop.s1.headers
    ).json
    assert [c["id"] for c in found["customers"]] == [cid]  # type: ignore[index]
    assert client.get(f"/api/v1/customers/{cid}", headers=shop.s2.headers).status_code == 404
    assert client.get(
        "/api/v1/customers", query_string={"q": "aoife"}, headers=shop.s2.headers
    ).json == {"customers": []}
    body = {
        **customer["payload"],
        "name": "Aoife Ní Bhroin",
        "updated_at": "2030-01-01T00:00:00+00:00",
    }
    put = client.put(f"/api/v1/customers/{cid}", json=body, headers=shop.s1.headers)
    assert put.status_code == 200 and put.json["name"] == "Aoife Ní Bhroin"  # type: ignore[index]
    queue = client.get(
        "/api/v1/phone-orders", query_string={"state": "received"}, headers=shop.s1.headers
    ).json
    assert [o["id"] for o in queue["orders"]] == [oid]  # type: ignore[index]
    assert client.get(f"/api/v1/phone-orders/{oid}", headers=shop.s2.headers).status_code == 404
    url = f"/api/v1/phone-orders/{oid}/transitions"
    step = {"transition_id": str(uuid.uuid4()), "from_state": "received", "to_state": "picking"}
    moved = client.post(url, json=step, headers=shop.s1.headers)
    assert moved.status_code == 200 and moved.json["state"] == "picking"  # type: ignore[index]
    stale = {**step, "transition_id": str(uuid.uuid4()), "to_state": "cancelled"}
    refused = client.post(url, json=stale, headers=shop.s1.headers)
    assert refused.status_code == 409
    assert refused.json["error"] == "transition_overtaken"  # type: ignore[index]
    assert (
        client.post(
            url, json={**step, "transition_id": str(uuid.uuid4())}, headers=shop.s2.headers
        ).status_code
        == 404
    )


def test_customer_search_terms_never_reach_a_log_line(
    app: Flask, shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """werkzeug's request line (the embedded server) and gunicorn's query atom both go
    through redact_path: the phone and name searched for are cut out."""
    with caplog.at_level(logging.INFO, logger="werkzeug"), served_on_loopback(app) as url:
        answer = requests.get(
            f"{url}/api/v1/customers",
            params={"phone": "+353871234567", "q": "Aoife Byrne", "limit": 5},
            headers=shop.s1.headers,
            timeout=30,
        )
    assert answer.status_code == 200
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/api/v1/customers?phone=[redacted]&q=[redacted]&limit=5" in line for line in lines)
    assert not [line for line in lines if "871234567" in line or "Aoife" in line]
    assert redact_path("phone=%2B353871234567&q=Aoife&limit=5") == (
        "phone=[redacted]&q=[redacted]&limit=5"
    )


@pytest.mark.usefixtures("cli_env")
def test_operator_adds_a_slot_with_its_rules_and_lists_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "store", "create", "--code", "S7", "--name", "Quay")[0] == 0
    starts = tomorrow_at(9).strftime("%Y-%m-%dT%H:%M")
    code, out, _ = run(
        capsys,
        "slot",
        "add",
        "--store",
        "S7",
        "--starts-at",
        starts,
        "--capacity",
        "40",
        "--unit",
        "items",
        "--cutoff-minutes",
        "120",
        "--lead-time-minutes",
        "60",
        "--max-weight-g",
        "80000",
        "--postcodes",
        "D02, D04",
    )
    assert code == 0, out
    slot_id = out.split()[1]
    code, listed, _ = run(capsys, "slot", "list", "--store", "S7")
    assert code == 0
    (line,) = listed.splitlines()
    assert line.startswith(slot_id)
    for part in (
        "40 items",
        "free 40",
        "cut-off 120 min",
        "lead time 60 min",
        "80000 g",
        "D02,D04",
    ):
        assert part in line
    code, _, err = run(
        capsys, "slot", "add", "--store", "S7", "--starts-at", "tomorrow", "--capacity", "1"
    )
    assert code == 1 and "--starts-at" in err
    code, _, err = run(
        capsys, "slot", "add", "--store", "S7", "--starts-at", starts, "--capacity", "-1"
    )
    assert (code, err) == (1, "error: capacity must not be negative")


def test_a_provisional_booking_for_a_slot_already_started_is_moved(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        started = admin.add_delivery_slot(
            session, store, datetime.now(UTC) - timedelta(minutes=10), timedelta(hours=2), 5
        )
        started_id = str(started.id)
    tomorrow = add_slot(app, 10, capacity=5)
    customer = customer_event()
    order = phone_order_event(customer["payload"]["id"], started_id, status="provisional")
    push(client, shop.s1, customer, order)
    changes, _ = pull(client, shop.s1)
    placed = latest(changes, "phone_order")[order["payload"]["id"]]
    assert (placed["booking_status"], placed["slot_id"]) == ("moved", tomorrow)
    assert slot_row(app, started_id).booked == 0


def test_a_database_error_never_carries_a_customers_details(tmp_path: Path) -> None:
    """What an unhandled database error would write to the log names no parameter."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE people (phone TEXT PRIMARY KEY)"))
            connection.execute(text("INSERT INTO people VALUES (:p)"), {"p": "+353871234567"})
            with pytest.raises(IntegrityError) as raised:
                connection.execute(text("INSERT INTO people VALUES (:p)"), {"p": "+353871234567"})
    finally:
        engine.dispose()
    assert "871234567" not in str(raised.value)
