"""Phone orders on the till's real SQLite: taken offline, booked firm or provisional against
this till's allotment, queued for the server in the same transaction, changed by what the
server says on the next pull, and never half-written."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from app.domain.cart import Cart
from app.domain.delivery import (
    Address,
    BookingStatus,
    FulfilmentState,
    PaymentMethod,
    PickedLine,
    PickStatus,
    Substitution,
)
from app.domain.errors import IllegalTransition, InvalidInput
from app.domain.order import SyncState, TenderInput, TenderKind
from app.domain.product import SoldBy
from app.domain.shift import CashCount
from app.domain.sync import TERMINAL_ID_SETTING
from app.services.phone_orders import (
    CustomerDraft,
    PhoneOrderDraft,
    complete_delivery,
    delivery_note,
    find_customers,
    mark_customer_told,
    offer_slots,
    pick_list,
    place_phone_order,
    read_back,
    reconcile_list,
    reconcile_script,
    record_picking,
    save_customer,
    transition_phone_order,
)
from app.services.shifts import open_shift
from local_db.engine import DB_FILENAME
from local_db.phone_orders import CUSTOMERS_BY_PHONE
from local_db.sync_store import SqliteSyncStore
from local_db.uow import SqliteUnitOfWork
from sync import protocol as p
from sync.engine import SyncEngine
from sync.wire import encode_event
from tests.fakes import FakeServerTransport, StepClock

from .conftest import BANANAS, MILK, WINE

OWN_TERMINAL = "0190f1c2-0000-7000-8000-00000000a001"
OTHER_TERMINAL = "0190f1c2-0000-7000-8000-00000000a002"
SLOT_1 = "0190f1c2-0000-7000-8000-00000000d001"
SLOT_2 = "0190f1c2-0000-7000-8000-00000000d002"
HOME = Address("", "home", "1 Main Street", "", "D02 X285", "Dublin", "IE", "ring twice")


def _slot(slot_id, starts, **fields):
    data = {
        "id": slot_id,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "capacity": 10,
        "booked": 0,
        "active": True,
        "cutoff_minutes": 60,
        "lead_time_minutes": 30,
        "free": 4,
    }
    data.update(fields)
    return {"cursor": "x", "kind": "delivery_slot", "data": data}


def _allotment(slot_id, terminal_id, allotted):
    return {
        "cursor": "x",
        "kind": "slot_allotment",
        "data": {
            "slot_id": slot_id,
            "terminal_id": terminal_id,
            "allotted_total": allotted,
            "used": 0,
        },
    }


class Shop:
    """A till with a clock standing still, a transport answering like the server and the
    engine between them; ``pull(*changes)`` has the engine pull a page of those changes."""

    def __init__(self, terminal, clock):
        self.terminal = terminal
        self.clock = clock
        self.transport = FakeServerTransport()
        store = SqliteSyncStore(terminal.database.writer)
        self.engine = SyncEngine(store, lambda: self.transport, clock, rng=random.Random(1))
        # the fake serves page n at cursor n: the pages this till already pulled come first
        for _ in range(int(store.cursor() or 0)):
            self.transport.pages.append(p.PullResponse(changes=[], next_cursor="", has_more=False))

    def pull(self, *changes):
        self.transport.pages.append(
            p.PullResponse.model_validate(
                {
                    "changes": list(changes),
                    "next_cursor": str(len(self.transport.pages) + 1),
                    "has_more": False,
                }
            )
        )
        self.engine.run_once(force=True)

    def __iter__(self):
        return iter((self.terminal, self.clock, self.transport, self.engine, self.pull))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One till built for the module (migrated, the sample products, the clerk Maria, this
    till's terminal id, two slots tomorrow pulled with this till's allotments: 1 order of
    slot 1, 5 items of slot 2); each test gets a copy of its files."""
    from app.bootstrap import open_terminal
    from app.domain.clerk import Role
    from app.services.clerks import create_clerk

    from .conftest import SAMPLE_PRODUCTS

    data_dir = tmp_path_factory.mktemp("phone") / "till"
    terminal = open_terminal(data_dir)
    with terminal.uow() as uow:
        uow.products.upsert_many(SAMPLE_PRODUCTS)
        uow.settings.put(TERMINAL_ID_SETTING, OWN_TERMINAL)
        uow.commit()
    clerk = create_clerk(terminal.uow(), "Maria", "2468", Role.CLERK, terminal.ids)
    clock = StepClock(terminal.clock.now().replace(microsecond=0))
    tomorrow = clock.now() + timedelta(days=1)
    Shop(terminal, clock).pull(
        _slot(SLOT_1, tomorrow),
        _slot(SLOT_2, tomorrow + timedelta(hours=3), unit="items", postcode_prefixes=["D02"]),
        _allotment(SLOT_1, OWN_TERMINAL, 1),
        _allotment(SLOT_1, OTHER_TERMINAL, 3),
        _allotment(SLOT_2, OWN_TERMINAL, 5),
    )
    terminal.checkpoint()
    terminal.close()
    return data_dir, clerk, clock.now()


