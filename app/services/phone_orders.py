"""Phone and delivery orders at the till (issue 13, docs/phone-orders.md): find or create
the customer, offer the slots, read the order back, save it (one durable transaction, like a
sale: the order, its slot booking and its outbox events), move it through the queue, record
the picking, and complete the sale at the door.

A slot is booked **firm** while this till's own allotment of it covers the order (the server
always honours those), **provisional** past it (the server confirms or moves it on sync).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from app.domain.cart import Cart
from app.domain.clerk import Clerk
from app.domain.delivery import (
    Address,
    BookingStatus,
    CapacityUnit,
    Customer,
    FulfilmentState,
    PaymentMethod,
    PhoneOrder,
    PhoneOrderLine,
    PickedLine,
    PickStatus,
    Slot,
    Substitution,
    authorisation_amount,
    booking_units,
    booking_weight_g,
    check_fulfilment_transition,
    final_sale_lines,
    format_phone_order_no,
    make_customer,
    picked_totals,
    priced_picked_lines,
    slot_open,
    slot_serves,
)
from app.domain.errors import EmptyCart, InvalidInput, NotFound
from app.domain.events import (
    CustomerSaved,
    PhoneOrderPicked,
    PhoneOrderPlaced,
    PhoneOrderTransitioned,
    SaleCompleted,
)
from app.domain.money import format_money
from app.domain.order import (
    Order,
    OrderStatus,
    SyncState,
    TenderInput,
    format_receipt_no,
    settle_tenders,
)
from app.domain.product import SoldBy, department_key, department_name, format_quantity
from app.domain.stock import sale_movements
from app.domain.store import StoreProfile
from app.ports import Clock, IdFactory, UnitOfWork
from app.services.checkout import current_shift_for_sale, receipt_sequence_name

OPEN_STATES = (
    FulfilmentState.RECEIVED,
    FulfilmentState.PICKING,
    FulfilmentState.READY,
    FulfilmentState.OUT_FOR_DELIVERY,
)
_PHONE_TEXT = re.compile(r"^[\d\s+()./-]+$")

SUBSTITUTION_WORDS = {
    Substitution.BEST_MATCH: "best match",
    Substitution.SPECIFIC: "a specific product",
    Substitution.NONE: "no substitute",
}
PAYMENT_WORDS = {
    PaymentMethod.DOOR_CASH: "cash at the door",
    PaymentMethod.DOOR_CARD: "card at the door",
    PaymentMethod.CARD_LINK: "card, by a payment link e-mailed to the customer",
}


def phone_order_sequence_name(terminal_code: str) -> str:
    return f"phone_order:{terminal_code}"


# --------------------------------------------------------------------------- customers


def _phone_prefix(text: str, country: str) -> str:
    """What a typed (part of a) number looks like at the start of an E.164 number: the
    whole number when it is one, else ``+`` and the digits (``00`` read as ``+``; a number
    without ``+`` is the store's country's, its trunk ``0`` dropped)."""
    from app.domain.phone import InvalidPhone, normalise_phone

    try:
        return normalise_phone(text, country or None)
    except InvalidPhone:
        pass
    digits = re.sub(r"\D", "", text)
    typed = text.strip()
    if typed.startswith("+"):
        return "+" + digits
    if typed.startswith("00"):
        return "+" + digits[2:]
    if not country:
        return ""
    import phonenumbers

    calling_code = phonenumbers.country_code_for_region(country.upper())
    if not calling_code:
        return ""
    return f"+{calling_code}{digits[1:] if digits.startswith('0') else digits}"


def find_customers(uow: UnitOfWork, text: str, country: str, limit: int = 20) -> list[Customer]:
    """Customers of the till's local copy by phone (a whole or partial number, normalised
    with the store's ``country`` as the default region) or by name."""
    typed = text.strip()
    if not typed:
        return []
    with uow:
        if _PHONE_TEXT.match(typed) and sum(ch.isdigit() for ch in typed) >= 3:
            prefix = _phone_prefix(typed, country)
            return uow.customers.by_phone_prefix(prefix, limit) if prefix else []
        return uow.customers.by_name(typed, limit)


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    """What staff typed for a customer. ``id`` empty: a new customer. An address with an
    empty id is new and gets one."""

    name: str
    phone: str
    email: str = ""
    addresses: tuple[Address, ...] = ()
    notes: str = ""
    id: str = ""
    country: str = ""  # the store's (StoreProfile.country): the phone's default region


