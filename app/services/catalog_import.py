"""Catalog import on the till: a catalog file in, every row checked, all or nothing.

The file format and its checks are ``app.domain.catalog_file`` (the server's
``shopsmart-server product import`` reads the same format with the same rules); this use case
adds the till's store: a known SKU is updated in place, a barcode another product owns is
refused, and everything is written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.catalog_file import (
    RawRow,
    check_against_catalog,
    parse_rows,
    read_catalog_text,
)
from app.domain.product import Product
from app.domain.tax import TaxTable
from app.ports import IdFactory, UnitOfWork

__all__ = ["ImportReport", "import_catalog", "import_rows", "read_catalog_text"]


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: int
    created: int
    updated: int


def import_catalog(
    uow: UnitOfWork, text: str, kind: str, taxes: TaxTable, ids: IdFactory
) -> ImportReport:
    """Check the whole file, then write it in ONE transaction (all or nothing)."""
    return import_rows(uow, read_catalog_text(text, kind), taxes, ids)


def import_rows(
    uow: UnitOfWork, rows: list[RawRow], taxes: TaxTable, ids: IdFactory
) -> ImportReport:
    """``import_catalog`` of rows already split by ``read_catalog_text`` (the import dialog
    counts them first for its progress bar)."""
    parsed = parse_rows(rows, taxes, ids.new_id)
    with uow:

        def by_sku(sku: str) -> Product | None:
            found = uow.products.by_code(sku)
            return found if found is not None and found.sku == sku else None

        def barcode_owner(code: str) -> Product | None:
            found = uow.products.by_code(code)
            return found if found is not None and code in found.barcodes else None

        products, created = check_against_catalog(parsed, by_sku, barcode_owner)
        uow.products.upsert_many(products)
        uow.commit()
    return ImportReport(imported=len(products), created=created, updated=len(products) - created)