@pytest.fixture
def shop(template, tmp_path):
    from app.bootstrap import open_terminal

    source, _clerk, now = template
    shutil.copytree(source, tmp_path / "till")
    terminal = open_terminal(tmp_path / "till")
    yield Shop(terminal, StepClock(now))
    terminal.close()


@pytest.fixture
def clerk(template):
    return template[1]


def outbox(terminal) -> list[tuple[str, dict]]:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        rows = db.execute("SELECT event_type, payload FROM outbox ORDER BY seq").fetchall()
    return [(kind, json.loads(body)) for kind, body in rows]


def weighed_draft(slot_id=SLOT_1, **fields):
    cart = Cart().add(MILK, 2).add(BANANAS, 900)
    values = {
        "customer_id": "",
        "address_id": "",
        "cart": cart,
        "choices": {2: (Substitution.SPECIFIC, WINE.id, "ripe ones")},
        "note": "leave at the side door",
        "slot_id": slot_id,
        "payment_method": PaymentMethod.CARD_LINK,
        "new_customer": CustomerDraft(
            name="Ada Byrne", phone="087 123 4567", email="ada@example.com", addresses=(HOME,)
        ),
    }
    values.update(fields)
    return PhoneOrderDraft(**values)


def test_an_offline_order_for_a_new_customer_queues_the_customer_then_the_order(shop, clerk):
    terminal, clock, *_ = shop
    said = read_back(terminal.read(), terminal.store, weighed_draft()).text
    assert (
        "0.900 kg × Bananas, loose (estimated weight) — if out of stock: a specific product" in said
    )
    assert "To: 1 Main Street, D02 X285 Dublin, IE (ring twice)" in said
    assert "authorised for up to €4.47" in said  # 3.88 + 15 % = 4.462, rounded up
    assert "Estimated total: €3.88" in said and "provisional" not in said
    assert "Order for Ada Byrne, +353871234567" in said  # the number as it will be saved
    wrong = replace(weighed_draft().new_customer, phone="087 12")
    with pytest.raises(InvalidInput, match="too few digits"):
        read_back(terminal.read(), terminal.store, weighed_draft(new_customer=wrong))
    order = place_phone_order(
        terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
    )
    assert order.booking_status is BookingStatus.FIRM  # within this till's allotment of 1
    assert order.order_no == "T01-P000001"
    assert order.lines[1].substitution is Substitution.SPECIFIC
    assert order.lines[1].substitute_product_id == WINE.id
    events = outbox(terminal)
    assert [kind for kind, _ in events] == ["customer.saved", "phone_order.placed"]
    push = p.PushRequest.model_validate(
        {"protocol_version": p.PROTOCOL_VERSION, "events": [body for _, body in events]}
    )
    customer, placed = (event.payload for event in push.events)
    assert customer.phone == "+353871234567"
    assert placed.customer_id == customer.id
    assert placed.booking.status == "firm" and placed.booking.units == 1
    assert placed.booking.weight_g == 900
    assert placed.estimated_total == 2 * 109 + 170  # 1.89/kg × 0.9 kg = 1.701 → 1.70
    found = find_customers(terminal.read(), "087 123", "IE")
    assert [c.id for c in found] == [order.customer.id]
    assert found[0].addresses[0].notes == "ring twice"
    assert [c.name for c in find_customers(terminal.read(), "byrne", "IE")] == ["Ada Byrne"]


