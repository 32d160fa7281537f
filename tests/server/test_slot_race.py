"""Many concurrent bookers never overbook a slot: online bookings through the HTTP endpoint
and pushes of firm and provisional phone orders from several tills at once, each thread
with its own connection to a real server, on PostgreSQL and on SQLite."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from server.admin import service as admin
from server.app import create_app
from server.config import TestConfig
from server.db import unit_of_work, upgrade_database
from server.models import DeliverySlot, PhoneOrder, SlotAllotment, SlotBooking
from tests.server.builders import push_body
from tests.server.conftest import enroll_terminal, served_on_loopback, services_of
from tests.server.phone_builders import customer_event, phone_order_event, tomorrow_at

CAPACITY = 20


@pytest.fixture(params=["postgresql", "sqlite"])
def race_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "sqlite":
        config = TestConfig(database_url="", data_dir=tmp_path / "data")
        upgrade_database(config.sqlalchemy_url)
    else:
        config = TestConfig(database_url=request.getfixturevalue("migrated_url"))
    app = create_app(config)
    yield app
    services_of(app).close()


def test_concurrent_online_bookings_and_pushes_never_overbook(race_app: Flask) -> None:
    app = race_app
    client = app.test_client()
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.create_store(session, "S1", "High Street")
        slot_id = str(
            admin.add_delivery_slot(
                session, store, tomorrow_at(10), timedelta(hours=2), CAPACITY
            ).id
        )
    tills = [enroll_terminal(app, client, "S1", f"T0{n}") for n in (1, 2, 3)]
    web = tills[2]  # never pulls: its share of the slot stays free for the online path
    for till in tills[:2]:
        assert client.get("/api/v1/sync/pull", headers=till.headers).status_code == 200
    customers = {}
    for till in tills[:2]:
        customer = customer_event()
        body = push_body([customer])
        assert client.post("/api/v1/sync/push", json=body, headers=till.headers).status_code == 200
        customers[till.terminal_id] = customer["payload"]["id"]

    created: list[int] = []
    placed: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def book_online(url: str) -> None:
        with requests.Session() as http:  # its own connection
            start.wait()
            for _ in range(8):
                response = http.post(
                    f"{url}/api/v1/delivery-slots/{slot_id}/bookings",
                    json={"booking_id": str(uuid.uuid4()), "units": 1},
                    headers=web.headers,
                    timeout=60,
                )
                with lock:
                    if response.status_code == 201:
                        created.append(1)
                    elif response.status_code != 409 or response.json()["error"] != "slot_full":
                        failures.append(f"{response.status_code} {response.text[:200]}")

    def push_orders(url: str, till: Any, status: str) -> None:
        with requests.Session() as http:
            start.wait()
            for _ in range(3):
                events = [
                    phone_order_event(customers[till.terminal_id], slot_id, status=status)
                    for _ in range(2)
                ]
                response = http.post(
                    f"{url}/api/v1/sync/push",
                    json=push_body(events),
                    headers=till.headers,
                    timeout=60,
                )
                with lock:
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        continue
                    for result in response.json()["results"]:
                        if result["status"] != "accepted":
                            failures.append(str(result))
                    placed.extend(e["payload"]["id"] for e in events)

    with served_on_loopback(app) as url:
        threads = [threading.Thread(target=book_online, args=(url,)) for _ in range(4)]
        threads += [
            threading.Thread(target=push_orders, args=(url, till, status))
            for till in tills[:2]
            for status in ("firm", "provisional")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert not failures
    with unit_of_work(services_of(app).sessions) as session:
        slot = session.get_one(DeliverySlot, uuid.UUID(slot_id))
        bookings = session.scalar(
            select(func.coalesce(func.sum(SlotBooking.units), 0)).where(
                SlotBooking.slot_id == slot.id, SlotBooking.released_at.is_(None)
            )
        )
        statuses = dict(
            session.execute(
                select(PhoneOrder.booking_status, func.count()).group_by(PhoneOrder.booking_status)
            ).all()
        )
        held = session.scalar(
            select(func.sum(SlotAllotment.allotted_total - SlotAllotment.used)).where(
                SlotAllotment.slot_id == slot.id
            )
        )
    # 32 online attempts and 24 pushed orders for 20 places: exactly the capacity is booked
    assert slot.booked == bookings == CAPACITY - slot.held
    assert slot.held == held
    assert len(created) + statuses.get("firm", 0) + statuses.get("confirmed", 0) == slot.booked
    assert statuses.get("unplaced", 0) == len(placed) - statuses.get("firm", 0) - statuses.get(
        "confirmed", 0
    )
    assert slot.booked <= CAPACITY and slot.booked + slot.held == CAPACITY
