"""The product catalog behind one repository interface, with two implementations.

``MongoCatalogRepository`` keeps product documents in MongoDB (when MONGO_URL is set);
``SqlCatalogRepository`` keeps them in the SQL database (JSONB on PostgreSQL, JSON on
SQLite). Both behave the same: tests/server/test_catalog_contract.py runs one suite on both.
Deleting a product leaves a tombstone (``deleted: true``) that terminals pull.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.bulk import select_by_keys
from server.models import Product, ProductBarcode
from server.sql import dialect_insert
from sync.protocol import MAX_AMOUNT, ProductData, SoldBy


class ProductDocument(BaseModel):
    """A product as the catalog stores it; attributes vary by department (nutrition,
    allergens, origin, …) and are kept as they come."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    brand: str = Field(default="", max_length=200)
    department: str = Field(default="", max_length=100)
    unit_price: StrictInt = Field(ge=0, le=MAX_AMOUNT)
    tax_class: str = Field(min_length=1, max_length=64)
    sold_by: SoldBy = "each"
    barcodes: list[str] = []
    active: StrictBool = True
    attributes: dict[str, Any] = {}
    deleted: StrictBool = False

    def to_wire(self) -> ProductData:
        return ProductData(**self.model_dump())


class CatalogRepository(Protocol):
    # True when writes commit with the caller's SQL session (and so with the change log);
    # False for a separate store (MongoDB), whose writes server/admin/service.py journals first.
    shares_transaction: bool

    def save(self, products: Sequence[ProductDocument]) -> list[str]:
        """Insert or replace products by id; returns their ids."""
        ...

    def get(self, product_id: str) -> ProductDocument | None: ...

    def get_many(self, product_ids: Iterable[str]) -> dict[str, ProductDocument]: ...

    def unit_prices(self, product_ids: Iterable[str]) -> dict[str, int]:
        """Current unit price of each known, not deleted product among ``product_ids``."""
        ...

    def find_by_sku(self, sku: str) -> ProductDocument | None: ...

    def find_by_barcode(self, barcode: str) -> ProductDocument | None: ...

    def delete(self, product_id: str) -> bool:
        """Tombstone the product; False when there is no such product."""
        ...


