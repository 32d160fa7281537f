"""Nothing pulled is dropped in silence: a row the till cannot use is kept aside with the
reason, counted, and applied once a corrected version arrives; the rest of its page is applied
and the cursor moves on. Real SQLite files migrated to head; the server's pages come from the
scripted transport, or over real HTTP where the transport's reading is what is tested."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.domain.barcode import make_ean13
from local_db.sync_store import SqliteSyncStore
from sync import protocol as p
from sync.engine import ConnectionState, SyncEngine
from sync.http_transport import HttpSyncTransport

from .conftest import MILK

GOOD_CODE = make_ean13("401234500001")
BAD_CODE = GOOD_CODE[:-1] + str((int(GOOD_CODE[-1]) + 1) % 10)  # wrong check digit
PIN_HASH = "scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def product(pid: str, sku: str, name: str, *barcodes: str, price: int = 250) -> dict[str, Any]:
    return {
        "kind": "product",
        "cursor": "0",
        "data": {
            "id": pid,
            "sku": sku,
            "name": name,
            "unit_price": price,
            "tax_class": "food",
            "sold_by": "each",
            "barcodes": list(barcodes),
        },
    }


def tombstone(pid: str) -> dict[str, Any]:
    change = product(pid, "GONE", "gone")
    change["data"]["deleted"] = True
    return change


def clerk(cid: str, name: str) -> dict[str, Any]:
    data = {"id": cid, "name": name, "role": "clerk", "pin_hash": PIN_HASH, "active": True}
    return {"kind": "clerk", "cursor": "0", "data": data}


def stock(pid: str, quantity: int) -> dict[str, Any]:
    return {"kind": "stock", "cursor": "0", "data": {"product_id": pid, "quantity": quantity}}


def page(cursor: str, *changes: dict[str, Any]) -> p.PullResponse:
    return p.PullResponse.model_validate(
        {"changes": list(changes), "next_cursor": cursor, "has_more": False}
    )


class ScriptedPages:
    """The server's pull as a queue of pages (nothing is pushed in these tests)."""

    last_duration_s = 0.01

    def __init__(self) -> None:
        self.queue: list[p.PullResponse] = []

    def push(self, events: Any) -> p.PushResponse:
        raise AssertionError("nothing to push here")

    def pull(self, cursor: str, limit: int = 500) -> p.PullResponse:
        return self.queue.pop(0) if self.queue else page(cursor)


@pytest.fixture
def sync(terminal: Any) -> tuple[SyncEngine, ScriptedPages, SqliteSyncStore]:
    transport = ScriptedPages()
    store = SqliteSyncStore(terminal.database.sync_writer)
    return SyncEngine(store, lambda: transport, Clock()), transport, store


def pull(engine: SyncEngine, transport: ScriptedPages, *pages: p.PullResponse) -> Any:
    """Serve ``pages`` as the next pull (one run) and return the status after it."""
    transport.queue = list(pages)
    return engine.run_once(force=True)


def aside(store: SqliteSyncStore) -> dict[tuple[str, str], str]:
    return {(row.kind, row.key): row.reason for row in store.unusable_rows()}


def test_a_product_with_a_wrong_check_digit_is_kept_aside_and_the_rest_applied(
    terminal: Any, sync: Any
) -> None:
    engine, transport, store = sync
    status = pull(
        engine,
        transport,
        page(
            "c1",
            product("p-bad", "BAD-1", "Oat drink 1 L", BAD_CODE),
            product("p-good", "GOOD-1", "Rye bread 500 g", GOOD_CODE),
            clerk("k-1", "Lena"),
        ),
    )
    assert status.state is ConnectionState.ONLINE
    assert (status.waiting, status.rejected, status.unusable) == (0, 0, 1)
    assert store.cursor() == "c1"  # the cursor moves past the row kept aside
    (row,) = store.unusable_rows()
    assert (row.kind, row.key, row.name) == ("product", "p-bad", "Oat drink 1 L (sku BAD-1)")
    assert BAD_CODE in row.reason and "check digit" in row.reason
    assert json.loads(row.payload)["barcodes"] == [BAD_CODE]
    with terminal.read() as uow:
        assert uow.products.by_code(GOOD_CODE).name == "Rye bread 500 g"
        assert uow.products.by_id("p-bad") is None
        assert uow.clerks.get("k-1").name == "Lena"


