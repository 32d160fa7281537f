"""The wire protocol between a terminal and the sync server, shared by both sides.

Every request and response body is one of the pydantic models below; the server's OpenAPI
document is generated from them. Money is always an ``int`` of minor units (floats and
booleans are refused), weights are ``int`` grams, rates are ``int`` basis points.

Versioning: every request carries ``PROTOCOL_VERSION``. Requests with a JSON body carry it in
the body field ``protocol_version``; requests without a body (GET) send the header
``X-Shopsmart-Protocol``. A version the server does not speak is answered with
``400 {"error": "unsupported_protocol_version", ...}``.

The models hold no shop rules of their own: their limits come from ``app.domain`` (money,
quantities, rates), and the arithmetic an order must satisfy is
``app.domain.order_check.check_order_consistency``, which the server runs on every pushed order.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from app.domain.contact import InvalidEmail, normalise_email
from app.domain.money import BASIS_POINTS, MAX_AMOUNT
from app.domain.order_check import MAX_LINE_QUANTITY
from app.domain.phone import tidy_phone
from app.domain.report import (
    DEFAULT_REPORT_LIMIT,
    DEFAULT_TIME_ZONE,
    MAX_REPORT_LIMIT,
    ColumnKind,
    ReportColumn,
    ReportName,
    ReportTable,
    clerk_filter_reports,
)

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-Shopsmart-Protocol"
SUPPORTED_PROTOCOL_VERSIONS = frozenset({PROTOCOL_VERSION})

MAX_PUSH_EVENTS = 500  # events in one push batch; more is refused with 413
DEFAULT_PULL_LIMIT = 500
MAX_PULL_LIMIT = 1000
MAX_ID = 2**63 - 1  # database ids are signed 64-bit

# Money and other counted things: an int, never a float, never a bool.
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]
SignedAmount = Annotated[StrictInt, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
Quantity = Annotated[StrictInt, Field(gt=0, le=MAX_LINE_QUANTITY)]
RateBp = Annotated[StrictInt, Field(ge=0, le=BASIS_POINTS)]
Version = StrictInt
ShortText = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
OptionalCode = Annotated[str, Field(max_length=64)]

SoldBy = Literal["each", "weight"]
TenderKind = Literal["cash", "card", "pay_later"]
ClerkRole = Literal["clerk", "manager"]


class RequestModel(BaseModel):
    """A body the client sends: unknown fields are refused, so typos surface at once."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ResponseModel(BaseModel):
    """A body the server sends: unknown fields are ignored, so the server may add fields."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


# --------------------------------------------------------------------------- errors


class ErrorResponse(ResponseModel):
    """Every 4xx/5xx answer. ``field`` is a path into the request (``lines[2].quantity``)."""

    error: str = Field(description="machine-readable code, e.g. invalid_body, not_found")
    message: str = Field(description="what went wrong, for a person")
    field: str | None = Field(default=None, description="path of the offending input")


# --------------------------------------------------------------------------- orders


# A customer's contact details on a paid order are kept whatever they hold (a sale is never
# refused over them); a phone number that reads as one is stored in E.164.
ContactPhone = Annotated[str, Field(max_length=200), AfterValidator(tidy_phone)]


class CustomerRef(RequestModel):
    id: UUID
    name: ShortText = ""
    phone: ContactPhone = ""
    email: ShortText = ""


class OrderLinePayload(RequestModel):
    line_no: Annotated[StrictInt, Field(ge=1, le=10_000)]
    # An open-price item (goods without a barcode, price typed) is a line of no product:
    # product_id and sku are empty (app.domain.order_check holds it to one unit, by the unit).
    product_id: OptionalCode = Field(description="empty for an open-price item")
    sku: OptionalCode
    name: ShortText
    sold_by: SoldBy
    quantity: Quantity = Field(description="units, or grams when sold by weight")
    unit_price: Amount = Field(description="per unit, or per kg when sold by weight")
    gross: Amount
    line_discount: Amount
    order_discount_share: Amount
    net: Amount
    tax_class: Code
    tax_rate_bp: RateBp
    discount_reason: ShortText = ""


class TenderPayload(RequestModel):
    kind: TenderKind
    amount: Amount
    tendered: Amount
    change: Amount
    reference: ShortText = ""


class TaxEntryPayload(RequestModel):
    tax_class: Code
    label: ShortText
    rate_bp: RateBp
    taxable: SignedAmount
    tax: SignedAmount


class OrderPayload(RequestModel):
    id: UUID
    receipt_no: Code
    terminal_code: Code
    sequence: Annotated[StrictInt, Field(ge=0, le=10**12)]
    clerk_id: Code
    clerk_name: ShortText
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    status: Literal["paid"]
    kind: Literal["counter", "phone"] = "counter"
    created_at: AwareDatetime
    paid_at: AwareDatetime
    subtotal: Amount
    discount_total: Amount
    tax_total: Amount
    total: Amount
    prices_include_tax: StrictBool
    customer: CustomerRef | None = None
    lines: Annotated[list[OrderLinePayload], Field(min_length=1, max_length=1000)]
    tenders: Annotated[list[TenderPayload], Field(min_length=1, max_length=20)]
    tax: Annotated[list[TaxEntryPayload], Field(max_length=50)] = []
    shift_id: UUID | None = Field(default=None, description="the till's shift of the sale")


class OrderVoidPayload(RequestModel):
    order_id: UUID
    reason: ShortText
    voided_at: AwareDatetime
    clerk_id: Code


class RefundLinePayload(RequestModel):
    line_no: Annotated[StrictInt, Field(ge=1, le=10_000)]
    quantity: Quantity = Field(description="units, or grams when sold by weight")


class OrderRefundPayload(RequestModel):
    """A refund made at the till (approved by a manager there). ``amount`` =
    ``card_amount`` + ``cash_amount``; the card part was refunded through
    ``POST /api/v1/payments/{card_payment_id}/refunds`` with the same ``refund_id``."""

    refund_id: UUID = Field(description="client UUID; also the refund_id of the card part")
    order_id: UUID
    amount: Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT)] = Field(
        description="minor units given back in all"
    )
    cash_amount: Amount
    card_amount: Amount
    card_payment_id: UUID | None = None
    reason: ShortText
    refunded_at: AwareDatetime
    clerk_id: Code
    lines: Annotated[list[RefundLinePayload], Field(max_length=1000)] = Field(
        default=[], description="quantities that come back to stock; empty for an amount only"
    )


# --------------------------------------------------------------------------- phone orders
# Issue 13 (docs/phone-orders.md): a till queues customer.saved, then phone_order.placed in
# the same local transaction; later phone_order.transitioned and phone_order.picked.

CapacityUnitName = Literal["orders", "items"]
SubstitutionName = Literal["best_match", "specific", "none"]
PaymentMethodName = Literal["door_cash", "door_card", "card_link"]
BookingStatusName = Literal["firm", "provisional", "confirmed", "moved", "unplaced"]
FulfilmentStateName = Literal[
    "received", "picking", "ready", "out_for_delivery", "delivered", "cancelled"
]
PickStatusName = Literal["picked", "substituted", "not_available"]
Grams = Annotated[StrictInt, Field(ge=0, le=10**9)]
SlotUnits = Annotated[StrictInt, Field(ge=1, le=10**6)]
LineNo = Annotated[StrictInt, Field(ge=1, le=10_000)]
NoteText = Annotated[str, Field(max_length=500)]
OrderNote = Annotated[str, Field(max_length=1000)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _check_phone(value: str) -> str:
    from app.domain.phone import InvalidPhone, normalise_phone

    try:
        return normalise_phone(value)
    except InvalidPhone as exc:
        raise ValueError(exc.reason) from None


def _check_optional_email(value: str) -> str:
    return _check_email(value) if value.strip() else ""


Required = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
PersonName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_not_blank)]
E164Phone = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_check_phone)]
OptionalEmail = Annotated[str, Field(max_length=254), AfterValidator(_check_optional_email)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class AddressPayload(RequestModel):
    id: UUID
    label: Annotated[str, Field(max_length=100)] = ""
    line1: Required
    line2: ShortText = ""
    postcode: Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_not_blank)]
    city: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_blank)]
    country: CountryCode = Field(description="ISO 3166 alpha-2")
    notes: NoteText = Field(default="", description="delivery notes")


class CustomerPayload(RequestModel):
    """A customer saved at a till (``customer.saved``; ``PUT /customers/{id}``). The server
    keeps the newest ``updated_at`` of each (store, id)."""

    id: UUID
    name: PersonName
    phone: E164Phone = Field(description="E.164, e.g. +353871234567")
    email: OptionalEmail = ""
    addresses: Annotated[list[AddressPayload], Field(min_length=1, max_length=20)]
    notes: Annotated[str, Field(max_length=1000)] = ""
    updated_at: AwareDatetime


class PhoneOrderLinePayload(RequestModel):
    line_no: LineNo
    product_id: OptionalCode = Field(description="empty for an open-price item")
    sku: OptionalCode
    name: ShortText
    sold_by: SoldBy
    quantity: Quantity = Field(description="units, or estimated grams when sold by weight")
    unit_price: Amount = Field(description="per unit, or per kg when sold by weight")
    tax_class: Code
    tax_rate_bp: RateBp
    net: Amount = Field(description="estimated")
    substitution: SubstitutionName = "best_match"
    substitute_product_id: OptionalCode = ""
    note: NoteText = ""


class BookingPayload(RequestModel):
    """The slot booking a till made: ``firm`` within its allotment (always honoured),
    ``provisional`` past it (the server confirms or moves it)."""

    booking_id: UUID
    slot_id: UUID
    units: SlotUnits = Field(description="in the slot's capacity unit")
    weight_g: Grams = 0
    status: Literal["firm", "provisional"]
    booked_at: AwareDatetime


class PhoneOrderPayload(RequestModel):
    id: UUID
    order_no: Code = Field(description="e.g. T01-P000012")
    terminal_code: Code
    clerk_id: Code
    clerk_name: ShortText
    customer_id: UUID
    address: AddressPayload = Field(description="where it goes, as at the order")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    created_at: AwareDatetime
    lines: Annotated[list[PhoneOrderLinePayload], Field(min_length=1, max_length=1000)]
    note: OrderNote = ""
    estimated_subtotal: Amount
    estimated_tax_total: Amount
    estimated_total: Amount
    payment_method: PaymentMethodName
    customer_email: OptionalEmail = Field(default="", description="where mail goes; may be empty")
    booking: BookingPayload


class PhoneOrderTransitionPayload(RequestModel):
    """A move of the order's fulfilment state. Refused ``illegal_transition`` (not allowed
    from ``from_state``) or ``transition_overtaken`` (the order is no longer in
    ``from_state`` on the server)."""

    order_id: UUID
    transition_id: UUID
    from_state: FulfilmentStateName
    to_state: FulfilmentStateName
    reason: ShortText = ""
    at: AwareDatetime
    clerk_id: Code


class PickedLinePayload(RequestModel):
    line_no: LineNo = Field(description="the ordered line it fulfils")
    status: PickStatusName
    product_id: OptionalCode = Field(description="the substitute's when substituted")
    sku: OptionalCode
    name: ShortText
    sold_by: SoldBy
    quantity: Annotated[StrictInt, Field(ge=0, le=MAX_LINE_QUANTITY)] = Field(
        description="actual units or grams; 0 when not available"
    )
    unit_price: Amount
    tax_class: Code
    tax_rate_bp: RateBp
    net: Amount


class PhoneOrderPickedPayload(RequestModel):
    """What was picked; the totals are the sale arithmetic over the lines available
    (``app.domain.delivery.picked_totals``), which the server re-checks."""

    order_id: UUID
    pick_id: UUID
    at: AwareDatetime
    clerk_id: Code
    lines: Annotated[list[PickedLinePayload], Field(min_length=1, max_length=1000)]
    subtotal: Amount
    tax_total: Amount
    total: Amount


class CustomerSavedEvent(RequestModel):
    event_id: UUID
    type: Literal["customer.saved"]
    occurred_at: AwareDatetime
    payload: CustomerPayload


class PhoneOrderPlacedEvent(RequestModel):
    event_id: UUID
    type: Literal["phone_order.placed"]
    occurred_at: AwareDatetime
    payload: PhoneOrderPayload


class PhoneOrderTransitionedEvent(RequestModel):
    event_id: UUID
    type: Literal["phone_order.transitioned"]
    occurred_at: AwareDatetime
    payload: PhoneOrderTransitionPayload


class PhoneOrderPickedEvent(RequestModel):
    event_id: UUID
    type: Literal["phone_order.picked"]
    occurred_at: AwareDatetime
    payload: PhoneOrderPickedPayload


# --------------------------------------------------------------------------- shifts
# Issue 14 (docs/manager.md): shift.opened, cash.moved for each paid in/out and no-sale, and
# shift.closed with the Z report at the close (provisional or final) and again when final.

ShiftZStatus = Literal["provisional", "final"]
CashMovementKindName = Literal["paid_in", "paid_out", "no_sale"]
Count = Annotated[StrictInt, Field(ge=0, le=10**9)]
Pieces = Annotated[StrictInt, Field(ge=0, le=100_000)]
# A drawer count: denomination in minor units (a decimal string, as JSON keys are) → pieces.
DrawerCount = Annotated[
    dict[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,7}$")], Pieces], Field(max_length=40)
]


def drawer_total(count: dict[str, int]) -> int:
    return sum(int(value) * pieces for value, pieces in count.items())


class ShiftOpenedPayload(RequestModel):
    shift_id: UUID
    terminal_code: Code
    opened_at: AwareDatetime
    clerk_id: Code
    float_amount: Amount = Field(description="the float counted into the drawer")
    float_count: DrawerCount = Field(description="denomination (minor units) → pieces")

    @model_validator(mode="after")
    def _float_adds_up(self) -> ShiftOpenedPayload:
        if drawer_total(self.float_count) != self.float_amount:
            raise ValueError("float_amount is not the total of float_count")
        return self


class CashMovedPayload(RequestModel):
    movement_id: UUID
    shift_id: UUID
    kind: CashMovementKindName
    amount: Amount = Field(description="0 for a no-sale")
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    clerk_id: Code
    approval_id: UUID | None = Field(default=None, description="the manager's approval used")
    at: AwareDatetime


class ZTaxLinePayload(RequestModel):
    rate_bp: RateBp
    label: ShortText
    net: SignedAmount
    tax: SignedAmount
    gross: SignedAmount


class ZTenderPayload(RequestModel):
    kind: TenderKind
    count: Count
    amount: SignedAmount


class ZFiguresPayload(RequestModel):
    """The figures of a Z report (app.domain.shift.ZFigures): over the shift's sales that had
    reached the server at the close (a final's: all of them)."""

    sales_count: Count
    first_receipt_no: OptionalCode
    last_receipt_no: OptionalCode
    clerks: Annotated[list[ShortText], Field(max_length=100)]
    gross_sales: SignedAmount
    discounts: SignedAmount
    refunds_count: Count
    refunds: SignedAmount
    voids_count: Count
    voids: SignedAmount
    cancellations_count: Count
    cancellations: SignedAmount
    net_sales: SignedAmount
    tax: Annotated[list[ZTaxLinePayload], Field(max_length=50)]
    tenders: Annotated[list[ZTenderPayload], Field(max_length=10)]
    cash_sales: SignedAmount
    cash_refunds: SignedAmount
    cash_voids: SignedAmount
    paid_in: SignedAmount
    paid_out: SignedAmount
    no_sales: Count
    float_amount: SignedAmount
    expected_cash: SignedAmount
    phone_orders_taken: Count
    phone_orders_paid: Count


class ShiftClosedPayload(RequestModel):
    """A Z report. ``expected_cash`` is all the shift's cash, the sales still ``waiting`` at
    the close included; ``difference`` = ``counted_total`` − ``expected_cash``. A final report
    of a provisional one names in ``synced_after_close`` the sales that reached the server
    after the close."""

    shift_id: UUID
    terminal_code: Code
    z_number: Annotated[StrictInt, Field(ge=1, le=10**9)]
    status: ShiftZStatus
    opened_at: AwareDatetime
    opened_by: Code
    closed_at: AwareDatetime
    closed_by: Code
    counted: DrawerCount
    counted_total: Amount
    expected_cash: SignedAmount
    difference: SignedAmount
    figures: ZFiguresPayload
    waiting: Annotated[list[Code], Field(max_length=100_000)] = Field(
        description="receipt numbers not yet on the server at the close"
    )
    synced_after_close: Annotated[list[Code], Field(max_length=100_000)] = Field(
        description="final only: the receipts that reached the server after the close"
    )
    finalised_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _adds_up(self) -> ShiftClosedPayload:
        if drawer_total(self.counted) != self.counted_total:
            raise ValueError("counted_total is not the total of counted")
        if self.counted_total - self.expected_cash != self.difference:
            raise ValueError("difference is not counted_total − expected_cash")
        if self.status == "final" and (self.waiting or self.finalised_at is None):
            raise ValueError("a final Z report has nothing waiting and a finalised_at")
        if self.status == "provisional" and (self.synced_after_close or self.finalised_at):
            raise ValueError("a provisional Z report is not finalised")
        return self


class ShiftOpenedEvent(RequestModel):
    event_id: UUID = Field(description="the shift's id")
    type: Literal["shift.opened"]
    occurred_at: AwareDatetime
    payload: ShiftOpenedPayload


class CashMovedEvent(RequestModel):
    event_id: UUID = Field(description="the movement's id")
    type: Literal["cash.moved"]
    occurred_at: AwareDatetime
    payload: CashMovedPayload


class ShiftClosedEvent(RequestModel):
    event_id: UUID
    type: Literal["shift.closed"]
    occurred_at: AwareDatetime
    payload: ShiftClosedPayload


# --------------------------------------------------------------------------- approvals, clerks
# Issue 14 (docs/manager.md, "Approvals" and "Clerks"): a manager's approval used at a till
# (app.domain.approval), and a clerk a manager added or changed there (newest updated_at wins).

ApprovalActionName = Literal[
    "refund",
    "void_after_payment",
    "discount",
    "price_override",
    "open_price",
    "return_without_receipt",
    "no_sale",
    "paid_out",
    "reports",
]


def _check_pin_hash(value: str) -> str:
    from app.domain.clerk import check_pin_hash
    from app.domain.errors import InvalidInput

    try:
        check_pin_hash(value)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None
    return value


class ApprovalUsedPayload(RequestModel):
    """Who asked, who approved, what (``action`` and its ``subject``), when, on which till."""

    approval_id: UUID
    action: ApprovalActionName
    subject: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="what exactly was approved, e.g. refund:order=<id>:amount=1250"
    )
    asked_by: Code = Field(description="clerk id of who asked")
    approved_by: Code = Field(description="clerk id of the manager who approved")
    terminal_code: Code
    at: AwareDatetime = Field(description="when the manager approved")
    used_at: AwareDatetime = Field(description="when the approved action was done")


