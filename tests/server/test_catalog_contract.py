"""One contract for every catalog repository: SQL on PostgreSQL (JSONB) and on SQLite (JSON),
MongoDB through mongomock, and a real MongoDB when SHOPSMART_TEST_MONGO_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.barcode import DuplicateBarcode
from server.catalog.repository import (
    CatalogRepository,
    MongoCatalogRepository,
    ProductDocument,
    SqlCatalogRepository,
)
from server.db import make_engine, make_session_factory, upgrade_database
from tests.server.conftest import sqlalchemy_url

MILK = ProductDocument(
    id="milk",
    sku="DAI-001",
    name="Whole milk 1 l",
    brand="Farm",
    department="dairy",
    unit_price=129,
    tax_class="food",
    barcodes=["4001234567891"],
    attributes={"nutrition": {"fat_g": 3.5, "kcal": 64}, "allergens": ["milk"]},
)
APPLES = ProductDocument(
    id="apples",
    sku="PRO-007",
    name="Apples",
    department="produce",
    unit_price=249,
    tax_class="food",
    sold_by="weight",
    barcodes=["2100070000004"],
    attributes={"origin": "NZ", "variety": "Braeburn"},
)
SOAP = ProductDocument(
    id="soap",
    sku="HOU-300",
    name="Soap",
    unit_price=199,
    tax_class="standard",
    department="household",
    attributes={"hazard": None, "pack": 3},
)


def _sql(url: str) -> Iterator[CatalogRepository]:
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield SqlCatalogRepository(session)
    finally:
        engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite", "mongomock", "mongodb"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogRepository]:
    if request.param == "postgresql":
        pg_url = request.getfixturevalue("pg_url")
        yield from _sql(sqlalchemy_url(pg_url))
    elif request.param == "sqlite":
        yield from _sql(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    elif request.param == "mongomock":
        import mongomock

        repo = MongoCatalogRepository(mongomock.MongoClient(tz_aware=True)["shopsmart"])
        repo.ensure_indexes()
        yield repo
    else:
        url = os.environ.get("SHOPSMART_TEST_MONGO_URL")
        if not url:
            pytest.skip("SHOPSMART_TEST_MONGO_URL is not set: no real MongoDB to test against")
        from pymongo import MongoClient

        client: MongoClient = MongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)
        name = f"shopsmart_test_{uuid.uuid4().hex[:12]}"
        repo = MongoCatalogRepository(client[name])
        repo.ensure_indexes()
        try:
            yield repo
        finally:
            client.drop_database(name)
            client.close()


def test_saved_products_read_back_with_department_attributes(catalog: CatalogRepository) -> None:
    assert catalog.save([MILK, APPLES, SOAP]) == ["milk", "apples", "soap"]
    assert catalog.get("milk") == MILK
    assert catalog.get("apples") == APPLES
    assert catalog.get("soap") == SOAP
    assert catalog.get("nothing") is None


def test_saving_again_replaces_the_document(catalog: CatalogRepository) -> None:
    catalog.save([MILK])
    cheaper = MILK.model_copy(update={"unit_price": 119, "attributes": {"organic": True}})
    catalog.save([cheaper])
    assert catalog.get("milk") == cheaper


def test_get_many_returns_only_known_ids(catalog: CatalogRepository) -> None:
    catalog.save([MILK, APPLES])
    found = catalog.get_many(["milk", "apples", "ghost", "milk"])
    assert found == {"milk": MILK, "apples": APPLES}
    assert catalog.get_many([]) == {}


def test_find_by_sku_and_barcode(catalog: CatalogRepository) -> None:
    catalog.save([MILK, APPLES])
    assert catalog.find_by_sku("PRO-007") == APPLES
    assert catalog.find_by_sku("nope") is None
    assert catalog.find_by_barcode("4001234567891") == MILK
    assert catalog.find_by_barcode("0000000000000") is None


def test_unit_prices_skip_unknown_and_deleted(catalog: CatalogRepository) -> None:
    catalog.save([MILK, APPLES, SOAP])
    catalog.delete("soap")
    assert catalog.unit_prices(["milk", "apples", "soap", "ghost"]) == {
        "milk": 129,
        "apples": 249,
    }


def test_deleted_product_remains_as_a_tombstone(catalog: CatalogRepository) -> None:
    catalog.save([MILK])
    assert catalog.delete("milk") is True
    tombstone = catalog.get("milk")
    assert tombstone is not None
    assert (tombstone.deleted, tombstone.active, tombstone.sku) == (True, False, "DAI-001")
    assert catalog.find_by_barcode("4001234567891") is None
    assert catalog.delete("ghost") is False


OAT = ProductDocument(
    id="oat",
    sku="DAI-002",
    name="Oat drink 1 l",
    unit_price=189,
    tax_class="food",
    barcodes=["4006381333931"],
)


def test_a_second_product_claiming_a_barcode_is_refused_naming_both(
    catalog: CatalogRepository,
) -> None:
    catalog.save([MILK])
    thief = OAT.model_copy(update={"barcodes": ["4006381333931", MILK.barcodes[0]]})
    with pytest.raises(DuplicateBarcode) as refused:
        catalog.save([SOAP, thief])
    assert refused.value.message == (
        f"barcode {MILK.barcodes[0]} already belongs to Whole milk 1 l (sku DAI-001); "
        "Oat drink 1 l (sku DAI-002) cannot have it too"
    )
    assert catalog.get_many(["soap", "oat"]) == {}  # nothing of the batch was saved
    assert catalog.find_by_barcode(MILK.barcodes[0]) == MILK


def test_two_products_of_one_batch_cannot_share_a_barcode(catalog: CatalogRepository) -> None:
    twin = MILK.model_copy(update={"id": "milk2", "sku": "DAI-009", "name": "Milk again"})
    with pytest.raises(DuplicateBarcode, match=r"Whole milk 1 l \(sku DAI-001\).*Milk again"):
        catalog.save([MILK, twin])
    assert catalog.get_many(["milk", "milk2"]) == {}


def test_a_barcode_moves_when_its_product_gives_it_up_or_is_deleted(
    catalog: CatalogRepository,
) -> None:
    catalog.save([MILK, OAT])
    barcode = MILK.barcodes[0]
    taker = OAT.model_copy(update={"barcodes": [*OAT.barcodes, barcode]})
    catalog.save([MILK.model_copy(update={"barcodes": []}), taker])  # one batch: a move
    assert catalog.find_by_barcode(barcode) == taker
    catalog.delete("oat")
    catalog.save([MILK])  # the tombstone holds no barcode
    assert catalog.find_by_barcode(barcode) == MILK


def test_a_product_saved_again_keeps_its_own_barcodes(catalog: CatalogRepository) -> None:
    catalog.save([MILK])
    cheaper = MILK.model_copy(update={"unit_price": 99})
    catalog.save([cheaper])
    assert catalog.find_by_barcode(MILK.barcodes[0]) == cheaper


def test_a_department_spelled_otherwise_takes_the_catalogs_spelling(
    catalog: CatalogRepository,
) -> None:
    catalog.save([MILK.model_copy(update={"department": "Bakery"})])
    rye = SOAP.model_copy(update={"id": "rye", "sku": "BAK-9", "department": "  bakery "})
    apples = APPLES.model_copy(update={"department": "Fruit  & Veg"})
    pears = APPLES.model_copy(update={"id": "pears", "sku": "PRO-8", "barcodes": []})
    pears = pears.model_copy(update={"department": "FRUIT & VEG"})
    catalog.save([rye, apples, pears])
    found = catalog.get_many(["milk", "rye", "apples", "pears"])
    assert {pid: doc.department for pid, doc in found.items()} == {
        "milk": "Bakery",
        "rye": "Bakery",  # the catalog's spelling, not a second "bakery"
        "apples": "Fruit & Veg",  # new to the catalog: the batch's first spelling, trimmed
        "pears": "Fruit & Veg",
    }
    # Renaming a department works by saving all of its products in the new spelling.
    renamed = [doc.model_copy(update={"department": "BAKERY"}) for doc in (found["milk"],)]
    catalog.save([*renamed, found["rye"].model_copy(update={"department": "BAKERY"})])
    assert {d.department for d in catalog.get_many(["milk", "rye"]).values()} == {"BAKERY"}