def _customer_from(ids: IdFactory, now: datetime, draft: CustomerDraft, country: str) -> Customer:
    addresses = tuple(a if a.id else replace(a, id=ids.new_id()) for a in draft.addresses)
    return make_customer(
        id=draft.id or ids.new_id(),
        name=draft.name,
        phone=draft.phone,
        email=draft.email,
        addresses=addresses,
        notes=draft.notes,
        updated_at=now,
        country=country or draft.country,
    )


def _save_customer(uow: UnitOfWork, ids: IdFactory, customer: Customer) -> None:
    uow.customers.save(customer)
    uow.outbox.add(CustomerSaved(ids.new_id(), customer))


def save_customer(
    uow: UnitOfWork, ids: IdFactory, clock: Clock, draft: CustomerDraft, *, country: str = ""
) -> Customer:
    """Create or change a customer (offline too) and queue ``customer.saved`` with it, in
    one transaction. Each bad field is named (``InvalidInput``); nothing is written then."""
    customer = _customer_from(ids, clock.now(), draft, country)
    with uow:
        _save_customer(uow, ids, customer)
        uow.commit()
    return customer


# --------------------------------------------------------------------------- slots


@dataclass(frozen=True, slots=True)
class SlotOffer:
    slot: Slot
    free: int  # places free as this till last heard (its own provisional bookings taken off)
    remaining_allotment: int  # what this till may still book firm here
    firm: bool  # the order fits the allotment: booked firm; else provisional
    units: int = 1  # what the order takes of this slot, in its unit


def offer_slots(
    uow: UnitOfWork,
    clock: Clock,
    units: int,
    weight_g: int,
    address: Address,
    days: int = 7,
) -> list[SlotOffer]:
    """The slots an order can be booked into in the next ``days``: open (not past their
    cut-off or lead time), serving the address, with room for the weight. ``units`` is the
    order's item count (a weighed line one); a slot counted in orders takes 1."""
    now = clock.now()
    with uow:
        standings = uow.slots.upcoming(now, now + timedelta(days=days))
    offers = []
    for standing in standings:
        slot = standing.slot
        if not slot_open(slot, now) or not slot_serves(slot, address):
            continue
        if slot.max_weight_g is not None and weight_g > slot.max_weight_g:
            continue
        takes = 1 if slot.unit is CapacityUnit.ORDERS else units
        remaining = standing.remaining_allotment
        offers.append(SlotOffer(slot, standing.free, remaining, remaining >= takes, takes))
    return offers


# --------------------------------------------------------------------------- taking the order


@dataclass(frozen=True, slots=True)
class PhoneOrderDraft:
    customer_id: str
    address_id: str
    cart: Cart
    # line id → (substitution, substitute product id, note)
    choices: dict[int, tuple[Substitution, str, str]] = field(default_factory=dict)
    note: str = ""
    slot_id: str = ""
    payment_method: PaymentMethod = PaymentMethod.DOOR_CASH
    # A new customer typed on the phone-order screen: saved in the order's own transaction
    # (its customer.saved queued first); ``customer_id`` is then ignored.
    new_customer: CustomerDraft | None = None