class ClerkSavedPayload(RequestModel):
    """A clerk as a manager saved it at a till; the server keeps the newest ``updated_at``."""

    clerk_id: UUID
    name: Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_not_blank)]
    role: ClerkRole
    active: StrictBool
    pin_hash: Annotated[str, Field(max_length=200), AfterValidator(_check_pin_hash)]
    updated_at: AwareDatetime
    by_clerk_id: Code = Field(description="the manager who saved it")


class ApprovalUsedEvent(RequestModel):
    event_id: UUID = Field(description="the approval's id: an approval is used once")
    type: Literal["approval.used"]
    occurred_at: AwareDatetime
    payload: ApprovalUsedPayload


class ClerkSavedEvent(RequestModel):
    event_id: UUID
    type: Literal["clerk.saved"]
    occurred_at: AwareDatetime
    payload: ClerkSavedPayload


# --------------------------------------------------------------------------- push


class OrderPaidEvent(RequestModel):
    event_id: UUID = Field(description="client-generated UUIDv7; the idempotency key")
    type: Literal["order.paid"]
    occurred_at: AwareDatetime
    payload: OrderPayload


class OrderVoidedEvent(RequestModel):
    event_id: UUID
    type: Literal["order.voided"]
    occurred_at: AwareDatetime
    payload: OrderVoidPayload