def test_an_order_past_the_allotment_is_booked_provisional(shop, clerk):
    terminal, clock, *_ = shop
    first = place_phone_order(
        terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
    )
    offers = {
        o.slot.id: o for o in offer_slots(terminal.read(), clock, 3, 900, first.address, days=3)
    }
    assert offers[SLOT_1].remaining_allotment == 0 and not offers[SLOT_1].firm
    assert offers[SLOT_2].firm and offers[SLOT_2].units == 3
    draft = weighed_draft(customer_id=first.customer.id, new_customer=None)
    assert "provisional" in read_back(terminal.read(), terminal.store, draft).text
    second = place_phone_order(terminal.uow(), terminal.ids, clock, terminal.store, clerk, draft)
    assert second.booking_status is BookingStatus.PROVISIONAL
    assert second.order_no == "T01-P000002"
    placed = outbox(terminal)[-1][1]["payload"]
    assert placed["booking"]["status"] == "provisional"
    # its place is taken off the free count this till shows until the server's word
    again = {o.slot.id: o for o in offer_slots(terminal.read(), clock, 3, 900, first.address)}
    assert again[SLOT_1].free == offers[SLOT_1].free - 1
    # cancelling the firm order gives its place back to this till's allotment
    transition_phone_order(
        terminal.uow(),
        terminal.ids,
        clock,
        clerk,
        first.id,
        FulfilmentState.CANCELLED,
        "the customer phoned back",
    )
    freed = {o.slot.id: o for o in offer_slots(terminal.read(), clock, 3, 900, first.address)}
    assert freed[SLOT_1].remaining_allotment == 1 and freed[SLOT_1].firm
    # an items slot counts a weighed line as one item: 2 milk + 1 bananas = 3 of 5, firm
    third = place_phone_order(
        terminal.uow(),
        terminal.ids,
        clock,
        terminal.store,
        clerk,
        weighed_draft(SLOT_2, customer_id=first.customer.id, new_customer=None),
    )
    assert third.booking_status is BookingStatus.FIRM


def test_slots_past_their_cut_off_are_neither_offered_nor_booked(shop, clerk):
    terminal, clock, *_ = shop
    clock.moment += timedelta(days=1, minutes=-59)  # 59 minutes before slot 1 starts
    offered = [o.slot.id for o in offer_slots(terminal.read(), clock, 3, 0, HOME)]
    assert offered == [SLOT_2]
    with pytest.raises(InvalidInput, match="cut-off") as caught:
        place_phone_order(
            terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
        )
    assert caught.value.field == "slot_id"
    assert outbox(terminal) == []


def test_a_failure_mid_save_leaves_nothing_half_written(shop, clerk):
    terminal, clock, *_ = shop

    def encode(event):
        encoded = encode_event(event)
        if encoded.event_type == "phone_order.placed":
            raise OSError("disk gone")  # after the customer, order and booking were written
        return encoded

    def failing_uow():
        return SqliteUnitOfWork(terminal.database.writer, terminal.store.taxes, encode)

    with pytest.raises(OSError):
        place_phone_order(
            failing_uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
        )
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        for table in (
            "customers",
            "customer_addresses",
            "phone_orders",
            "phone_order_lines",
            "slot_bookings",
            "outbox",
        ):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    order = place_phone_order(
        terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
    )
    assert order.order_no == "T01-P000001"  # the failed save took no number
    assert order.booking_status is BookingStatus.FIRM  # nor any of the allotment