@dataclass(frozen=True, slots=True)
class ReadBack:
    """What staff read to the caller before saving."""

    lines: tuple[str, ...]
    estimated_total: int
    authorised_amount: int  # what the card link will hold (0 unless paid by card link)
    firm: bool

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _order_lines(
    draft: PhoneOrderDraft, store: StoreProfile
) -> tuple[tuple[PhoneOrderLine, ...], int, int, int]:
    """(lines, subtotal, tax total, total) of the draft's cart, priced as a sale."""
    from app.domain.order import order_lines_from

    cart = draft.cart
    totals = cart.totals(store.taxes)
    lines = []
    for cart_line, line in zip(cart.lines, order_lines_from(totals, cart.lines), strict=True):
        choice, substitute, note = draft.choices.get(
            cart_line.line_id, (Substitution.BEST_MATCH, "", "")
        )
        if choice is Substitution.SPECIFIC and not substitute:
            raise InvalidInput(
                f"line {line.line_no} ({line.name}): choose the product to substitute",
                field="substitute_product_id",
            )
        lines.append(
            PhoneOrderLine(
                line_no=line.line_no,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                sold_by=line.sold_by,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_class=line.tax_class,
                tax_rate_bp=line.tax_rate_bp,
                net=line.net,
                substitution=choice,
                substitute_product_id=substitute if choice is Substitution.SPECIFIC else "",
                note=note.strip(),
            )
        )
    return tuple(lines), totals.subtotal, totals.tax_total, totals.total


def _slot_text(slot: Slot) -> str:
    """The slot as staff read it out: in the till's own time zone (the store's)."""
    starts, ends = slot.starts_at.astimezone(), slot.ends_at.astimezone()
    if starts.date() == ends.date():
        return f"{starts:%a %d %b %H:%M}–{ends:%H:%M}"
    return f"{starts:%a %d %b %H:%M} – {ends:%a %d %b %H:%M}"


def _resolve_customer(
    uow: UnitOfWork, draft: PhoneOrderDraft, customer: Customer | None
) -> tuple[Customer, Address]:
    if customer is None:
        found = uow.customers.get(draft.customer_id) if draft.customer_id else None
        if found is None:
            raise NotFound("choose the customer (or create one)", field="customer_id")
        customer = found
    if not draft.address_id and customer.addresses:
        return customer, customer.addresses[0]
    return customer, customer.address(draft.address_id)


def _booking(
    uow: UnitOfWork, draft: PhoneOrderDraft, address: Address, now: datetime
) -> tuple[Slot, int, int, bool]:
    """(slot, units, weight, firm) of the draft's booking, checked: the slot exists, is
    open, serves the address and carries the weight."""
    if not draft.slot_id:
        raise InvalidInput("choose a delivery slot", field="slot_id")
    standing = uow.slots.standing(draft.slot_id)
    if standing is None:
        raise NotFound("that delivery slot is not on this till", field="slot_id")
    slot = standing.slot
    if not slot_open(slot, now):
        raise InvalidInput(
            f"the slot {_slot_text(slot)} takes no more bookings (its cut-off has passed)",
            field="slot_id",
        )
    if not slot_serves(slot, address):
        raise InvalidInput(
            f"the slot {_slot_text(slot)} does not deliver to {address.postcode}",
            field="slot_id",
        )
    lines = draft.cart.lines
    units = booking_units(slot.unit, lines)
    weight = booking_weight_g(lines)
    if slot.max_weight_g is not None and weight > slot.max_weight_g:
        raise InvalidInput(
            f"the order weighs {weight} g, more than the slot carries ({slot.max_weight_g} g)",
            field="slot_id",
        )
    return slot, units, weight, standing.remaining_allotment >= units


