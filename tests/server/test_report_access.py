"""Reports are for managers only: the sign-in, its lockout, the session's scope; bad queries
get a clear 4xx; the store's time zone decides the report dates (CLI set-time-zone)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server.admin import service as admin
from server.cli import main
from server.db import unit_of_work
from sync.protocol import MANAGER_HEADER
from tests.server.builders import order, paid_event
from tests.server.conftest import services_of
from tests.server.report_builders import (
    MANAGER_PIN,
    ReportShop,
    build_sale,
    paid,
    report_shop,
)

DAY = {"from": "2026-10-01", "to": "2026-10-31"}


def _sign_in(shop: ReportShop, clerk_id: str, pin: str, till: Any = None) -> Any:
    return shop.client.post(
        "/api/v1/manager-sessions",
        json={"protocol_version": 1, "clerk_id": clerk_id, "pin": pin},
        headers=(till or shop.tills[0]).headers,
    )


def _get(shop: ReportShop, path: str, token: str | None, till: Any = None) -> Any:
    headers = dict((till or shop.tills[0]).headers)
    if token is not None:
        headers[MANAGER_HEADER] = token
    return shop.client.get(path, query_string=DAY, headers=headers)


def test_reports_need_a_manager_session_of_this_terminal(app: Flask) -> None:
    shop = report_shop(app, tills=2)
    path = "/api/v1/reports/sales-by-day"
    missing = _get(shop, path, None)
    assert (missing.status_code, missing.json["error"]) == (403, "manager_required")
    assert _get(shop, path, "made-up-token").json["error"] == "manager_required"
    # a clerk's right PIN is no manager's
    clerk = _sign_in(shop, shop.clerk_pin_id, "1234")
    assert (clerk.status_code, clerk.json["error"]) == (403, "manager_required")
    token = shop.manager_token()
    assert _get(shop, path, token).status_code == 200
    # the session is the terminal's it was opened at
    assert _get(shop, path, token, shop.tills[1]).json["error"] == "manager_required"
    # S1's manager is nobody at another store's terminal
    other = _sign_in(shop, shop.manager_id, MANAGER_PIN, shop.other)
    assert (other.status_code, other.json["error"]) == (403, "invalid_pin")


def test_five_wrong_pins_lock_the_manager_out_for_five_minutes(app: Flask) -> None:
    shop = report_shop(app, tills=1)
    answers = [_sign_in(shop, shop.manager_id, "999999").json["error"] for _ in range(5)]
    assert answers == ["invalid_pin"] * 5
    locked = _sign_in(shop, shop.manager_id, MANAGER_PIN)
    assert (locked.status_code, locked.json["error"]) == (403, "pin_locked")
    assert "try again after" in locked.json["message"]


BAD_QUERIES = [
    ("/api/v1/reports/best-days", DAY, 404, "not_found", None),
    ("/api/v1/reports/tenders", {"from": "2026-10-31", "to": "2026-10-01"}, 422, None, "to"),
    ("/api/v1/reports/tenders", {"from": "2026-13-01", "to": "2026-10-01"}, 422, None, "from"),
    ("/api/v1/reports/tenders", {"from": "2025-01-01", "to": "2026-10-01"}, 422, None, "to"),
    ("/api/v1/reports/shifts", {"from": "9999-12-31", "to": "9999-12-31"}, 422, None, "from"),
    ("/api/v1/reports/products", {**DAY, "order": "best"}, 422, None, "order"),
    ("/api/v1/reports/products", {**DAY, "terminal": "T 1"}, 422, None, "terminal"),
]


def test_bad_report_queries_are_named_and_change_nothing(app: Flask) -> None:
    shop = report_shop(app, tills=1)
    headers = {**shop.tills[0].headers, MANAGER_HEADER: shop.manager_token()}
    for path, query, status, error, field in BAD_QUERIES:
        answer = shop.client.get(path, query_string=query, headers=headers)
        assert answer.status_code == status, (path, query, answer.json)
        assert answer.json["message"]
        if error:
            assert answer.json["error"] == error
        if field:
            assert answer.json["field"] == field, (query, answer.json)


def test_the_store_time_zone_decides_the_report_day(
    app: Flask,
    migrated_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = report_shop(app, tills=1)
    late = build_sale(
        random.Random(1), "T01", 1, ("c-anna", "Anna"), datetime(2026, 10, 10, 23, 30, tzinfo=UTC)
    )
    assert shop.push(shop.tills[0], [paid(late)]) == ["accepted"]
    token = shop.manager_token()

    def days() -> list[str]:
        return [r[0] for r in shop.report("sales-by-day", token, **DAY)["rows"]]

    assert days() == ["2026-10-11"]  # 00:30 in Dublin (summer time)
    me = shop.client.get("/api/v1/terminals/me", headers=shop.tills[0].headers).json
    assert me["store"]["time_zone"] == "Europe/Dublin"
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("SHOPSMART_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MONGO_URL", raising=False)
    assert main(["store", "set-time-zone", "--store", "S1", "--time-zone", "Mars/Olympus"]) == 1
    assert "Mars/Olympus" in capsys.readouterr().err
    assert main(["store", "set-time-zone", "--store", "S1", "--time-zone", "America/New_York"]) == 0
    assert days() == ["2026-10-10"]  # 19:30 in New York
    hours = shop.report("sales-by-hour", token, **DAY)["rows"]
    assert [r[0] for r in hours] == [19]
    me = shop.client.get("/api/v1/terminals/me", headers=shop.tills[0].headers).json
    assert me["store"]["time_zone"] == "America/New_York"


def test_low_stock_and_flags_name_the_products_a_manager_must_look_at(app: Flask) -> None:
    shop = report_shop(app, tills=1)
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        admin.set_stock(session, store, {"p1": 3, "p2": 6, "bananas": 4_000, "p3": -2})
    cheap = order(clerk_id="c-anna", lines=[("p1", 1)], unit_prices={"p1": 50})
    cheap["paid_at"] = "2026-10-05T10:00:00+00:00"
    assert shop.push(shop.tills[0], [paid_event(cheap)]) == ["accepted"]
    token = shop.manager_token()
    low = shop.report("low-stock", token, **DAY)["rows"]
    # by the unit: at most 5; by weight: at most 5 kg; lowest first (the sale took one p1)
    assert low == [
        ["p3", "SKU-3", "Product 3", -2],
        ["p1", "SKU-1", "Product 1", 2],
        ["bananas", "SKU-BAN", "Bananas", 4_000],
    ]
    today = datetime.now(UTC).date().isoformat()  # flags are dated when the server raised them
    flags = shop.report("flags", token, **{"from": today, "to": today})["rows"]
    assert [r[1:5] for r in flags] == [["price_mismatch", "T01-000001", "T01", "p1"]]
    assert flags[0][5] == "line 1: paid €0.50, catalog €1.01"