class OrderRefundedEvent(RequestModel):
    event_id: UUID
    type: Literal["order.refunded"]
    occurred_at: AwareDatetime
    payload: OrderRefundPayload


ClientEvent = Annotated[
    OrderPaidEvent
    | OrderVoidedEvent
    | OrderRefundedEvent
    | CustomerSavedEvent
    | PhoneOrderPlacedEvent
    | PhoneOrderTransitionedEvent
    | PhoneOrderPickedEvent
    | ShiftOpenedEvent
    | CashMovedEvent
    | ShiftClosedEvent
    | ApprovalUsedEvent
    | ClerkSavedEvent,
    Field(discriminator="type"),
]
# Each push event type and its model (what the server validates an event with).
EVENT_TYPES: dict[str, type[RequestModel]] = {
    "order.paid": OrderPaidEvent,
    "order.voided": OrderVoidedEvent,
    "order.refunded": OrderRefundedEvent,
    "customer.saved": CustomerSavedEvent,
    "phone_order.placed": PhoneOrderPlacedEvent,
    "phone_order.transitioned": PhoneOrderTransitionedEvent,
    "phone_order.picked": PhoneOrderPickedEvent,
    "shift.opened": ShiftOpenedEvent,
    "cash.moved": CashMovedEvent,
    "shift.closed": ShiftClosedEvent,
    "approval.used": ApprovalUsedEvent,
    "clerk.saved": ClerkSavedEvent,
}


