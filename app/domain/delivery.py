"""Phone and delivery orders: customers and their addresses, delivery slots and the per-till
allotments that let a till book offline, the fulfilment state machine, picking and the
payment arithmetic (authorise the estimate plus headroom, capture what was picked).

Pure rules shared by the till and the server (docs/phone-orders.md). Money is ``int`` minor
units, weights ``int`` grams, times aware UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from app.domain.cart import CartLine, CartTotals, Discount, DiscountKind, price_lines
from app.domain.errors import IllegalTransition, InvalidInput
from app.domain.money import BASIS_POINTS
from app.domain.order import OrderLine, SyncState, order_lines_from
from app.domain.product import SoldBy
from app.domain.store import StoreProfile

CUSTOMER_NAME_MAX = 120
ADDRESS_FIELD_MAX = 200
NOTE_MAX = 500
# The order-level discount a final sale carries when staff captured only what the card
# authorised (the customer is not charged the difference).
NOT_AUTHORISED_REASON = "not authorised by card"


class CapacityUnit(enum.StrEnum):
    ORDERS = "orders"  # a slot holds so many orders
    ITEMS = "items"  # a slot holds so many items (a weighed line counts as one)


class Substitution(enum.StrEnum):
    BEST_MATCH = "best_match"
    SPECIFIC = "specific"
    NONE = "none"


class PaymentMethod(enum.StrEnum):
    DOOR_CASH = "door_cash"
    DOOR_CARD = "door_card"
    CARD_LINK = "card_link"


class BookingStatus(enum.StrEnum):
    FIRM = "firm"  # booked offline/online within the till's allotment: never moved
    PROVISIONAL = "provisional"  # booked past the allotment: the server decides on sync
    CONFIRMED = "confirmed"  # the server found room for a provisional booking
    MOVED = "moved"  # the server put it in another slot (moved_from says which)
    UNPLACED = "unplaced"  # no slot could take it: staff must phone the customer


class FulfilmentState(enum.StrEnum):
    RECEIVED = "received"
    PICKING = "picking"
    READY = "ready"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_S = FulfilmentState
TRANSITIONS: Mapping[FulfilmentState, frozenset[FulfilmentState]] = {
    _S.RECEIVED: frozenset({_S.PICKING, _S.CANCELLED}),
    _S.PICKING: frozenset({_S.READY, _S.RECEIVED, _S.CANCELLED}),
    _S.READY: frozenset({_S.OUT_FOR_DELIVERY, _S.PICKING, _S.CANCELLED}),
    _S.OUT_FOR_DELIVERY: frozenset({_S.DELIVERED, _S.READY, _S.CANCELLED}),
    _S.DELIVERED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def check_fulfilment_transition(current: FulfilmentState, target: FulfilmentState) -> None:
    """``IllegalTransition`` naming both states unless ``current → target`` is allowed."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.label for s in TRANSITIONS[current])) or "nothing"
        raise IllegalTransition(
            f"an order that is {current.label} cannot become {target.label} "
            f"(it can become: {allowed})",
            field="state",
        )


class PickStatus(enum.StrEnum):
    PICKED = "picked"
    SUBSTITUTED = "substituted"
    NOT_AVAILABLE = "not_available"


def _check_text(value: str, field: str, longest: int, *, required: bool) -> None:
    if required and not value.strip():
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > longest:
        raise InvalidInput(f"{field} is longer than {longest} characters", field=field)


def check_country_code(country: str, *, field: str = "country") -> str:
    """``country`` as an ISO 3166 alpha-2 code (``ie`` → ``IE``), or ``InvalidInput``."""
    from app.domain.phone import check_country

    try:
        return check_country(country)
    except ValueError:
        raise InvalidInput(
            f"{field}: {country!r} is not an ISO 3166 two-letter country code", field=field
        ) from None


@dataclass(frozen=True, slots=True)
class Address:
    id: str
    label: str
    line1: str
    line2: str
    postcode: str
    city: str
    country: str  # ISO 3166 alpha-2
    notes: str = ""  # delivery notes: "ring twice", "side door"

    def __post_init__(self) -> None:
        for name in ("line1", "postcode", "city"):
            _check_text(getattr(self, name), name, ADDRESS_FIELD_MAX, required=True)
        for name in ("label", "line2"):
            _check_text(getattr(self, name), name, ADDRESS_FIELD_MAX, required=False)
        _check_text(self.notes, "notes", NOTE_MAX, required=False)
        if not self.country.strip():
            raise InvalidInput("country is required", field="country")
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise InvalidInput(
                f"country: {self.country!r} is not an ISO 3166 two-letter country code",
                field="country",
            )

    @property
    def one_line(self) -> str:
        """The address on one line, as staff read it back."""
        parts = (self.line1, self.line2, f"{self.postcode} {self.city}".strip(), self.country)
        return ", ".join(p for p in parts if p.strip())


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    phone: str  # E.164 (app.domain.phone.normalise_phone)
    email: str  # app.domain.contact.normalise_email, or ""
    addresses: tuple[Address, ...]
    notes: str
    updated_at: datetime

    def __post_init__(self) -> None:
        _check_text(self.name, "name", CUSTOMER_NAME_MAX, required=True)
        _check_text(self.notes, "notes", NOTE_MAX, required=False)

    def address(self, address_id: str) -> Address:
        for address in self.addresses:
            if address.id == address_id:
                return address
        raise InvalidInput(
            f"{self.name} has no address {address_id!r}: choose one of theirs", field="address_id"
        )


