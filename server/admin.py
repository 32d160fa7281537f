"""What the operator does (through the CLI): stores, clerks, products, delivery slots.

Each function works in the caller's session and writes the change log in the same
transaction, so terminals pull every change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.catalog import CatalogRepository, ProductDocument
from server.changes import record_changes
from server.models import AuditEntry, Clerk, DeliverySlot, StockLevel, Store
from server.pins import hash_pin
from server.sql import dialect_insert


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
    if role not in ("clerk", "manager"):
        raise AdminError("role must be clerk or manager")
    try:
        pin_hash = hash_pin(pin)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
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


def deactivate_clerk(session: Session, clerk: Clerk) -> None:
    clerk.active = False
    clerk.updated_at = datetime.now(UTC)
    record_changes(session, "clerk", [str(clerk.id)], clerk.store_id)


def save_products(
    session: Session, catalog: CatalogRepository, products: Sequence[ProductDocument]
) -> list[str]:
    ids = catalog.save(products)
    record_changes(session, "product", ids)
    return ids


def delete_product(session: Session, catalog: CatalogRepository, product_id: str) -> bool:
    if not catalog.delete(product_id):
        return False
    record_changes(session, "product", [product_id])
    return True


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
    session: Session, store: Store, starts_at: datetime, length: timedelta, capacity: int
) -> DeliverySlot:
    slot = DeliverySlot(
        id=uuid.uuid4(),
        store_id=store.id,
        starts_at=starts_at,
        ends_at=starts_at + length,
        capacity=capacity,
        booked=0,
    )
    session.add(slot)
    session.flush()
    record_changes(session, "delivery_slot", [str(slot.id)], store.id)
    return slot
