"""Connections cut at the worst moments, a revoked token, two tills and one last unit."""

from __future__ import annotations

import random

import pytest
import requests

from app.domain.cart import Cart
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from sync.engine import ConnectionState
from sync.enrollment import current_enrollment

from .harness import server_cli
from .proxy import FaultProxy
from .test_offline_sync import sell


@pytest.fixture
def proxy(backend):
    proxy = FaultProxy(backend.server.port)
    yield proxy
    proxy.close()


def server_orders(backend) -> list[tuple[str, int]]:
    return sorted(backend.sql("SELECT id::text, total FROM orders"))


@pytest.mark.parametrize("fault", ["refuse", "drop_answer"])
def test_push_cut_before_or_after_the_server_commits_converges_without_duplicates(
    backend, make_till, proxy, fault
):
    till = make_till("T01", via=proxy.url)
    assert till.engine.run_once().state is ConnectionState.ONLINE
    sold = sell(till, random.Random(2), 40)
    proxy.mode = fault
    failed = till.engine.run_once(force=True)
    assert failed.state is ConnectionState.OFFLINE
    assert failed.waiting == 40
    assert proxy.faults >= 1
    expected_on_server = sorted(sold) if fault == "drop_answer" else []
    assert server_orders(backend) == expected_on_server  # committed, or never arrived
    proxy.mode = "pass"
    status = till.engine.run_once(force=True)
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 0)
    assert server_orders(backend) == sorted(sold)  # exactly once either way


def test_pull_cut_mid_page_resumes_from_the_last_whole_page(backend, make_till, proxy):
    till = make_till("T01", via=proxy.url)
    proxy.mode = "cut_answer"
    proxy.cut_after = 900  # headers and part of the first page
    assert till.engine.run_once(force=True).state in (
        ConnectionState.OFFLINE,
        ConnectionState.DEGRADED,
    )
    with till.terminal.read() as uow:
        assert uow.products.count() == 0  # a torn page is never half-applied
    assert till.store.cursor() == ""
    proxy.mode = "pass"
    assert till.engine.run_once(force=True).state is ConnectionState.ONLINE
    with till.terminal.read() as uow:
        assert uow.products.count() == backend.sql("SELECT count(*) FROM products")[0][0]
        assert len(uow.clerks.all()) == 2


def test_revoked_token_stops_sync_keeps_local_data_and_selling_goes_on(backend, make_till):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    sell(till, random.Random(3), 3)
    _, terminal_id = current_enrollment(till.terminal.read)
    server_cli(backend.env, "terminal", "revoke", terminal_id)
    status = till.engine.run_once(force=True)
    assert status.state is ConnectionState.AUTH_FAILED
    assert "token" in status.reason
    sell(till, random.Random(4), 2)
    assert till.engine.refresh_counts().waiting == 5
    with till.terminal.read() as uow:
        assert uow.orders.count() == 5 and uow.products.count() > 0
    assert backend.sql("SELECT count(*) FROM orders") == [(0,)]


def test_two_tills_sell_the_last_unit_offline_both_kept_and_flagged_oversold(backend, make_till):
    first, second = make_till("T01"), make_till("T02")
    for till in (first, second):
        assert till.engine.run_once().state is ConnectionState.ONLINE
    backend.sql("UPDATE stock_levels SET quantity = 1 WHERE product_id = 'demo-wine'")
    backend.server.stop()
    for till in (first, second):
        with till.terminal.read() as uow:
            wine = uow.products.by_id("demo-wine")
        complete_sale(
            till.terminal.uow(),
            Cart().add(wine),
            [TenderInput(TenderKind.CASH, 1000)],
            till.clerk,
            till.terminal.store,
            till.terminal.clock,
            till.terminal.ids,
        )
    backend.server.start()
    for till in (first, second):
        assert till.engine.run_once(force=True).waiting == 0
    assert backend.sql("SELECT quantity FROM stock_levels WHERE product_id = 'demo-wine'") == [
        (-1,)
    ]
    receipts = sorted(r for (r,) in backend.sql("SELECT receipt_no FROM orders"))
    assert receipts == ["T01-000001", "T02-000001"]
    token = first.tokens.load(current_enrollment(first.terminal.read)[1])
    flags = requests.get(
        f"{backend.server.url}/api/v1/flags",
        headers={"Authorization": f"Bearer {token}", "X-Shopsmart-Protocol": "1"},
        timeout=5,
    ).json()["flags"]
    assert any(f["kind"] == "oversold" and f["product_id"] == "demo-wine" for f in flags)