def make_customer(
    *,
    id: str,
    name: str,
    phone: str,
    email: str,
    addresses: Sequence[Address],
    notes: str,
    updated_at: datetime,
    country: str,
) -> Customer:
    """A customer from what staff typed: the phone normalised to E.164 (``country`` is the
    store's, the region of a number typed without its country code), the e-mail checked (it
    may be empty), at least one address. Each failure names its field."""
    from app.domain.contact import normalise_email
    from app.domain.phone import normalise_phone

    if not addresses:
        raise InvalidInput("a delivery customer needs at least one address", field="addresses")
    return Customer(
        id=id,
        name=" ".join(name.split()),
        phone=normalise_phone(phone, country),
        email=normalise_email(email) if email.strip() else "",
        addresses=tuple(addresses),
        notes=notes.strip(),
        updated_at=updated_at,
    )


@dataclass(frozen=True, slots=True)
class Slot:
    id: str
    starts_at: datetime
    ends_at: datetime
    capacity: int  # in ``unit``
    unit: CapacityUnit
    max_weight_g: int | None  # the most one slot carries, when the store sets it
    cutoff_minutes: int  # no booking later than this before the slot starts
    lead_time_minutes: int  # the store needs this long between booking and start
    postcode_prefixes: tuple[str, ...]  # empty: any address
    booked: int
    active: bool

    @property
    def closes_at(self) -> datetime:
        """The last moment a booking is taken (cut-off and lead time both count)."""
        return self.starts_at - timedelta(minutes=max(self.cutoff_minutes, self.lead_time_minutes))


@dataclass(frozen=True, slots=True)
class SlotStanding:
    """A slot as this till sees it: the free places the server last announced (less this
    till's own provisional bookings since), this till's cumulative allotment and the units of
    its own firm bookings in the slot (pushed or not)."""

    slot: Slot
    free: int
    allotted_total: int
    own_firm_units: int

    @property
    def remaining_allotment(self) -> int:
        return allotment_remaining(self.allotted_total, self.own_firm_units)


def slot_open(slot: Slot, now: datetime) -> bool:
    """Whether ``slot`` still takes bookings at ``now``: active, not past its cut-off
    (``now <= starts_at - cutoff``) and with its lead time left (``now + lead <= starts_at``)."""
    if not slot.active:
        return False
    if now > slot.starts_at - timedelta(minutes=slot.cutoff_minutes):
        return False
    return now + timedelta(minutes=slot.lead_time_minutes) <= slot.starts_at


def _postcode_key(text: str) -> str:
    return "".join(text.split()).casefold()


def slot_serves(slot: Slot, address: Address) -> bool:
    """Whether the slot delivers to ``address``: no prefixes (any address), or the postcode
    starts with one of them, spaces and letter case not counting."""
    if not slot.postcode_prefixes:
        return True
    postcode = _postcode_key(address.postcode)
    return any(postcode.startswith(_postcode_key(p)) for p in slot.postcode_prefixes if p.strip())


class MeasuredLine(Protocol):
    """What a booking counts of a line (a cart line, a phone-order line)."""

    @property
    def sold_by(self) -> str: ...

    @property
    def quantity(self) -> int: ...


def booking_units(unit: CapacityUnit, lines: Sequence[MeasuredLine]) -> int:
    """What an order takes of a slot: ORDERS 1; ITEMS the sum of units, a weighed line one."""
    if unit is CapacityUnit.ORDERS:
        return 1
    return sum(1 if line.sold_by == SoldBy.WEIGHT else line.quantity for line in lines)


def booking_weight_g(lines: Sequence[MeasuredLine]) -> int:
    """The weight an order is known to have: the (estimated) grams of its weighed lines."""
    return sum(line.quantity for line in lines if line.sold_by == SoldBy.WEIGHT)


def allotment_remaining(allotted_total: int, own_firm_units: int) -> int:
    """What a till may still book firm in a slot: its cumulative allotment less its own firm
    bookings there (pushed or not), never below zero."""
    return max(0, allotted_total - own_firm_units)


