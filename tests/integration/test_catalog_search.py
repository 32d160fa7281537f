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


def test_names_starting_with_the_input_come_first_then_ranked_matches(terminal):
    many = [
        Product(
            id=f"0190d5b4-0000-7000-a000-{i:012d}",
            sku=f"ORG-{i:05d}",
            name=f"Organic item {i}",
            unit_price=100,
            tax_class="food",
            brand="Greenfield",
        )
        for i in range(600)  # more matches than the ranking window
    ]
    many.append(
        Product(
            id="0190d5b4-0000-7000-a000-999999999999",
            sku="FRU-ORANGE",
            name="Oranges, loose",
            unit_price=249,
            tax_class="food",
            department="Fruit & Vegetables",
        )
    )
    with terminal.uow() as uow:
        uow.products.upsert_many(many)
        uow.commit()
    with terminal.read() as uow:
        found = uow.products.search("ora")
        assert found[0].sku == "FRU-ORANGE"  # the name starts with it
        assert all("org" not in p.name.casefold() for p in found)  # "ora" ≠ "org"
        greenfield = uow.products.search("greenf item 59")
        assert greenfield and all(p.brand == "Greenfield" for p in greenfield)
        assert "ORG-00059" in {p.sku for p in greenfield}
        assert len(uow.products.search("organic")) == 20
