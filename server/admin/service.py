"""What the operator does (through the CLI): stores, clerks, products, delivery slots.

Each function works in the caller's session and writes the change log in the same
transaction, so terminals pull every change. The one write outside that transaction is the
catalog in MongoDB: it is journalled first (``catalog_intents``, committed on its own), and a
journal entry the process did not live to clear is announced by
``announce_leftover_catalog_writes`` (the worker runs it), so a crash between the MongoDB
write and the change log can delay an announcement, never lose it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.catalog_file import check_against_catalog, parse_catalog, raise_import_error
from app.domain.clerk import Role, hash_pin
from app.domain.errors import InvalidInput
from app.domain.ids import new_id
from app.domain.product import Product as DomainProduct
from app.domain.tax import DEFAULT_TAX_TABLE
from server.catalog.repository import CatalogRepository, ProductDocument
from server.models import AuditEntry, CatalogIntent, Clerk, DeliverySlot, StockLevel, Store
from server.sql import dialect_insert, is_postgresql
from server.sync.changes import record_changes


class AdminError(Exception):
    """An operator mistake: unknown store, duplicate code, bad PIN …"""


def create_store(session: Session, code: str, name: str, currency: str = "EUR") -> Store:
    if session.scalar(select(Store).where(Store.code == code)) is not None:
        raise AdminError(f"store {code} exists already")
    store = Store(id=uuid.uuid4(), code=code, name=name, currency=currency)
    session.add(store)
    session.add(AuditEntry(actor="cli", action="store.create", store_id=store.id, detail={}))
    session.flush()
    return store


def store_by_code(session: Session, code: str) -> Store:
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None:
        raise AdminError(f"no store with code {code}")
    return store


def add_clerk(session: Session, store: Store, name: str, role: str, pin: str) -> Clerk:
    if role not in {r.value for r in Role}:
        raise AdminError("role must be clerk or manager")
    try:
        pin_hash = hash_pin(pin, role=role)
    except InvalidInput as exc:
        raise AdminError(exc.message) from None
    clerk = Clerk(id=uuid.uuid4(), store_id=store.id, name=name, role=role, pin_hash=pin_hash)
    session.add(clerk)
    session.flush()
    record_changes(session, "clerk", [str(clerk.id)], store.id)
    session.add(
        AuditEntry(
            actor="cli", action="clerk.add", store_id=store.id, detail={"clerk_id": str(clerk.id)}
        )
    )
    return clerk


def clerk_by_id(session: Session, clerk_id: str) -> Clerk:
    try:
        found = session.get(Clerk, uuid.UUID(clerk_id))
    except ValueError:
        found = None
    if found is None:
        raise AdminError(f"no clerk {clerk_id}")
    return found


def set_clerk_pin(session: Session, clerk: Clerk, pin: str) -> None:
    """A new PIN (the role's length rule applies): every till pulls the new hash, and a till
    that had locked the clerk out after wrong PINs lets them in with it (the way out of a
    lockout, docs/security.md). Audited with who and when, never the PIN."""
    try:
        clerk.pin_hash = hash_pin(pin, role=clerk.role)
    except InvalidInput as exc:
        raise AdminError(exc.message) from None
    clerk.updated_at = datetime.now(UTC)
    record_changes(session, "clerk", [str(clerk.id)], clerk.store_id)
    session.add(
        AuditEntry(
            actor="cli",
            action="clerk.set_pin",
            store_id=clerk.store_id,
            detail={"clerk_id": str(clerk.id), "name": clerk.name},
        )
    )


def list_clerks(session: Session, store: Store) -> list[Clerk]:
    return list(
        session.scalars(
            select(Clerk)
            .where(Clerk.store_id == store.id, Clerk.deleted.is_(False))
            .order_by(Clerk.name, Clerk.id)
        )
    )


def deactivate_clerk(session: Session, clerk: Clerk) -> None:
    clerk.active = False
    clerk.updated_at = datetime.now(UTC)
    record_changes(session, "clerk", [str(clerk.id)], clerk.store_id)


@dataclass(frozen=True, slots=True)
class ProductImport:
    """What ``import_products`` did."""

    imported: int
    created: int
    updated: int
    stocked: int  # stock levels set for the store (0 without one)

    def __str__(self) -> str:
        text = f"{self.imported} products imported ({self.created} new, {self.updated} updated)"
        return f"{text}, stock set for {self.stocked}" if self.stocked else text


def import_products(
    session: Session,
    catalog: CatalogRepository,
    text: str,
    kind: str,
    store: Store | None = None,
) -> ProductImport:
    """A catalog file into the catalog, all or nothing: the till's format and product rules
    (``app.domain.catalog_file``), a known SKU updated in place, a barcode another product
    owns refused naming it. With ``store``, the file's stock column sets that store's stock.
    Raises ``CatalogImportError`` listing every problem as ``row N, field F: …``."""
    rows = parse_catalog(text, kind, DEFAULT_TAX_TABLE, new_id)
    products, created = check_against_catalog(rows, catalog.find_by_sku, catalog.find_by_barcode)
    documents: list[ProductDocument] = []
    problems: list[str] = []
    for entry, product in zip(rows, products, strict=True):
        try:
            documents.append(product_document(product))
        except ValidationError as error:
            problems += [
                f"row {entry.row}, field {'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}"
                for e in error.errors()
            ]
    if problems:
        raise_import_error(problems)
    save_products(session, catalog, documents)
    stock = {p.id: p.stock for p in products if p.stock is not None} if store else {}
    if store is not None:
        set_stock(session, store, stock)
    return ProductImport(len(products), created, len(products) - created, len(stock))


def product_document(product: DomainProduct) -> ProductDocument:
    """The catalog's document of a product checked by the shop's rules (same field names)."""
    shared = ProductDocument.model_fields.keys() & DomainProduct.__dataclass_fields__.keys()
    fields = {name: getattr(product, name) for name in shared}
    return ProductDocument.model_validate({**fields, "sold_by": product.sold_by.value})


def save_products(
    session: Session, catalog: CatalogRepository, products: Sequence[ProductDocument]
) -> list[str]:
    intent = _journal(session, catalog, [p.id for p in products])
    ids = catalog.save(products)
    _announce(session, ids, intent)
    return ids


def delete_product(session: Session, catalog: CatalogRepository, product_id: str) -> bool:
    intent = _journal(session, catalog, [product_id])
    if not catalog.delete(product_id):
        _announce(session, [], intent)
        return False
    _announce(session, [product_id], intent)
    return True


def _journal(session: Session, catalog: CatalogRepository, product_ids: list[str]) -> int | None:
    """Before a write to a separate catalog store: commit a note of it in a transaction of
    its own (the caller's may still roll back or die). None when the catalog writes in the
    caller's transaction anyway — or on SQLite, whose single writer would wait for the
    caller's transaction forever (MongoDB is meant to be paired with PostgreSQL)."""
    if catalog.shares_transaction or not is_postgresql(session):
        return None
    with Session(bind=session.get_bind()) as own, own.begin():
        intent = CatalogIntent(product_ids=sorted(set(product_ids)), created_at=datetime.now(UTC))
        own.add(intent)
        own.flush()
        return intent.id


def _announce(session: Session, product_ids: list[str], intent: int | None) -> None:
    record_changes(session, "product", product_ids)
    if intent is not None:
        session.execute(delete(CatalogIntent).where(CatalogIntent.id == intent))


def announce_leftover_catalog_writes(
    session: Session, older_than: timedelta = timedelta(minutes=1)
) -> int:
    """Announce the products of journalled catalog writes never cleared (the writer died
    between MongoDB and its commit), and clear them. Announcing twice is harmless: a pull
    sends each product's current state. ``older_than`` leaves writes in progress alone.
    Returns how many entries were cleared."""
    cutoff = datetime.now(UTC) - older_than
    query = (
        select(CatalogIntent).where(CatalogIntent.created_at < cutoff).order_by(CatalogIntent.id)
    )
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    left = list(session.scalars(query.limit(1000)))
    if not left:
        return 0
    record_changes(session, "product", {pid for intent in left for pid in intent.product_ids})
    session.execute(delete(CatalogIntent).where(CatalogIntent.id.in_([i.id for i in left])))
    return len(left)


def set_stock(session: Session, store: Store, levels: dict[str, int]) -> None:
    if not levels:
        return
    stmt = dialect_insert(session, StockLevel.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["store_id", "product_id"], set_={"quantity": stmt.excluded.quantity}
    )
    session.execute(
        stmt,
        [{"store_id": store.id, "product_id": p, "quantity": q} for p, q in levels.items()],
    )
    record_changes(session, "stock", levels.keys(), store.id)


def add_delivery_slot(
    session: Session,
    store: Store,
    starts_at: datetime,
    length: timedelta,
    capacity: int,
    *,
    unit: str = "orders",
    cutoff_minutes: int = 0,
    lead_time_minutes: int = 0,
    max_weight_g: int | None = None,
    postcode_prefixes: Sequence[str] = (),
) -> DeliverySlot:
    """A delivery window of the store: ``capacity`` in ``unit`` (orders or items), no
    booking later than ``cutoff_minutes`` before it starts nor with less than
    ``lead_time_minutes`` to go; ``postcode_prefixes`` empty: any address."""
    if unit not in ("orders", "items"):
        raise AdminError(f"unit must be orders or items, not {unit!r}")
    for name, value in (
        ("capacity", capacity),
        ("cutoff minutes", cutoff_minutes),
        ("lead time minutes", lead_time_minutes),
    ):
        if value < 0:
            raise AdminError(f"{name} must not be negative")
    if max_weight_g is not None and max_weight_g <= 0:
        raise AdminError("the weight cap must be more than 0 g")
    if length <= timedelta(0):
        raise AdminError("a slot must end after it starts")
    slot = DeliverySlot(
        id=uuid.uuid4(),
        store_id=store.id,
        starts_at=starts_at,
        ends_at=starts_at + length,
        capacity=capacity,
        booked=0,
        unit=unit,
        cutoff_minutes=cutoff_minutes,
        lead_time_minutes=lead_time_minutes,
        max_weight_g=max_weight_g,
        postcode_prefixes=[p.strip() for p in postcode_prefixes if p.strip()],
        held=0,
        booked_weight_g=0,
    )
    session.add(slot)
    session.flush()
    record_changes(session, "delivery_slot", [str(slot.id)], store.id)
    return slot
