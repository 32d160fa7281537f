"""What the sync engine moves between the till's store and the server, in the shop's terms.

These plain types let ``sync/`` (the engine) and ``local_db/`` (the store) meet without
importing each other.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from app.domain.clerk import Role, check_pin_hash
from app.domain.delivery import Address, CapacityUnit, PhoneOrder
from app.domain.errors import InvalidInput
from app.domain.order import SyncState
from app.domain.product import Product, SoldBy

CURSOR_SETTING = "sync.cursor"  # where the pull resumes; emptied by a new enrollment
TERMINAL_ID_SETTING = "sync.terminal_id"  # this till's id at the server (its enrollment)


class OutboxState(enum.StrEnum):
    PENDING = "pending"  # queued, never sent
    SENT = "sent"  # sent at least once, no answer kept yet
    DONE = "done"  # the server acknowledged it (accepted or duplicate)
    REJECTED = "rejected"  # refused for good: waits for a manager (fix and resend, or void)


def shown_sync_state(state: OutboxState, last_error: str = "") -> SyncState:
    """An outbox entry's state in the history's words (``SyncState``): an entry that was
    sent and got no answer (its error is kept) waits to be sent again."""
    if state is OutboxState.DONE:
        return SyncState.ACKNOWLEDGED
    if state is OutboxState.REJECTED:
        return SyncState.REJECTED
    if state is OutboxState.SENT and not last_error:
        return SyncState.SENT
    return SyncState.QUEUED


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    seq: int
    event_id: str
    event_type: str
    payload_json: str  # the event as queued with the sale: it goes out as these very bytes
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    last_error: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.payload_json)
        return decoded


class ResultStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    CONFLICT = "conflict"

    @property
    def is_done(self) -> bool:
        return self in (ResultStatus.ACCEPTED, ResultStatus.DUPLICATE)


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """The server's word on one event."""

    event_id: str
    status: ResultStatus
    reason: str = ""
    message: str = ""


# A pulled record that breaks one of these checks is kept aside (``UnusableRow``) with the
# message, never written half-usable: a clerk who could never log in, a slot the till cannot
# place in time.


@dataclass(frozen=True, slots=True)
class ClerkRecord:
    id: str
    name: str
    role: str
    pin_hash: str
    active: bool

    def __post_init__(self) -> None:
        _check_name(self.name, CLERK_NAME_MAX)
        Role(self.role)  # ValueError names the role
        check_pin_hash(self.pin_hash)


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    id: str
    name: str
    phone: str = ""
    email: str = ""
    deleted: bool = False
    addresses: tuple[Address, ...] = ()
    notes: str = ""
    updated_at: datetime | None = None  # the newest change wins over this till's own

    def __post_init__(self) -> None:
        _check_name(self.name, CUSTOMER_NAME_MAX)


