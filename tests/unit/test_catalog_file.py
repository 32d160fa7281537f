"""The one catalog file format: what it accepts, what it refuses, and how it says so."""

from __future__ import annotations

import json
from itertools import count

import pytest

from app.domain.catalog_file import (
    catalog_csv,
    catalog_kind,
    check_against_catalog,
    parse_catalog,
)
from app.domain.errors import CatalogImportError, PosError
from app.domain.product import Product, SoldBy
from app.domain.tax import DEFAULT_TAX_TABLE

_numbers = count(1)


def new_id() -> str:
    return f"new-{next(_numbers)}"


def parse(text: str, kind: str = "csv") -> list[Product]:
    return [row.product for row in parse_catalog(text, kind, DEFAULT_TAX_TABLE, new_id)]


def problems(text: str, kind: str = "csv") -> list[str]:
    with pytest.raises(CatalogImportError) as caught:
        parse(text, kind)
    return caught.value.problems


def test_a_csv_row_is_written_as_a_person_writes_it() -> None:
    (apples, sponges) = parse(
        "sku,name,price,tax_class,sold_by,barcodes,active,stock\n"
        'FRU-APPLE,Apples,"2,49",food,weight,4131,yes,30000\n'
        "HOU-SPONGE,Sponges,1 299.00,standard,,4098765432101|96385074,no,\n"
    )
    assert (apples.unit_price, apples.sold_by, apples.stock) == (249, SoldBy.WEIGHT, 30000)
    assert apples.id.startswith("new-")
    assert sponges.unit_price == 129900 and sponges.barcodes == ("4098765432101", "96385074")
    assert (sponges.active, sponges.stock, sponges.sold_by) == (False, None, SoldBy.EACH)


def test_json_may_give_cents_a_barcode_list_and_attributes() -> None:
    (oat,) = parse(
        json.dumps(
            {
                "products": [
                    {
                        "id": "p1",
                        "sku": "A-1",
                        "name": "Oat drink",
                        "unit_price": 219,
                        "tax_class": "food",
                        "barcodes": ["4012345678901"],
                        "active": True,
                        "stock": 12,
                        "attributes": {"allergens": ["oats"]},
                    }
                ]
            }
        ),
        "json",
    )
    assert (oat.id, oat.unit_price, oat.barcodes, oat.stock) == ("p1", 219, ("4012345678901",), 12)
    assert oat.attributes == {"allergens": ["oats"]}


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"unit_price": 219, "price": "2.19"}, "row 1, field unit_price: give price or unit_price"),
        ({"unit_price": "219"}, "row 1, field unit_price: '219' must be an integer of cents"),
        ({"price": True}, "row 1, field price: True is not an amount"),
        ({"price": "1.999"}, "row 1, field price: '1.999' has more than two decimals"),
        ({"price": "1.00", "attributes": [1]}, "row 1, field attributes: attributes must be"),
        ({"price": "1.00", "stock": True}, "row 1, field stock"),
        ({"price": "1.00", "barcodes": ["4011", "4011"]}, "row 1, field barcodes: 4011 is"),
    ],
)
def test_json_rows_are_checked_field_by_field(row: dict[str, object], problem: str) -> None:
    base = {"sku": "A-1", "name": "Oat drink", "tax_class": "food"}
    found = problems(json.dumps([{**base, **row}]), "json")
    assert len(found) == 1 and found[0].startswith(problem), found


def test_an_id_or_sku_claimed_by_two_rows_names_both() -> None:
    found = problems(
        "id,sku,name,price,tax_class\n"
        "p1,A-1,One,1.00,food\n"
        "p1,A-2,Two,1.00,food\n"
        "p3,A-1,Three,1.00,food\n"
    )
    assert found == ["row 3, field id: 'p1' repeats row 2", "row 4, field sku: 'A-1' repeats row 2"]


def test_a_csv_with_an_empty_header_or_a_repeated_column_is_refused() -> None:
    assert problems("sku,name,price,tax_class,name\nA,B,1,food,C\n") == [
        "row 1, field name: column appears twice"
    ]
    assert problems("") == [
        "row 1, field sku: column is missing",
        "row 1, field name: column is missing",
        "row 1, field tax_class: column is missing",
        "row 1, field price: column is missing",
    ]
    assert problems("sku,name,price,tax_class\n") == ["the file has no data rows"]


def test_the_known_catalog_keeps_ids_and_owns_its_barcodes() -> None:
    milk = Product("m1", "DAI-MILK", "Whole milk 1 L", 109, "food", barcodes=("4006381333931",))
    rows = parse_catalog(
        "sku,name,price,tax_class,barcodes\nDAI-MILK,Whole milk 1 L,1.19,food,4006381333931\n"
        "NEW-1,Oat drink,1.99,food,4012345678901\n",
        "csv",
        DEFAULT_TAX_TABLE,
        new_id,
    )
    known = {"DAI-MILK": milk}
    owners = {"4006381333931": milk}
    products, created = check_against_catalog(rows, known.get, owners.get)
    assert created == 1
    assert [(p.id, p.unit_price) for p in products] == [("m1", 119), (products[1].id, 199)]
    assert products[1].id.startswith("new-")
    taken = parse_catalog(
        "sku,name,price,tax_class,barcodes\nNEW-2,Imposter,1.00,food,4006381333931\n",
        "csv",
        DEFAULT_TAX_TABLE,
        new_id,
    )
    with pytest.raises(CatalogImportError) as caught:
        check_against_catalog(taken, known.get, owners.get)
    assert caught.value.problems == [
        "row 2, field barcodes: barcode 4006381333931 already belongs to Whole milk 1 L "
        "(sku DAI-MILK); Imposter (sku NEW-2) cannot have it too"
    ]


def test_a_catalog_written_by_catalog_csv_reads_back_unchanged() -> None:
    products = [
        Product("p1", "A-1", 'Dark chocolate 70 %, "bitter"', 199, "food", barcodes=("4011",)),
        Product("p2", "A-2", "Cherries", 1299, "food", SoldBy.WEIGHT, ("4045", "4046"), stock=0),
        Product("p3", "A-3", "Gift card", 2500, "exempt", active=False),
    ]
    assert parse(catalog_csv(products)) == products


def test_catalog_kind_comes_from_the_file_name() -> None:
    assert [catalog_kind(n) for n in ("a.CSV", "b.json", "c.jsonl")] == ["csv", "json", "jsonl"]
    with pytest.raises(PosError, match=r"catalog\.xlsx: expected a \.csv, \.json or \.jsonl"):
        catalog_kind("catalog.xlsx")