def test_a_barcode_another_product_holds_is_refused_naming_it_and_the_pull_goes_on(
    terminal: Any, sync: Any
) -> None:
    engine, transport, store = sync
    milk_code = MILK.barcodes[0]
    status = pull(
        engine,
        transport,
        page(
            "c1",
            product("p-oat", "OAT-1", "Oat drink 1 L", milk_code),
            product("p-rye", "RYE-1", "Rye bread 500 g", GOOD_CODE),
        ),
    )
    assert status.state is ConnectionState.ONLINE and status.unusable == 1
    assert aside(store) == {
        ("product", "p-oat"): f"barcode {milk_code} already belongs to Whole milk 1 L "
        "(sku DAI-MILK-1L); Oat drink 1 L (sku OAT-1) cannot have it too"
    }
    with terminal.read() as uow:
        assert uow.products.by_code(milk_code).id == MILK.id
        assert uow.products.by_code(GOOD_CODE).id == "p-rye"


def test_two_products_of_one_page_claiming_one_barcode_keep_the_second_aside(
    terminal: Any, sync: Any
) -> None:
    engine, transport, store = sync
    pull(
        engine,
        transport,
        page(
            "c1",
            product("p-1", "ONE", "First", GOOD_CODE),
            product("p-2", "TWO", "Second", GOOD_CODE),
        ),
    )
    assert aside(store) == {
        ("product", "p-2"): f"barcode {GOOD_CODE} already belongs to First (sku ONE); "
        "Second (sku TWO) cannot have it too"
    }
    with terminal.read() as uow:
        assert uow.products.by_code(GOOD_CODE).id == "p-1"


def test_a_corrected_version_is_applied_and_leaves_the_list(terminal: Any, sync: Any) -> None:
    engine, transport, store = sync
    pull(engine, transport, page("c1", product("p-bad", "BAD-1", "Oat drink 1 L", BAD_CODE)))
    assert engine.status.unusable == 1
    status = pull(
        engine, transport, page("c2", product("p-bad", "BAD-1", "Oat drink 1 L", GOOD_CODE))
    )
    assert (status.unusable, store.unusable_rows(), store.cursor()) == (0, [], "c2")
    with terminal.read() as uow:
        assert uow.products.by_code(GOOD_CODE).id == "p-bad"


def test_a_tombstone_removes_a_row_kept_aside(sync: Any) -> None:
    engine, transport, store = sync
    pull(engine, transport, page("c1", product("p-bad", "BAD-1", "Oat drink 1 L", BAD_CODE)))
    status = pull(engine, transport, page("c2", tombstone("p-bad")))
    assert (status.unusable, store.unusable_rows()) == (0, [])


def test_a_product_waiting_for_a_barcode_is_applied_once_the_holder_lets_it_go(
    terminal: Any, sync: Any
) -> None:
    engine, transport, store = sync
    milk_code = MILK.barcodes[0]
    pull(engine, transport, page("c1", product("p-oat", "OAT-1", "Oat drink 1 L", milk_code)))
    assert engine.status.unusable == 1
    # the server moves the code: milk gets a new one, the oat drink (unchanged) is not resent
    status = pull(
        engine,
        transport,
        page("c2", product(MILK.id, MILK.sku, MILK.name, GOOD_CODE, price=MILK.unit_price)),
    )
    assert (status.unusable, store.unusable_rows()) == (0, [])
    with terminal.read() as uow:
        assert uow.products.by_code(milk_code).id == "p-oat"
        assert uow.products.by_code(GOOD_CODE).id == MILK.id


def test_a_barcode_of_a_deleted_product_passes_to_the_new_one(terminal: Any, sync: Any) -> None:
    engine, transport, store = sync
    milk_code = MILK.barcodes[0]
    status = pull(
        engine,
        transport,
        page("c1", tombstone(MILK.id), product("p-oat", "OAT-1", "Oat drink 1 L", milk_code)),
    )
    assert (status.unusable, store.unusable_rows()) == (0, [])
    with terminal.read() as uow:
        assert uow.products.by_code(milk_code).id == "p-oat"