def server_order(order, **fields):
    """The order as the server would send it in a pull."""
    placed = next(body["payload"] for kind, body in order if kind == "phone_order.placed")
    data = {
        "id": placed["id"],
        "order_no": placed["order_no"],
        "terminal_code": placed["terminal_code"],
        "clerk_id": placed["clerk_id"],
        "clerk_name": placed["clerk_name"],
        "customer": {"id": placed["customer_id"], "name": "Ada Byrne", "phone": "+353871234567"},
        "address": placed["address"],
        "lines": placed["lines"],
        "booking_id": placed["booking"]["booking_id"],
        "booking_status": placed["booking"]["status"],
        "slot_id": placed["booking"]["slot_id"],
        "state": "received",
        "version": 1,
        "payment_method": placed["payment_method"],
        "estimated_total": placed["estimated_total"],
        "currency": placed["currency"],
        "created_at": placed["created_at"],
        "updated_at": placed["created_at"],
    }
    data.update(fields)
    return {"cursor": "x", "kind": "phone_order", "data": data}


def test_pulled_changes_apply_and_the_servers_state_wins(shop, clerk):
    terminal, clock, transport, _engine, pull = shop
    place_phone_order(terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft())
    provisional = place_phone_order(
        terminal.uow(),
        terminal.ids,
        clock,
        terminal.store,
        clerk,
        weighed_draft(customer_id=outbox(terminal)[0][1]["payload"]["id"], new_customer=None),
    )
    events = outbox(terminal)
    moved_to = clock.now() + timedelta(days=1, hours=3)
    customer_id = provisional.customer.id
    pull(
        server_order(
            events[-1:],
            booking_status="moved",
            slot_id=SLOT_2,
            moved_from_slot_id=SLOT_1,
            slot_starts_at=moved_to.isoformat(),
            moved_from_starts_at=(moved_to - timedelta(hours=3)).isoformat(),
            version=2,
        ),
        {
            "cursor": "x",
            "kind": "customer",
            "data": {
                "id": customer_id,
                "name": "Ada Byrne-Walsh",
                "phone": "+353871234567",
                "addresses": [
                    {
                        "id": str(uuid.uuid4()),
                        "line1": "9 Quay Road",
                        "postcode": "D04 A1B2",
                        "city": "Dublin",
                        "country": "IE",
                    }
                ],
                "updated_at": (clock.now() + timedelta(seconds=5)).isoformat(),
            },
        },
        {
            "cursor": "x",
            "kind": "slot_allotment",
            "data": {
                "slot_id": SLOT_1,
                "terminal_id": OWN_TERMINAL,
                "allotted_total": 2,
                "used": 1,
            },
        },
    )
    assert all(eid in transport.stored for eid in [e[1]["event_id"] for e in events])
    (moved,) = reconcile_list(terminal.read())
    assert moved.id == provisional.id and moved.booking_status is BookingStatus.MOVED
    assert moved.slot_id == SLOT_2 and moved.moved_from_slot_id == SLOT_1
    assert moved.sync_state is SyncState.ACKNOWLEDGED
    script = reconcile_script(moved)
    assert "your order T01-P000002" in script and "instead of" in script
    mark_customer_told(terminal.uow(), moved.id)
    assert reconcile_list(terminal.read()) == []
    (customer,) = find_customers(terminal.read(), "+35387", "IE")
    assert customer.name == "Ada Byrne-Walsh" and customer.addresses[0].postcode == "D04 A1B2"
    offers = {o.slot.id: o for o in offer_slots(terminal.read(), clock, 1, 0, HOME)}
    assert offers[SLOT_1].remaining_allotment == 1  # 2 allotted, 1 firm booking of its own


def test_a_transition_the_server_refuses_shows_its_reason_on_the_order(shop, clerk):
    terminal, clock, transport, engine, _pull = shop
    order = place_phone_order(
        terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
    )
    engine.run_once(force=True)
    with pytest.raises(IllegalTransition, match="received cannot become delivered"):
        transition_phone_order(
            terminal.uow(), terminal.ids, clock, clerk, order.id, FulfilmentState.DELIVERED
        )
    moved = transition_phone_order(
        terminal.uow(), terminal.ids, clock, clerk, order.id, FulfilmentState.PICKING
    )
    assert (moved.state, moved.version, moved.sync_state) == (
        FulfilmentState.PICKING,
        2,
        SyncState.QUEUED,
    )
    transport.reject_ids.add(outbox(terminal)[-1][1]["event_id"])
    engine.run_once(force=True)
    (refused,) = [o for o in find_queue(terminal) if o.id == order.id]
    assert refused.sync_state is SyncState.REJECTED
    assert "lines do not add up" in refused.sync_error  # the server's words, on the order
    assert refused.state is FulfilmentState.RECEIVED  # undone on this till


