"""Catalog import: CSV or JSON in, every row validated, all or nothing.

Columns / keys: ``sku, name, brand, department, price, tax_class, sold_by, barcodes, active,
stock`` (``id`` optional). ``price`` is what a person writes (``"1.29"``; per kg when sold by
weight) — JSON may give ``unit_price`` in minor units instead. ``barcodes`` are separated by
``|`` or ``;`` in CSV, a list in JSON. A file with any bad row imports nothing; the error lists
every problem as ``row N, field F: what is wrong``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.domain.errors import CatalogImportError, PosError
from app.domain.money import parse_amount
from app.domain.product import Product, SoldBy
from app.domain.tax import TaxTable
from app.ports import IdFactory, UnitOfWork

REQUIRED = ("sku", "name", "tax_class")
TRUE_WORDS = {"1", "true", "yes", "y", "active"}
FALSE_WORDS = {"0", "false", "no", "n", "inactive"}
MAX_PROBLEMS_LISTED = 200


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: int
    created: int
    updated: int


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _row_to_product(raw: Mapping[str, Any], taxes: TaxTable, new_id: Callable[[], str]) -> Product:
    for key in REQUIRED:
        if not _text(raw.get(key)):
            raise PosError(f"{key} is required", field=key)
    sold_by_text = _text(raw.get("sold_by")).lower() or "each"
    try:
        sold_by = SoldBy(sold_by_text)
    except ValueError:
        raise PosError(f"{sold_by_text!r} is not 'each' or 'weight'", field="sold_by") from None
    if "unit_price" in raw and raw["unit_price"] not in (None, ""):
        price = raw["unit_price"]
        if not isinstance(price, int) or isinstance(price, bool):
            raise PosError(f"{price!r} must be an integer of cents", field="unit_price")
    elif _text(raw.get("price")):
        price = parse_amount(_text(raw.get("price")), field="price")
    else:
        raise PosError("price is required", field="price")
    tax_class = _text(raw.get("tax_class"))
    taxes.rate_for(tax_class)
    barcodes_raw = raw.get("barcodes", "")
    if isinstance(barcodes_raw, list):
        barcodes = tuple(_text(code) for code in barcodes_raw if _text(code))
    else:
        text = _text(barcodes_raw).replace(";", "|")
        barcodes = tuple(code.strip() for code in text.split("|") if code.strip())
    active_text = _text(raw.get("active")).lower()
    if active_text in ("", *TRUE_WORDS):
        active = True
    elif active_text in FALSE_WORDS:
        active = False
    else:
        raise PosError(f"{active_text!r} is not yes/no", field="active")
    stock_text = _text(raw.get("stock"))
    stock: int | None = None
    if stock_text:
        try:
            stock = int(stock_text)
        except ValueError:
            raise PosError(f"{stock_text!r} is not a whole number", field="stock") from None
    return Product(
        id=_text(raw.get("id")) or new_id(),
        sku=_text(raw.get("sku")),
        name=_text(raw.get("name")),
        brand=_text(raw.get("brand")),
        department=_text(raw.get("department")),
        unit_price=price,
        tax_class=tax_class,
        sold_by=sold_by,
        barcodes=barcodes,
        active=active,
        stock=stock,
    )


def parse_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]], taxes: TaxTable, ids: IdFactory
) -> list[Product]:
    """Validate every row; raise one ``CatalogImportError`` listing all problems, or return all."""
    products: list[Product] = []
    problems: list[str] = []
    seen_sku: dict[str, int] = {}
    seen_code: dict[str, int] = {}
    for row_no, raw in rows:
        try:
            product = _row_to_product(raw, taxes, ids.new_id)
        except PosError as error:
            field = error.field or "row"
            message = error.message
            if message.startswith(f"{field}: "):
                message = message[len(field) + 2 :]
            problems.append(f"row {row_no}, field {field}: {message}")
            continue
        if product.sku in seen_sku:
            problems.append(
                f"row {row_no}, field sku: {product.sku!r} repeats row {seen_sku[product.sku]}"
            )
            continue
        seen_sku[product.sku] = row_no
        clash = next((c for c in product.barcodes if c in seen_code), None)
        if clash:
            problems.append(
                f"row {row_no}, field barcodes: {clash} is already used in row {seen_code[clash]}"
            )
            continue
        seen_code.update(dict.fromkeys(product.barcodes, row_no))
        products.append(product)
    if problems:
        raise_import_error(problems)
    if not products:
        raise CatalogImportError("the file has no products", ["the file has no data rows"])
    return products


def raise_import_error(problems: list[str]) -> None:
    shown = problems[:MAX_PROBLEMS_LISTED]
    if len(problems) > MAX_PROBLEMS_LISTED:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS_LISTED} more problems")
    raise CatalogImportError(
        f"nothing was imported: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
        "in the file",
        shown,
    )


def read_catalog_text(text: str, kind: str) -> list[tuple[int, Mapping[str, Any]]]:
    """Split CSV (header row first; data rows count from 2) or JSON (a list of objects)."""
    if kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CatalogImportError(
                "nothing was imported: the file is not valid JSON",
                [f"line {error.lineno}, column {error.colno}: {error.msg}"],
            ) from None
        if isinstance(data, dict) and isinstance(data.get("products"), list):
            data = data["products"]
        if not isinstance(data, list):
            raise CatalogImportError(
                "nothing was imported", ["the JSON must be a list of products"]
            )
        rows: list[tuple[int, Mapping[str, Any]]] = []
        problems = []
        for index, item in enumerate(data, start=1):
            if isinstance(item, dict):
                rows.append((index, item))
            else:
                problems.append(f"row {index}, field row: expected an object")
        if problems:
            raise_import_error(problems)
        return rows
    if kind != "csv":
        raise CatalogImportError("nothing was imported", [f"unknown file type {kind!r}"])
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in (*REQUIRED,) if name not in header]
    if "price" not in header and "unit_price" not in header:
        missing.append("price")
    if missing:
        raise CatalogImportError(
            "nothing was imported: the header row is incomplete",
            [f"row 1, field {name}: column is missing" for name in missing],
        )
    reader.fieldnames = header
    result: list[tuple[int, Mapping[str, Any]]] = []
    for row in reader:
        if None in row:
            result.append((reader.line_num, {"__extra__": row[None]}))
            continue
        result.append((reader.line_num, row))
    return result


def import_catalog(
    uow: UnitOfWork, text: str, kind: str, taxes: TaxTable, ids: IdFactory
) -> ImportReport:
    """Validate the whole file, then write it in ONE transaction (all or nothing)."""
    return import_rows(uow, read_catalog_text(text, kind), taxes, ids)


def import_rows(
    uow: UnitOfWork, rows: list[tuple[int, Mapping[str, Any]]], taxes: TaxTable, ids: IdFactory
) -> ImportReport:
    """``import_catalog`` of rows already split by ``read_catalog_text`` (the import dialog
    counts them first for its progress bar)."""
    extra = [row_no for row_no, raw in rows if "__extra__" in raw]
    if extra:
        raise_import_error([f"row {n}, field row: more values than header columns" for n in extra])
    products = parse_rows(rows, taxes, ids)
    with uow:
        problems = []
        resolved: list[Product] = []
        created = 0
        for product in products:
            existing = uow.products.by_code(product.sku)
            if existing is not None and existing.sku == product.sku:
                product = _with_id(product, existing.id)
            else:
                created += 1
            for code in product.barcodes:
                owner = uow.products.by_code(code)
                if owner is not None and owner.sku != product.sku:
                    problems.append(
                        f"product {product.sku}, field barcodes: {code} already belongs to "
                        f"{owner.sku} ({owner.name})"
                    )
            resolved.append(product)
        if problems:
            raise_import_error(problems)
        uow.products.upsert_many(resolved)
        uow.commit()
    return ImportReport(imported=len(resolved), created=created, updated=len(resolved) - created)


def _with_id(product: Product, product_id: str) -> Product:
    return replace(product, id=product_id)
