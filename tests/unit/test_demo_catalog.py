"""The demo catalog: one data file, valid by the shop's rules; the generator around it
realistic, unique and deterministic."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path

import pytest

import app.data
from app.data import DEMO_CATALOG, demo_catalog_text
from app.domain.barcode import SCALE_PREFIX, validate_barcode
from app.domain.catalog_file import catalog_csv, parse_catalog
from app.domain.product import Product, SoldBy
from app.domain.tax import DEFAULT_TAX_TABLE
from app.services.demo_catalog import (
    DEMO_FAVOURITES,
    DEPARTMENTS,
    demo_catalog,
    demo_products,
    favourite_skus,
)


@pytest.fixture(scope="module")
def catalog() -> list[Product]:
    return demo_products(5000)


@pytest.fixture(scope="module")
def generated(catalog: list[Product]) -> list[Product]:
    return catalog[len(demo_catalog()) :]


def test_the_demo_catalog_is_the_data_file_read_with_the_shops_rules() -> None:
    assert Path(app.data.__file__).with_name(DEMO_CATALOG).is_file()  # shipped as package data
    text = demo_catalog_text()

    def no_new_ids() -> str:
        raise AssertionError("every demo product has its id in the file")

    rows = parse_catalog(text, "csv", DEFAULT_TAX_TABLE, no_new_ids)
    products = demo_catalog()
    assert [row.product for row in rows] == products
    assert catalog_csv(products) == text  # the file is written in the format it is read in
    assert 25 <= len(products) <= 60
    assert {p.tax_class for p in products} == {"food", "standard", "exempt"}
    assert any(p.by_weight for p in products) and all(p.active for p in products)
    by_id = {p.id: p for p in products}
    # the e2e suite and the README name these two
    assert by_id["demo-milk"].name == "Whole milk 1 L"
    assert by_id["demo-wine"].tax_class == "standard"


def test_favourites_are_demo_products() -> None:
    products = demo_catalog()
    assert 6 <= len(DEMO_FAVOURITES) <= 14
    assert len(set(DEMO_FAVOURITES)) == len(DEMO_FAVOURITES)
    assert favourite_skus(products) == DEMO_FAVOURITES
    assert favourite_skus(demo_products(2000, seed=3)) == DEMO_FAVOURITES


def test_every_count_starts_with_the_demo_catalog(catalog: list[Product]) -> None:
    demo = demo_catalog()
    assert demo_products() == demo
    assert catalog[: len(demo)] == demo
    for count, seed in ((50, 42), (50, 7), (1234, 99)):
        assert demo_products(count, seed)[: len(demo)] == demo
    assert demo_products(3) == demo[:3]


def test_generated_products_span_real_departments(generated: list[Product]) -> None:
    departments = Counter(product.department for product in generated)
    assert len(departments) >= 12
    assert set(departments) <= set(DEPARTMENTS)
    for name in ("Fruit & Vegetables", "Bakery", "Dairy & Eggs", "Alcohol", "Pet"):
        assert departments[name] > 0


def test_every_generated_product_is_valid_and_sensible(generated: list[Product]) -> None:
    for product in generated:
        assert product.name.strip() == product.name
        assert re.fullmatch(r"[A-Z]{3}-\d{5}", product.sku)
        assert 0 < product.unit_price <= 100_00
        assert product.tax_class in DEFAULT_TAX_TABLE.classes()
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in product.attributes.items())
        assert product.stock is None or product.stock >= 0
        assert len(product.barcodes) == 1
        assert uuid.UUID(product.id).version == 7


def test_packaged_products_have_one_valid_ean13_outside_in_store_range(
    generated: list[Product],
) -> None:
    for product in generated:
        if product.by_weight:
            continue
        (code,) = product.barcodes
        assert len(code) == 13
        assert validate_barcode(code) == code
        assert not code.startswith("2"), "prefix 2x is for in-store codes (28 = scale labels)"
        assert not code.startswith(SCALE_PREFIX)
        assert 400 <= int(code[:3]) <= 440


def test_barcodes_skus_and_ids_are_unique(catalog: list[Product]) -> None:
    barcodes = [code for product in catalog for code in product.barcodes]
    assert len(set(barcodes)) == len(barcodes)
    assert len({product.sku for product in catalog}) == len(catalog)
    assert len({product.id for product in catalog}) == len(catalog)
    assert len({(product.brand, product.name) for product in catalog}) == len(catalog)


def test_generated_weighed_items_have_plus(generated: list[Product]) -> None:
    weighed = [product for product in generated if product.sold_by is SoldBy.WEIGHT]
    assert 0.05 <= len(weighed) / len(generated) <= 0.08
    for product in weighed:
        (plu,) = product.barcodes
        assert len(plu) == 4 and plu.isdigit() and not plu.startswith("0")
        assert product.attributes["price_unit"] == "kg"
        assert product.department in {"Fruit & Vegetables", "Meat & Fish", "Deli & Cheese"}
    for product in generated:
        if len(product.barcodes[0]) == 4:
            assert product.by_weight


def test_tax_classes_by_department(generated: list[Product]) -> None:
    by_department: dict[str, set[str]] = {}
    for product in generated:
        by_department.setdefault(product.department, set()).add(product.tax_class)
    for department in ("Alcohol", "Household", "Personal Care", "Pet", "Drinks"):
        assert by_department[department] == {"standard"}
    for department in ("Bakery", "Dairy & Eggs", "Pantry", "Fruit & Vegetables"):
        assert by_department[department] == {"food"}


def test_department_specific_attributes(generated: list[Product]) -> None:
    alcohol = [product for product in generated if product.department == "Alcohol"]
    assert all(
        "abv" in product.attributes and "volume_ml" in product.attributes for product in alcohol
    )
    dairy = [product for product in generated if product.department == "Dairy & Eggs"]
    assert all(product.attributes["storage"].startswith("chilled") for product in dairy)


def test_a_few_generated_products_are_inactive(generated: list[Product]) -> None:
    inactive = sum(not product.active for product in generated)
    assert 0.003 * len(generated) <= inactive <= 0.03 * len(generated)


def test_deterministic_for_a_seed(catalog: list[Product]) -> None:
    again = demo_products(5000)
    assert again == catalog
    assert [p.attributes for p in again] == [p.attributes for p in catalog]
    other = demo_products(5000, seed=43)
    assert other != catalog
    assert [p.id for p in other] != [p.id for p in catalog]


@pytest.mark.parametrize("count", [0, 1, 20, 31, 32, 50, 333])
def test_small_counts(count: int) -> None:
    products = demo_products(count, seed=1)
    assert len(products) == count
    assert len({p.sku for p in products}) == count
    assert len({p.barcodes for p in products}) == count


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        demo_products(-1)


@pytest.mark.slow
def test_one_hundred_thousand_products() -> None:
    products = demo_products(100_000, seed=5)
    assert len(products) == 100_000
    barcodes = [code for product in products for code in product.barcodes]
    assert len(set(barcodes)) == len(barcodes)
    assert len({product.sku for product in products}) == len(products)
    assert len({product.id for product in products}) == len(products)
    assert len({(product.brand, product.name) for product in products}) == len(products)
