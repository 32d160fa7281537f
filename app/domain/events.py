"""What the till tells the server, as domain events (the outbox's content).

A use case hands one of these to ``uow.outbox`` in its own transaction; the wire adapter
(``sync.wire``, injected by the composition root) turns it into the protocol's JSON. The
event id is the idempotency key the server deduplicates on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.approval import Approval
from app.domain.clerk import Clerk
from app.domain.delivery import (
    BookingStatus,
    Customer,
    FulfilmentState,
    PhoneOrder,
    PickedLine,
)
from app.domain.order import Order
from app.domain.refund import Refund
from app.domain.shift import CashMoved, ShiftClosed, ShiftOpened


@dataclass(frozen=True, slots=True)
class SaleCompleted:
    """A paid order (its event id is the order id: a sale is reported once)."""

    order: Order
    occurred_at: datetime

    @property
    def event_id(self) -> str:
        return self.order.id


@dataclass(frozen=True, slots=True)
class OrderVoided:
    event_id: str
    order_id: str
    reason: str
    voided_at: datetime
    clerk_id: str  # the manager who approved the void

    @property
    def occurred_at(self) -> datetime:
        return self.voided_at


@dataclass(frozen=True, slots=True)
class OrderRefunded:
    event_id: str
    refund: Refund  # done: refunded_at is set

    @property
    def occurred_at(self) -> datetime:
        assert self.refund.refunded_at is not None
        return self.refund.refunded_at


@dataclass(frozen=True, slots=True)
class ApprovalUsed:
    """A manager's approval, used (its event id is the approval's id: it is used once)."""

    approval: Approval  # used_at is set
    asked_by_name: str
    approved_by_name: str

    @property
    def event_id(self) -> str:
        return self.approval.id

    @property
    def occurred_at(self) -> datetime:
        assert self.approval.used_at is not None
        return self.approval.used_at


@dataclass(frozen=True, slots=True)
class ClerkSaved:
    """A clerk added or changed on the till by a manager (name, role, active, PIN hash)."""

    event_id: str
    clerk: Clerk
    updated_at: datetime
    by_clerk_id: str

    @property
    def occurred_at(self) -> datetime:
        return self.updated_at


@dataclass(frozen=True, slots=True)
class CustomerSaved:
    """A delivery customer created or changed at the till (the newest ``updated_at`` wins)."""

    event_id: str
    customer: Customer

    @property
    def occurred_at(self) -> datetime:
        return self.customer.updated_at


@dataclass(frozen=True, slots=True)
class PhoneOrderPlaced:
    """A phone order saved at the till with its slot booking (its own event id: the sale it
    becomes on delivery is reported under the order's id)."""

    event_id: str
    order: PhoneOrder
    estimated_subtotal: int
    estimated_tax_total: int
    units: int  # what the booking takes of the slot, in the slot's unit
    weight_g: int
    booked_at: datetime

    @property
    def occurred_at(self) -> datetime:
        return self.order.created_at

    @property
    def booking_status(self) -> BookingStatus:
        return self.order.booking_status


@dataclass(frozen=True, slots=True)
class PhoneOrderTransitioned:
    event_id: str
    order_id: str
    transition_id: str
    from_state: FulfilmentState
    to_state: FulfilmentState
    reason: str
    at: datetime
    clerk_id: str

    @property
    def occurred_at(self) -> datetime:
        return self.at


@dataclass(frozen=True, slots=True)
class PhoneOrderPicked:
    event_id: str
    order_id: str
    pick_id: str
    at: datetime
    clerk_id: str
    lines: tuple[PickedLine, ...]
    subtotal: int
    tax_total: int
    total: int

    @property
    def occurred_at(self) -> datetime:
        return self.at


DomainEvent = (
    SaleCompleted
    | OrderVoided
    | OrderRefunded
    | ApprovalUsed
    | ClerkSaved
    | CustomerSaved
    | PhoneOrderPlaced
    | PhoneOrderTransitioned
    | PhoneOrderPicked
    | ShiftOpened
    | CashMoved
    | ShiftClosed
)