class PushRequest(RequestModel):
    """``POST /api/v1/sync/push``. Each event is validated on its own: one bad item never
    sinks the batch, it is answered ``rejected`` in its own result."""

    protocol_version: Version
    events: Annotated[list[ClientEvent], Field(min_length=1, max_length=MAX_PUSH_EVENTS)]


EventStatus = Literal["accepted", "duplicate", "rejected", "conflict"]


class EventResult(ResponseModel):
    """The outcome of one pushed event, in the order of the request.

    accepted: stored now. duplicate: already stored with the same content (a replay; done).
    rejected: refused for good (``reason`` says why; fix the event, do not retry it as is).
    conflict: this event_id was stored earlier with different content; the first copy wins,
    the new one is recorded for a person to look at.
    """

    index: int
    event_id: UUID | None
    status: EventStatus
    reason: str | None = None
    message: str | None = None
    field: str | None = None


class PushResponse(ResponseModel):
    results: list[EventResult]
    accepted: int
    duplicates: int
    rejected: int
    conflicts: int


# --------------------------------------------------------------------------- pull

ChangeKind = Literal[
    "product", "stock", "clerk", "customer", "delivery_slot", "slot_allotment", "phone_order"
]


class ProductData(ResponseModel):
    id: str
    sku: str
    name: str
    brand: str = ""
    department: str = ""
    unit_price: int
    tax_class: str
    sold_by: SoldBy
    barcodes: list[str] = []
    active: bool = True
    attributes: dict[str, Any] = {}
    deleted: bool = False


