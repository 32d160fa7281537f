"""Answering a pull: a page of the change log, each change carrying the current state."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.changes import read_changes
from server.models import Clerk, Customer, DeliverySlot, StockLevel
from server.services import Services
from sync.protocol import (
    ClerkChange,
    ClerkData,
    CustomerChange,
    CustomerData,
    DeliverySlotChange,
    DeliverySlotData,
    ProductChange,
    PullResponse,
    StockChange,
    StockData,
)


def _uuids(keys: list[str]) -> list[uuid.UUID]:
    return [uuid.UUID(k) for k in keys]


def pull(
    session: Session, svc: Services, store_id: uuid.UUID, cursor: str, limit: int
) -> PullResponse:
    page = read_changes(session, store_id, cursor, limit)
    keys: dict[str, list[str]] = defaultdict(list)
    for ref in page.changes:
        keys[ref.kind].append(ref.key)
    state: dict[tuple[str, str], Any] = {}
    if keys["product"]:
        for pid, doc in svc.catalog(session).get_many(keys["product"]).items():
            state[("product", pid)] = ProductChange(kind="product", cursor="", data=doc.to_wire())
    if keys["stock"]:
        rows = session.execute(
            select(StockLevel.product_id, StockLevel.quantity).where(
                StockLevel.store_id == store_id, StockLevel.product_id.in_(keys["stock"])
            )
        )
        for pid, qty in rows:
            state[("stock", pid)] = StockChange(
                kind="stock", cursor="", data=StockData(product_id=pid, quantity=qty)
            )
    if keys["clerk"]:
        for clerk in session.scalars(
            select(Clerk).where(Clerk.store_id == store_id, Clerk.id.in_(_uuids(keys["clerk"])))
        ):
            data = ClerkData(
                id=str(clerk.id),
                name=clerk.name,
                role=clerk.role,  # type: ignore[arg-type]
                pin_hash=clerk.pin_hash,
                active=clerk.active and not clerk.deleted,
                deleted=clerk.deleted,
            )
            state[("clerk", str(clerk.id))] = ClerkChange(kind="clerk", cursor="", data=data)
    if keys["customer"]:
        for cust in session.scalars(
            select(Customer).where(
                Customer.store_id == store_id, Customer.id.in_(_uuids(keys["customer"]))
            )
        ):
            cdata = CustomerData(
                id=str(cust.id),
                name=cust.name,
                phone=cust.phone,
                email=cust.email,
                deleted=cust.deleted,
            )
            state[("customer", str(cust.id))] = CustomerChange(
                kind="customer", cursor="", data=cdata
            )
    if keys["delivery_slot"]:
        for slot in session.scalars(
            select(DeliverySlot).where(
                DeliverySlot.store_id == store_id,
                DeliverySlot.id.in_(_uuids(keys["delivery_slot"])),
            )
        ):
            sdata = DeliverySlotData(
                id=str(slot.id),
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                capacity=slot.capacity,
                booked=slot.booked,
                active=slot.active,
                deleted=slot.deleted,
            )
            state[("delivery_slot", str(slot.id))] = DeliverySlotChange(
                kind="delivery_slot", cursor="", data=sdata
            )
    changes = []
    for ref in page.changes:
        found = state.get((ref.kind, ref.key))
        if found is not None:  # a row of another store or gone for good: nothing to send
            changes.append(found.model_copy(update={"cursor": ref.cursor}))
    return PullResponse(changes=changes, next_cursor=page.next_cursor, has_more=page.has_more)
