"""The sync engine against the real SQLite store and a scripted transport.

The transport here is a test double that answers like the server would (per-event results,
pages with cursors) or fails on cue; the end-to-end tests in tests/e2e use the real server.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import timedelta

import pytest

from app.domain.cart import Cart
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from local_db.engine import DB_FILENAME
from local_db.sync_store import SqliteSyncStore
from sync import protocol as p
from sync.engine import BACKOFF_CAP_S, ConnectionState, SyncEngine, backoff_delay
from sync.errors import AuthFailed, ServerUnreachable
from tests.fakes import FakeServerTransport, StepClock

from .conftest import MILK, WINE


@pytest.fixture
def sales(terminal, clerk):
    def make(count: int) -> list[str]:
        ids = []
        for _ in range(count):
            order = complete_sale(
                terminal.uow(),
                Cart().add(MILK),
                [TenderInput(TenderKind.CASH, 200)],
                clerk,
                terminal.store,
                terminal.clock,
                terminal.ids,
            )
            ids.append(order.id)
        return ids

    return make


@pytest.fixture
def engine_parts(terminal):
    transport = FakeServerTransport()
    clock = StepClock(terminal.clock.now())
    store = SqliteSyncStore(terminal.database.writer)
    engine = SyncEngine(store, lambda: transport, clock, rng=random.Random(1), push_batch=50)
    return engine, transport, clock, store


def sync_states(terminal) -> dict[str, int]:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        return dict(db.execute("SELECT sync_state, count(*) FROM orders GROUP BY sync_state"))


def test_backlog_goes_in_bounded_batches_in_order_and_is_acknowledged(
    engine_parts, sales, terminal
):
    engine, transport, _, _ = engine_parts
    ids = sales(120)
    status = engine.run_once()
    assert status.state is ConnectionState.ONLINE
    assert (status.waiting, status.rejected) == (0, 0)
    assert transport.batches == [50, 50, 20]
    assert list(transport.stored) == ids  # outbox order
    assert sync_states(terminal) == {"acknowledged": 120}


def test_rejected_event_waits_for_a_manager_and_never_blocks_the_rest(
    engine_parts, sales, terminal
):
    engine, transport, _, store = engine_parts
    ids = sales(5)
    transport.reject_ids = {ids[1]}
    status = engine.run_once()
    assert (status.waiting, status.rejected) == (0, 1)
    assert set(transport.stored) == set(ids) - {ids[1]}
    (rejected,) = store.rejected_events()
    assert rejected.event_id == ids[1]
    assert "inconsistent_totals" in rejected.last_error and "do not add up" in rejected.last_error
    with terminal.read() as uow:
        assert uow.orders.get(ids[1]).sync_state.value == "rejected"
    # A manager fixes the cause and resends: it goes through.
    transport.reject_ids.clear()
    store.resend(ids[1])
    assert engine.run_once().rejected == 0
    assert sync_states(terminal) == {"acknowledged": 5}


def test_batch_refused_whole_is_split_until_the_bad_event_is_alone(engine_parts, sales):
    engine, transport, _, store = engine_parts
    ids = sales(8)
    transport.refuse_batches_with = {ids[5]}
    status = engine.run_once()
    assert (status.waiting, status.rejected) == (0, 1)
    assert set(transport.stored) == set(ids) - {ids[5]}
    assert store.rejected_events()[0].event_id == ids[5]


def test_replayed_answers_count_as_done(engine_parts, sales, terminal):
    engine, transport, _, _ = engine_parts
    ids = sales(3)
    transport.stored = {eid: {} for eid in ids}  # the server already has them (lost answer)
    assert engine.run_once().waiting == 0
    assert sync_states(terminal) == {"acknowledged": 3}


def test_outage_keeps_everything_queued_and_backs_off(engine_parts, sales, terminal):
    engine, transport, clock, _ = engine_parts
    sales(3)
    transport.fail_next = [ServerUnreachable("cannot reach the server")]
    status = engine.run_once()
    assert status.state is ConnectionState.OFFLINE
    assert status.reason == "cannot reach the server"
    assert status.waiting == 3
    assert sync_states(terminal) == {"queued": 3}  # tried, no answer: waiting, not "sent"
    assert engine.run_once() == status  # inside the backoff window: no request
    assert transport.batches == []
    clock.moment = status.next_attempt_at + timedelta(seconds=1)
    assert engine.run_once().state is ConnectionState.ONLINE
    assert sync_states(terminal) == {"acknowledged": 3}


def test_revoked_token_stops_sync_but_keeps_every_sale(engine_parts, sales, terminal):
    engine, transport, clock, _ = engine_parts
    sales(2)
    transport.fail_next = [AuthFailed("the server refused this till's token: revoked")]
    status = engine.run_once()
    assert status.state is ConnectionState.AUTH_FAILED
    assert (status.next_attempt_at - clock.now()).total_seconds() >= BACKOFF_CAP_S
    sales(1)  # selling goes on
    assert engine.refresh_counts().waiting == 3


def test_backoff_grows_with_jitter_up_to_the_cap():
    rng = random.Random(3)
    delays = [backoff_delay(n, rng) for n in range(1, 15)]
    assert all(0 < d <= BACKOFF_CAP_S for d in delays)
    assert delays[0] <= 2.0 and delays[-1] >= BACKOFF_CAP_S / 2
    many = {round(backoff_delay(8, random.Random(seed)), 3) for seed in range(50)}
    assert len(many) > 40  # tills reconnecting together spread out
    assert backoff_delay(1, rng, retry_after=30) >= 30


def product_change(cursor: int, sku: str, price: int, deleted=False, pid=None):
    return {
        "kind": "product",
        "cursor": str(cursor),
        "data": {
            "id": pid or f"srv-{sku}",
            "sku": sku,
            "name": f"Server {sku}",
            "unit_price": price,
            "tax_class": "food",
            "sold_by": "each",
            "barcodes": [],
            "deleted": deleted,
        },
    }


def test_pull_applies_pages_with_their_cursor_and_resumes_after_a_crash(engine_parts, terminal):
    engine, transport, clock, store = engine_parts
    transport.pages = [
        p.PullResponse.model_validate(
            {
                "changes": [
                    product_change(1, "NEW-1", 199),
                    {
                        "kind": "stock",
                        "cursor": "2",
                        "data": {"product_id": MILK.id, "quantity": 7},
                    },
                ],
                "next_cursor": "1",
                "has_more": True,
            }
        ),
        p.PullResponse.model_validate(
            {
                "changes": [
                    product_change(3, "ALC-RIOJA", 899, pid=WINE.id),
                    product_change(4, "X", 1, deleted=True, pid=MILK.id),
                ],
                "next_cursor": "2",
                "has_more": False,
            }
        ),
    ]
    transport.fail_next = []
    original = store.apply_pull
    calls = {"n": 0}

    def crash_on_second_page(page):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ServerUnreachable("connection dropped mid-pull")
        original(page)

    store.apply_pull = crash_on_second_page
    assert engine.run_once().state is ConnectionState.OFFLINE
    assert store.cursor() == "1"  # page 1 and its cursor together, page 2 not at all
    with terminal.read() as uow:
        assert uow.products.by_code("NEW-1").unit_price == 199
        assert uow.products.by_id(MILK.id).stock == 7
        assert uow.products.by_id(WINE.id).unit_price == 799
    store.apply_pull = original
    clock.moment += timedelta(minutes=10)
    assert engine.run_once().state is ConnectionState.ONLINE
    assert transport.pull_cursors == ["", "1", "1"]  # resumed at the page that failed
    assert store.cursor() == "2"
    with terminal.read() as uow:
        assert uow.products.by_id(WINE.id).unit_price == 899
        assert uow.products.by_id(MILK.id).active is False  # tombstone
        assert uow.products.search("whole milk") == []


def test_a_sale_made_during_a_run_goes_out_in_the_same_run(engine_parts, sales):
    engine, transport, _, _ = engine_parts
    sales(2)
    original = transport.pull
    late: list[str] = []

    def pull_and_sell_meanwhile(cursor, limit=500):
        if not late:
            late.extend(sales(1))  # the clerk sells after the push, during the pull…
            assert engine.run_once() is engine.status  # …and the kick finds a run going
        return original(cursor, limit)

    transport.pull = pull_and_sell_meanwhile
    status = engine.run_once()
    assert status.waiting == 0
    assert late[0] in transport.stored


class WatchedStore:
    """The real store, with every bookkeeping call written down in the order it ran."""

    def __init__(self, store, calls):
        self._store = store
        self._calls = calls

    def __getattr__(self, name):
        real = getattr(self._store, name)
        if name == "mark_sent":
            return lambda ids: (self._calls.append(("sent", tuple(ids))), real(ids))[1]
        if name == "record_results":

            def record(outcomes):
                self._calls.append(("recorded", tuple(o.event_id for o in outcomes)))
                return real(outcomes)

            return record
        return real


def test_bookkeeping_runs_beside_the_wire_but_in_order(terminal, sales):
    """Batch N+1 is read and marked sent while batch N's answers are recorded, off the
    engine's thread; still every batch is marked sent before its answers are recorded,
    batches leave in outbox order, and everything ends acknowledged."""
    calls: list[tuple[str, tuple[str, ...]]] = []
    transport = FakeServerTransport()
    original = transport.push

    def push(events):
        calls.append(("pushed", tuple(json.loads(e)["event_id"] for e in events)))
        return original(events)

    transport.push = push
    store = WatchedStore(SqliteSyncStore(terminal.database.sync_writer), calls)
    engine = SyncEngine(store, lambda: transport, StepClock(terminal.clock.now()), push_batch=7)
    ids = sales(40)
    status = engine.run_once()
    assert (status.state, status.waiting) == (ConnectionState.ONLINE, 0)
    pushed = [batch for kind, batch in calls if kind == "pushed"]
    assert [i for batch in pushed for i in batch] == ids  # outbox order, each once
    for batch in pushed:
        assert calls.index(("sent", batch)) < calls.index(("recorded", batch))
    assert sync_states(terminal) == {"acknowledged": 40}


def test_a_failure_in_the_bookkeeping_is_not_lost(terminal, sales):
    transport = FakeServerTransport()
    store = SqliteSyncStore(terminal.database.sync_writer)

    def broken(outcomes):
        raise sqlite3.OperationalError("disk I/O error")

    working = store.record_results
    store.record_results = broken
    engine = SyncEngine(store, lambda: transport, StepClock(terminal.clock.now()), push_batch=5)
    sales(12)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        engine.run_once()
    # the run stops at the first batch it could not record: nothing counted as done that was
    # not, and what was sent goes again (the server answers duplicate)
    assert sync_states(terminal) == {"sent": 5, "queued": 7}
    store.record_results = working
    assert engine.run_once(force=True).waiting == 0
    assert sync_states(terminal) == {"acknowledged": 12}


def test_history_states_are_waiting_sent_received_refused(engine_parts, sales, terminal):
    """What a clerk reads in the history, from the outbox: waiting until a request carries
    the sale, sent only while it is out without an answer, received once the server has it,
    refused with the server's reason. Offline is "waiting", never "sent"."""
    engine, transport, clock, store = engine_parts
    ids = sales(3)

    def shown() -> list[str]:
        with terminal.read() as uow:
            return [uow.orders.get(i).sync_state.shown for i in ids]

    assert shown() == ["waiting"] * 3
    store.mark_sent(ids[:1])  # a request carrying the first sale is on the wire
    assert shown() == ["sent", "waiting", "waiting"]
    transport.fail_next = [ServerUnreachable("cannot reach the server")]
    engine.run_once()  # offline: nothing reached the server
    assert shown() == ["waiting"] * 3
    transport.reject_ids = {ids[2]}
    clock.moment += timedelta(hours=1)
    engine.run_once()
    assert shown() == ["received", "received", "refused"]
    with terminal.read() as uow:
        assert "lines do not add up" in uow.orders.get(ids[2]).sync_error
