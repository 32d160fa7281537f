"""The demo catalog: realistic, valid, unique and deterministic."""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest

from app.domain.barcode import SCALE_PREFIX, validate_barcode
from app.domain.product import Product, SoldBy
from app.domain.tax import DEFAULT_TAX_TABLE
from app.services.demo_catalog import (
    DEMO_FAVOURITES,
    DEPARTMENTS,
    FAVOURITE_NAMES,
    FIRST_PRODUCT_NAMES,
    demo_products,
    favourite_skus,
)


@pytest.fixture(scope="module")
def catalog() -> list[Product]:
    return demo_products()


def test_default_size_spans_real_departments(catalog: list[Product]) -> None:
    assert len(catalog) >= 5000
    departments = Counter(product.department for product in catalog)
    assert len(departments) >= 12
    assert set(departments) <= set(DEPARTMENTS)
    for name in ("Fruit & Vegetables", "Bakery", "Dairy & Eggs", "Alcohol", "Pet"):
        assert departments[name] > 0


def test_every_product_is_valid_and_sensible(catalog: list[Product]) -> None:
    for product in catalog:
        assert product.name.strip() == product.name
        assert re.fullmatch(r"[A-Z]{3}-\d{5}", product.sku)
        assert 0 < product.unit_price <= 100_00 or product.department == "Gift Cards & Stamps"
        assert product.tax_class in DEFAULT_TAX_TABLE.classes()
        assert isinstance(product.attributes, dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in product.attributes.items())
        assert product.stock is None or product.stock >= 0
        assert len(product.barcodes) == 1
        assert uuid.UUID(product.id).version == 7


def test_packaged_products_have_one_valid_ean13_outside_in_store_range(
    catalog: list[Product],
) -> None:
    for product in catalog:
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


def test_weighed_items_have_plus_and_are_sold_by_weight(catalog: list[Product]) -> None:
    weighed = [product for product in catalog if product.sold_by is SoldBy.WEIGHT]
    assert 0.05 <= len(weighed) / len(catalog) <= 0.08
    for product in weighed:
        (plu,) = product.barcodes
        assert len(plu) == 4 and plu.isdigit() and not plu.startswith("0")
        assert validate_barcode(plu) == plu
        assert product.attributes["price_unit"] == "kg"
        assert product.department in {"Fruit & Vegetables", "Meat & Fish", "Deli & Cheese"}
    for product in catalog:
        if len(product.barcodes[0]) == 4:
            assert product.by_weight


def test_tax_classes(catalog: list[Product]) -> None:
    classes = Counter(product.tax_class for product in catalog)
    assert set(classes) == {"food", "standard", "exempt"}
    assert classes["food"] > classes["standard"] > classes["exempt"] > 0
    assert classes["exempt"] <= 10
    by_department: dict[str, set[str]] = {}
    for product in catalog:
        by_department.setdefault(product.department, set()).add(product.tax_class)
    for department in ("Alcohol", "Household", "Personal Care", "Pet", "Drinks"):
        assert by_department[department] == {"standard"}
    for department in ("Bakery", "Dairy & Eggs", "Pantry", "Fruit & Vegetables"):
        assert by_department[department] == {"food"}


def test_department_specific_attributes(catalog: list[Product]) -> None:
    alcohol = [product for product in catalog if product.department == "Alcohol"]
    assert all(
        "abv" in product.attributes and "volume_ml" in product.attributes for product in alcohol
    )
    dairy = [product for product in catalog if product.department == "Dairy & Eggs"]
    assert all(product.attributes["storage"].startswith("chilled") for product in dairy)
    frozen = [product for product in catalog if product.department == "Frozen"]
    assert all(product.attributes["storage"].startswith("frozen") for product in frozen)


def test_a_few_products_are_inactive(catalog: list[Product]) -> None:
    inactive = sum(not product.active for product in catalog)
    assert 0.003 * len(catalog) <= inactive <= 0.03 * len(catalog)


def test_first_products_are_stable_everyday_items(catalog: list[Product]) -> None:
    first = catalog[: len(FIRST_PRODUCT_NAMES)]
    assert len(FIRST_PRODUCT_NAMES) <= 20
    assert [product.name for product in first] == list(FIRST_PRODUCT_NAMES)
    by_name = {product.name: product for product in first}
    bananas = by_name["Bananas"]
    assert bananas.by_weight and bananas.barcodes == ("4011",)
    assert by_name["Apples Fuji"].by_weight and by_name["Apples Fuji"].barcodes == ("4131",)
    for name in ("Whole milk 1 L", "Sourdough loaf 800 g", "Butter 250 g", "Still water 1.5 L"):
        assert not by_name[name].by_weight
    assert any("eggs" in name for name in by_name)
    assert any("coffee" in name for name in by_name)
    assert all(product.active for product in first)

    def stable_view(products: list[Product]) -> list[tuple[object, ...]]:
        return [
            (p.name, p.sku, p.unit_price, p.barcodes, p.tax_class, p.sold_by)
            for p in products[: len(FIRST_PRODUCT_NAMES)]
        ]

    for count, seed in ((50, 42), (50, 7), (1234, 99), (5000, 0)):
        assert stable_view(demo_products(count, seed)) == stable_view(catalog)


def test_favourites(catalog: list[Product]) -> None:
    assert 10 <= len(DEMO_FAVOURITES) <= 14
    assert len(set(DEMO_FAVOURITES)) == len(DEMO_FAVOURITES)
    assert favourite_skus(catalog) == DEMO_FAVOURITES
    assert favourite_skus(demo_products(50, seed=3)) == DEMO_FAVOURITES
    by_sku = {product.sku: product for product in catalog}
    assert [by_sku[sku].name for sku in DEMO_FAVOURITES] == list(FAVOURITE_NAMES)


def test_deterministic_for_a_seed(catalog: list[Product]) -> None:
    again = demo_products()
    assert again == catalog
    assert [p.attributes for p in again] == [p.attributes for p in catalog]
    other = demo_products(seed=43)
    assert other != catalog
    assert [p.id for p in other] != [p.id for p in catalog]


@pytest.mark.parametrize("count", [0, 1, 20, 25, 26, 50, 333])
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
