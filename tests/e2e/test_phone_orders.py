"""Phone orders end to end, on both server configurations: taken offline, they arrive exactly
once through a faulty network and a till killed mid-push; two offline tills booking past
their allotments never overbook a slot; transitions reach every till, and one overtaken by
another till is refused on the till that tried it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.bootstrap import open_terminal
from app.domain.cart import Cart
from app.domain.delivery import (
    Address,
    BookingStatus,
    FulfilmentState,
    PaymentMethod,
    Substitution,
)
from app.domain.order import SyncState
from app.services.phone_orders import (
    CustomerDraft,
    PhoneOrderDraft,
    offer_slots,
    phone_queue,
    place_phone_order,
    reconcile_list,
    transition_phone_order,
)
from server.admin import service as admin
from server.config import TestConfig
from server.db import make_engine, make_session_factory, unit_of_work
from sync.engine import ConnectionState

from . import sync_child
from .conftest import POSTGRESQL
from .harness import ROOT
from .proxy import FaultProxy

ADDRESS = Address(
    id="",
    label="home",
    line1="1 Quay Street",
    line2="",
    postcode="D02 X285",
    city="Dublin",
    country="IE",
    notes="ring twice",
)


def add_slot(backend, capacity: int, days: int, hour: int) -> str:
    """A delivery slot of the demo store, made by the server's own admin function (what
    `shopsmart-server slot add` runs) in this process."""
    url = backend.database if backend.kind == POSTGRESQL else f"sqlite:///{backend.database}"
    engine = make_engine(TestConfig(database_url=url).sqlalchemy_url, pool_size=1)
    starts = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            store = admin.store_by_code(session, "DEMO")
            slot = admin.add_delivery_slot(
                session, store, starts + timedelta(days=days), timedelta(hours=2), capacity
            )
            return str(slot.id)
    finally:
        engine.dispose()


def cart_with_a_weighed_item(till) -> tuple[Cart, int, str]:
    """Two lines: something sold by weight (about 750 g) and something by the unit; the
    weighed line's id and a product to substitute it with."""
    with till.terminal.read() as uow:
        products = [p for d in uow.products.departments() for p in uow.products.in_department(d)]
    weighed = next(p for p in products if p.by_weight)
    other = next(p for p in products if not p.by_weight)
    substitute = next(p for p in products if p.by_weight and p.id != weighed.id)
    cart = Cart().add(weighed, 750).add(other, 2)
    return cart, cart.lines[0].line_id, substitute.id


def take_order(till, slot_id: str, *, name: str, phone: str) -> str:
    """A phone order for a new customer into ``slot_id``; its id."""
    cart, weighed_line, substitute = cart_with_a_weighed_item(till)
    draft = PhoneOrderDraft(
        customer_id="",
        address_id="",
        cart=cart,
        choices={weighed_line: (Substitution.SPECIFIC, substitute, "ripe ones")},
        note="leave at the door",
        slot_id=slot_id,
        payment_method=PaymentMethod.DOOR_CASH,
        new_customer=CustomerDraft(
            name=name,
            phone=phone,
            email=f"{name.split()[0].lower()}@example.com",
            addresses=(ADDRESS,),
        ),
    )
    t = till.terminal
    return place_phone_order(t.uow(), t.ids, t.clock, t.store, till.clerk, draft).id


def offer(till, slot_id: str):
    return next(o for o in offers_of(till) if o.slot.id == slot_id)


def offers_of(till) -> list:
    return offer_slots(till.terminal.uow(), till.terminal.clock, 2, 750, ADDRESS)


def sync_until(tills, settled, tries: int = 20) -> None:
    """Sync ``tills`` until ``settled()``: a pull serves a change only once every older
    transaction on the server has ended (server/sync/changes.py), so a slot can reach a till
    a pull later than it was made."""
    for _ in range(tries):
        sync(*tills)
        if settled():
            return
        time.sleep(0.1)
    raise AssertionError(f"not settled after {tries} syncs")


def test_phone_order_taken_offline_arrives_once_through_faults_and_a_killed_till(
    backend, make_till
):
    slot_id = add_slot(backend, capacity=6, days=2, hour=10)
    proxy = FaultProxy(backend.server.port)
    try:
        till = make_till("T01", via=proxy.url)
        assert till.engine.run_once().state is ConnectionState.ONLINE  # catalog, slots, allotment
        sync_until([till], lambda: any(o.slot.id == slot_id for o in offers_of(till)))
        assert offer(till, slot_id).firm  # one till: the whole slot is its allotment

        proxy.mode = "refuse"  # the network is down
        order_id = take_order(till, slot_id, name="Ada Lovelace", phone="087 123 4567")
        down = till.engine.run_once(force=True)
        assert (down.state, down.waiting) == (ConnectionState.OFFLINE, 2)  # customer, order

        proxy.mode = "drop_answer"  # the server commits, the answer is lost
        assert till.engine.run_once(force=True).state is ConnectionState.OFFLINE
        assert backend.sql("SELECT count(*) FROM phone_orders") == [(1,)]

        data_dir = till.terminal.data_dir
        till.close()
        proxy.mode = "hold_push_answer"  # a till process in the middle of its push …
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.sync_child", str(data_dir), "10", "500", proxy.url],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert proxy.held.wait(timeout=60), "the till never pushed"
        os.kill(child.pid, signal.SIGKILL)  # … killed while the server's answer is on its way
        assert child.wait(timeout=30) == -signal.SIGKILL
        proxy.release.set()
        proxy.mode = "pass"
        assert sync_child.main(data_dir, 10, 500, proxy.url) == 0  # restarted: converges
    finally:
        proxy.close()

    assert backend.sql("SELECT id::text, booking_status, state FROM phone_orders") == [
        (order_id, "firm", "received")
    ]
    [(customer_id, name, phone)] = backend.sql("SELECT id::text, name, phone FROM customers")
    assert (name, phone) == ("Ada Lovelace", "+353871234567")
    assert backend.sql("SELECT count(*) FROM customer_addresses") == [(1,)]
    assert backend.sql(
        "SELECT slot_id::text, units, status FROM slot_bookings WHERE order_id::text = %s", order_id
    ) == [(slot_id, 1, "firm")]
    assert backend.sql("SELECT booked FROM delivery_slots WHERE id::text = %s", slot_id) == [(1,)]
    [(substitution, substitute, note)] = backend.sql(
        "SELECT substitution, substitute_product_id, note FROM phone_order_lines "
        "WHERE sold_by = 'weight'"
    )
    assert (substitution, note) == ("specific", "ripe ones") and substitute
    terminal = open_terminal(data_dir)
    try:
        [order] = phone_queue(terminal.uow())
        assert (order.id, order.booking_status, order.sync_state) == (
            order_id,
            BookingStatus.FIRM,
            SyncState.ACKNOWLEDGED,
        )
        assert order.customer.id == customer_id
    finally:
        terminal.close()