class StockData(ResponseModel):
    product_id: str
    quantity: int = Field(description="units, or grams for products sold by weight")


class ClerkData(ResponseModel):
    id: str
    name: str
    role: ClerkRole
    pin_hash: str = Field(
        description="scrypt$N$r$p$<salt b64url>$<hash b64url> (today N=32768, r=8, p=1)"
    )
    active: bool
    deleted: bool = False


class AddressData(ResponseModel):
    id: str
    label: str = ""
    line1: str
    line2: str = ""
    postcode: str
    city: str
    country: str
    notes: str = ""


class CustomerData(ResponseModel):
    id: str
    name: str
    phone: str = ""
    email: str = ""
    deleted: bool = False
    addresses: list[AddressData] = []
    notes: str = ""
    updated_at: AwareDatetime | None = None


class DeliverySlotData(ResponseModel):
    id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int
    booked: int
    active: bool
    deleted: bool = False
    unit: CapacityUnitName = "orders"
    max_weight_g: int | None = None
    cutoff_minutes: int = 0
    lead_time_minutes: int = 0
    postcode_prefixes: list[str] = Field(default=[], description="empty: any address")
    free: int | None = Field(
        default=None, description="capacity - booked - every terminal's held allotment"
    )


class SlotAllotmentData(ResponseModel):
    """This terminal's share of a slot: it may have booked ``allotted_total`` units firm
    in all (its own firm bookings included); ``used`` of them reached the server."""

    slot_id: str
    terminal_id: str
    allotted_total: int
    used: int


class CustomerSnapshotData(ResponseModel):
    id: str
    name: str
    phone: str = ""
    email: str = ""
    notes: str = ""


class PhoneOrderLineData(ResponseModel):
    line_no: int
    product_id: str
    sku: str
    name: str
    sold_by: SoldBy
    quantity: int
    unit_price: int
    tax_class: str
    tax_rate_bp: int
    net: int
    substitution: SubstitutionName = "best_match"
    substitute_product_id: str = ""
    note: str = ""


