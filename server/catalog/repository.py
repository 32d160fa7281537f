"""The product catalog behind one repository interface, with two implementations.

``MongoCatalogRepository`` keeps product documents in MongoDB (when MONGO_URL is set);
``SqlCatalogRepository`` keeps them in the SQL database (JSONB on PostgreSQL, JSON on
SQLite). Both behave the same: tests/server/test_catalog_contract.py runs one suite on both.
Deleting a product leaves a tombstone (``deleted: true``) that terminals pull.

A product is validated with exactly the till's rules (``app.domain``: sku, name, the price
limit, a tax class the till can price, barcodes with their check digits), so nothing is stored
that every till would have to refuse. A barcode belongs to one product of the catalog: a save
that gives a barcode to a second product is refused naming both (``DuplicateBarcode``), and
on SQL the ``product_barcodes`` primary key holds it too (migration 0007 cleared old clashes).
Documents read back are trusted as stored: a product saved before these rules still reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pydantic_core import PydanticCustomError
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.barcode import (
    BarcodeClaim,
    DuplicateBarcode,
    barcode_taken,
    first_shared_barcode,
    validate_barcode,
)
from app.domain.errors import PosError
from app.domain.product import (
    check_name,
    check_sku,
    check_tax_class,
    check_unit_price,
    department_key,
    department_name,
    one_spelling_each,
)
from server.bulk import select_by_keys
from server.models import Product, ProductBarcode
from server.sql import dialect_insert
from sync.protocol import ProductData, SoldBy


def _rule(check: Callable[[Any], object]) -> AfterValidator:
    """A pydantic check that applies a rule of app.domain and keeps its words."""

    def apply(value: Any) -> Any:
        try:
            checked = check(value)
        except PosError as error:
            raise PydanticCustomError(error.code, "{reason}", {"reason": error.message}) from None
        return value if checked is None else checked

    return AfterValidator(apply)


def _barcodes(codes: list[str]) -> list[str]:
    """Each barcode as the till accepts it (stripped, check digit right), once."""
    return list(dict.fromkeys(validate_barcode(code) for code in codes))


class ProductDocument(BaseModel):
    """A product as the catalog stores it; attributes vary by department (nutrition,
    allergens, origin, …) and are kept as they come."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    sku: Annotated[str, _rule(check_sku)]
    name: Annotated[str, _rule(check_name)]
    brand: str = Field(default="", max_length=200)
    department: Annotated[str, Field(max_length=100), _rule(department_name)] = ""
    unit_price: Annotated[StrictInt, _rule(check_unit_price)]
    tax_class: Annotated[str, Field(max_length=64), _rule(check_tax_class)]
    sold_by: SoldBy = "each"
    barcodes: Annotated[list[str], _rule(_barcodes)] = []
    active: StrictBool = True
    attributes: dict[str, Any] = {}
    deleted: StrictBool = False

    def to_wire(self) -> ProductData:
        return ProductData(**self.model_dump())

    @classmethod
    def from_store(cls, document: dict[str, Any]) -> ProductDocument:
        """A document as stored: validated when it was saved, not again on every read."""
        return cls.model_construct(**document)

    @property
    def claim(self) -> BarcodeClaim:
        return BarcodeClaim(self.id, self.name, self.sku)


def check_barcodes_in_batch(products: Sequence[ProductDocument]) -> None:
    """Refuse a batch in which two products claim one barcode, naming both."""
    clash = first_shared_barcode((p.claim, p.barcodes) for p in products if not p.deleted)
    if clash is not None:
        raise clash


def same_department_spelling(
    products: Sequence[ProductDocument], spellings: Iterable[tuple[str, int]]
) -> list[ProductDocument]:
    """Each product's department in the spelling the catalog already has for it
    (app.domain.product.department_key: case and spacing do not count), so the catalog, and
    every till that pulls it, holds one "Bakery", never "bakery" beside it. A department
    new to the catalog keeps the first spelling the batch gives it."""
    shown = one_spelling_each(spellings)
    kept = []
    for product in products:
        key = department_key(product.department)
        spelling = shown.setdefault(key, department_name(product.department)) if key else ""
        if spelling != product.department:
            product = product.model_copy(update={"department": spelling})
        kept.append(product)
    return kept


def _claimant(products: Sequence[ProductDocument], barcode: str) -> ProductDocument:
    return next(p for p in products if not p.deleted and barcode in p.barcodes)


class CatalogRepository(Protocol):
    # True when writes commit with the caller's SQL session (and so with the change log);
    # False for a separate store (MongoDB), whose writes server/admin/service.py journals first.
    shares_transaction: bool

    def save(self, products: Sequence[ProductDocument]) -> list[str]:
        """Insert or replace products by id; returns their ids. Raises ``DuplicateBarcode``
        (and stores nothing) when a barcode would belong to two products."""
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


