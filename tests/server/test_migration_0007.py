"""Migration 0007 clears barcodes two products claimed, the same way on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from server.db import upgrade_database
from server.models import ChangeEntry, Product, ProductBarcode
from tests.server.conftest import sqlalchemy_url

X, Y, Z = "4006381333931", "4000000000013", "4000000000020"


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return sqlalchemy_url(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'server.sqlite3'}"


def product(product_id: str, barcodes: list[str], hour: int, deleted: bool = False) -> Any:
    document = {
        "id": product_id,
        "sku": f"SKU-{product_id}",
        "name": f"Product {product_id}",
        "unit_price": 100,
        "tax_class": "food",
        "sold_by": "each",
        "barcodes": barcodes,
        "deleted": deleted,
    }
    return {
        "id": product_id,
        "sku": document["sku"],
        "unit_price": 100,
        "deleted": deleted,
        "document": document,
        "updated_at": datetime(2026, 11, 30, hour, tzinfo=UTC),
    }


def test_each_clashing_barcode_stays_with_one_product_and_the_others_are_pulled_again(
    database_url: str,
) -> None:
    upgrade_database(database_url, "0006")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(Product),
                [
                    product("a", [X, Y], hour=8),  # saved first with X
                    product("b", [X], hour=9),  # took X over: the index names b
                    product("c", [Y], hour=10, deleted=True),  # a tombstone claims nothing
                    product("d", [Z], hour=11),  # the index names neither d nor e …
                    product("e", [Z], hour=12),  # … so the one updated last keeps Z
                ],
            )
            connection.execute(
                insert(ProductBarcode),
                [{"barcode": X, "product_id": "b"}, {"barcode": Y, "product_id": "a"}],
            )
        upgrade_database(database_url)
        with engine.connect() as connection:
            documents = dict(connection.execute(select(Product.id, Product.document)).all())
            index = dict(
                connection.execute(select(ProductBarcode.barcode, ProductBarcode.product_id)).all()
            )
            pulled_again = connection.execute(
                select(ChangeEntry.kind, ChangeEntry.entity_key, ChangeEntry.store_id)
            ).all()
    finally:
        engine.dispose()
    assert {pid: doc["barcodes"] for pid, doc in documents.items()} == {
        "a": [Y],
        "b": [X],
        "c": [Y],
        "d": [],
        "e": [Z],
    }
    assert index == {X: "b", Y: "a", Z: "e"}
    assert sorted(pulled_again) == [("product", "a", None), ("product", "d", None)]
