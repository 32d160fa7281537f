"""What the use cases need from the outside world, as Protocols (adapters live elsewhere)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from app.domain.approval import Approval
from app.domain.audit import AuditEntry
from app.domain.card import (
    CaptureChoice,
    CardPayment,
    CardRefund,
    CardStatus,
    LocalCardAttempt,
    PhoneCardState,
)
from app.domain.cart import Cart
from app.domain.clerk import Clerk
from app.domain.delivery import (
    BookingStatus,
    Customer,
    FulfilmentState,
    PhoneOrder,
    Slot,
    SlotStanding,
)
from app.domain.events import DomainEvent
from app.domain.order import Order, OrderStatus, SyncState
from app.domain.product import Product
from app.domain.refund import Refund, RefundState
from app.domain.shift import CashMovement, Shift, ShiftVoid, ZReport
from app.domain.stock import StockMovement


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdFactory(Protocol):
    def new_id(self) -> str: ...


class ProductRepository(Protocol):
    def by_code(self, code: str) -> Product | None:
        """Exact lookup by barcode, PLU or SKU."""

    def by_id(self, product_id: str) -> Product | None: ...

    def search(self, text: str, limit: int = 20) -> list[Product]: ...

    def replace_all(self, products: Iterable[Product]) -> int: ...

    def upsert_many(self, products: Iterable[Product]) -> int: ...

    def departments(self) -> list[str]: ...

    def in_department(self, department: str, limit: int = 60) -> list[Product]: ...

    def count(self) -> int: ...

    def move_stock(self, movements: Sequence[StockMovement]) -> None:
        """Apply movements to tracked stock (untracked products stay untracked)."""


class OrderRepository(Protocol):
    def add(self, order: Order) -> None: ...

    def get(self, order_id: str) -> Order | None: ...

    def set_status(self, order_id: str, status: OrderStatus) -> None: ...

    def set_refunded_total(self, order_id: str, refunded_total: int) -> None: ...

    def by_receipt_no(self, receipt_no: str) -> Order | None: ...

    def recent(self, limit: int = 100, query: str = "", day: str | None = None) -> list[Order]:
        """Newest first; ``query`` matches part of a receipt number, ``day`` is YYYY-MM-DD."""

    def count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """A domain event as the server is sent it: ``body`` is the JSON text pushed as is."""

    event_id: str
    event_type: str
    body: str


class EventEncoder(Protocol):
    """Domain event → wire (``sync.wire.encode_event``; injected by the composition root)."""

    def __call__(self, event: DomainEvent, /) -> EncodedEvent: ...


class OutboxRepository(Protocol):
    def add(self, event: DomainEvent) -> None:
        """Queue ``event`` for the server, in the current transaction."""

    def pending_count(self) -> int: ...

    def unacknowledged_follow_ups(
        self, order_ids: Sequence[str]
    ) -> dict[str, list[tuple[SyncState, str]]]:
        """Per order: its events after the sale (refunds, a void) the server has not
        acknowledged, as (state, reason) (``Order.with_later_events``)."""


class SequenceRepository(Protocol):
    def next_value(self, name: str) -> int:
        """Take the next number of a named sequence; part of the current transaction."""


class ParkedSaleRepository(Protocol):
    def park(self, sale_id: str, cart: Cart, clerk_id: str, label: str, at: datetime) -> None: ...

    def take(self, sale_id: str) -> Cart | None:
        """Remove and return a parked sale."""

    def list(self) -> Sequence[tuple[str, str, str, datetime, int]]:
        """(sale id, label, clerk id, parked at, total) newest first."""


class ClerkRepository(Protocol):
    def all(self) -> list[Clerk]: ...

    def get(self, clerk_id: str) -> Clerk | None: ...

    def save(self, clerk: Clerk) -> None: ...


class ApprovalRepository(Protocol):
    def add(self, approval: Approval) -> None: ...

    def get(self, approval_id: str) -> Approval | None: ...

    def mark_used(self, approval_id: str, used_at: datetime) -> None: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def recent(self, limit: int = 200) -> list[AuditEntry]: ...


class CardAttemptRepository(Protocol):
    def add(self, attempt: LocalCardAttempt, cart: Cart) -> None: ...

    def set_status(
        self, payment_id: str, status: CardStatus, pay_url: str | None = None
    ) -> None: ...

    def for_order(self, order_id: str) -> list[LocalCardAttempt]: ...

    def unsettled(self) -> list[tuple[LocalCardAttempt, Cart]]: ...


class PaymentGateway(Protocol):
    """The server's payment API as the till uses it (no card data ever passes here)."""

    def create_payment(
        self, payment_id: str, order_id: str, amount: int, currency: str
    ) -> CardPayment: ...

    def get_payment(self, payment_id: str) -> CardPayment: ...

    def refund(self, payment_id: str, refund_id: str, amount: int, reason: str) -> CardRefund:
        """Refund part of a payment; the same ``refund_id`` again never refunds twice.
        Raises ``GatewayUnavailable`` (outcome unknown: ask again with the same id) or
        ``GatewayRefused`` (nothing was refunded)."""

    def cancel(self, payment_id: str) -> CardPayment:
        """Make an open payment unpayable: answers it ``failed``, or ``succeeded`` if the
        customer paid first. Raises ``GatewayUnavailable`` when it could not be cancelled."""

    def email_link(self, payment_id: str, email: str) -> str:
        """Mail the payment page link to a customer (phone orders); the address used."""