def read_back(uow: UnitOfWork, store: StoreProfile, draft: PhoneOrderDraft) -> ReadBack:
    """The summary staff read to the caller: items with their substitution choice, slot,
    address, payment and the estimated total (weighed items are estimates)."""
    if draft.cart.is_empty:
        raise EmptyCart("the order has no items", field="lines")
    lines, _subtotal, _tax, total = _order_lines(draft, store)
    with uow:
        customer = None
        if draft.new_customer is not None:  # checked as it will be saved: errors now
            typed = draft.new_customer
            customer = make_customer(
                id=typed.id or "new",
                name=typed.name,
                phone=typed.phone,
                email=typed.email,
                addresses=typed.addresses,
                notes=typed.notes,
                updated_at=datetime.fromtimestamp(0, UTC),
                country=store.country or typed.country,
            )
        customer, address = _resolve_customer(uow, draft, customer)
        standing = uow.slots.standing(draft.slot_id) if draft.slot_id else None
    text = [f"Order for {customer.name}, {customer.phone}"]
    for line in lines:
        words = f"{format_quantity(line.quantity, line.sold_by)} × {line.name}"
        if line.sold_by is SoldBy.WEIGHT:
            words += " (estimated weight)"
        words += f" — if out of stock: {SUBSTITUTION_WORDS[line.substitution]}"
        if line.note:
            words += f"; note: {line.note}"
        text.append(words)
    if draft.note.strip():
        text.append(f"Order note: {draft.note.strip()}")
    firm = True
    if standing is not None:
        units = booking_units(standing.slot.unit, draft.cart.lines)
        firm = standing.remaining_allotment >= units
        slot_words = f"Delivery: {_slot_text(standing.slot)}"
        if not firm:
            slot_words += " (provisional: we confirm it or call you back with another time)"
        text.append(slot_words)
    text.append(f"To: {address.one_line}" + (f" ({address.notes})" if address.notes else ""))
    authorised = 0
    payment = PAYMENT_WORDS[draft.payment_method]
    if draft.payment_method is PaymentMethod.CARD_LINK:
        authorised = authorisation_amount(total, store.authorisation_headroom_bp)
        payment += (
            f"; the card is authorised for up to {format_money(authorised, store.currency, store.locale)}"
            " and charged only what is picked"
        )
    text.append(f"Payment: {payment}")
    text.append(f"Estimated total: {format_money(total, store.currency, store.locale)}")
    return ReadBack(tuple(text), total, authorised, firm)


def place_phone_order(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    store: StoreProfile,
    clerk: Clerk,
    draft: PhoneOrderDraft,
) -> PhoneOrder:
    """Save a phone order: ONE transaction holds the order and its lines, the slot booking
    (firm within this till's allotment, provisional past it), the order number, and the
    outbox events (``customer.saved`` of a new customer first, then ``phone_order.placed``).
    After commit() the order survives a crash; before it, nothing of it exists."""
    if draft.cart.is_empty:
        raise EmptyCart("the order has no items", field="lines")
    lines, subtotal, tax_total, total = _order_lines(draft, store)
    now = clock.now()
    new_customer = (
        _customer_from(ids, now, draft.new_customer, store.country)
        if draft.new_customer is not None
        else None
    )
    with uow:
        customer, address = _resolve_customer(uow, draft, new_customer)
        slot, units, weight, firm = _booking(uow, draft, address, now)
        if new_customer is not None:
            _save_customer(uow, ids, new_customer)
        sequence = uow.sequences.next_value(phone_order_sequence_name(store.terminal_code))
        order_id = draft.cart.order_id or ids.new_id()
        status = BookingStatus.FIRM if firm else BookingStatus.PROVISIONAL
        order = PhoneOrder(
            id=order_id,
            order_no=format_phone_order_no(store.terminal_code, sequence),
            terminal_code=store.terminal_code,
            clerk_id=clerk.id,
            clerk_name=clerk.name,
            customer=customer,
            address=address,
            lines=lines,
            picked=(),
            note=draft.note.strip(),
            slot_id=slot.id,
            booking_id=ids.new_id(),
            booking_status=status,
            moved_from_slot_id="",
            state=FulfilmentState.RECEIVED,
            version=1,
            payment_method=draft.payment_method,
            payment_status="none",
            authorised_amount=0,
            captured_amount=0,
            estimated_total=total,
            actual_total=0,
            currency=draft.cart.currency,
            created_at=now,
            updated_at=now,
            slot_starts_at=slot.starts_at,
            slot_ends_at=slot.ends_at,
        )
        uow.phone_orders.add(order)
        uow.slots.add_booking(order.booking_id, slot.id, order.id, units, weight, status, now)
        uow.outbox.add(
            PhoneOrderPlaced(ids.new_id(), order, subtotal, tax_total, units, weight, now)
        )
        uow.commit()
    return order


