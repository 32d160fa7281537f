"""What counts as the server's answer to a push: answers are matched by event id, and only
the server's own error (its JSON error shape with its protocol header) can refuse a sale.

The engine runs on the real SQLite store; the HTTP cases go through the real transport to a
small HTTP server on loopback that answers as the server, or as a proxy in between, would.
The same faults through the real server and a fault proxy: tests/e2e/test_faults.py.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.domain.cart import Cart
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from local_db.engine import DB_FILENAME
from local_db.sync_store import SqliteSyncStore
from sync import protocol as p
from sync.engine import ConnectionState, SyncEngine
from sync.errors import (
    AuthFailed,
    BatchRefused,
    BatchTooLarge,
    ServerTrouble,
    SyncError,
)
from sync.http_transport import HttpSyncTransport
from tests.fakes import FakeServerTransport, StepClock

from .conftest import MILK


@pytest.fixture
def sales(terminal, clerk):
    def make(count: int) -> list[str]:
        return [
            complete_sale(
                terminal.uow(),
                Cart().add(MILK),
                [TenderInput(TenderKind.CASH, 200)],
                clerk,
                terminal.store,
                terminal.clock,
                terminal.ids,
            ).id
            for _ in range(count)
        ]

    return make


def outbox_states(terminal) -> dict[str, int]:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        return dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state"))


def order_states(terminal) -> dict[str, int]:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        return dict(db.execute("SELECT sync_state, count(*) FROM orders GROUP BY sync_state"))


class ReplayingTransport(FakeServerTransport):
    """The fake server behind a caching proxy: once ``replay`` is set, a push never reaches
    the server and is answered with the answer of the first push."""

    def __init__(self) -> None:
        super().__init__()
        self.replay = False
        self.answers: list[p.PushResponse] = []

    def push(self, events):
        if self.replay and self.answers:
            return self.answers[0]
        answer = super().push(events)
        self.answers.append(answer)
        return answer


def test_a_replayed_answer_marks_no_outbox_row_and_says_degraded(terminal, sales):
    transport = ReplayingTransport()
    clock = StepClock(terminal.clock.now())
    store = SqliteSyncStore(terminal.database.sync_writer)
    engine = SyncEngine(store, lambda: transport, clock, rng=random.Random(1), push_batch=3)
    sales(3)
    assert engine.run_once().waiting == 0
    later = sales(3)  # a batch of the same size: by position, the old answer would "fit"
    transport.replay = True
    status = engine.run_once(force=True)
    assert status.state is ConnectionState.DEGRADED
    assert "did not name exactly those sales" in status.reason
    assert (status.waiting, status.rejected) == (3, 0)
    assert status.next_attempt_at is not None and status.next_attempt_at > clock.now()  # backoff
    assert outbox_states(terminal) == {"done": 3, "sent": 3}  # tried, not done
    assert order_states(terminal) == {"acknowledged": 3, "queued": 3}
    assert not set(later) & set(transport.stored)
    transport.replay = False
    clock.moment = status.next_attempt_at + timedelta(seconds=1)
    assert engine.run_once().state is ConnectionState.ONLINE
    assert order_states(terminal) == {"acknowledged": 6}
    assert set(later) <= set(transport.stored)


def test_an_answer_that_leaves_out_one_event_or_repeats_one_is_no_answer(terminal, sales):
    class Mangled(FakeServerTransport):
        def __init__(self, mangle) -> None:
            super().__init__()
            self.mangle = mangle

        def push(self, events):
            answer = super().push(events)
            results = self.mangle(list(answer.results))
            return answer.model_copy(update={"results": results})

    sales(4)
    for mangle in (
        lambda results: results[:-1],  # one event not answered
        lambda results: [*results[:-1], results[0]],  # one answered twice, one not at all
        lambda results: [r.model_copy(update={"event_id": None}) for r in results],
    ):
        transport = Mangled(mangle)
        store = SqliteSyncStore(terminal.database.sync_writer)
        engine = SyncEngine(store, lambda t=transport: t, StepClock(terminal.clock.now()))
        status = engine.run_once(force=True)
        assert (status.state, status.waiting) == (ConnectionState.DEGRADED, 4)
        assert outbox_states(terminal) == {"sent": 4}


def test_answers_are_matched_by_event_id_whatever_their_order(terminal, sales):
    class Reversed(FakeServerTransport):
        def push(self, events):
            answer = super().push(events)
            return answer.model_copy(update={"results": answer.results[::-1]})

    ids = sales(5)
    transport = Reversed()
    transport.reject_ids = {ids[0]}
    engine = SyncEngine(
        SqliteSyncStore(terminal.database.sync_writer),
        lambda: transport,
        StepClock(terminal.clock.now()),
    )
    status = engine.run_once()
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 1)
    with terminal.read() as uow:
        assert uow.orders.get(ids[0]).sync_state.value == "rejected"  # not ids[4]
        assert uow.orders.get(ids[4]).sync_state.value == "acknowledged"


# --------------------------------------------------------------------------- over HTTP

SERVER_ERROR = {"error": "invalid_body", "message": "events[0].payload.total: bad", "field": None}
HTML = b"<html><body><h1>400 Bad Request</h1><hr>nginx</body></html>"


class AnsweringServer(ThreadingHTTPServer):
    """Answers a push with (status, headers, body) from ``answer``, or, when it is None, like
    the server: each event accepted, unless the body is over ``limit`` bytes (then 413 in the
    server's own words, or a proxy's HTML page when ``proxy_limit``)."""

    answer: tuple[int, dict[str, str], bytes] | None = None
    limit = 1 << 20
    proxy_limit = False
    pushes: list[int]  # events per push, as they came
    accepted: list[int]  # events per push answered with per-event results


class AnsweringHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: AnsweringServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        events = json.loads(body)["events"]
        self.server.pushes.append(len(events))
        if self.server.answer is not None:
            self._send(*self.server.answer)
        elif len(body) > self.server.limit and self.server.proxy_limit:
            self._send(413, {"Content-Type": "text/html"}, b"<h1>413 Too Large</h1>")
        elif len(body) > self.server.limit:
            error = {"error": "too_large", "message": "the body is over the limit"}
            self._send(413, SERVER_HEADERS, json.dumps(error).encode())
        else:
            self.server.accepted.append(len(events))
            results = [
                {"index": i, "event_id": e["event_id"], "status": "accepted"}
                for i, e in enumerate(events)
            ]
            counts = {"accepted": len(results), "duplicates": 0, "rejected": 0, "conflicts": 0}
            self._send(200, SERVER_HEADERS, json.dumps({"results": results, **counts}).encode())

    def do_GET(self) -> None:
        page = {"changes": [], "next_cursor": "", "has_more": False}
        self._send(200, {"Content-Type": "application/json"}, json.dumps(page).encode())

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


SERVER_HEADERS = {"Content-Type": "application/json", p.PROTOCOL_HEADER: "1"}


@pytest.fixture
def answering() -> Iterator[AnsweringServer]:
    server = AnsweringServer(("127.0.0.1", 0), AnsweringHandler)
    server.pushes, server.accepted = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def transport(answering: AnsweringServer) -> Iterator[HttpSyncTransport]:
    url = f"http://127.0.0.1:{answering.server_address[1]}"
    transport = HttpSyncTransport(url, lambda: "token")
    yield transport
    transport.close()


EVENT = json.dumps({"event_id": "0190e2a4-0000-7000-8000-000000000001", "type": "order.paid"})
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (400, {"Content-Type": "text/html"}, HTML, ServerTrouble),
        (422, {"Content-Type": "text/html"}, HTML, ServerTrouble),
        (422, JSON, json.dumps(SERVER_ERROR).encode(), ServerTrouble),  # no protocol header
        (403, {"Content-Type": "text/html"}, HTML, ServerTrouble),
        (400, {**JSON, p.PROTOCOL_HEADER: "1"}, b'{"status": "bad"}', ServerTrouble),
        (422, SERVER_HEADERS, json.dumps(SERVER_ERROR).encode(), BatchRefused),
        (400, SERVER_HEADERS, json.dumps(SERVER_ERROR).encode(), BatchRefused),
        (401, SERVER_HEADERS, b'{"error": "unauthorized", "message": "revoked"}', AuthFailed),
    ],
    ids=[
        "html-400",
        "html-422",
        "json-422-without-header",
        "html-403",
        "header-but-no-error-shape",
        "server-422",
        "server-400",
        "server-401",
    ],
)
def test_only_the_servers_own_error_refuses_a_push(
    answering, transport, status, headers, body, expected
):
    answering.answer = (status, headers, body)
    with pytest.raises(SyncError) as raised:
        transport.push([EVENT])
    assert type(raised.value) is expected
    if expected is ServerTrouble:
        assert "not the server's answer" in raised.value.message
        assert f"HTTP {status}" in raised.value.message


def test_a_413_is_too_large_from_anywhere_but_only_the_servers_can_reject(answering, transport):
    answering.answer = (413, {"Content-Type": "text/html"}, b"<h1>413</h1>")
    with pytest.raises(BatchTooLarge) as from_proxy:
        transport.push([EVENT])
    assert from_proxy.value.from_server is False
    answering.answer = (413, SERVER_HEADERS, b'{"error": "too_large", "message": "over 8 MiB"}')
    with pytest.raises(BatchTooLarge) as from_server:
        transport.push([EVENT])
    assert from_server.value.from_server is True
    assert "too_large: over 8 MiB" in from_server.value.message


def test_a_sale_too_large_for_the_server_is_rejected_for_a_proxy_it_waits(
    terminal, sales, answering, transport
):
    store = SqliteSyncStore(terminal.database.sync_writer)
    clock = StepClock(terminal.clock.now())
    engine = SyncEngine(store, lambda: transport, clock, rng=random.Random(2))
    ids = sales(6)
    size = max(len(event.payload_json) for event in store.pending_events(10))
    answering.limit = 2 * size + 60  # two events fit in a body: batches are halved to fit
    status = engine.run_once()
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 0)
    assert answering.pushes[0] == 6 and max(answering.accepted) <= 2 < len(answering.pushes)
    more = sales(2)
    answering.limit, answering.proxy_limit = size - 1, True  # a proxy: not even one fits
    status = engine.run_once(force=True)
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.DEGRADED, 2, 0)
    assert "a sale stays waiting" in status.reason and "HTTP 413" in status.reason
    answering.proxy_limit = False  # the server itself: the sale is refused with its reason
    status = engine.run_once(force=True)
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 2)
    assert {event.event_id for event in store.rejected_events()} == set(more)
    assert all("over the limit" in event.last_error for event in store.rejected_events())
    assert order_states(terminal) == {"acknowledged": len(ids), "rejected": 2}