class PhonePaymentGateway(Protocol):
    """The server's card links of phone orders (docs/payments.md "Phone orders"). Raises
    ``GatewayUnavailable`` (ask again) or ``GatewayRefused`` (with the server's reason)."""

    def phone_payment(self, order_id: str) -> PhoneCardState: ...

    def send_payment_link(self, order_id: str, email: str) -> PhoneCardState:
        """``email`` empty: the order's own address."""

    def capture(self, order_id: str, capture_id: str, choice: CaptureChoice) -> PhoneCardState:
        """Idempotent by ``capture_id``."""


class RefundRepository(Protocol):
    def add(self, refund: Refund) -> None: ...

    def get(self, refund_id: str) -> Refund | None: ...

    def for_order(self, order_id: str) -> list[Refund]:
        """Oldest first."""

    def set_state(
        self,
        refund_id: str,
        state: RefundState,
        *,
        refunded_at: datetime | None = None,
        failure: str = "",
    ) -> None: ...

    def pending(self) -> list[Refund]:
        """Refunds whose card part is still waiting for the server's word."""


class ShiftRepository(Protocol):
    """Shifts, their cash movements and Z reports, and what a shift did (app.services.shifts)."""

    def add(self, shift: Shift) -> None: ...

    def get(self, shift_id: str) -> Shift | None: ...

    def current(self) -> Shift | None:
        """The shift open on this terminal, if any."""

    def in_use(self) -> bool:
        """A shift was ever opened on this terminal (from then on a sale needs one)."""

    def close(self, shift_id: str, closed_at: datetime, closed_by: str) -> None: ...

    def add_movement(self, movement: CashMovement) -> None: ...

    def movements(self, shift_id: str) -> list[CashMovement]: ...

    def sales(self, shift_id: str) -> list[Order]:
        """The shift's paid sales in receipt order."""

    def unsynced_sales(self, shift_id: str) -> set[str]:
        """Ids of the shift's sales the server has not acknowledged."""

    def refunds(self, start: datetime, end: datetime | None) -> list[Refund]: ...

    def voids(self, start: datetime, end: datetime | None) -> list[ShiftVoid]: ...

    def cancellations(self, start: datetime, end: datetime | None) -> list[AuditEntry]: ...

    def phone_orders_taken(
        self, terminal_code: str, start: datetime, end: datetime | None
    ) -> int: ...

    def events_waiting(self, event_ids: Sequence[str]) -> int:
        """How many of these outbox events the server has not acknowledged."""

    def add_z(self, report: ZReport) -> None: ...

    def replace_z(self, report: ZReport) -> None:
        """A provisional report's final written over it."""

    def z(self, shift_id: str) -> ZReport | None: ...

    def z_list(self, limit: int = 50) -> list[ZReport]:
        """Newest first."""

    def provisional(self) -> list[ZReport]: ...


class SettingsRepository(Protocol):
    def get(self, key: str, default: str = "") -> str: ...

    def put(self, key: str, value: str) -> None: ...


class CustomerRepository(Protocol):
    """Delivery customers with their addresses (issue 13)."""

    def get(self, customer_id: str) -> Customer | None: ...

    def by_phone_prefix(self, prefix: str, limit: int = 20) -> list[Customer]:
        """Customers whose E.164 number starts with ``prefix``."""

    def by_name(self, text: str, limit: int = 20) -> list[Customer]:
        """Customers whose name (or a later word of it) starts with ``text``."""

    def save(self, customer: Customer) -> None: ...


class SlotRepository(Protocol):
    """Delivery slots with this till's allotments and own bookings."""

    def get(self, slot_id: str) -> Slot | None: ...

    def standing(self, slot_id: str) -> SlotStanding | None: ...

    def upcoming(self, start: datetime, end: datetime) -> list[SlotStanding]:
        """Active slots starting in [start, end), soonest first."""

    def add_booking(
        self,
        booking_id: str,
        slot_id: str,
        order_id: str,
        units: int,
        weight_g: int,
        status: BookingStatus,
        booked_at: datetime,
    ) -> None: ...


class PhoneOrderRepository(Protocol):
    def add(self, order: PhoneOrder) -> None: ...

    def save(self, order: PhoneOrder) -> None:
        """The header and picked lines as given."""

    def get(self, order_id: str) -> PhoneOrder | None: ...

    def queue(
        self,
        states: Sequence[FulfilmentState] | None = None,
        slot_id: str | None = None,
        limit: int = 500,
    ) -> list[PhoneOrder]:
        """By slot start, then order number."""

    def to_reconcile(self) -> list[PhoneOrder]:
        """Moved or unplaced bookings the customer has not been told about."""

    def mark_told(self, order_id: str) -> None: ...


class UnitOfWork(Protocol):
    @property
    def products(self) -> ProductRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def sequences(self) -> SequenceRepository: ...

    @property
    def parked(self) -> ParkedSaleRepository: ...

    @property
    def clerks(self) -> ClerkRepository: ...

    @property
    def settings(self) -> SettingsRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def approvals(self) -> ApprovalRepository: ...

    @property
    def card_attempts(self) -> CardAttemptRepository: ...

    @property
    def refunds(self) -> RefundRepository: ...

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def slots(self) -> SlotRepository: ...

    @property
    def phone_orders(self) -> PhoneOrderRepository: ...

    @property
    def shifts(self) -> ShiftRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless commit() was called."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