def refused_events(till) -> list[str]:
    return [event.event_id for event in till.store.rejected_events()]


def test_a_replayed_push_answer_marks_nothing_and_every_sale_arrives_once(
    backend, make_till, proxy
):
    """A caching proxy answers a push with an earlier push's answer: the server never saw
    these sales, so none may count as sent; they arrive, once, when the proxy behaves."""
    till = make_till("T01", via=proxy.url)
    assert till.engine.run_once().state is ConnectionState.ONLINE
    first = sell(till, random.Random(5), 6)
    assert till.engine.run_once(force=True).waiting == 0
    assert proxy.last_push_answer is not None
    later = sell(till, random.Random(6), 9)
    proxy.mode = "stale_answer"
    status = till.engine.run_once(force=True)
    assert proxy.faults >= 1
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.DEGRADED, 9, 0)
    assert "did not name exactly those sales" in status.reason
    assert server_orders(backend) == sorted(first)  # the proxy kept the sales from the server
    with till.terminal.read() as uow:
        assert {uow.orders.get(order_id).sync_state.value for order_id, _ in later} == {"queued"}
    proxy.mode = "pass"
    status = till.engine.run_once(force=True)
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 0)
    assert server_orders(backend) == sorted(first + later)  # each exactly once


def test_error_pages_from_a_proxy_are_retried_never_refused(backend, make_till, proxy):
    """HTML 400/403/422/413 from a firewall or proxy, and a gateway's JSON error without the
    server's protocol header: none is the server's refusal. The sales stay waiting (none in
    the manager's refused queue) and all arrive once the proxy lets them through."""
    till = make_till("T01", via=proxy.url)
    assert till.engine.run_once().state is ConnectionState.ONLINE
    sold = sell(till, random.Random(7), 12)
    for mode, error_status in [
        ("html_error", 400),
        ("html_error", 422),
        ("html_error", 413),
        ("html_error", 403),
        ("json_error", 422),
    ]:
        proxy.mode, proxy.error_status = mode, error_status
        status = till.engine.run_once(force=True)
        assert status.state is ConnectionState.DEGRADED, (mode, error_status, status)
        assert (status.waiting, status.rejected) == (12, 0), (mode, error_status)
        assert "not the server's answer" in status.reason
        assert refused_events(till) == []
    assert server_orders(backend) == []
    proxy.mode = "pass"
    status = till.engine.run_once(force=True)
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 0)
    assert server_orders(backend) == sorted(sold)


def test_a_proxy_body_limit_halves_batches_and_a_sale_too_large_for_it_waits(
    backend, make_till, proxy
):
    till = make_till("T01", via=proxy.url)
    assert till.engine.run_once().state is ConnectionState.ONLINE
    sold = sell(till, random.Random(8), 30)
    sizes = [len(event.payload_json) for event in till.store.pending_events(100)]
    proxy.mode, proxy.body_limit = "body_limit", 4 * max(sizes) + 100
    status = till.engine.run_once(force=True)  # 30 → 15 → 8 … until a batch fits
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 0)
    assert proxy.faults >= 3
    assert server_orders(backend) == sorted(sold)
    more = sell(till, random.Random(9), 5)
    proxy.body_limit = min(len(e.payload_json) for e in till.store.pending_events(100)) - 1
    status = till.engine.run_once(force=True)  # not even one sale passes the proxy
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.DEGRADED, 5, 0)
    assert "a sale stays waiting" in status.reason and "HTTP 413" in status.reason
    assert refused_events(till) == []
    proxy.mode = "pass"
    status = till.engine.run_once(force=True)
    assert (status.state, status.waiting, status.rejected) == (ConnectionState.ONLINE, 0, 0)
    assert server_orders(backend) == sorted(sold + more)
