"""An open-price item (goods without a barcode: a line of no product) is a valid line on the
wire: the push accepts it on PostgreSQL and on the embedded SQLite, stores the line as sent,
flags nothing and moves no stock; a malformed one is rejected with its path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.admin import service as admin
from server.app import create_app
from server.catalog.repository import ProductDocument
from server.config import TestConfig
from server.db import unit_of_work, upgrade_database
from server.models import OrderLine, StockLevel
from tests.server.builders import PRODUCTS, order, paid_event, push_body
from tests.server.conftest import enroll_terminal, services_of


@pytest.fixture(params=["postgresql", "sqlite"])
def backend_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "sqlite":
        config = TestConfig(database_url="", data_dir=tmp_path / "data")
        upgrade_database(config.sqlalchemy_url)
    else:
        config = TestConfig(database_url=request.getfixturevalue("migrated_url"))
    app = create_app(config)
    yield app
    services_of(app).close()


def with_open_price_line(payload: dict[str, Any], price: int, **change: Any) -> dict[str, Any]:
    """``payload`` with a cake from the bakery counter added at ``price`` (totals adjusted)."""
    line = {
        "line_no": len(payload["lines"]) + 1,
        "product_id": "",
        "sku": "",
        "name": "Bakery (open price)",
        "sold_by": "each",
        "quantity": 1,
        "unit_price": price,
        "gross": price,
        "line_discount": 0,
        "order_discount_share": 0,
        "net": price,
        "tax_class": "food",
        "tax_rate_bp": 700,
        "discount_reason": "",
        **change,
    }
    total = payload["total"] + line["net"]
    tax = (total * 700 + 5350) // 10700
    payload["lines"].append(line)
    payload.update(subtotal=total, total=total, tax_total=tax)
    payload["tax"][0].update(taxable=total, tax=tax)
    payload["tenders"][0].update(amount=total, tendered=total + 100)
    return payload


def test_an_open_price_line_is_accepted_on_both_backends(backend_app: Flask) -> None:
    client = backend_app.test_client()
    svc = services_of(backend_app)
    with unit_of_work(svc.sessions) as session:
        store = admin.create_store(session, "S1", "High Street")
        admin.save_products(session, svc.catalog(session), [ProductDocument(**p) for p in PRODUCTS])
        admin.set_stock(session, store, {"p1": 10})
    terminal = enroll_terminal(backend_app, client, "S1", "T01")
    payload = with_open_price_line(order(clerk_id=terminal.clerk_id, lines=[("p1", 2)]), 350)
    bad = with_open_price_line(
        order(clerk_id=terminal.clerk_id, lines=[("p1", 1)], sequence=2),
        350,
        quantity=2,
        gross=700,
        net=700,
    )
    body = push_body([paid_event(payload), paid_event(bad)])
    answer = client.post("/api/v1/sync/push", json=body, headers=terminal.headers)
    assert answer.status_code == 200, answer.json
    good, refused = answer.json["results"]
    assert good["status"] == "accepted", good
    assert refused["status"] == "rejected"
    assert (
        refused["reason"] == "open_price_line_invalid"
        and refused["field"] == "payload.lines[1].quantity"
    )
    with svc.sessions() as session:
        stored = session.execute(
            select(
                OrderLine.line_no, OrderLine.product_id, OrderLine.sku, OrderLine.unit_price
            ).order_by(OrderLine.line_no)
        ).all()
        stock = dict(session.execute(select(StockLevel.product_id, StockLevel.quantity)).all())
    assert [tuple(row) for row in stored] == [
        (1, "p1", "SKU-p1", PRODUCTS[0]["unit_price"]),
        (2, "", "", 350),
    ]
    assert stock == {"p1": 8}  # the open-price line moved no stock
    flags = client.get("/api/v1/flags", headers=terminal.headers).json["flags"]
    assert flags == []  # no "unknown_product" for the line of no product