class PickedLineData(ResponseModel):
    line_no: int
    status: PickStatusName
    product_id: str
    sku: str
    name: str
    sold_by: SoldBy
    quantity: int
    unit_price: int
    tax_class: str
    tax_rate_bp: int
    net: int


class PhoneOrderData(ResponseModel):
    """A phone order as the server holds it: the queue every till of the store sees (the
    server's state wins over a till's)."""

    id: str
    order_no: str
    terminal_code: str
    clerk_id: str
    clerk_name: str
    customer: CustomerSnapshotData
    address: AddressData
    lines: list[PhoneOrderLineData]
    picked: list[PickedLineData] = []
    note: str = ""
    slot_id: str | None = None
    booking_id: str
    booking_status: BookingStatusName
    moved_from_slot_id: str | None = None
    state: FulfilmentStateName
    version: int
    payment_method: PaymentMethodName
    payment_status: str = Field(
        default="none",
        description="none | link_sent | authorised | captured | needs_decision | released | "
        "refunded | paid_at_door",
    )
    authorised_amount: int = 0
    captured_amount: int = 0
    estimated_total: int
    actual_total: int = Field(default=0, description="0 until picked")
    currency: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    cancel_reason: str = ""
    slot_starts_at: AwareDatetime | None = None
    slot_ends_at: AwareDatetime | None = None
    moved_from_starts_at: AwareDatetime | None = None
    shortfall: int = 0
    pay_url: str | None = None


class _ChangeBase(ResponseModel):
    cursor: str = Field(description="resume after this change by passing it as ?cursor=")


class ProductChange(_ChangeBase):
    kind: Literal["product"]
    data: ProductData


class StockChange(_ChangeBase):
    kind: Literal["stock"]
    data: StockData


class ClerkChange(_ChangeBase):
    kind: Literal["clerk"]
    data: ClerkData


class CustomerChange(_ChangeBase):
    kind: Literal["customer"]
    data: CustomerData


class DeliverySlotChange(_ChangeBase):
    kind: Literal["delivery_slot"]
    data: DeliverySlotData


class SlotAllotmentChange(_ChangeBase):
    kind: Literal["slot_allotment"]
    data: SlotAllotmentData


class PhoneOrderChange(_ChangeBase):
    kind: Literal["phone_order"]
    data: PhoneOrderData


Change = Annotated[
    ProductChange
    | StockChange
    | ClerkChange
    | CustomerChange
    | DeliverySlotChange
    | SlotAllotmentChange
    | PhoneOrderChange,
    Field(discriminator="kind"),
]


class PullQuery(RequestModel):
    """Query string of ``GET /api/v1/sync/pull``."""

    cursor: Annotated[str, Field(max_length=64)] = Field(
        default="", description="next_cursor of the previous page; empty for everything"
    )
    limit: Annotated[int, Field(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT
    bookings_pending: bool = Field(
        default=False,
        description="the till's outbox still holds phone_order.placed events: the server "
        "keeps its slot allotments as they are",
    )


class PullResponse(ResponseModel):
    changes: list[Change]
    next_cursor: str = Field(description="opaque; pass it back unchanged as ?cursor=")
    has_more: bool


# --------------------------------------------------------------------------- terminals


class EnrollRequest(RequestModel):
    protocol_version: Version
    code: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="the one-time enrollment code printed by `shopsmart-server terminal "
        "enroll-code`"
    )
    terminal_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")] = Field(
        description="the short code printed on receipts, e.g. T03"
    )
    name: ShortText = ""


class StoreInfo(ResponseModel):
    id: str
    code: str
    name: str
    currency: str
    time_zone: str = Field(
        default=DEFAULT_TIME_ZONE, description="IANA name; report dates are its local dates"
    )


class EnrollResponse(ResponseModel):
    terminal_id: str
    token: str = Field(description="bearer token; shown once, keep it secret")
    terminal_code: str
    store: StoreInfo


class TerminalInfo(ResponseModel):
    terminal_id: str
    terminal_code: str
    name: str
    store: StoreInfo


# --------------------------------------------------------------------------- catalog


class ProductQuery(RequestModel):
    """Query string of ``GET /api/v1/catalog/products``: one of sku or barcode."""

    sku: Annotated[str, Field(max_length=64)] | None = None
    barcode: Annotated[str, Field(max_length=64)] | None = None


class ProductList(ResponseModel):
    products: list[ProductData]


# --------------------------------------------------------------------------- orders, flags


class OrderLineData(ResponseModel):
    line_no: int
    product_id: str
    sku: str
    name: str
    sold_by: SoldBy
    quantity: int
    unit_price: int
    net: int


class OrderData(ResponseModel):
    id: str
    receipt_no: str
    terminal_code: str
    status: str
    kind: str
    currency: str
    total: int
    paid_at: AwareDatetime
    voided_at: AwareDatetime | None = None
    lines: list[OrderLineData]


