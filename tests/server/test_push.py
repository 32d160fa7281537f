"""POST /api/v1/sync/push: idempotency, conflicts, per-item validation, stock, flags."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from server.models import Flag, Order, OrderLine, StockLevel, SyncConflict, SyncEvent, Tender
from server.sync import push as push_module
from tests.server.builders import order, paid_event, push_body, void_event
from tests.server.conftest import Shop, services_of

PUSH = "/api/v1/sync/push"


def push(client: FlaskClient, shop: Shop, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(PUSH, json=push_body(events), headers=shop.s1.headers)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def statuses(body: dict[str, Any]) -> list[str]:
    return [r["status"] for r in body["results"]]


def db_state(app: Flask) -> dict[str, Any]:
    with services_of(app).sessions() as session:
        return {
            "orders": session.scalar(select(func.count()).select_from(Order)),
            "lines": session.scalar(select(func.count()).select_from(OrderLine)),
            "tenders": session.scalar(select(func.count()).select_from(Tender)),
            "flags": session.scalar(select(func.count()).select_from(Flag)),
            "conflicts": session.scalar(select(func.count()).select_from(SyncConflict)),
            "stock": dict(
                session.execute(
                    select(StockLevel.product_id, StockLevel.quantity).order_by(
                        StockLevel.store_id, StockLevel.product_id
                    )
                ).all()
            ),
        }


def stock_of(app: Flask, product_id: str) -> int:
    with services_of(app).sessions() as session:
        return int(
            session.scalar(select(StockLevel.quantity).where(StockLevel.product_id == product_id))
            or 0
        )


def orders_batch(shop: Shop, n: int) -> list[dict[str, Any]]:
    return [paid_event(order(clerk_id=shop.s1.clerk_id, sequence=i)) for i in range(n)]


def test_accepted_batch_stores_orders_and_decrements_stock(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    events = orders_batch(shop, 3)
    body = push(client, shop, events)
    assert statuses(body) == ["accepted"] * 3
    assert body["accepted"] == 3
    state = db_state(app)
    assert (state["orders"], state["lines"], state["tenders"]) == (3, 15, 3)
    assert state["stock"]["p4"] == 100_000 - 3 * 3
    assert state["stock"]["bananas"] == 100_000 - 3 * 1250  # grams
    assert state["flags"] == 0


def test_replayed_batch_changes_nothing(app: Flask, client: FlaskClient, shop: Shop) -> None:
    events = orders_batch(shop, 5)
    events.append({"event_id": "not-a-uuid", "type": "order.paid"})
    first = push(client, shop, events)
    before = db_state(app)
    second = push(client, shop, events)
    third = push(client, shop, events)
    assert statuses(first) == ["accepted"] * 5 + ["rejected"]
    assert statuses(second) == ["duplicate"] * 5 + ["rejected"]
    assert third == second
    assert db_state(app) == before


def test_same_batch_pushed_concurrently_is_stored_once(
    app: Flask, shop: Shop, live_server: str
) -> None:
    events = orders_batch(shop, 200)
    barrier = threading.Barrier(2)
    answers: list[dict[str, Any]] = []

    def send() -> None:
        barrier.wait()
        response = requests.post(
            live_server + PUSH, json=push_body(events), headers=shop.s1.headers, timeout=60
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 2
    for i in range(len(events)):
        pair = sorted(a["results"][i]["status"] for a in answers)
        assert pair == ["accepted", "duplicate"]
    state = db_state(app)
    assert (state["orders"], state["lines"]) == (200, 1000)
    assert state["stock"]["p4"] == 100_000 - 200 * 3


def test_same_event_id_with_other_content_is_a_recorded_conflict(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    event = paid_event(order(clerk_id=shop.s1.clerk_id, lines=[("p1", 2)]))
    push(client, shop, [event])
    changed = copy.deepcopy(event)
    changed["payload"] = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 5)])
    body = push(client, shop, [changed])
    assert statuses(body) == ["conflict"]
    assert body["conflicts"] == 1
    state = db_state(app)
    assert state["conflicts"] == 1
    assert state["orders"] == 1
    assert stock_of(app, "p1") == 100_000 - 2  # the first copy wins, never overwritten
    assert statuses(push(client, shop, [changed])) == ["conflict"]
    assert db_state(app)["conflicts"] == 1  # recorded once, however often it comes back
    assert statuses(push(client, shop, [event])) == ["duplicate"]


def test_same_order_under_a_new_event_id_is_not_stored_twice(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    payload = order(clerk_id=shop.s1.clerk_id)
    push(client, shop, [paid_event(payload)])
    again = paid_event(payload)
    other = paid_event({**payload, "receipt_no": "T01-999999"})
    assert statuses(push(client, shop, [again, other])) == ["duplicate", "conflict"]
    assert statuses(push(client, shop, [again, other])) == ["duplicate", "conflict"]
    assert db_state(app)["orders"] == 1


def test_event_repeated_within_one_batch_is_applied_once(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    event = paid_event(order(clerk_id=shop.s1.clerk_id, lines=[("p1", 1)]))
    body = push(client, shop, [event, event])
    assert statuses(body) == ["accepted", "duplicate"]
    assert stock_of(app, "p1") == 100_000 - 1


def test_bad_items_are_rejected_without_sinking_the_batch(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    good = orders_batch(shop, 2)
    float_money = paid_event(order(clerk_id=shop.s1.clerk_id))
    float_money["payload"]["lines"][2]["unit_price"] = 1.5
    bool_money = paid_event(order(clerk_id=shop.s1.clerk_id))
    bool_money["payload"]["total"] = True
    bad_quantity = paid_event(order(clerk_id=shop.s1.clerk_id))
    bad_quantity["payload"]["lines"][1]["quantity"] = -2
    wrong_total = paid_event(order(clerk_id=shop.s1.clerk_id))
    wrong_total["payload"]["total"] += 1
    short_tender = paid_event(order(clerk_id=shop.s1.clerk_id))
    short_tender["payload"]["tenders"][0]["amount"] -= 1
    short_tender["payload"]["tenders"][0]["tendered"] -= 1
    unknown_type = {**paid_event(order()), "type": "order.teleported"}
    events = [
        good[0],
        float_money,
        bool_money,
        "not an object",
        bad_quantity,
        wrong_total,
        short_tender,
        unknown_type,
        good[1],
    ]
    body = push(client, shop, events)
    results = body["results"]
    assert statuses(body) == ["accepted"] + ["rejected"] * 7 + ["accepted"]
    assert [r["index"] for r in results] == list(range(len(events)))
    assert results[1]["field"] == "payload.lines[2].unit_price"
    assert results[2]["field"] == "payload.total"
    assert results[3]["reason"] == "invalid_event"
    assert results[4]["field"] == "payload.lines[1].quantity"
    assert (results[5]["reason"], results[5]["field"]) == ("total_mismatch", "payload.total")
    assert results[6]["reason"] == "tenders_do_not_cover_total"
    assert (results[7]["reason"], results[7]["field"]) == ("unknown_event_type", "type")
    assert all(r["message"] for r in results[1:8])
    assert db_state(app)["orders"] == 2


def test_inconsistent_line_is_rejected_with_its_path(client: FlaskClient, shop: Shop) -> None:
    event = paid_event(order(clerk_id=shop.s1.clerk_id))
    event["payload"]["lines"][4]["gross"] += 1
    result = push(client, shop, [event])["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "line_gross_mismatch")
    assert result["field"] == "payload.lines[4].gross"


def test_a_line_above_the_tills_quantity_limit_is_rejected(client: FlaskClient, shop: Shop) -> None:
    event = paid_event(order(clerk_id=shop.s1.clerk_id, lines=[("p1", 10_000)]))
    result = push(client, shop, [event])["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "invalid_quantity")
    assert result["field"] == "payload.lines[0].quantity"
    assert "more than 9999" in result["message"]


def test_sale_beyond_stock_is_accepted_and_flagged_oversold(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    with services_of(app).sessions() as session, session.begin():
        session.execute(update(StockLevel).where(StockLevel.product_id == "p5").values(quantity=3))
    event = paid_event(order(clerk_id=shop.s1.clerk_id, lines=[("p5", 4)]))
    assert statuses(push(client, shop, [event])) == ["accepted"]
    assert stock_of(app, "p5") == -1
    flags = client.get("/api/v1/flags?kind=oversold", headers=shop.s1.headers).json["flags"]
    assert [(f["product_id"], f["order_id"]) for f in flags] == [("p5", event["payload"]["id"])]


def test_sale_at_another_price_is_accepted_at_the_price_paid_and_flagged(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 2)], unit_prices={"p1": 90})
    assert statuses(push(client, shop, [paid_event(payload)])) == ["accepted"]
    flags = client.get("/api/v1/flags", headers=shop.s1.headers).json["flags"]
    assert [f["kind"] for f in flags] == ["price_mismatch"]
    assert flags[0]["detail"]["paid_unit_price"] == 90
    assert flags[0]["detail"]["catalog_unit_price"] == 101
    stored = client.get(f"/api/v1/orders/{payload['id']}", headers=shop.s1.headers).json
    assert stored["total"] == 180
    assert client.get("/api/v1/flags", headers=shop.s2.headers).json["flags"] == []


def test_unknown_product_and_clerk_are_flagged(client: FlaskClient, shop: Shop) -> None:
    payload = order(clerk_id="nobody", lines=[("p1", 1)])
    payload["lines"][0]["product_id"] = "ghost"
    assert statuses(push(client, shop, [paid_event(payload)])) == ["accepted"]
    kinds = {f["kind"] for f in client.get("/api/v1/flags", headers=shop.s1.headers).json["flags"]}
    assert {"unknown_product", "unknown_clerk"} <= kinds


def test_void_returns_stock_once(app: Flask, client: FlaskClient, shop: Shop) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p6", 4)])
    void = void_event(payload["id"])
    assert statuses(push(client, shop, [paid_event(payload), void])) == ["accepted"] * 2
    assert stock_of(app, "p6") == 100_000
    assert statuses(push(client, shop, [void])) == ["duplicate"]
    assert stock_of(app, "p6") == 100_000
    stored = client.get(f"/api/v1/orders/{payload['id']}", headers=shop.s1.headers).json
    assert stored["status"] == "voided"


def test_void_of_another_stores_order_is_rejected(client: FlaskClient, shop: Shop) -> None:
    payload = order(clerk_id=shop.s1.clerk_id)
    push(client, shop, [paid_event(payload)])
    response = client.post(
        PUSH, json=push_body([void_event(payload["id"])]), headers=shop.s2.headers
    )
    result = response.json["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "unknown_order")


def test_new_customer_on_an_order_is_stored(client: FlaskClient, shop: Shop) -> None:
    customer = {
        "id": "0190f1c2-0000-7000-8000-000000000001",
        "name": "Ana",
        "phone": "123",
        "email": "ana@example.org",
    }
    payload = order(clerk_id=shop.s1.clerk_id, customer=customer)
    assert statuses(push(client, shop, [paid_event(payload)])) == ["accepted"]
    changes = client.get("/api/v1/sync/pull", headers=shop.s1.headers).json["changes"]
    assert [c["data"]["name"] for c in changes if c["kind"] == "customer"] == ["Ana"]


@pytest.mark.parametrize("count", [501, 600])
def test_batch_over_the_limit_is_refused_whole(
    app: Flask, client: FlaskClient, shop: Shop, count: int
) -> None:
    events = orders_batch(shop, 1) * count
    response = client.post(PUSH, json=push_body(events), headers=shop.s1.headers)
    assert response.status_code == 413
    assert response.json["error"] == "too_large"
    assert "500" in response.json["message"]
    assert db_state(app)["orders"] == 0


def test_batch_of_exactly_the_limit_is_taken(app: Flask, client: FlaskClient, shop: Shop) -> None:
    body = push(client, shop, orders_batch(shop, 500))
    assert body["accepted"] == 500


@pytest.mark.parametrize(
    ("body", "status", "error", "field"),
    [
        ({"events": []}, 422, "invalid_body", "protocol_version"),
        (
            {"protocol_version": 2, "events": []},
            400,
            "unsupported_protocol_version",
            "protocol_version",
        ),
        ({"protocol_version": 1}, 422, "invalid_body", "events"),
        ({"protocol_version": 1, "events": {}}, 422, "invalid_body", "events"),
        ({"protocol_version": 1, "events": [], "x": 1}, 422, "invalid_body", "x"),
        ([1, 2], 422, "invalid_body", None),
    ],
)
def test_malformed_push_envelope_is_a_4xx_json_error(
    client: FlaskClient, shop: Shop, body: Any, status: int, error: str, field: str | None
) -> None:
    response = client.post(PUSH, json=body, headers=shop.s1.headers)
    assert response.status_code == status
    assert response.json["error"] == error
    assert response.json["field"] == field


def test_new_order_sent_twice_in_one_batch_under_two_event_ids_is_stored_once(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p7", 2)])
    changed = {**payload, "receipt_no": "T01-777777"}
    events = [paid_event(payload), paid_event(payload), paid_event(changed)]
    assert statuses(push(client, shop, events)) == ["accepted", "duplicate", "conflict"]
    assert statuses(push(client, shop, events)) == ["duplicate", "duplicate", "conflict"]
    assert stock_of(app, "p7") == 100_000 - 2


def test_nul_character_rejects_only_its_own_item(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    good = paid_event(order(clerk_id=shop.s1.clerk_id))
    nul = paid_event(order(clerk_id=shop.s1.clerk_id))
    nul["payload"]["receipt_no"] = "T01\x00"
    body = push(client, shop, [good, nul])
    assert statuses(body) == ["accepted", "rejected"]
    assert body["results"][1]["reason"] == "invalid_event"


def parsed_items(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The indexes of the items the push validated in full (the real parser, watched)."""
    parsed: list[int] = []
    real = push_module._parse_item

    def watched(index: int, *rest: Any) -> Any:
        parsed.append(index)
        return real(index, *rest)

    monkeypatch.setattr(push_module, "_parse_item", watched)
    return parsed