def test_a_barcode_of_a_product_the_page_updates_and_deletes_passes_to_the_new_one(
    terminal: Any, sync: Any
) -> None:
    engine, transport, store = sync
    milk_code = MILK.barcodes[0]
    status = pull(
        engine,
        transport,
        page(
            "c1",
            product(MILK.id, MILK.sku, MILK.name, milk_code),
            tombstone(MILK.id),
            product("p-oat", "OAT-1", "Oat drink 1 L", milk_code),
        ),
    )
    assert (status.unusable, store.unusable_rows()) == (0, [])
    with terminal.read() as uow:
        assert uow.products.by_code(milk_code).id == "p-oat"


def test_stock_of_a_product_the_till_lacks_waits_for_the_product(terminal: Any, sync: Any) -> None:
    engine, transport, store = sync
    pull(engine, transport, page("c1", stock("p-new", 12), stock(MILK.id, 7)))
    assert aside(store) == {("stock", "p-new"): "product p-new is not on this till"}
    pull(engine, transport, page("c2", product("p-new", "NEW-1", "Rye bread 500 g", GOOD_CODE)))
    assert store.unusable_rows() == []
    with terminal.read() as uow:
        assert uow.products.by_id("p-new").stock == 12
        assert uow.products.by_id(MILK.id).stock == 7


def test_an_unusable_clerk_is_kept_aside_with_what_is_wrong(terminal: Any, sync: Any) -> None:
    engine, transport, store = sync
    broken = clerk("k-2", "Tom")
    broken["data"]["pin_hash"] = "plain-1234"
    status = pull(engine, transport, page("c1", broken, clerk("k-3", "Ada")))
    assert status.unusable == 1
    assert "pin_hash" in aside(store)[("clerk", "k-2")]
    with terminal.read() as uow:
        assert uow.clerks.get("k-2") is None
        assert uow.clerks.get("k-3").name == "Ada"


# ----------------------------------------------------------------- over real HTTP


class PageServer(ThreadingHTTPServer):
    body = b""


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    server = PageServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def slot(sid: str, starts_at: str, ends_at: str) -> dict[str, Any]:
    data = {
        "id": sid,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": 10,
        "booked": 2,
        "active": True,
    }
    return {"kind": "delivery_slot", "cursor": "0", "data": data}


def test_a_slot_with_a_naive_timestamp_is_kept_aside_and_never_fails_the_page(
    terminal: Any, page_server: PageServer
) -> None:
    """What the embedded server on SQLite used to send: slot times without a zone."""
    missing = slot("s-3", "2026-12-02T12:00:00+00:00", "2026-12-02T13:00:00+00:00")
    del missing["data"]["capacity"]
    page_server.body = json.dumps(
        {
            "changes": [
                slot("s-1", "2026-12-02T08:00:00", "2026-12-02T09:00:00"),
                slot("s-2", "2026-12-02T10:00:00+00:00", "2026-12-02T11:00:00+00:00"),
                missing,
                clerk("k-1", "Lena"),
            ],
            "next_cursor": "c9",
            "has_more": False,
        }
    ).encode()
    store = SqliteSyncStore(terminal.database.sync_writer)
    url = f"http://127.0.0.1:{page_server.server_address[1]}"
    transport = HttpSyncTransport(url, lambda: "token")
    try:
        engine = SyncEngine(store, lambda: transport, Clock())
        status = engine.run_once(force=True)
    finally:
        transport.close()
    assert status.state is ConnectionState.ONLINE
    assert (status.unusable, store.cursor()) == (2, "c9")
    reasons = aside(store)
    assert set(reasons) == {("delivery_slot", "s-1"), ("delivery_slot", "s-3")}
    assert "zone" in reasons[("delivery_slot", "s-1")]
    assert "capacity" in reasons[("delivery_slot", "s-3")]
    with terminal.read() as uow:
        assert uow.clerks.get("k-1").name == "Lena"
        assert uow.clerks.get("k-2") is None


def test_an_answer_that_is_no_page_at_all_is_server_trouble_and_moves_nothing(
    terminal: Any, page_server: PageServer
) -> None:
    page_server.body = json.dumps({"changes": "none today", "has_more": False}).encode()
    store = SqliteSyncStore(terminal.database.sync_writer)
    url = f"http://127.0.0.1:{page_server.server_address[1]}"
    transport = HttpSyncTransport(url, lambda: "token")
    try:
        status = SyncEngine(store, lambda: transport, Clock()).run_once(force=True)
    finally:
        transport.close()
    assert status.state is ConnectionState.DEGRADED
    assert status.reason == "the server sent an unreadable pull page"
    assert (store.cursor(), store.unusable_rows()) == ("", [])