def sync(*tills) -> None:
    for till in tills:
        status = till.engine.run_once(force=True)
        assert status.state is ConnectionState.ONLINE, status.reason


@pytest.fixture
def network(backend):
    """Both tills reach the server through one proxy: ``refuse`` is their outage."""
    proxy = FaultProxy(backend.server.port)
    yield proxy
    proxy.close()


def test_two_offline_tills_never_overbook_and_transitions_reach_every_till(
    backend, make_till, network
):
    slot_id = add_slot(backend, capacity=2, days=3, hour=10)
    t1, t2 = make_till("T01", via=network.url), make_till("T02", via=network.url)

    def halves() -> list[int | None]:
        return [
            next((o.remaining_allotment for o in offers_of(t) if o.slot.id == slot_id), None)
            for t in (t1, t2)
        ]

    # allotments settle once each till has pulled the slot and the other's share
    sync_until([t1, t2], lambda: halves() == [1, 1])
    assert (offer(t1, slot_id).remaining_allotment, offer(t2, slot_id).remaining_allotment) == (
        1,
        1,
    )

    network.mode = "refuse"  # both tills offline: each books its allotment and one more
    firm_1 = take_order(t1, slot_id, name="Ada Lovelace", phone="087 123 4567")
    extra_1 = take_order(t1, slot_id, name="Bob Byrne", phone="087 222 3333")
    firm_2 = take_order(t2, slot_id, name="Cara Doyle", phone="087 444 5555")
    extra_2 = take_order(t2, slot_id, name="Dan Egan", phone="087 666 7777")
    with t1.terminal.read() as uow:
        assert uow.phone_orders.get(extra_1).booking_status is BookingStatus.PROVISIONAL
    later_slot = add_slot(backend, capacity=1, days=3, hour=14)  # one place left that day
    network.mode = "pass"
    sync(t1, t2, t1, t2)

    booked = dict(backend.sql("SELECT id::text, booked FROM delivery_slots"))
    assert booked[slot_id] == 2 and booked[later_slot] == 1  # capacity holds
    statuses = dict(backend.sql("SELECT id::text, booking_status FROM phone_orders"))
    assert statuses == {
        firm_1: "firm",
        firm_2: "firm",
        extra_1: "moved",  # pushed first: the one place left that day
        extra_2: "unplaced",  # nothing left: staff phone the customer
    }
    mailed = backend.sql("SELECT to_address FROM mail_outbox WHERE kind = 'slot_moved'")
    assert mailed == [("bob@example.com",)]  # the moved customer is told
    # both tills show why: the moved order (from which slot, where to) and the unplaced one
    for till in (t1, t2):
        queue = {o.id: o for o in phone_queue(till.terminal.uow())}
        assert queue[extra_1].booking_status is BookingStatus.MOVED
        assert queue[extra_1].slot_id == later_slot
        assert queue[extra_1].moved_from_slot_id == slot_id
        assert queue[extra_2].booking_status is BookingStatus.UNPLACED
        # staff on either till phone the customers: the phone and the script are there
        assert {o.id for o in reconcile_list(till.terminal.uow())} == {extra_1, extra_2}

    # a transition made on one till reaches the other; the other's overtaken one is refused
    network.mode = "refuse"
    t = t1.terminal
    transition_phone_order(t.uow(), t.ids, t.clock, t1.clerk, firm_1, FulfilmentState.PICKING)
    t = t2.terminal
    transition_phone_order(
        t.uow(), t.ids, t.clock, t2.clerk, firm_1, FulfilmentState.CANCELLED, "customer rang"
    )
    network.mode = "pass"
    sync(t1)
    refused = t2.engine.run_once(force=True)
    assert refused.rejected == 1
    sync(t2)
    assert backend.sql("SELECT state FROM phone_orders WHERE id::text = %s", firm_1) == [
        ("picking",)
    ]
    with t2.terminal.read() as uow:
        seen = uow.phone_orders.get(firm_1)
    assert seen.state is FulfilmentState.PICKING  # the server's state, pulled
    assert seen.sync_state is SyncState.REJECTED  # and why the cancel did not happen
    assert "already picking" in seen.sync_error and "another till" in seen.sync_error
    with t1.terminal.read() as uow:
        mine = uow.phone_orders.get(firm_1)
    assert (mine.state, mine.sync_state) == (FulfilmentState.PICKING, SyncState.ACKNOWLEDGED)