def split_allotments(free: int, terminal_ids: Sequence[str]) -> dict[str, int]:
    """Share ``free`` places among terminals: ``free // n`` each, the remainder one each to
    the first ids in sorted order. The shares add up to exactly ``free``."""
    ids = sorted(set(terminal_ids))
    if not ids:
        return {}
    base, rest = divmod(max(0, free), len(ids))
    return {tid: base + (1 if i < rest else 0) for i, tid in enumerate(ids)}


def nearest_slot(
    slots: Sequence[Slot],
    units: int,
    weight_g: int,
    address: Address,
    original: Slot,
    now: datetime,
    free: Mapping[str, int],
    *,
    free_weight_g: Mapping[str, int] | None = None,
    tz: tzinfo = UTC,
) -> Slot | None:
    """The slot a booking that did not fit ``original`` moves to: open at ``now``, serving
    the address, with ``units`` free (``free`` by slot id) and room for the weight; on the
    same day as the original first (the closest start first), then the following days in
    order, then earlier days (the latest first). Never the original; None when none fits.

    ``tz`` is the store's time zone (what "the same day" means); ``free_weight_g`` the weight
    still free per slot when the store caps weight (else one order may not exceed the cap).
    """
    day = original.starts_at.astimezone(tz).date()

    def fits(slot: Slot) -> bool:
        if slot.id == original.id or not slot_open(slot, now) or not slot_serves(slot, address):
            return False
        if free.get(slot.id, 0) < units:
            return False
        if slot.max_weight_g is not None:
            room = (
                free_weight_g.get(slot.id, slot.max_weight_g)
                if free_weight_g is not None
                else slot.max_weight_g
            )
            if weight_g > room:
                return False
        return True

    def rank(slot: Slot) -> tuple[int, float]:
        slot_day = slot.starts_at.astimezone(tz).date()
        gap = (slot.starts_at - original.starts_at).total_seconds()
        if slot_day == day:
            return (0, abs(gap))
        if slot_day > day:
            return (1, gap)
        return (2, -gap)

    candidates = sorted((s for s in slots if fits(s)), key=lambda s: (*rank(s), s.id))
    return candidates[0] if candidates else None