# --------------------------------------------------------------------------- the queue


def phone_queue(
    uow: UnitOfWork,
    states: Sequence[FulfilmentState] | None = None,
    slot_id: str | None = None,
) -> list[PhoneOrder]:
    """The store's phone orders by slot (every till sees the same queue once synced)."""
    with uow:
        return uow.phone_orders.queue(states, slot_id)


def _get(uow: UnitOfWork, order_id: str) -> PhoneOrder:
    order = uow.phone_orders.get(order_id)
    if order is None:
        raise NotFound(f"there is no phone order {order_id!r} on this till", field="order_id")
    return order


def transition_phone_order(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    clerk: Clerk,
    order_id: str,
    target: FulfilmentState,
    reason: str = "",
) -> PhoneOrder:
    """Move the order to ``target`` (``IllegalTransition`` naming both states unless the
    move is allowed) and queue ``phone_order.transitioned``. The server may still refuse it
    (another till moved the order first): the order then shows "refused" with the reason,
    and the next pull brings the server's state."""
    if target is FulfilmentState.CANCELLED and not reason.strip():
        raise InvalidInput("say why the order is cancelled", field="reason")
    now = clock.now()
    with uow:
        order = _get(uow, order_id)
        _transition(uow, ids, clerk, order, target, reason.strip(), now)
        order = _get(uow, order_id)
        uow.commit()
    return order


def _transition(
    uow: UnitOfWork,
    ids: IdFactory,
    clerk: Clerk,
    order: PhoneOrder,
    target: FulfilmentState,
    reason: str,
    now: datetime,
) -> PhoneOrder:
    check_fulfilment_transition(order.state, target)
    moved = replace(
        order,
        state=target,
        version=order.version + 1,
        updated_at=now,
        sync_state=SyncState.QUEUED,
        sync_error="",
        cancel_reason=reason if target is FulfilmentState.CANCELLED else order.cancel_reason,
    )
    uow.phone_orders.save(moved)
    uow.outbox.add(
        PhoneOrderTransitioned(
            ids.new_id(), order.id, ids.new_id(), order.state, target, reason, now, clerk.id
        )
    )
    return moved


def record_picking(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    store: StoreProfile,
    clerk: Clerk,
    order_id: str,
    picked: Sequence[PickedLine],
) -> PhoneOrder:
    """What was picked for each ordered line (picked, substituted with what, not
    available; actual weights), priced with the sale arithmetic, and ``phone_order.picked``
    queued. The order must be in picking; every ordered line is answered once."""
    now = clock.now()
    with uow:
        order = _get(uow, order_id)
        if order.state is not FulfilmentState.PICKING:
            raise InvalidInput(
                f"order {order.order_no} is {order.state.label}: start picking it first",
                field="state",
            )
        ordered = {line.line_no for line in order.lines}
        answered = [line.line_no for line in picked]
        if sorted(answered) != sorted(ordered):
            missing = sorted(ordered - set(answered))
            extra = sorted(set(answered) - ordered)
            twice = sorted({n for n in answered if answered.count(n) > 1})
            problem = (
                f"lines {missing} are not answered"
                if missing
                else f"lines {extra} were not ordered"
                if extra
                else f"lines {twice} are answered twice"
            )
            raise InvalidInput(f"order {order.order_no}: {problem}", field="picked")
        lines = priced_picked_lines(sorted(picked, key=lambda line: line.line_no), store)
        if all(line.status is PickStatus.NOT_AVAILABLE for line in lines):
            totals_total, subtotal, tax_total = 0, 0, 0
        else:
            totals = picked_totals(lines, store)
            totals_total, subtotal, tax_total = totals.total, totals.subtotal, totals.tax_total
        shortfall = (
            max(0, totals_total - order.authorised_amount)
            if order.payment_method is PaymentMethod.CARD_LINK and order.authorised_amount
            else 0
        )
        done = replace(
            order,
            picked=lines,
            actual_total=totals_total,
            shortfall=shortfall,
            version=order.version + 1,
            updated_at=now,
            sync_state=SyncState.QUEUED,
            sync_error="",
        )
        uow.phone_orders.save(done)
        uow.outbox.add(
            PhoneOrderPicked(
                ids.new_id(),
                order.id,
                ids.new_id(),
                now,
                clerk.id,
                lines,
                subtotal,
                tax_total,
                totals_total,
            )
        )
        uow.commit()
    return done


