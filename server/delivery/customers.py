"""A store's customers and their addresses, as the tills save them (``customer.saved``,
``PUT /customers/{id}``): keyed by (store, id), the newest ``updated_at`` wins."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from server.models import Customer, CustomerAddress
from server.sync.changes import record_changes
from sync.protocol import AddressData, CustomerData, CustomerPayload


def save_customer(session: Session, store_id: uuid.UUID, payload: CustomerPayload) -> bool:
    """Upsert the customer; False when the stored one is as new or newer (nothing changes)."""
    row = session.get(Customer, {"store_id": store_id, "id": payload.id})
    if row is not None and row.updated_at >= payload.updated_at:
        return False
    if row is None:
        row = Customer(store_id=store_id, id=payload.id)
        session.add(row)
    row.name = payload.name
    row.phone = payload.phone
    row.email = payload.email
    row.notes = payload.notes
    row.deleted = False
    row.updated_at = payload.updated_at
    session.flush()
    session.execute(
        delete(CustomerAddress).where(
            CustomerAddress.store_id == store_id, CustomerAddress.customer_id == payload.id
        )
    )
    session.execute(
        delete(CustomerAddress).where(
            CustomerAddress.store_id == store_id,
            CustomerAddress.id.in_([a.id for a in payload.addresses]),
        )
    )
    for position, address in enumerate(payload.addresses):
        session.add(
            CustomerAddress(
                store_id=store_id,
                customer_id=payload.id,
                position=position,
                **address.model_dump(),
            )
        )
    session.flush()
    record_changes(session, "customer", [str(payload.id)], store_id)
    return True


def _addresses(
    session: Session, store_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AddressData]]:
    found: dict[uuid.UUID, list[AddressData]] = defaultdict(list)
    if not ids:
        return found
    rows = session.scalars(
        select(CustomerAddress)
        .where(CustomerAddress.store_id == store_id, CustomerAddress.customer_id.in_(ids))
        .order_by(CustomerAddress.customer_id, CustomerAddress.position)
    )
    for a in rows:
        found[a.customer_id].append(
            AddressData(
                id=str(a.id),
                label=a.label,
                line1=a.line1,
                line2=a.line2,
                postcode=a.postcode,
                city=a.city,
                country=a.country,
                notes=a.notes,
            )
        )
    return found


def customers_data(session: Session, rows: Sequence[Customer]) -> list[CustomerData]:
    """Customers as the pull and the API send them (with their addresses)."""
    by_store: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in rows:
        by_store[row.store_id].append(row.id)
    addresses = {
        (store_id, cid): found
        for store_id, ids in by_store.items()
        for cid, found in _addresses(session, store_id, ids).items()
    }
    return [
        CustomerData(
            id=str(c.id),
            name=c.name,
            phone=c.phone,
            email=c.email,
            deleted=c.deleted,
            addresses=addresses.get((c.store_id, c.id), []),
            notes=c.notes,
            updated_at=c.updated_at,
        )
        for c in rows
    ]


def find_customers(
    session: Session, store_id: uuid.UUID, phone: str, text: str, limit: int
) -> list[Customer]:
    """The store's customers whose phone starts with ``phone`` (digits and + only) and whose
    name or e-mail holds ``text``; by name."""
    query = select(Customer).where(Customer.store_id == store_id, Customer.deleted.is_(False))
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits:
        query = query.where(
            or_(Customer.phone.startswith("+" + digits), Customer.phone.startswith(digits))
        )
    if text.strip():
        words = text.strip()
        query = query.where(
            or_(
                Customer.name.icontains(words, autoescape=True),
                Customer.email.icontains(words, autoescape=True),
            )
        )
    return list(session.scalars(query.order_by(Customer.name, Customer.id).limit(limit)))