_CHUNK = 1000  # barcodes looked up per statement (SQLite's bound parameters are limited)


class SqlCatalogRepository:
    """Products in the SQL database, in the caller's session (and so its transaction)."""

    shares_transaction = True

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, products: Sequence[ProductDocument]) -> list[str]:
        if not products:
            return []
        check_barcodes_in_batch(products)
        self._check_barcodes_free(products)
        products = same_department_spelling(products, self._department_spellings(products))
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
        barcodes = [
            {"barcode": b, "product_id": p.id}
            for p in products
            if not p.deleted
            for b in p.barcodes
        ]
        if barcodes:
            try:
                with self.session.begin_nested():
                    self.session.execute(insert(ProductBarcode), barcodes)
            except IntegrityError:
                # Another transaction gave one of them to another product since the check.
                raise DuplicateBarcode(
                    "a barcode of these products was given to another product at the same "
                    "time; nothing was saved, try again",
                    field="barcodes",
                ) from None
        return ids

    def _department_spellings(self, products: Sequence[ProductDocument]) -> list[tuple[str, int]]:
        """How the products outside ``products`` spell their departments, with counts."""
        saving = {p.id for p in products}
        rows = self.session.execute(
            select(Product.id, Product.document["department"].as_string()).where(
                Product.deleted.is_(False)
            )
        )
        return [(name, 1) for pid, name in rows if name and pid not in saving]

    def _check_barcodes_free(self, products: Sequence[ProductDocument]) -> None:
        """Refuse a barcode that a product outside ``products`` holds, naming both."""
        wanted = sorted({b for p in products if not p.deleted for b in p.barcodes})
        ids = [p.id for p in products]
        for start in range(0, len(wanted), _CHUNK):
            found = self.session.execute(
                select(ProductBarcode.barcode, Product.document)
                .join(Product, Product.id == ProductBarcode.product_id)
                .where(
                    ProductBarcode.barcode.in_(wanted[start : start + _CHUNK]),
                    ProductBarcode.product_id.not_in(ids),
                )
                .order_by(ProductBarcode.barcode)
                .limit(1)
            ).first()
            if found is not None:
                barcode, document = found
                owner = ProductDocument.from_store(document)
                raise barcode_taken(barcode, owner.claim, _claimant(products, barcode).claim)

    def get(self, product_id: str) -> ProductDocument | None:
        return self.get_many([product_id]).get(product_id)

    def get_many(self, product_ids: Iterable[str]) -> dict[str, ProductDocument]:
        ids = list(set(product_ids))
        if not ids:
            return {}
        docs = self.session.scalars(select(Product.document).where(Product.id.in_(ids)))
        found = (ProductDocument.from_store(d) for d in docs)
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
        return ProductDocument.from_store(doc) if doc is not None else None

    def find_by_barcode(self, barcode: str) -> ProductDocument | None:
        doc = self.session.scalar(
            select(Product.document)
            .join(ProductBarcode, ProductBarcode.product_id == Product.id)
            .where(ProductBarcode.barcode == barcode, Product.deleted.is_(False))
        )
        return ProductDocument.from_store(doc) if doc is not None else None

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
        check_barcodes_in_batch(products)
        self._check_barcodes_free(products)
        saving = {p.id for p in products}
        spellings = [
            (doc["department"], 1)
            for doc in self.collection.find({"deleted": False}, projection={"department": 1})
            if doc.get("department") and doc["_id"] not in saving
        ]
        products = same_department_spelling(products, spellings)
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

    def _check_barcodes_free(self, products: Sequence[ProductDocument]) -> None:
        """Refuse a barcode that a product outside ``products`` holds, naming both. (No
        unique index: MongoDB has no migrations here to clear old clashes first.)"""
        wanted = {b for p in products if not p.deleted for b in p.barcodes}
        if not wanted:
            return
        doc = self.collection.find_one(
            {
                "barcodes": {"$in": sorted(wanted)},
                "deleted": False,
                "_id": {"$nin": [p.id for p in products]},
            },
            sort=[("_id", 1)],
        )
        if doc is not None:
            barcode = min(b for b in doc["barcodes"] if b in wanted)
            owner = self._from_mongo(doc)
            raise barcode_taken(barcode, owner.claim, _claimant(products, barcode).claim)

    @staticmethod
    def _from_mongo(doc: dict[str, Any]) -> ProductDocument:
        fields = {k: v for k, v in doc.items() if k not in ("_id", "updated_at")}
        return ProductDocument.from_store(fields)

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