@dataclass(frozen=True, slots=True)
class DeliverySlotRecord:
    id: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    active: bool
    unit: CapacityUnit = CapacityUnit.ORDERS
    max_weight_g: int | None = None
    cutoff_minutes: int = 0
    lead_time_minutes: int = 0
    postcode_prefixes: tuple[str, ...] = ()
    free: int | None = None  # capacity - booked - every till's held allotment (the server's)

    def __post_init__(self) -> None:
        for name in ("starts_at", "ends_at"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise InvalidInput(
                    f"{name} {moment.isoformat()} has no time zone (the shop keeps UTC only)",
                    field=name,
                )
        if self.ends_at <= self.starts_at:
            raise InvalidInput(
                f"ends_at {self.ends_at.isoformat()} is not after starts_at "
                f"{self.starts_at.isoformat()}",
                field="ends_at",
            )
        for name in ("capacity", "booked", "cutoff_minutes", "lead_time_minutes"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"{name} {getattr(self, name)} is negative", field=name)


@dataclass(frozen=True, slots=True)
class SlotAllotmentRecord:
    """This till's share of a slot (app.domain.delivery.allotment_remaining)."""

    slot_id: str
    allotted_total: int
    used: int
    terminal_id: str = ""  # the store keeps only its own terminal's

    def __post_init__(self) -> None:
        for name in ("allotted_total", "used"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"{name} {getattr(self, name)} is negative", field=name)


CLERK_NAME_MAX = 60
CUSTOMER_NAME_MAX = 120


def _check_name(name: str, longest: int) -> None:
    if not name.strip() or len(name) > longest:
        raise InvalidInput(f"name must be 1–{longest} characters", field="name")


class PulledKind(enum.StrEnum):
    """What a pulled row is; with its key it names the row (a product's id, a stock row's
    product id, ...)."""

    PRODUCT = "product"
    STOCK = "stock"
    CLERK = "clerk"
    CUSTOMER = "customer"
    DELIVERY_SLOT = "delivery_slot"
    SLOT_ALLOTMENT = "slot_allotment"
    PHONE_ORDER = "phone_order"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class UnusableRow:
    """A pulled row the till cannot apply, kept aside with the reason in words.

    It is applied (and forgotten) once a corrected version of the same (kind, key) arrives,
    and forgotten if a tombstone arrives; meanwhile the sync status counts it and a manager
    sees it. ``payload`` is the row as the server sent it (JSON text).
    """

    kind: str
    key: str
    name: str
    reason: str
    payload: str = ""
    seen_at: datetime | None = None


class SyncCounts(NamedTuple):
    waiting: int  # events still to deliver
    rejected: int  # events the server refused, waiting for a manager
    unusable: int  # pulled rows kept aside


@dataclass(frozen=True, slots=True)
class PulledPage:
    """One page of server changes, applied in one local transaction with ``next_cursor``."""

    next_cursor: str
    products: list[Product] = field(default_factory=list)
    deleted_product_ids: list[str] = field(default_factory=list)
    stock: list[tuple[str, int]] = field(default_factory=list)
    clerks: list[ClerkRecord] = field(default_factory=list)
    deleted_clerk_ids: list[str] = field(default_factory=list)
    customers: list[CustomerRecord] = field(default_factory=list)
    slots: list[DeliverySlotRecord] = field(default_factory=list)
    deleted_slot_ids: list[str] = field(default_factory=list)
    allotments: list[SlotAllotmentRecord] = field(default_factory=list)  # this till's only
    phone_orders: list[PhoneOrder] = field(default_factory=list)  # the store's queue
    unusable: list[UnusableRow] = field(default_factory=list)  # kept aside, never dropped

    @property
    def size(self) -> int:
        return (
            len(self.products)
            + len(self.deleted_product_ids)
            + len(self.stock)
            + len(self.clerks)
            + len(self.deleted_clerk_ids)
            + len(self.customers)
            + len(self.slots)
            + len(self.deleted_slot_ids)
            + len(self.allotments)
            + len(self.phone_orders)
            + len(self.unusable)
        )


def product_from_wire(data: Mapping[str, Any]) -> Product:
    """A product from the fields of a pulled product row, by their wire names (the shop's
    checks run: a broken row raises ``PosError`` or ``ValueError``)."""
    return Product(
        id=data["id"],
        sku=data["sku"],
        name=data["name"],
        brand=data.get("brand", ""),
        department=data.get("department", ""),
        unit_price=data["unit_price"],
        tax_class=data["tax_class"],
        sold_by=SoldBy(data["sold_by"]),
        barcodes=tuple(data.get("barcodes", ())),
        active=data.get("active", True),
        attributes={k: str(v) for k, v in data.get("attributes", {}).items()},
    )


def product_wire_json(product: Product) -> str:
    """The product as the JSON of a pulled product row (what ``product_from_wire`` reads)."""
    return json.dumps(
        {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "brand": product.brand,
            "department": product.department,
            "unit_price": product.unit_price,
            "tax_class": product.tax_class,
            "sold_by": product.sold_by.value,
            "barcodes": list(product.barcodes),
            "active": product.active,
            "attributes": product.attributes,
        }
    )
