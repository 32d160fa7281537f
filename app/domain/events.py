"""What the till tells the server, as domain events (the outbox's content).

A use case hands one of these to ``uow.outbox`` in its own transaction; the wire adapter
(``sync.wire``, injected by the composition root) turns it into the protocol's JSON. The
event id is the idempotency key the server deduplicates on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.order import Order
from app.domain.refund import Refund


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


DomainEvent = SaleCompleted | OrderVoided | OrderRefunded