class SqlCatalogRepository:
    """Products in the SQL database, in the caller's session (and so its transaction)."""

    shares_transaction = True

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, products: Sequence[ProductDocument]) -> list[str]:
        if not products:
            return []
        now = datetime.now(UTC)
        rows = [
            {
                "id": p.id,
                "sku": p.sku,
                "unit_price": p.unit_price,
                "deleted": p.deleted,
                "document": p.model_dump(mode="json"),
                "updated_at": now,
            }
            for p in products
        ]
        stmt = dialect_insert(self.session, Product)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Product.id],
            set_={
                "sku": stmt.excluded.sku,
                "unit_price": stmt.excluded.unit_price,
                "deleted": stmt.excluded.deleted,
                "document": stmt.excluded.document,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        self.session.execute(stmt, rows)
        ids = [p.id for p in products]
        self.session.execute(delete(ProductBarcode).where(ProductBarcode.product_id.in_(ids)))
        barcodes = {b: p.id for p in products if not p.deleted for b in p.barcodes}
        if barcodes:
            ins = dialect_insert(self.session, ProductBarcode)
            ins = ins.on_conflict_do_update(
                index_elements=[ProductBarcode.barcode],
                set_={"product_id": ins.excluded.product_id},
            )
            self.session.execute(
                ins, [{"barcode": b, "product_id": i} for b, i in barcodes.items()]
            )
        return ids

    def get(self, product_id: str) -> ProductDocument | None:
        return self.get_many([product_id]).get(product_id)

    def get_many(self, product_ids: Iterable[str]) -> dict[str, ProductDocument]:
        ids = list(set(product_ids))
        if not ids:
            return {}
        docs = self.session.scalars(select(Product.document).where(Product.id.in_(ids)))
        found = (ProductDocument.model_validate(d) for d in docs)
        return {p.id: p for p in found}

    def unit_prices(self, product_ids: Iterable[str]) -> dict[str, int]:
        ids = list(set(product_ids))
        if not ids:
            return {}
        # one array parameter, not a bind per id: this runs for every pushed batch
        rows = select_by_keys(self.session, Product, "id", ids, ("unit_price", "deleted"))
        return {pid: price for pid, price, deleted in rows if not deleted}

    def find_by_sku(self, sku: str) -> ProductDocument | None:
        doc = self.session.scalar(select(Product.document).where(Product.sku == sku))
        return ProductDocument.model_validate(doc) if doc is not None else None

    def find_by_barcode(self, barcode: str) -> ProductDocument | None:
        doc = self.session.scalar(
            select(Product.document)
            .join(ProductBarcode, ProductBarcode.product_id == Product.id)
            .where(ProductBarcode.barcode == barcode, Product.deleted.is_(False))
        )
        return ProductDocument.model_validate(doc) if doc is not None else None

    def delete(self, product_id: str) -> bool:
        product = self.get(product_id)
        if product is None:
            return False
        self.save([product.model_copy(update={"deleted": True, "active": False})])
        return True


class MongoCatalogRepository:
    """Products as MongoDB documents (``_id`` = product id), indexed on sku, barcode and
    updated_at. Writes are not part of the SQL transaction: the caller writes the change log
    after the catalog write succeeded."""

    shares_transaction = False

    def __init__(self, database: Any, collection: str = "products") -> None:
        self.collection = database[collection]

    def ensure_indexes(self) -> None:
        self.collection.create_index("sku", unique=True)
        self.collection.create_index("barcodes")
        self.collection.create_index("updated_at")

    def save(self, products: Sequence[ProductDocument]) -> list[str]:
        if not products:
            return []
        now = datetime.now(UTC)
        # One replace per product: catalog writes are operator imports, not the hot path
        # (and mongomock's bulk_write does not accept what current pymongo sends).
        for p in products:
            self.collection.replace_one(
                {"_id": p.id},
                {"_id": p.id, **p.model_dump(mode="json"), "updated_at": now},
                upsert=True,
            )
        return [p.id for p in products]

    @staticmethod
    def _from_mongo(doc: dict[str, Any]) -> ProductDocument:
        fields = {k: v for k, v in doc.items() if k not in ("_id", "updated_at")}
        return ProductDocument.model_validate(fields)

    def get(self, product_id: str) -> ProductDocument | None:
        doc = self.collection.find_one({"_id": product_id})
        return self._from_mongo(doc) if doc else None

    def get_many(self, product_ids: Iterable[str]) -> dict[str, ProductDocument]:
        ids = list(set(product_ids))
        if not ids:
            return {}
        return {d["_id"]: self._from_mongo(d) for d in self.collection.find({"_id": {"$in": ids}})}

    def unit_prices(self, product_ids: Iterable[str]) -> dict[str, int]:
        ids = list(set(product_ids))
        if not ids:
            return {}
        found = self.collection.find(
            {"_id": {"$in": ids}, "deleted": False}, projection={"unit_price": 1}
        )
        return {d["_id"]: int(d["unit_price"]) for d in found}

    def find_by_sku(self, sku: str) -> ProductDocument | None:
        doc = self.collection.find_one({"sku": sku})
        return self._from_mongo(doc) if doc else None

    def find_by_barcode(self, barcode: str) -> ProductDocument | None:
        doc = self.collection.find_one(
            {"barcodes": barcode, "deleted": False}, sort=[("updated_at", -1)]
        )
        return self._from_mongo(doc) if doc else None

    def delete(self, product_id: str) -> bool:
        result = self.collection.update_one(
            {"_id": product_id},
            {"$set": {"deleted": True, "active": False, "updated_at": datetime.now(UTC)}},
        )
        return bool(result.matched_count)