def test_byte_identical_replay_is_answered_without_validation(
    app: Flask, client: FlaskClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = orders_batch(shop, 3)
    push(client, shop, events)
    before = db_state(app)
    parsed = parsed_items(monkeypatch)
    fresh = paid_event(order(clerk_id=shop.s1.clerk_id, sequence=77))
    body = push(client, shop, [*events, fresh])
    assert statuses(body) == ["duplicate"] * 3 + ["accepted"]
    assert parsed == [3]  # only the new event was validated
    assert db_state(app)["orders"] == before["orders"] + 1
    parsed.clear()
    assert statuses(push(client, shop, [events[0], events[0]])) == ["duplicate", "duplicate"]
    assert parsed == [0, 1]  # a repeat inside one batch takes the full path


def test_replay_in_another_key_order_is_validated_and_still_a_duplicate(
    app: Flask, client: FlaskClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = orders_batch(shop, 2)
    push(client, shop, events)
    before = db_state(app)
    parsed = parsed_items(monkeypatch)
    reordered = [dict(reversed(list(event.items()))) for event in events]
    assert statuses(push(client, shop, reordered)) == ["duplicate", "duplicate"]
    assert parsed == [0, 1]
    assert db_state(app) == before


def test_events_stored_before_the_raw_hash_existed_are_still_duplicates(
    app: Flask, client: FlaskClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = orders_batch(shop, 2)
    push(client, shop, events)
    with services_of(app).sessions() as session, session.begin():
        assert session.scalar(select(func.count()).where(SyncEvent.raw_hash.is_not(None))) == 2
        session.execute(update(SyncEvent).values(raw_hash=None))  # as rows of migration 0003
    before = db_state(app)
    parsed = parsed_items(monkeypatch)
    assert statuses(push(client, shop, events)) == ["duplicate", "duplicate"]
    assert parsed == [0, 1]
    assert db_state(app) == before