class FlagsQuery(RequestModel):
    kind: Annotated[str, Field(max_length=32)] | None = None
    after: Annotated[int, Field(ge=0, le=MAX_ID)] = 0
    limit: Annotated[int, Field(ge=1, le=MAX_PULL_LIMIT)] = 100


class FlagData(ResponseModel):
    id: int
    kind: str = Field(description="price_mismatch | oversold | unknown_product | ...")
    order_id: str | None
    product_id: str | None
    detail: dict[str, Any]
    created_at: AwareDatetime


class FlagList(ResponseModel):
    flags: list[FlagData]
    next_after: int


class HealthResponse(ResponseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    protocol_version: int


# --------------------------------------------------------------------------- payments


def _check_email(value: str) -> str:
    try:
        return normalise_email(value)
    except InvalidEmail as exc:
        raise ValueError(exc.reason) from None


EmailAddress = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_check_email)]
PaymentAmount = Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT)]
PaymentPurpose = Literal["counter", "phone"]
PaymentStatus = Literal["pending", "requires_action", "succeeded", "failed"]
RefundStatus = Literal["pending", "succeeded", "failed"]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class OrderSummaryLine(RequestModel):
    name: ShortText
    sold_by: SoldBy = "each"
    quantity: Quantity = Field(description="units, or grams when sold by weight")
    unit_price: Amount = Field(description="per unit, or per kg when sold by weight")
    net: Amount


class DeliverySlotRef(RequestModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class OrderSummary(RequestModel):
    """What the order confirmation e-mail shows; sent with the payment because the order
    itself is pushed only once it is paid."""

    receipt_no: Annotated[str, Field(max_length=64)] = ""
    customer_name: ShortText = ""
    lines: Annotated[list[OrderSummaryLine], Field(min_length=1, max_length=1000)]
    subtotal: Amount
    discount_total: Amount = 0
    tax_total: Amount
    total: Amount
    prices_include_tax: StrictBool = True
    tax: Annotated[list[TaxEntryPayload], Field(max_length=50)] = []
    delivery_slot: DeliverySlotRef | None = None


class CreatePaymentRequest(RequestModel):
    """``POST /api/v1/payments``: start (or replay) a card payment. ``payment_id`` is the
    idempotency key: sending the same body again returns the same payment."""

    protocol_version: Version
    payment_id: UUID = Field(description="client-generated UUID of this payment attempt")
    order_id: UUID = Field(description="client UUID of the sale being paid")
    amount: PaymentAmount = Field(description="minor units")
    currency: Currency
    purpose: PaymentPurpose = "counter"
    customer_email: EmailAddress | None = None
    order: OrderSummary | None = Field(
        default=None, description="lines and totals for the confirmation e-mail"
    )


class PaymentData(ResponseModel):
    """A card payment as the server knows it. ``status``: pending (waiting for the customer
    or for the gateway's answer), requires_action (the customer must authenticate on the
    payment page), succeeded (Stripe confirmed the charge), failed (declined or cancelled;
    start a new attempt with a new payment_id)."""

    payment_id: str
    order_id: str
    status: PaymentStatus
    amount: int
    currency: str
    purpose: PaymentPurpose
    amount_refunded: int = 0
    pay_url: str | None = Field(default=None, description="absolute URL of the payment page")
    pay_url_expires_at: AwareDatetime | None = None
    decline_code: str | None = None
    decline_reason: str | None = Field(default=None, description="for the clerk to read")
    message: str | None = Field(default=None, description="why it is still pending, if known")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class RefundRequest(RequestModel):
    """``POST /api/v1/payments/{payment_id}/refunds``: idempotent by ``refund_id``."""

    protocol_version: Version
    refund_id: UUID = Field(description="client-generated UUID of this refund")
    amount: PaymentAmount = Field(description="minor units; at most what is left to refund")
    reason: ShortText = ""


class RefundData(ResponseModel):
    refund_id: str
    payment_id: str
    amount: int
    currency: str
    status: RefundStatus
    failure_reason: str | None = None
    payment_amount_refunded: int = Field(description="all succeeded refunds of the payment")
    created_at: AwareDatetime


class CancelPaymentRequest(RequestModel):
    """``POST /api/v1/payments/{payment_id}/cancel``: the clerk closed the card dialog; the
    payment must not be payable any more (idempotent)."""

    protocol_version: Version


class PaymentConflictResponse(ErrorResponse):
    """``409 payment_already_succeeded`` from cancel: the customer paid first; ``payment``
    is the succeeded payment, for the till to use as the sale's tender."""

    payment: PaymentData | None = None


class EmailLinkRequest(RequestModel):
    """``POST /api/v1/payments/{payment_id}/email-link``: mail the payment page link."""

    protocol_version: Version
    email: EmailAddress


class EmailQueued(ResponseModel):
    payment_id: str
    to: str
    mail_id: int = Field(description="the outbox row; sent by the mail worker")


# --------------------------------------------------------------------------- phone order cards

# The card side of a card-link phone order (docs/payments.md "Phone orders: authorise, then
# capture"): link_sent (the customer has the link), authorised (the card holds the amount),
# needs_decision (the picked total exceeds it: staff choose), top_up_sent (the authorised
# amount is captured, a second link asks for the rest), captured, released (cancelled before
# capture), refunded (cancelled after capture), failed (declined or expired: send a new link).
PhonePaymentStatus = Literal[
    "link_sent",
    "authorised",
    "needs_decision",
    "top_up_sent",
    "captured",
    "released",
    "refunded",
    "failed",
]
CaptureChoice = Literal["capture", "capture_authorised", "top_up"]


class PaymentLinkRequest(RequestModel):
    """``POST /api/v1/phone-orders/{id}/payment-link``: create the authorisation link of a
    card-link phone order, or send it again (to ``email``, else the order's address)."""

    protocol_version: Version
    email: EmailAddress | None = None


class CaptureRequest(RequestModel):
    """``POST /api/v1/phone-orders/{id}/capture`` after picking, idempotent by
    ``capture_id``. ``capture``: the picked total, if the authorisation covers it (else the
    answer is ``needs_decision`` with the shortfall); ``capture_authorised``: all that was
    authorised, the shortfall becomes an order discount; ``top_up``: all that was
    authorised, and a second link for the shortfall, captured when paid."""

    protocol_version: Version
    capture_id: UUID = Field(description="client-generated UUID of this capture decision")
    choice: CaptureChoice = "capture"


class PhonePaymentData(ResponseModel):
    order_id: str
    payment_status: PhonePaymentStatus
    currency: str
    estimated_total: int
    authorised_amount: int = Field(description="what the card link authorises")
    actual_total: int | None = Field(default=None, description="the picked total, once picked")
    shortfall: int = Field(default=0, description="picked total minus authorised, if above")
    captured_amount: int = 0
    decision: CaptureChoice | None = None
    authorisation_payment_id: str
    top_up_payment_id: str | None = None
    top_up_amount: int = 0
    pay_url: str | None = Field(default=None, description="the open link (authorisation or top-up)")
    message: str | None = None
    updated_at: AwareDatetime


# --------------------------------------------------------------------------- manager reports

MANAGER_HEADER = "X-Shopsmart-Manager"
ManagerPin = Annotated[str, Field(pattern=r"^[0-9]{4,8}$")]


class ManagerSessionRequest(RequestModel):
    """``POST /api/v1/manager-sessions``: a manager of the terminal's store signs in with
    the PIN the server holds for them; report calls then send ``X-Shopsmart-Manager``."""

    protocol_version: Version
    clerk_id: Annotated[str, Field(min_length=1, max_length=64)]
    pin: ManagerPin


class ManagerSessionResponse(ResponseModel):
    token: str = Field(description="send as X-Shopsmart-Manager; shown once")
    expires_at: AwareDatetime
    clerk_id: str
    clerk_name: str


class ReportQuery(RequestModel):
    """Query string of ``GET /api/v1/reports/{name}``: the store's local dates, inclusive."""

    from_: date = Field(alias="from", description="first local date, YYYY-MM-DD")
    to: date = Field(description="last local date, YYYY-MM-DD (inclusive)")
    terminal: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")] | None = None
    clerk: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=64,
                pattern=r"^[^\x00-\x1f\x7f]+$",
                description=(
                    "a clerk id: only that clerk's figures (a clerk of another store: none); "
                    f"for {clerk_filter_reports()} only, the other reports answer 422"
                ),
            ),
        ]
        | None
    ) = None
    limit: Annotated[int, Field(ge=1, le=MAX_REPORT_LIMIT)] = DEFAULT_REPORT_LIMIT
    order: Literal["top", "slow"] = Field(default="top", description="products only")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReportColumnData(ResponseModel):
    key: str
    label: str
    kind: Literal["money", "count", "quantity", "text", "date", "datetime", "hour", "percent"]


