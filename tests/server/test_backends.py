"""The same flow on the other storage set-ups: catalog in MongoDB, and SQLite with nothing
installed (no DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.admin import service as admin
from server.app import create_app
from server.catalog.repository import ProductDocument
from server.config import TestConfig
from server.db import unit_of_work, upgrade_database
from tests.server.builders import PRODUCTS, order, paid_event, push_body
from tests.server.conftest import enroll_terminal, services_of


@pytest.fixture(params=["postgresql+mongomock", "sqlite"])
def other_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    if request.param == "sqlite":
        config = TestConfig(database_url="", data_dir=tmp_path / "data")
        upgrade_database(config.sqlalchemy_url)
        app = create_app(config)
    else:
        import mongomock

        config = TestConfig(database_url=request.getfixturevalue("migrated_url"))
        app = create_app(config, mongo_client=mongomock.MongoClient(tz_aware=True))
    yield app
    services_of(app).close()


def test_sale_and_pull_work_the_same(other_app: Flask) -> None:
    client = other_app.test_client()
    svc = services_of(other_app)
    with unit_of_work(svc.sessions) as session:
        store = admin.create_store(session, "S1", "High Street")
        admin.save_products(session, svc.catalog(session), [ProductDocument(**p) for p in PRODUCTS])
        admin.set_stock(session, store, {"p1": 10})
    terminal = enroll_terminal(other_app, client, "S1", "T01")
    payload = order(clerk_id=terminal.clerk_id, lines=[("p1", 3)], unit_prices={"p1": 50})
    body = push_body([paid_event(payload)])
    first = client.post("/api/v1/sync/push", json=body, headers=terminal.headers).json
    again = client.post("/api/v1/sync/push", json=body, headers=terminal.headers).json
    assert [r["status"] for r in first["results"] + again["results"]] == [
        "accepted",
        "duplicate",
    ]
    changes = client.get("/api/v1/sync/pull", headers=terminal.headers).json["changes"]
    assert sum(c["kind"] == "product" for c in changes) == len(PRODUCTS)
    stock = [c["data"] for c in changes if c["kind"] == "stock"]
    assert stock == [{"product_id": "p1", "quantity": 7}]
    flags = client.get("/api/v1/flags", headers=terminal.headers).json["flags"]
    assert [f["kind"] for f in flags] == ["price_mismatch"]
    found = client.get(
        "/api/v1/catalog/products",
        query_string={"barcode": "4000000000013"},
        headers=terminal.headers,
    ).json["products"]
    assert [p["id"] for p in found] == ["p1"]