def complete_delivery(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    store: StoreProfile,
    clerk: Clerk,
    order_id: str,
    tenders: list[TenderInput],
    *,
    absorbed_shortfall: int = 0,
) -> Order:
    """The order delivered: a normal sale (``kind="phone"``, the phone order's id, the
    picked lines, the tenders taken at the door or the card tender of the captured payment)
    queued as ``order.paid``, stock taken off, and the order moved to delivered, in one
    transaction. ``absorbed_shortfall``: staff captured only what the card authorised; the
    difference is an order discount "not authorised by card"."""
    now = clock.now()
    with uow:
        phone = _get(uow, order_id)
        lines, totals = final_sale_lines(phone, store, absorbed_shortfall=absorbed_shortfall)
        settled = settle_tenders(
            totals.total, tenders, currency=store.currency, locale=store.locale
        )
        sequence = uow.sequences.next_value(receipt_sequence_name(store.terminal_code))
        order = Order(
            id=phone.id,
            receipt_no=format_receipt_no(store.terminal_code, sequence),
            terminal_code=store.terminal_code,
            sequence=sequence,
            clerk_id=clerk.id,
            clerk_name=clerk.name,
            currency=phone.currency,
            status=OrderStatus.PAID,
            created_at=now,
            paid_at=now,
            lines=lines,
            tenders=settled,
            tax=totals.tax,
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            prices_include_tax=store.taxes.prices_include_tax,
            note=f"phone order {phone.order_no}",
            extra={"kind": "phone"},
            shift_id=current_shift_for_sale(uow),  # the drawer that took the door's cash
        )
        _transition(uow, ids, clerk, phone, FulfilmentState.DELIVERED, "", now)
        uow.orders.add(order)
        uow.products.move_stock(sale_movements(order))
        uow.outbox.add(SaleCompleted(order, now))
        uow.commit()
    return order


# --------------------------------------------------------------------------- reconcile


def reconcile_list(uow: UnitOfWork) -> list[PhoneOrder]:
    """Bookings the server moved to another slot or could not place, that staff have not
    yet phoned the customer about (the customer's phone is on each)."""
    with uow:
        return uow.phone_orders.to_reconcile()


def reconcile_script(order: PhoneOrder) -> str:
    """The short script staff read to the customer of a moved or unplaced booking."""
    name = order.customer.name.split()[0] if order.customer.name.split() else "there"
    if order.booking_status is BookingStatus.UNPLACED:
        return (
            f"Hello {name}, this is {order.terminal_code} about your order {order.order_no}: "
            "the delivery time you chose filled up and we have no other time we can deliver "
            "it to you. Which day and time would suit you?"
        )
    when = (
        f"{order.slot_starts_at.astimezone():%A %d %B, %H:%M}"
        if order.slot_starts_at
        else "another time"
    )
    before = (
        f" instead of {order.moved_from_starts_at.astimezone():%A %H:%M}"
        if order.moved_from_starts_at
        else ""
    )
    return (
        f"Hello {name}, about your order {order.order_no}: the delivery time you chose filled "
        f"up, so we have booked {when}{before}. Does that suit you? You will also get an e-mail."
    )


