"""Catalog import: every row checked, all or nothing, problems named by row and field."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.bootstrap import open_terminal
from app.data import demo_catalog_text
from app.domain.errors import CatalogImportError
from app.services.catalog_import import import_catalog
from app.services.demo_catalog import demo_catalog
from local_db.engine import DB_FILENAME

HEADER = "sku,name,brand,department,price,tax_class,sold_by,barcodes,active,stock\n"
GOOD_CSV = HEADER + (
    "BAK-ROLL,Kaiser roll,Hofbäckerei,Bakery,0.45,food,each,4012345678901,yes,120\n"
    'FRU-APPLE,Apples Braeburn,,Fruit & Vegetables,"2,49",food,weight,4131,yes,30000\n'
    "HOU-SPONGE,Kitchen sponges 3 pack,Cleano,Household,1.99,standard,each,"
    "4098765432101|96385074,yes,\n"
)


def do_import(terminal, text, kind="csv"):
    return import_catalog(terminal.uow(), text, kind, terminal.store.taxes, terminal.ids)


def product_count(terminal) -> int:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        return db.execute("SELECT count(*) FROM products").fetchone()[0]


def test_good_csv_imports_every_row(terminal):
    report = do_import(terminal, GOOD_CSV)
    assert (report.imported, report.created, report.updated) == (3, 3, 0)
    with terminal.read() as uow:
        apples = uow.products.by_code("4131")
        assert (apples.unit_price, apples.sold_by.value, apples.stock) == (249, "weight", 30000)
        assert uow.products.by_code("96385074").sku == "HOU-SPONGE"
        assert uow.products.by_code("HOU-SPONGE").stock is None


def test_reimport_updates_by_sku_and_keeps_the_product_id(terminal):
    do_import(terminal, GOOD_CSV)
    with terminal.read() as uow:
        first_id = uow.products.by_code("BAK-ROLL").id
    report = do_import(terminal, GOOD_CSV.replace("0.45", "0.49"))
    assert (report.created, report.updated) == (0, 3)
    with terminal.read() as uow:
        roll = uow.products.by_code("BAK-ROLL")
    assert (roll.id, roll.unit_price) == (first_id, 49)


@pytest.mark.parametrize(
    ("bad_row", "problem"),
    [
        ("X-1,Thing,,Pantry,1.2.3,food,each,,yes,", "row 5, field price: '1.2.3' is not an amount"),
        ("X-1,Thing,,Pantry,-1,food,each,,yes,", "row 5, field price: '-1' is negative"),
        ("X-1,Thing,,Pantry,99999999,food,each,,yes,", "row 5, field price: '99999999'"),
        ("X-1,Thing,,Pantry,10000.01,food,each,,yes,", "row 5, field price: '10000.01'"),
        ("X-1,Thing,,Pantry,1.00,luxury,each,,yes,", "row 5, field tax_class: unknown tax class"),
        (
            "X-1,Thing,,Pantry,1.00,food,each,4012345678902,yes,",
            "row 5, field barcodes: barcode '4012345678902' has check digit 2, expected 1",
        ),
        (
            "X-1,Thing,,Pantry,1.00,food,each,4012345678901;4131,yes,",
            "row 5, field barcodes: '4012345678901;4131': barcodes are separated by '|'",
        ),
        ("X-1,Thing,,Pantry,1.00,food,each,123,yes,", "row 5, field barcodes: barcode '123'"),
        ("X-1,Thing,,Pantry,1.00,food,each,4011|4011,yes,", "row 5, field barcodes: 4011 is"),
        ("X-1,Thing,,Pantry,1.00,food,dozen,,yes,", "row 5, field sold_by"),
        ("X-1,,,Pantry,1.00,food,each,,yes,", "row 5, field name: name is required"),
        (
            "BAK-ROLL,Again,,Pantry,1.00,food,each,,yes,",
            "row 5, field sku: 'BAK-ROLL' repeats row 2",
        ),
        (
            "X-1,Thing,,Pantry,1.00,food,each,4131,yes,",
            "row 5, field barcodes: 4131 is already used in row 3",
        ),
        ("X-1,Thing,,Pantry,1.00,food,each,,maybe,", "row 5, field active"),
        ("X-1,Thing,,Pantry,1.00,food,each,,yes,lots", "row 5, field stock"),
        ("X-1,Thing,,Pantry,1.00,food,each,,yes,-3", "row 5, field stock: -3 is negative"),
        ("X-1,Thing,,Pantry,1.00,food,each,,yes,,surplus", "row 5, field row: more values"),
    ],
)
def test_one_broken_row_imports_nothing_and_names_row_and_field(terminal, bad_row, problem):
    with pytest.raises(CatalogImportError) as caught:
        do_import(terminal, GOOD_CSV + bad_row + "\n")
    assert caught.value.message.startswith("nothing was imported")
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    assert product_count(terminal) == 3  # only the fixture's products, untouched


def test_every_problem_is_listed_not_just_the_first(terminal):
    text = HEADER + "A,,,,x,food,each,,,\nB,Thing,,,1,nope,each,,,\n"
    with pytest.raises(CatalogImportError) as caught:
        do_import(terminal, text)
    assert len(caught.value.problems) == 2


def test_missing_columns_are_named(terminal):
    with pytest.raises(CatalogImportError) as caught:
        do_import(terminal, "sku,name\nA,B\n")
    assert caught.value.problems == [
        "row 1, field tax_class: column is missing",
        "row 1, field price: column is missing",
    ]


def test_unknown_columns_and_cents_in_a_csv_are_refused_not_ignored(terminal):
    with pytest.raises(CatalogImportError) as caught:
        do_import(terminal, "sku,name,unit_price,price,tax_class,barcode\nA,B,129,1.29,food,4011\n")
    assert caught.value.problems == [
        "row 1, field unit_price: a CSV gives price as written (1.29); "
        "unit_price in cents is for JSON",
        "row 1, field barcode: unknown column; the columns are id, sku, name, brand, "
        "department, price, tax_class, sold_by, barcodes, active, stock",
    ]
    assert product_count(terminal) == 3


def test_a_barcode_claimed_by_two_rows_names_both_rows(terminal):
    text = HEADER + (
        "A-1,Oat drink,,Drinks,1.99,food,each,4012345678901,yes,\n"  # row 2
        "A-2,Rice drink,,Drinks,2.19,food,each,96385074|4012345678901,yes,\n"  # row 3
    )
    with pytest.raises(CatalogImportError) as caught:
        do_import(terminal, text)
    assert caught.value.problems == [
        "row 3, field barcodes: 4012345678901 is already used in row 2"
    ]


def test_barcode_owned_by_another_product_in_the_store_is_refused(terminal):
    text = HEADER + "NEW-1,Imposter milk,,Dairy,1.00,food,each,4000000000013,yes,\n"
    with pytest.raises(CatalogImportError, match="nothing was imported") as caught:
        do_import(terminal, text)
    assert caught.value.problems == [
        "row 2, field barcodes: barcode 4000000000013 already belongs to Whole milk 1 L "
        "(sku DAI-MILK-1L); Imposter milk (sku NEW-1) cannot have it too"
    ]
    assert product_count(terminal) == 3


def test_json_catalog_with_minor_units(terminal):
    data = {
        "products": [
            {
                "sku": "DRI-WATER",
                "name": "Still water 1.5 L",
                "unit_price": 59,
                "tax_class": "food",
                "barcodes": ["4001234000015"],
                "department": "Drinks",
            },
        ]
    }
    assert do_import(terminal, json.dumps(data), "json").imported == 1
    with terminal.read() as uow:
        assert uow.products.by_code("4001234000015").unit_price == 59


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "line 1, column 2"),
        ('{"a": 1}', "the JSON must be a list of products"),
        (
            '[{"sku": "A", "name": "B", "unit_price": 1.5, "tax_class": "food"}]',
            "row 1, field unit_price: 1.5 must be an integer of cents",
        ),
        (
            '[{"sku": "A", "name": "B", "unit_price": true, "tax_class": "food"}]',
            "row 1, field unit_price",
        ),
        ("[1, 2]", "row 1, field row: expected an object"),
        ("[]", "the file has no data rows"),
    ],
)
def test_broken_json_imports_nothing(terminal, text, problem):
    with pytest.raises(CatalogImportError) as caught:
        do_import(terminal, text, "json")
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    assert product_count(terminal) == 3


def test_json_lines_give_each_line_as_a_row(terminal):
    lines = [
        json.dumps({"sku": "A-1", "name": "Oat drink", "price": "1.99", "tax_class": "food"}),
        "",
        json.dumps({"sku": "A-2", "name": "Rice drink", "unit_price": 219, "tax_class": "x"}),
    ]
    with pytest.raises(CatalogImportError) as caught:
        do_import(terminal, "\n".join(lines), "jsonl")
    assert caught.value.problems == ["row 3, field tax_class: unknown tax class 'x'"]
    lines[2] = lines[2].replace('"x"', '"food"')
    assert do_import(terminal, "\n".join(lines), "jsonl").created == 2
    with terminal.read() as uow:
        assert uow.products.by_code("A-2").unit_price == 219


def test_the_demo_data_file_is_a_catalog_file_the_till_imports(tmp_path):
    till = open_terminal(tmp_path / "empty-till")
    try:
        report = import_catalog(till.uow(), demo_catalog_text(), "csv", till.store.taxes, till.ids)
        assert report.created == len(demo_catalog())
        with till.read() as uow:
            for product in demo_catalog():
                assert uow.products.by_id(product.id) == product
    finally:
        till.close()
