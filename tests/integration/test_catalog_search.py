"""Exact barcode lookup and prefix search as the clerk types."""

from __future__ import annotations

from dataclasses import replace

from app.domain.product import Product

from .conftest import BANANAS, MILK, WINE


def extra_products(count: int) -> list[Product]:
    return [
        Product(
            id=f"0190d5b4-0000-7000-9000-{i:012d}",
            sku=f"GEN-{i:05d}",
            name=f"{word} {i}",
            unit_price=100 + i,
            tax_class="food",
            brand="Generic",
            department="Pantry",
        )
        for i, word in zip(
            range(count), ["Basmati rice", "Baked beans", "Barley"] * count, strict=False
        )
    ]


def test_barcode_plu_and_sku_lookups_are_exact(terminal):
    with terminal.read() as uow:
        assert uow.products.by_code(MILK.barcodes[0]) == MILK
        assert uow.products.by_code("4011") == BANANAS
        assert uow.products.by_code("ALC-RIOJA") == WINE
        assert uow.products.by_code("4000000000037") is None


def test_search_matches_prefixes_of_name_brand_and_department(terminal):
    with terminal.read() as uow:
        assert [p.sku for p in uow.products.search("whol mil")] == ["DAI-MILK-1L"]
        assert [p.sku for p in uow.products.search("bodega")] == ["ALC-RIOJA"]
        assert [p.sku for p in uow.products.search("fruit")] == ["FRU-BANANA"]
        assert uow.products.search("   ") == []
        assert uow.products.search('"*) OR (') == []


def test_one_and_two_letter_prefixes_use_the_name_index_alphabetically(terminal):
    with terminal.uow() as uow:
        uow.products.upsert_many(extra_products(30))
        uow.commit()
    with terminal.read() as uow:
        names = [p.name for p in uow.products.search("b", limit=20)]
        assert len(names) == 20
        assert names == sorted(names, key=str.casefold)
        assert all(n.casefold().startswith("b") for n in names)
        assert {p.sku for p in uow.products.search("ba", limit=50)} >= {"FRU-BANANA", "GEN-00000"}


def test_renamed_and_deactivated_products_follow_in_search(terminal):
    with terminal.uow() as uow:
        uow.products.upsert_many(
            [replace(MILK, name="Organic oat drink 1 L"), replace(WINE, active=False)]
        )
        uow.commit()
    with terminal.read() as uow:
        assert uow.products.search("whole") == []
        assert [p.sku for p in uow.products.search("oat dri")] == ["DAI-MILK-1L"]
        assert uow.products.search("rioja") == []
        assert uow.products.by_code("ALC-RIOJA").active is False
