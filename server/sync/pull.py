"""Answering a pull: a page of the change log, each change carrying the current state."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.delivery.changes import delivery_changes
from server.models import Clerk, StockLevel
from server.services import Services
from server.sync.changes import read_changes
from sync.protocol import (
    ClerkChange,
    ClerkData,
    ProductChange,
    PullResponse,
    StockChange,
    StockData,
)


def _clerk_data(clerk: Clerk) -> ClerkData:
    return ClerkData(
        id=str(clerk.id),
        name=clerk.name,
        role=clerk.role,  # type: ignore[arg-type]
        pin_hash=clerk.pin_hash,
        active=clerk.active and not clerk.deleted,
        deleted=clerk.deleted,
    )


# Changes whose key is the UUID of a row of the store: kind, model, change, its data.
_ROW_CHANGES: tuple[tuple[str, Any, Any, Callable[[Any], Any]], ...] = (
    ("clerk", Clerk, ClerkChange, _clerk_data),
)


def pull(
    session: Session,
    svc: Services,
    store_id: uuid.UUID,
    cursor: str,
    limit: int,
    terminal_id: uuid.UUID | None = None,
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
    for kind, model, change, to_data in _ROW_CHANGES:
        if not keys[kind]:
            continue
        ids = [uuid.UUID(key) for key in keys[kind]]
        for row in session.scalars(
            select(model).where(model.store_id == store_id, model.id.in_(ids))
        ):
            state[(kind, str(row.id))] = change(kind=kind, cursor="", data=to_data(row))
    state.update(delivery_changes(session, store_id, terminal_id, keys))  # issue 13's kinds
    changes = []
    for ref in page.changes:
        found = state.get((ref.kind, ref.key))
        if found is not None:  # a row of another store or gone for good: nothing to send
            changes.append(found.model_copy(update={"cursor": ref.cursor}))
    return PullResponse(changes=changes, next_cursor=page.next_cursor, has_more=page.has_more)
