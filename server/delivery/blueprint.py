"""The delivery endpoints: customers, delivery slots with their allotments and bookings,
phone orders and their transitions. Every lookup goes through ``get_owned`` (the caller's
store only; another store's object is a 404 like a missing one)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint
from sqlalchemy import select

from app.domain.delivery import slot_open
from server.api import endpoint
from server.errors import ApiError, NotFound
from server.models import Customer, DeliverySlot, PhoneOrder, SlotAllotment, SlotBooking
from server.services import services
from server.sql import dialect_insert
from server.sync.changes import record_changes
from server.terminals.auth import caller, get_owned
from sync.protocol import CustomerData, CustomerPayload, PhoneOrderData, PhoneOrderTransitionPayload

from .changes import allotment_data, slot_data
from .customers import customers_data, find_customers, save_customer
from .phone_orders import phone_orders_data, release_booking, transition_phone_order
from .schemas import (
    BookingData,
    BookingRequest,
    CustomerList,
    CustomersQuery,
    PhoneOrderList,
    PhoneOrdersQuery,
    SlotList,
    SlotsQuery,
    SlotView,
    TransitionRequest,
)
from .slots import slot_domain, take_unallotted

bp = Blueprint("delivery", __name__, url_prefix="/api/v1")


# ------------------------------------------------------------------------------ customers


@bp.get("/customers")
@endpoint(
    "The store's customers by the start of their phone number or part of their name",
    tag="delivery",
    query=CustomersQuery,
    response=CustomerList,
)
def list_customers(query: CustomersQuery) -> CustomerList:
    with services().sessions() as session:
        rows = find_customers(session, caller().store_id, query.phone, query.q, query.limit)
        return CustomerList(customers=customers_data(session, rows))


@bp.get("/customers/<customer_id>")
@endpoint("One customer of the store, with addresses", tag="delivery", response=CustomerData)
def get_customer(customer_id: str) -> CustomerData:
    with services().sessions() as session:
        row = get_owned(session, caller(), Customer, customer_id)
        return customers_data(session, [row])[0]


@bp.put("/customers/<customer_id>")
@endpoint(
    "Save a customer (the newest updated_at wins, as for customer.saved)",
    tag="delivery",
    body=CustomerPayload,
    response=CustomerData,
    errors=(404, 422),
)
def put_customer(customer_id: str, body: CustomerPayload) -> CustomerData:
    if str(body.id) != customer_id:
        raise ApiError(
            f"the body's id {body.id} is not the customer {customer_id} of the path",
            code="id_mismatch",
            field="id",
            status=422,
        )
    who = caller()
    with services().sessions() as session, session.begin():
        save_customer(session, who.store_id, body)
        row = get_owned(session, who, Customer, customer_id)
        return customers_data(session, [row])[0]


# -------------------------------------------------------------------------------- slots


@bp.get("/delivery-slots")
@endpoint(
    "The store's delivery slots with their free places and this terminal's allotment",
    tag="delivery",
    query=SlotsQuery,
    response=SlotList,
)
def list_slots(query: SlotsQuery) -> SlotList:
    who = caller()
    start = query.from_ or datetime.now(UTC)
    stmt = (
        select(DeliverySlot)
        .where(
            DeliverySlot.store_id == who.store_id,
            DeliverySlot.deleted.is_(False),
            DeliverySlot.ends_at > start,
        )
        .order_by(DeliverySlot.starts_at, DeliverySlot.id)
        .limit(500)
    )
    if query.to is not None:
        stmt = stmt.where(DeliverySlot.starts_at < query.to)
    with services().sessions() as session:
        slots = session.scalars(stmt).all()
        mine = {
            a.slot_id: a
            for a in session.scalars(
                select(SlotAllotment).where(
                    SlotAllotment.store_id == who.store_id,
                    SlotAllotment.terminal_id == who.terminal_id,
                    SlotAllotment.slot_id.in_([s.id for s in slots]),
                )
            )
        }
        return SlotList(
            slots=[
                SlotView(
                    slot=slot_data(s),
                    allotment=allotment_data(mine[s.id]) if s.id in mine else None,
                )
                for s in slots
            ]
        )


def _booking_data(b: SlotBooking) -> BookingData:
    return BookingData(
        booking_id=str(b.booking_id),
        slot_id=str(b.slot_id),
        units=b.units,
        weight_g=b.weight_g,
        status=b.status,
        source=b.source,
        booked_at=b.booked_at,
        released_at=b.released_at,
    )


@bp.post("/delivery-slots/<slot_id>/bookings")
@endpoint(
    "Book places of a slot online (one conditional UPDATE: never more than its capacity); "
    "409 slot_full when it has no room",
    tag="delivery",
    body=BookingRequest,
    response=BookingData,
    status=201,
    errors=(404, 409),
)
def book_slot(slot_id: str, body: BookingRequest) -> BookingData:
    who = caller()
    now = datetime.now(UTC)
    with services().sessions() as session, session.begin():
        slot = get_owned(session, who, DeliverySlot, slot_id)
        table = SlotBooking.__table__
        inserted = session.execute(
            dialect_insert(session, table)
            .values(
                store_id=who.store_id,
                booking_id=body.booking_id,
                slot_id=slot.id,
                requested_slot_id=slot.id,
                order_id=None,
                terminal_id=who.terminal_id,
                units=body.units,
                weight_g=body.weight_g,
                status="confirmed",
                allotted=False,
                source="web",
                booked_at=now,
                received_at=now,
                released_at=None,
            )
            .on_conflict_do_nothing(index_elements=["store_id", "booking_id"])
            .returning(table.c.booking_id)
        ).scalar()
        if inserted is None:  # the same booking id again
            known = session.get_one(
                SlotBooking, {"store_id": who.store_id, "booking_id": body.booking_id}
            )
            same = (known.slot_id, known.units, known.weight_g) == (
                slot.id,
                body.units,
                body.weight_g,
            )
            if not same or known.released_at is not None:
                raise ApiError(
                    f"booking {body.booking_id} is in use for another booking",
                    code="booking_exists",
                    field="booking_id",
                    status=409,
                )
            return _booking_data(known)
        if not slot_open(slot_domain(slot), now):
            raise ApiError(
                "this slot takes no more bookings (past its cut-off or lead time, or closed)",
                code="slot_closed",
                status=409,
            )
        if not take_unallotted(session, who.store_id, slot.id, body.units, body.weight_g):
            raise ApiError(
                f"the slot has no room for {body.units} more", code="slot_full", status=409
            )
        record_changes(session, "delivery_slot", [str(slot.id)], who.store_id)
        return _booking_data(
            session.get_one(SlotBooking, {"store_id": who.store_id, "booking_id": body.booking_id})
        )


@bp.delete("/delivery-slots/<slot_id>/bookings/<booking_id>")
@endpoint(
    "Release a booking: its places are free again (a second release changes nothing)",
    tag="delivery",
    response=BookingData,
    errors=(404,),
)
def release_slot_booking(slot_id: str, booking_id: str) -> BookingData:
    who = caller()
    with services().sessions() as session, session.begin():
        slot = get_owned(session, who, DeliverySlot, slot_id)
        try:  # a booking is looked up within the slot get_owned found for the caller
            key = uuid.UUID(booking_id)
        except ValueError:
            raise NotFound("no such booking") from None
        booking = session.get(SlotBooking, {"store_id": who.store_id, "booking_id": key})
        if booking is None or booking.slot_id != slot.id:
            raise NotFound("no such booking")
        release_booking(session, who.store_id, booking, datetime.now(UTC))
        return _booking_data(booking)


# ------------------------------------------------------------------------- phone orders


@bp.get("/phone-orders")
@endpoint(
    "The store's phone orders (the queue), by id",
    tag="delivery",
    query=PhoneOrdersQuery,
    response=PhoneOrderList,
)
def list_phone_orders(query: PhoneOrdersQuery) -> PhoneOrderList:
    who = caller()
    stmt = select(PhoneOrder).where(PhoneOrder.store_id == who.store_id)
    if query.state is not None:
        stmt = stmt.where(PhoneOrder.state == query.state)
    if query.slot_id is not None:
        stmt = stmt.where(PhoneOrder.slot_id == query.slot_id)
    if query.after is not None:
        stmt = stmt.where(PhoneOrder.id > query.after)
    with services().sessions() as session:
        rows = session.scalars(stmt.order_by(PhoneOrder.id).limit(query.limit)).all()
        orders = phone_orders_data(session, rows)
    return PhoneOrderList(
        orders=orders, next_after=orders[-1].id if len(orders) == query.limit else None
    )


@bp.get("/phone-orders/<order_id>")
@endpoint("One phone order of the store", tag="delivery", response=PhoneOrderData)
def get_phone_order(order_id: str) -> PhoneOrderData:
    with services().sessions() as session:
        return phone_orders_data(session, [get_owned(session, caller(), PhoneOrder, order_id)])[0]


@bp.post("/phone-orders/<order_id>/transitions")
@endpoint(
    "Move a phone order on (the same rules as phone_order.transitioned): 409 "
    "illegal_transition or transition_overtaken",
    tag="delivery",
    body=TransitionRequest,
    response=PhoneOrderData,
    errors=(404, 409),
)
def post_transition(order_id: str, body: TransitionRequest) -> PhoneOrderData:
    who = caller()
    now = datetime.now(UTC)
    with services().sessions() as session, session.begin():
        order = get_owned(session, who, PhoneOrder, order_id)
        change = PhoneOrderTransitionPayload.model_construct(
            order_id=order.id,
            transition_id=body.transition_id,
            from_state=body.from_state,
            to_state=body.to_state,
            reason=body.reason,
            at=now,
            clerk_id=f"terminal:{who.terminal_code}",
        )
        outcome = transition_phone_order(session, who.store_id, who.terminal(), 0, change, now)
        if outcome.status == "rejected":
            refusal = ApiError(
                outcome.message or "", code=outcome.reason, field=outcome.field, status=409
            )
        else:
            refusal = None
            session.refresh(order)
            found = phone_orders_data(session, [order])[0]
    if refusal is not None:  # the refusal is logged (committed) before it is answered
        raise refusal
    return found
