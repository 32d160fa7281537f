"""What the sync engine moves between the till's store and the server, in the shop's terms.

These plain types let ``sync/`` (the engine) and ``local_db/`` (the store) meet without
importing each other.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.product import Product

CURSOR_SETTING = "sync.cursor"  # where the pull resumes; emptied by a new enrollment


class OutboxState(enum.StrEnum):
    PENDING = "pending"  # queued, never sent
    SENT = "sent"  # sent at least once, no answer kept yet
    DONE = "done"  # the server acknowledged it (accepted or duplicate)
    REJECTED = "rejected"  # refused for good: waits for a manager (fix and resend, or void)


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


@dataclass(frozen=True, slots=True)
class ClerkRecord:
    id: str
    name: str
    role: str
    pin_hash: str
    active: bool


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    id: str
    name: str
    phone: str = ""
    email: str = ""
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class DeliverySlotRecord:
    id: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    active: bool


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
        )