class ReportResponse(ResponseModel):
    """One report as one table (app.domain.report.ReportTable on the wire): money in minor
    units, dates the store's local dates, hours its local hours, percent in basis points."""

    report: str
    time_zone: str
    from_date: date
    to_date: date
    terminal: str | None
    clerk: str | None = Field(default=None, description="the clerk id filtered by, if any")
    columns: list[ReportColumnData]
    rows: list[list[StrictInt | str | None]]
    totals: dict[str, int]

    @classmethod
    def from_table(cls, table: ReportTable) -> ReportResponse:
        return cls(
            report=str(table.report),
            time_zone=table.time_zone,
            from_date=table.from_date,
            to_date=table.to_date,
            terminal=table.terminal,
            clerk=table.clerk,
            columns=[
                ReportColumnData(key=c.key, label=c.label, kind=c.kind.value) for c in table.columns
            ],
            rows=[list(row) for row in table.rows],
            totals=dict(table.totals),
        )

    def to_table(self) -> ReportTable:
        return ReportTable(
            report=ReportName(self.report),
            time_zone=self.time_zone,
            from_date=self.from_date,
            to_date=self.to_date,
            terminal=self.terminal,
            columns=tuple(
                ReportColumn(c.key, c.label, ColumnKind(c.kind), adds_up=c.key in self.totals)
                for c in self.columns
            ),
            rows=tuple(tuple(row) for row in self.rows),
            totals=dict(self.totals),
            clerk=self.clerk,
        )