def mark_customer_told(uow: UnitOfWork, order_id: str) -> None:
    """Staff phoned the customer about the move: it leaves the reconcile list."""
    with uow:
        _get(uow, order_id)
        uow.phone_orders.mark_told(order_id)
        uow.commit()


# --------------------------------------------------------------------------- paper


@dataclass(frozen=True, slots=True)
class PickListLine:
    order_no: str
    customer_name: str
    line: PhoneOrderLine


@dataclass(frozen=True, slots=True)
class PickListGroup:
    department: str
    lines: tuple[PickListLine, ...]


@dataclass(frozen=True, slots=True)
class PickList:
    slot: Slot | None
    orders: tuple[PhoneOrder, ...]
    groups: tuple[PickListGroup, ...]  # by department, in name order


def pick_list(uow: UnitOfWork, slot_id: str) -> PickList:
    """The lines of the slot's orders still to pick (received or picking), grouped by the
    products' department (department_key: case and spacing do not count)."""
    with uow:
        slot = uow.slots.get(slot_id)
        orders = uow.phone_orders.queue(
            [FulfilmentState.RECEIVED, FulfilmentState.PICKING], slot_id
        )
        departments: dict[str, str] = {}
        for order in orders:
            for line in order.lines:
                if line.product_id and line.product_id not in departments:
                    product = uow.products.by_id(line.product_id)
                    departments[line.product_id] = product.department if product else ""
    groups: dict[str, tuple[str, list[PickListLine]]] = {}
    for order in orders:
        for line in order.lines:
            shown = department_name(departments.get(line.product_id, "")) or "Other"
            key = department_key(shown)
            groups.setdefault(key, (shown, []))[1].append(
                PickListLine(order.order_no, order.customer.name, line)
            )
    return PickList(
        slot,
        tuple(orders),
        tuple(
            PickListGroup(shown, tuple(lines)) for _key, (shown, lines) in sorted(groups.items())
        ),
    )


@dataclass(frozen=True, slots=True)
class DeliveryNote:
    order: PhoneOrder
    slot: Slot | None
    lines: tuple[str, ...]  # what the driver hands over, one per line

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def delivery_note(uow: UnitOfWork, order_id: str) -> DeliveryNote:
    """The note that goes with the order: customer, address and delivery notes, slot, what
    was picked (or ordered, before picking), payment and the total."""
    with uow:
        order = _get(uow, order_id)
        slot = uow.slots.get(order.slot_id) if order.slot_id else None
    text = [f"Delivery note {order.order_no}", f"{order.customer.name} · {order.customer.phone}"]
    text.append(order.address.one_line)
    if order.address.notes:
        text.append(f"Delivery notes: {order.address.notes}")
    if slot is not None:
        text.append(f"Slot: {_slot_text(slot)}")
    if order.picked:
        for picked in order.picked:
            if picked.status is PickStatus.NOT_AVAILABLE:
                text.append(f"line {picked.line_no}: not available")
            else:
                text.append(
                    f"{format_quantity(picked.quantity, picked.sold_by)} × {picked.name}"
                    + (" (substitute)" if picked.status is PickStatus.SUBSTITUTED else "")
                    + f"  {format_money(picked.net, order.currency)}"
                )
    else:
        text.extend(
            f"{format_quantity(line.quantity, line.sold_by)} × {line.name}" for line in order.lines
        )
    total = order.actual_total if order.picked else order.estimated_total
    text.append(f"Payment: {PAYMENT_WORDS[order.payment_method]}")
    text.append(f"Total: {format_money(total, order.currency)}")
    if order.note:
        text.append(f"Note: {order.note}")
    return DeliveryNote(order, slot, tuple(text))
