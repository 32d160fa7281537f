"""The one catalog file format, read the same way by the till and by the server.

A catalog file is CSV (a header row, then one product per row), JSON (a list of objects, or
``{"products": [...]}``) or JSON lines (one object per line). Columns / keys:

``sku, name, price, tax_class`` (required), ``id, brand, department, sold_by, barcodes,
active, stock`` (optional); JSON may also give ``attributes`` (an object).

- ``price`` is written as a person writes it (``1.29``, ``"2,49"``), per kg when the product is
  sold by weight. JSON may give ``unit_price`` in minor units (cents) instead; a CSV may not
  (``129`` in a spreadsheet is ambiguous).
- ``sold_by`` is ``each`` (the default) or ``weight``.
- ``barcodes``: EAN-13, UPC-A, EAN-8 with a correct check digit or a 4–5 digit PLU, separated
  by ``|`` in CSV (``4012345678901|96385074``), a list in JSON.
- ``active``: yes/no (default yes); ``stock``: a whole number of units, grams when sold by
  weight (empty: not tracked).

Every row is checked with the till's product rules (``app.domain.product``); a file with any
bad row imports nothing, and ``CatalogImportError.problems`` names every problem as
``row N, field F: what is wrong`` (CSV rows count from the header, row 1). A barcode or SKU
claimed by two rows is refused naming both rows; one already owned by another product of the
catalog is refused naming that product (``check_against_catalog``).

Pure: text in, products or ``CatalogImportError`` out. Reading the file is the caller's job.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol

from app.domain.barcode import BarcodeClaim, barcode_taken
from app.domain.errors import CatalogImportError, PosError
from app.domain.money import parse_amount
from app.domain.product import Product, SoldBy
from app.domain.tax import TaxTable

CATALOG_KINDS = ("csv", "json", "jsonl")
REQUIRED = ("sku", "name", "tax_class")
COLUMNS = (
    "id",
    "sku",
    "name",
    "brand",
    "department",
    "price",
    "tax_class",
    "sold_by",
    "barcodes",
    "active",
    "stock",
)
JSON_ONLY_KEYS = ("unit_price", "attributes")
BARCODE_SEPARATOR = "|"
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "active"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "inactive"})
MAX_PROBLEMS_LISTED = 200

RawRow = tuple[int, Mapping[str, Any]]
"""(row number, the row's columns as read) — what ``read_catalog_text`` splits a file into."""


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """One valid product of a catalog file and the row it came from."""

    row: int
    product: Product


class KnownProduct(Protocol):
    """A product already in a catalog, as much of it as the checks need."""

    @property
    def id(self) -> str: ...

    @property
    def sku(self) -> str: ...

    @property
    def name(self) -> str: ...


def catalog_kind(filename: str) -> str:
    """``csv``, ``json`` or ``jsonl`` from a file name; a ``PosError`` naming it otherwise."""
    kind = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if kind not in CATALOG_KINDS:
        raise PosError(f"{filename}: expected a .csv, .json or .jsonl catalog file")
    return kind


def raise_import_error(problems: Sequence[str]) -> None:
    """Raise the one ``CatalogImportError`` for ``problems`` (the first 200 listed)."""
    shown = list(problems[:MAX_PROBLEMS_LISTED])
    if len(problems) > MAX_PROBLEMS_LISTED:
        shown.append(f"… and {len(problems) - MAX_PROBLEMS_LISTED} more problems")
    raise CatalogImportError(
        f"nothing was imported: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
        "in the file",
        shown,
    )


def error_report(error: PosError) -> str:
    """What a command line prints for a refused import (or any shop error): the message,
    then one indented line per problem."""
    problems = error.problems if isinstance(error, CatalogImportError) else []
    return "\n".join([f"error: {error.message}", *(f"  {problem}" for problem in problems)])


# --------------------------------------------------------------------------------------------
# Splitting a file into rows
# --------------------------------------------------------------------------------------------


def read_catalog_text(text: str, kind: str) -> list[RawRow]:
    """Split a catalog file into numbered rows (nothing checked yet but the shape)."""
    if kind == "csv":
        return _read_csv(text)
    if kind in ("json", "jsonl"):
        return _read_json(text, lines=kind == "jsonl")
    raise CatalogImportError("nothing was imported", [f"unknown file type {kind!r}"])


def _read_json(text: str, *, lines: bool) -> list[RawRow]:
    items: list[tuple[int, object]] = []
    if lines:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                items.append((number, _json(line, number)))
    else:
        data = _json(text, 0)
        if isinstance(data, dict) and isinstance(data.get("products"), list):
            data = data["products"]
        if not isinstance(data, list):
            raise CatalogImportError(
                "nothing was imported", ["the JSON must be a list of products"]
            )
        items = list(enumerate(data, start=1))
    rows: list[RawRow] = []
    problems: list[str] = []
    for number, item in items:
        if isinstance(item, dict):
            rows.append((number, item))
        else:
            problems.append(f"row {number}, field row: expected an object")
    if problems:
        raise_import_error(problems)
    return rows


def _json(text: str, line_offset: int) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogImportError(
            "nothing was imported: the file is not valid JSON",
            [f"line {line_offset or error.lineno}, column {error.colno}: {error.msg}"],
        ) from None


def _read_csv(text: str) -> list[RawRow]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    problems = [
        f"row 1, field {name}: column is missing" for name in REQUIRED if name not in header
    ]
    if "price" not in header and "unit_price" not in header:
        problems.append("row 1, field price: column is missing")
    for name in header:
        if name == "unit_price":
            problems.append(
                "row 1, field unit_price: a CSV gives price as written (1.29); "
                "unit_price in cents is for JSON"
            )
        elif name not in COLUMNS:
            problems.append(
                f"row 1, field {name or '(empty)'}: unknown column; "
                f"the columns are {', '.join(COLUMNS)}"
            )
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems += [f"row 1, field {name}: column appears twice" for name in repeated]
    if problems:
        raise CatalogImportError("nothing was imported: the header row is not right", problems)
    reader.fieldnames = header
    rows: list[RawRow] = []
    extra: list[str] = []
    for row in reader:
        if None in row:
            extra.append(f"row {reader.line_num}, field row: more values than header columns")
        else:
            rows.append((reader.line_num, row))
    if extra:
        raise_import_error(extra)
    return rows


# --------------------------------------------------------------------------------------------
# Checking rows with the till's product rules
# --------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _price(raw: Mapping[str, Any]) -> tuple[int, str]:
    """(minor units, the field it came from)."""
    given_price = _text(raw.get("price"))
    if raw.get("unit_price") not in (None, ""):
        if given_price:
            raise PosError("give price or unit_price, not both", field="unit_price")
        cents = raw["unit_price"]
        if not isinstance(cents, int) or isinstance(cents, bool):
            raise PosError(f"{cents!r} must be an integer of cents", field="unit_price")
        return cents, "unit_price"
    if not given_price:
        raise PosError("price is required", field="price")
    if isinstance(raw.get("price"), bool):
        raise PosError(f"{raw['price']!r} is not an amount", field="price")
    return parse_amount(given_price, field="price"), "price"


def _barcodes(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        codes = [_text(code) for code in value]
    else:
        text = _text(value)
        if ";" in text or "," in text:
            raise PosError(
                f"{text!r}: barcodes are separated by '{BARCODE_SEPARATOR}'", field="barcodes"
            )
        codes = [code.strip() for code in text.split(BARCODE_SEPARATOR)]
    codes = [code for code in codes if code]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        raise PosError(f"{twice[0]} is listed twice", field="barcodes")
    return tuple(codes)


def _active(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("", *TRUE_WORDS):
        return True
    if text in FALSE_WORDS:
        return False
    raise PosError(f"{text!r} is not yes/no", field="active")


def _stock(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        stock = value
    else:
        text = _text(value)
        if not text:
            return None
        try:
            stock = int(text)
        except ValueError:
            raise PosError(f"{text!r} is not a whole number", field="stock") from None
    if stock < 0:
        raise PosError(f"{stock} is negative", field="stock")
    return stock


def _attributes(value: object) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise PosError("attributes must be an object with text keys", field="attributes")
    return dict(value)


def _sold_by(value: object) -> SoldBy:
    text = _text(value).lower() or SoldBy.EACH.value
    try:
        return SoldBy(text)
    except ValueError:
        raise PosError(f"{text!r} is not 'each' or 'weight'", field="sold_by") from None


def product_from_row(raw: Mapping[str, Any], taxes: TaxTable, new_id: Callable[[], str]) -> Product:
    """One row as a ``Product`` checked with the till's rules; a ``PosError`` naming the field."""
    for key in REQUIRED:
        if not _text(raw.get(key)):
            raise PosError(f"{key} is required", field=key)
    sold_by = _sold_by(raw.get("sold_by"))
    price, price_field = _price(raw)
    tax_class = _text(raw.get("tax_class"))
    taxes.rate_for(tax_class)
    barcodes = _barcodes(raw.get("barcodes"))
    try:
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
            active=_active(raw.get("active")),
            stock=_stock(raw.get("stock")),
            attributes=_attributes(raw.get("attributes")),
        )
    except PosError as error:
        if error.field == "unit_price" and price_field == "price":
            # the rule speaks in minor units; the row was written as a person writes it
            raise PosError(f"{_text(raw.get('price'))!r}: {error.message}", field="price") from None
        field = "barcodes" if error.field == "barcode" else error.field
        raise PosError(error.message, field=field) from None


def _problem(row: int, error: PosError) -> str:
    field = error.field or "row"
    message = error.message
    if message.startswith(f"{field}: "):
        message = message[len(field) + 2 :]
    return f"row {row}, field {field}: {message}"


def parse_rows(
    rows: Iterable[RawRow], taxes: TaxTable, new_id: Callable[[], str]
) -> list[CatalogRow]:
    """Check every row; return them all, or raise one ``CatalogImportError`` listing every
    problem (a SKU, id or barcode claimed by two rows names both)."""
    parsed: list[CatalogRow] = []
    problems: list[str] = []
    seen: dict[str, dict[str, int]] = {"sku": {}, "id": {}, "barcodes": {}}
    for row_no, raw in rows:
        try:
            product = product_from_row(raw, taxes, new_id)
        except PosError as error:
            problems.append(_problem(row_no, error))
            continue
        clashes = [
            f"row {row_no}, field {field}: {value!r} repeats row {seen[field][value]}"
            for field, value in (("sku", product.sku), ("id", product.id))
            if value in seen[field]
        ]
        clashes += [
            f"row {row_no}, field barcodes: {code} is already used in row {seen['barcodes'][code]}"
            for code in product.barcodes
            if code in seen["barcodes"]
        ]
        if clashes:
            problems += clashes
            continue
        seen["sku"][product.sku] = seen["id"][product.id] = row_no
        seen["barcodes"].update(dict.fromkeys(product.barcodes, row_no))
        parsed.append(CatalogRow(row_no, product))
    if problems:
        raise_import_error(problems)
    if not parsed:
        raise CatalogImportError("the file has no products", ["the file has no data rows"])
    return parsed


def parse_catalog(
    text: str, kind: str, taxes: TaxTable, new_id: Callable[[], str]
) -> list[CatalogRow]:
    """``read_catalog_text`` then ``parse_rows``: a whole file, checked."""
    return parse_rows(read_catalog_text(text, kind), taxes, new_id)


# --------------------------------------------------------------------------------------------
# Checking rows against the catalog they go into
# --------------------------------------------------------------------------------------------


def check_against_catalog(
    rows: Sequence[CatalogRow],
    by_sku: Callable[[str], KnownProduct | None],
    barcode_owner: Callable[[str], KnownProduct | None],
) -> tuple[list[Product], int]:
    """The products to save and how many are new: a row whose SKU is known keeps that
    product's id (a re-import updates it); a barcode owned by another product of the catalog
    is refused naming that product. Raises one ``CatalogImportError`` for all problems."""
    products: list[Product] = []
    problems: list[str] = []
    created = 0
    for entry in rows:
        product = entry.product
        existing = by_sku(product.sku)
        if existing is None:
            created += 1
        elif existing.id != product.id:
            product = replace(product, id=existing.id)
        for code in product.barcodes:
            owner = barcode_owner(code)
            if owner is not None and owner.sku != product.sku:
                refusal = barcode_taken(
                    code,
                    BarcodeClaim(owner.id, owner.name, owner.sku),
                    BarcodeClaim(product.id, product.name, product.sku),
                )
                problems.append(_problem(entry.row, refusal))
        products.append(product)
    if problems:
        raise_import_error(problems)
    return products, created


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _written_price(minor: int) -> str:
    """``price`` as this file's reader takes it back (``parse_amount``: hundredths, whatever
    the store's currency): 129 → ``1.29``. A file format, not an amount formatted for a
    person in a currency, so it has none."""
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


def catalog_csv(products: Iterable[Product]) -> str:
    """``products`` as a CSV catalog file that ``parse_catalog`` reads back unchanged
    (attributes aside: they are JSON only)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in products:
        writer.writerow(
            (
                p.id,
                p.sku,
                p.name,
                p.brand,
                p.department,
                _written_price(p.unit_price),
                p.tax_class,
                p.sold_by.value,
                BARCODE_SEPARATOR.join(p.barcodes),
                "yes" if p.active else "no",
                "" if p.stock is None else p.stock,
            )
        )
    return out.getvalue()
