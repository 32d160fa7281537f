"""GET /api/v1/sync/pull: paging, tombstones, store scoping, and a cursor that never skips."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.data import DEMO_MANAGER_PIN
from app.domain.clerk import SCRYPT_N, SCRYPT_P, SCRYPT_R, verify_pin
from server.admin import service as admin
from server.db import unit_of_work
from server.sync.changes import record_changes
from tests.server.builders import PRODUCTS, order, paid_event, push_body
from tests.server.conftest import Shop, services_of

PULL = "/api/v1/sync/pull"


def pull_page(client: FlaskClient, shop: Shop, cursor: str = "", limit: int = 500) -> Any:
    response = client.get(
        PULL, query_string={"cursor": cursor, "limit": limit}, headers=shop.s1.headers
    )
    assert response.status_code == 200, response.json
    return response.json


def pull_all(client: FlaskClient, shop: Shop, cursor: str = "", limit: int = 500) -> Any:
    changes: list[dict[str, Any]] = []
    while True:
        page = pull_page(client, shop, cursor, limit)
        changes += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return changes, cursor


def test_first_pull_brings_catalog_stock_and_own_clerks(client: FlaskClient, shop: Shop) -> None:
    changes, _ = pull_all(client, shop)
    kinds = [c["kind"] for c in changes]
    assert kinds.count("product") == len(PRODUCTS)
    assert kinds.count("stock") == len(PRODUCTS)
    clerks = [c["data"] for c in changes if c["kind"] == "clerk"]
    assert [c["id"] for c in clerks] == [shop.s1.clerk_id]
    assert clerks[0]["pin_hash"].startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")
    # the till signs clerks in offline with this very function
    assert verify_pin("1234", clerks[0]["pin_hash"])
    assert not verify_pin("4321", clerks[0]["pin_hash"])
    bananas = next(c["data"] for c in changes if c["data"].get("id") == "bananas")
    assert bananas["sold_by"] == "weight"
    assert bananas["attributes"]["nutrition"] == {"kcal_per_100g": 89}


def test_paging_with_a_small_limit_yields_the_same_changes(client: FlaskClient, shop: Shop) -> None:
    everything, last = pull_all(client, shop)
    paged, paged_last = pull_all(client, shop, limit=3)
    assert [(c["kind"], c["data"]) for c in paged] == [(c["kind"], c["data"]) for c in everything]
    assert paged_last == last
    again = pull_page(client, shop, last)
    assert (again["changes"], again["next_cursor"], again["has_more"]) == ([], last, False)


def test_pull_after_a_sale_brings_the_new_stock(client: FlaskClient, shop: Shop) -> None:
    _, cursor = pull_all(client, shop)
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p2", 5)])
    client.post("/api/v1/sync/push", json=push_body([paid_event(payload)]), headers=shop.s1.headers)
    changes, _ = pull_all(client, shop, cursor)
    assert [(c["kind"], c["data"]) for c in changes] == [
        ("stock", {"product_id": "p2", "quantity": 100_000 - 5})
    ]


def test_deleted_product_is_pulled_as_a_tombstone(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    _, cursor = pull_all(client, shop)
    svc = services_of(app)
    with unit_of_work(svc.sessions) as session:
        assert admin.delete_product(session, svc.catalog(session), "p3")
    changes, _ = pull_all(client, shop, cursor)
    assert [(c["kind"], c["data"]["id"], c["data"]["deleted"]) for c in changes] == [
        ("product", "p3", True)
    ]


def test_another_stores_clerks_and_stock_are_not_pulled(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    _, cursor = pull_all(client, shop)
    with unit_of_work(services_of(app).sessions) as session:
        s2 = admin.store_by_code(session, "S2")
        admin.add_clerk(session, s2, "Otto", "manager", DEMO_MANAGER_PIN)
        admin.set_stock(session, s2, {"p1": 5})
    changes, _ = pull_all(client, shop, cursor)
    assert changes == []


def test_change_committed_late_by_an_older_transaction_is_not_skipped(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    """A transaction that wrote first but commits last must still be pulled: the reader
    waits for it instead of moving its cursor past it."""
    _, cursor = pull_all(client, shop)
    svc = services_of(app)
    with svc.sessions() as slow:
        slow.begin()
        record_changes(slow, "product", ["p1"])  # written, not yet committed
        with unit_of_work(svc.sessions) as fast:
            record_changes(fast, "product", ["p2"])
        held_back = pull_page(client, shop, cursor)
        assert held_back["changes"] == []
        assert held_back["next_cursor"] == cursor
        slow.commit()
    changes, _ = pull_all(client, shop, cursor)
    assert sorted(c["data"]["id"] for c in changes) == ["p1", "p2"]


def test_reader_misses_nothing_while_writers_commit(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    svc = services_of(app)
    _, cursor = pull_all(client, shop)
    writers_done = threading.Event()
    written: set[str] = set()
    lock = threading.Lock()

    def write(worker: int) -> None:
        for i in range(40):
            key = f"w{worker}-{i}"
            with unit_of_work(svc.sessions) as session:
                store = admin.store_by_code(session, "S1")
                admin.set_stock(session, store, {key: i})
            with lock:
                written.add(key)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()

    def watch() -> None:
        for thread in threads:
            thread.join()
        writers_done.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    seen: set[str] = set()
    positions: list[tuple[int, int]] = []
    while True:
        done_before_pull = writers_done.is_set()
        page = pull_page(client, shop, cursor, limit=7)
        for change in page["changes"]:
            seen.add(change["data"]["product_id"])
            txid, _, row = change["cursor"].partition(".")
            positions.append((int(txid), int(row)))
        cursor = page["next_cursor"]
        if done_before_pull and not page["has_more"]:
            break
    watcher.join()
    assert seen == written
    assert len(written) == 160
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)


@pytest.mark.parametrize("cursor", ["abc", "1", "-1.5", "1.2.3", "9" * 30 + ".1"])
def test_malformed_cursor_is_a_400(client: FlaskClient, shop: Shop, cursor: str) -> None:
    response = client.get(PULL, query_string={"cursor": cursor}, headers=shop.s1.headers)
    assert response.status_code in (400, 422)
    assert response.json["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "1001", "many"])
def test_limit_out_of_range_is_a_422(client: FlaskClient, shop: Shop, limit: str) -> None:
    response = client.get(PULL, query_string={"limit": limit}, headers=shop.s1.headers)
    assert response.status_code == 422
    assert response.json["field"] == "limit"