def find_queue(terminal):
    from app.services.phone_orders import phone_queue

    return phone_queue(terminal.read())


def test_picking_lighter_and_a_substitute_then_delivery_is_a_phone_sale(shop, clerk):
    terminal, clock, *_ = shop
    order = place_phone_order(
        terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
    )
    transition_phone_order(
        terminal.uow(), terminal.ids, clock, clerk, order.id, FulfilmentState.PICKING
    )
    sheet = pick_list(terminal.read(), SLOT_1)
    assert [g.department for g in sheet.groups] == ["Dairy & Eggs", "Fruit & Vegetables"]
    picked = record_picking(
        terminal.uow(),
        terminal.ids,
        clock,
        terminal.store,
        clerk,
        order.id,
        [
            PickedLine(
                1,
                PickStatus.PICKED,
                MILK.id,
                MILK.sku,
                MILK.name,
                SoldBy.EACH,
                2,
                109,
                "food",
                0,
                0,
            ),
            PickedLine(
                2,
                PickStatus.PICKED,
                BANANAS.id,
                BANANAS.sku,
                BANANAS.name,
                SoldBy.WEIGHT,
                812,
                189,
                "food",
                0,
                0,
            ),
        ],
    )
    assert picked.actual_total == 218 + 153  # 1.89 × 0.812 = 1.53468 → 1.53
    assert [line.net for line in picked.picked] == [218, 153]
    pick_event = outbox(terminal)[-1]
    assert pick_event[0] == "phone_order.picked" and pick_event[1]["payload"]["total"] == 371
    for state in (FulfilmentState.READY, FulfilmentState.OUT_FOR_DELIVERY):
        transition_phone_order(terminal.uow(), terminal.ids, clock, clerk, order.id, state)
    assert "Total: €3.71" in delivery_note(terminal.read(), order.id).text
    shift = open_shift(
        terminal.uow(),
        terminal.ids,
        clock,
        terminal.store,
        clerk,
        CashCount.from_counts("EUR", {1000: 5}),
    )
    sale = complete_delivery(
        terminal.uow(),
        terminal.ids,
        clock,
        terminal.store,
        clerk,
        order.id,
        [TenderInput(TenderKind.CASH, 500)],
    )
    assert sale.id == order.id and sale.total == 371 and sale.extra["kind"] == "phone"
    assert sale.shift_id == shift.id  # the door's cash is in the drawer's shift
    kinds = [kind for kind, _ in outbox(terminal)]
    assert kinds[-2:] == ["phone_order.transitioned", "order.paid"]
    push = p.PushRequest.model_validate(
        {"protocol_version": p.PROTOCOL_VERSION, "events": [b for _, b in outbox(terminal)]}
    )
    assert push.events[-1].payload.kind == "phone"
    (done,) = find_queue(terminal)
    assert done.state is FulfilmentState.DELIVERED