def authorisation_amount(estimated_total: int, headroom_bp: int) -> int:
    """What the card link authorises: the estimate plus the store's headroom, rounded UP to
    the minor unit (an authorisation a cent short would force a top-up)."""
    if estimated_total < 0 or headroom_bp < 0:
        raise InvalidInput("an authorisation needs a non-negative total and headroom")
    return -(-(estimated_total * (BASIS_POINTS + headroom_bp)) // BASIS_POINTS)


@dataclass(frozen=True, slots=True)
class CapturePlan:
    capture: int  # what to capture of the authorisation now
    shortfall: int  # > 0: the picked total is more than authorised: staff decide


def capture_plan(actual_total: int, authorised: int) -> CapturePlan:
    """Capture the picked total when the authorisation covers it; else capture all that was
    authorised and report the shortfall (staff choose a top-up link or to absorb it)."""
    if actual_total <= authorised:
        return CapturePlan(capture=actual_total, shortfall=0)
    return CapturePlan(capture=authorised, shortfall=actual_total - authorised)


@dataclass(frozen=True, slots=True)
class PhoneOrderLine:
    line_no: int
    product_id: str
    sku: str
    name: str
    sold_by: SoldBy
    quantity: int  # units, or estimated grams
    unit_price: int
    tax_class: str
    tax_rate_bp: int
    net: int  # estimated
    substitution: Substitution = Substitution.BEST_MATCH
    substitute_product_id: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class PickedLine:
    line_no: int  # the ordered line it fulfils
    status: PickStatus
    product_id: str  # the substitute's when substituted
    sku: str
    name: str
    sold_by: SoldBy
    quantity: int  # actual units or grams; 0 when not available
    unit_price: int
    tax_class: str
    tax_rate_bp: int
    net: int

    def __post_init__(self) -> None:
        if self.status is PickStatus.NOT_AVAILABLE:
            if self.quantity != 0:
                raise InvalidInput(
                    f"line {self.line_no} is not available: its quantity must be 0",
                    field="quantity",
                )
        elif self.quantity <= 0:
            raise InvalidInput(
                f"line {self.line_no} is {self.status.value}: give the quantity picked",
                field="quantity",
            )


def phone_line_fields(line: PhoneOrderLine) -> dict[str, object]:
    """An ordered line as plain JSON types: the wire's ``PhoneOrderLinePayload`` and the
    till's row (as ``app.domain.order.line_fields`` is for a sale's line)."""
    return {
        "line_no": line.line_no,
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "sold_by": line.sold_by.value,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "tax_class": line.tax_class,
        "tax_rate_bp": line.tax_rate_bp,
        "net": line.net,
        "substitution": line.substitution.value,
        "substitute_product_id": line.substitute_product_id,
        "note": line.note,
    }


def picked_line_fields(line: PickedLine) -> dict[str, object]:
    """A picked line as plain JSON types: the wire's ``PickedLinePayload`` and the till's row."""
    return {
        "line_no": line.line_no,
        "status": line.status.value,
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "sold_by": line.sold_by.value,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "tax_class": line.tax_class,
        "tax_rate_bp": line.tax_rate_bp,
        "net": line.net,
    }


def _cart_lines(lines: Sequence[PickedLine]) -> tuple[CartLine, ...]:
    return tuple(
        CartLine(
            line_id=line.line_no,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            unit_price=line.unit_price,
            tax_class=line.tax_class,
            sold_by=line.sold_by,
            quantity=line.quantity,
        )
        for line in lines
        if line.status is not PickStatus.NOT_AVAILABLE
    )


def picked_totals(lines: Sequence[PickedLine], store: StoreProfile) -> CartTotals:
    """The picked order priced with the SAME arithmetic as a sale (app.domain.cart), lines
    not available left out."""
    return price_lines(_cart_lines(lines), None, store.taxes)


def priced_picked_lines(lines: Sequence[PickedLine], store: StoreProfile) -> tuple[PickedLine, ...]:
    """``lines`` with each ``net`` and ``tax_rate_bp`` as the sale arithmetic gives them (0 for
    a line not available): what the picking screen records."""
    totals = {lt.line_id: lt for lt in picked_totals(lines, store).lines}
    priced = []
    for line in lines:
        found = totals.get(line.line_no)
        if found is None:
            priced.append(replace(line, net=0))
        else:
            priced.append(replace(line, net=found.net, tax_rate_bp=found.tax_rate_bp))
    return tuple(priced)


@dataclass(frozen=True, slots=True)
class PhoneOrder:
    id: str
    order_no: str  # "T01-P000012"
    terminal_code: str
    clerk_id: str
    clerk_name: str
    customer: Customer  # as at the order
    address: Address  # where it goes (a snapshot)
    lines: tuple[PhoneOrderLine, ...]
    picked: tuple[PickedLine, ...]
    note: str
    slot_id: str
    booking_id: str
    booking_status: BookingStatus
    moved_from_slot_id: str
    state: FulfilmentState
    version: int
    payment_method: PaymentMethod
    # none | link_sent | authorised | captured | needs_decision | released | refunded |
    # paid_at_door
    payment_status: str
    authorised_amount: int
    captured_amount: int
    estimated_total: int
    actual_total: int  # 0 until picked
    currency: str
    created_at: datetime
    updated_at: datetime
    sync_state: SyncState = SyncState.QUEUED  # this till's last event about it
    sync_error: str = ""  # the server's reason when it refused that event
    customer_told: bool = False  # a move/unplaced booking the staff has phoned about
    # As the server last said (the queue every till sees): the slot's times, the times of
    # the slot it was moved from, what the picked total exceeds the authorisation by, the
    # payment page link while one is out, why it was cancelled.
    slot_starts_at: datetime | None = None
    slot_ends_at: datetime | None = None
    moved_from_starts_at: datetime | None = None
    shortfall: int = 0
    pay_url: str = ""
    cancel_reason: str = ""

    @property
    def is_picked(self) -> bool:
        return bool(self.picked)


def format_phone_order_no(terminal_code: str, sequence: int) -> str:
    return f"{terminal_code}-P{sequence:06d}"


def final_sale_lines(
    order: PhoneOrder, store: StoreProfile, *, absorbed_shortfall: int = 0
) -> tuple[tuple[OrderLine, ...], CartTotals]:
    """The lines and totals of the normal sale a delivered phone order becomes: the picked
    lines priced as a sale. ``absorbed_shortfall`` > 0 (staff chose to capture only what the
    card authorised) is taken off as an order-level discount with reason
    ``NOT_AUTHORISED_REASON``, so the sale's total is what was captured."""
    if not order.picked:
        raise InvalidInput(f"order {order.order_no} has not been picked yet", field="picked")
    cart_lines = _cart_lines(order.picked)
    if not cart_lines:
        raise InvalidInput(
            f"nothing of order {order.order_no} was available: there is nothing to sell",
            field="picked",
        )
    discount = (
        Discount(DiscountKind.AMOUNT, absorbed_shortfall, reason=NOT_AUTHORISED_REASON)
        if absorbed_shortfall > 0
        else None
    )
    totals = price_lines(cart_lines, discount, store.taxes)
    lines = order_lines_from(totals, cart_lines)
    if discount is not None:
        lines = tuple(
            replace(line, discount_reason=NOT_AUTHORISED_REASON)
            if line.order_discount_share
            else line
            for line in lines
        )
    return lines, totals