def test_a_customer_is_found_by_phone_among_100_000_in_well_under_5_ms(shop):
    """One range of the phone index, not a scan: the median look-up stays far below 5 ms on a
    loaded machine (the p99 is measured in bench/, where nothing else runs)."""
    terminal = shop.terminal
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) "
            "INSERT INTO customers (id, name, name_key, phone, email, deleted, notes, updated_at)"
            " SELECT printf('c%06d', i), 'Customer ' || i, 'customer ' || i,"
            " printf('+3538%08d', i), '', 0, '', '' FROM n"
        )
        (plan,) = db.execute(
            "EXPLAIN QUERY PLAN " + CUSTOMERS_BY_PHONE, ("+3538", "+3539", 20)
        ).fetchall()
    assert "USING INDEX ix_customers_phone" in plan[3]
    timings = []
    rng = random.Random(13)
    with terminal.read() as uow:
        for _ in range(200):
            wanted = rng.randrange(100_000)
            started = time.perf_counter()
            found = uow.customers.by_phone_prefix(f"+3538{wanted:08d}", 20)
            timings.append(time.perf_counter() - started)
            assert [c.id for c in found] == [f"c{wanted:06d}"]
        started = time.perf_counter()
        assert len(uow.customers.by_phone_prefix("+35380000", 20)) == 20  # a partial number
        timings.append(time.perf_counter() - started)
    timings.sort()
    median = timings[len(timings) // 2]
    assert median < 0.002, f"median {median * 1000:.2f} ms, p99 {timings[-3] * 1000:.2f} ms"


def test_the_pull_says_bookings_are_pending_while_an_order_waits_to_be_pushed(shop, clerk):
    """An order saved after the push went out is still waiting when the pull goes out:
    that pull says so (the server keeps the allotment the order was booked against); the
    next run pushes it and pulls without."""
    terminal, clock, transport, _engine, _pull = shop
    place_phone_order(terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft())
    saved: list[str] = []

    def a_clerk_saves_an_order_meanwhile():  # on the engine's thread, between push and pull
        if not saved:
            draft = weighed_draft(customer_id=outbox(terminal)[0][1]["payload"]["id"])
            order = place_phone_order(
                terminal.uow(),
                terminal.ids,
                clock,
                terminal.store,
                clerk,
                replace(draft, new_customer=None),
            )
            saved.append(order.id)
        return False  # nothing for this run to push again

    engine = SyncEngine(
        SqliteSyncStore(terminal.database.writer),
        lambda: transport,
        clock,
        rng=random.Random(1),
        after_push=a_clerk_saves_an_order_meanwhile,
    )
    engine.run_once(force=True)
    assert transport.bookings_pending == [True]
    engine.run_once(force=True)
    assert transport.bookings_pending == [True, False]
    assert not SqliteSyncStore(terminal.database.writer).bookings_pending()


def test_a_pull_older_than_this_tills_waiting_change_keeps_that_change(shop, clerk):
    """The server's word wins, but not over a move this till made that is still on its
    way: a pulled version older than it brings the server's payment news and keeps the
    till's state until the server has the move."""
    from sync.engine import page_from_response

    terminal, clock, _transport, engine, _pull = shop
    order = place_phone_order(
        terminal.uow(), terminal.ids, clock, terminal.store, clerk, weighed_draft()
    )
    engine.run_once(force=True)
    placed = outbox(terminal)
    transition_phone_order(
        terminal.uow(), terminal.ids, clock, clerk, order.id, FulfilmentState.PICKING
    )
    stale = server_order(placed, payment_status="authorised", authorised_amount=450)
    store = SqliteSyncStore(terminal.database.writer)
    store.apply_pull(
        page_from_response(
            p.PullResponse.model_validate(
                {"changes": [stale], "next_cursor": "", "has_more": False}
            )
        )
    )
    (mine,) = find_queue(terminal)
    assert (mine.state, mine.version, mine.sync_state) == (
        FulfilmentState.PICKING,
        2,
        SyncState.QUEUED,
    )
    assert (mine.payment_status, mine.authorised_amount) == ("authorised", 450)


def test_a_customer_is_found_by_the_number_as_the_caller_says_it(shop):
    terminal, clock, *_ = shop
    saved = save_customer(
        terminal.uow(),
        terminal.ids,
        clock,
        CustomerDraft("Ada Byrne", "087 123 4567", addresses=(HOME,)),
        country="IE",
    )
    save_customer(
        terminal.uow(),
        terminal.ids,
        clock,
        CustomerDraft("Bo Lane", "+44 20 7946 0958", addresses=(HOME,)),
        country="IE",
    )
    for typed in ("0871234567", "087 123", "(087) 123-45", "+353 87 123", "00353871"):
        found = find_customers(terminal.read(), typed, "IE")
        assert [c.id for c in found] == [saved.id], typed
    assert find_customers(terminal.read(), "0871239", "IE") == []
