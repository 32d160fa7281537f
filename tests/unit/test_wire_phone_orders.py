"""Issue 13's events on the wire: every kind the till queues is a push the server's models
take, and the models refuse what the server must refuse."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from app.domain.delivery import (
    Address,
    BookingStatus,
    Customer,
    FulfilmentState,
    PaymentMethod,
    PhoneOrder,
    PhoneOrderLine,
    PickedLine,
    PickStatus,
    Substitution,
)
from app.domain.events import (
    CustomerSaved,
    PhoneOrderPicked,
    PhoneOrderPlaced,
    PhoneOrderTransitioned,
)
from app.domain.product import SoldBy
from sync import protocol as p
from sync.wire import encode_event, wire_event

NOW = datetime(2026, 12, 2, 9, 30, 0, 7, tzinfo=UTC)
CUSTOMER_ID = "0190f1c2-0000-7000-8000-0000000000c1"
ADDRESS_ID = "0190f1c2-0000-7000-8000-0000000000a1"
ORDER_ID = "0190f1c2-0000-7000-8000-0000000000f1"
SLOT_ID = "0190f1c2-0000-7000-8000-0000000000d1"
BOOKING_ID = "0190f1c2-0000-7000-8000-0000000000b1"
EVENT = "0190f1c2-0000-7000-8000-0000000000e{}"

HOME = Address(ADDRESS_ID, "home", "1 Main Street", "Flat 2", "D02 X285", "Dublin", "IE", "ring")
CUSTOMER = Customer(CUSTOMER_ID, "Ada Byrne", "+353871234567", "ada@example.com", (HOME,), "", NOW)
LINES = (
    PhoneOrderLine(1, "p1", "MILK-1", "Milk", SoldBy.EACH, 2, 129, "food", 700, 258),
    PhoneOrderLine(
        2,
        "p2",
        "APL-KG",
        "Apples",
        SoldBy.WEIGHT,
        750,
        349,
        "food",
        700,
        262,
        Substitution.SPECIFIC,
        "p3",
        "green ones",
    ),
)
ORDER = PhoneOrder(
    id=ORDER_ID,
    order_no="T01-P000001",
    terminal_code="T01",
    clerk_id="k1",
    clerk_name="Maria",
    customer=CUSTOMER,
    address=HOME,
    lines=LINES,
    picked=(),
    note="leave at the door",
    slot_id=SLOT_ID,
    booking_id=BOOKING_ID,
    booking_status=BookingStatus.PROVISIONAL,
    moved_from_slot_id="",
    state=FulfilmentState.RECEIVED,
    version=1,
    payment_method=PaymentMethod.CARD_LINK,
    payment_status="none",
    authorised_amount=0,
    captured_amount=0,
    estimated_total=520,
    actual_total=0,
    currency="EUR",
    created_at=NOW,
    updated_at=NOW,
)
PICKED = (
    PickedLine(1, PickStatus.PICKED, "p1", "MILK-1", "Milk", SoldBy.EACH, 2, 129, "food", 700, 258),
    PickedLine(
        2,
        PickStatus.SUBSTITUTED,
        "p3",
        "PER-KG",
        "Pears",
        SoldBy.WEIGHT,
        712,
        399,
        "food",
        700,
        284,
    ),
)
EVENTS = [
    CustomerSaved(EVENT.format(1), CUSTOMER),
    PhoneOrderPlaced(EVENT.format(2), ORDER, 486, 34, 3, 750, NOW),
    PhoneOrderTransitioned(
        EVENT.format(3),
        ORDER_ID,
        EVENT.format(4),
        FulfilmentState.RECEIVED,
        FulfilmentState.PICKING,
        "",
        NOW,
        "k1",
    ),
    PhoneOrderPicked(EVENT.format(5), ORDER_ID, EVENT.format(6), NOW, "k1", PICKED, 508, 33, 542),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_phone_order_event_is_a_valid_push(event):
    encoded = encode_event(event)
    model = wire_event(event)
    assert type(model) is p.EVENT_TYPES[encoded.event_type]
    push = p.PushRequest.model_validate(
        {"protocol_version": p.PROTOCOL_VERSION, "events": [json.loads(encoded.body)]}
    )
    assert push.events[0].type == encoded.event_type


def test_the_placed_event_carries_the_booking_and_the_address_snapshot():
    body = json.loads(encode_event(EVENTS[1]).body)
    assert body["type"] == "phone_order.placed"
    payload = body["payload"]
    assert payload["booking"] == {
        "booking_id": BOOKING_ID,
        "slot_id": SLOT_ID,
        "units": 3,
        "weight_g": 750,
        "status": "provisional",
        "booked_at": "2026-12-02T09:30:00.000007+00:00",
    }
    assert payload["address"]["postcode"] == "D02 X285"
    assert payload["lines"][1]["substitution"] == "specific"
    assert payload["customer_email"] == "ada@example.com"


def _push_one(body: dict[str, object]) -> None:
    p.PushRequest.model_validate({"protocol_version": p.PROTOCOL_VERSION, "events": [body]})


@pytest.mark.parametrize(
    ("path", "value", "said"),
    [
        (("payload", "phone"), "12", "phone"),
        (("payload", "email"), "not-an-address", "email"),
        (("payload", "addresses", 0, "postcode"), "  ", "postcode"),
        (("payload", "addresses", 0, "country"), "Ireland", "country"),
        (("payload", "addresses"), [], "addresses"),
    ],
)
def test_a_customer_the_server_would_refuse_names_the_field(path, value, said):
    body = json.loads(encode_event(EVENTS[0]).body)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError, match=said):
        _push_one(body)


def test_a_placed_order_without_lines_or_with_a_float_price_is_refused():
    body = json.loads(encode_event(EVENTS[1]).body)
    body["payload"]["lines"][0]["unit_price"] = 1.29
    with pytest.raises(ValidationError, match="unit_price"):
        _push_one(body)
    body["payload"]["lines"] = []
    with pytest.raises(ValidationError, match="lines"):
        _push_one(body)
    body = json.loads(encode_event(EVENTS[1]).body)
    body["payload"]["booking"]["status"] = "confirmed"  # only the server confirms
    with pytest.raises(ValidationError, match="status"):
        _push_one(body)


def test_pulled_phone_order_kinds_parse():
    page = p.PullResponse.model_validate(
        {
            "next_cursor": "9",
            "has_more": False,
            "changes": [
                {
                    "cursor": "7",
                    "kind": "slot_allotment",
                    "data": {
                        "slot_id": SLOT_ID,
                        "terminal_id": "t1",
                        "allotted_total": 4,
                        "used": 1,
                    },
                },
                {
                    "cursor": "8",
                    "kind": "phone_order",
                    "data": {
                        "id": ORDER_ID,
                        "order_no": "T01-P000001",
                        "terminal_code": "T01",
                        "clerk_id": "k1",
                        "clerk_name": "Maria",
                        "customer": {"id": CUSTOMER_ID, "name": "Ada", "phone": "+353871234567"},
                        "address": json.loads(encode_event(EVENTS[1]).body)["payload"]["address"],
                        "lines": json.loads(encode_event(EVENTS[1]).body)["payload"]["lines"],
                        "booking_id": BOOKING_ID,
                        "booking_status": "moved",
                        "slot_id": SLOT_ID,
                        "moved_from_slot_id": "x",
                        "state": "received",
                        "version": 2,
                        "payment_method": "card_link",
                        "estimated_total": 520,
                        "currency": "EUR",
                        "created_at": "2026-12-02T09:30:00+00:00",
                        "updated_at": "2026-12-02T09:31:00+00:00",
                    },
                },
                {
                    "cursor": "9",
                    "kind": "delivery_slot",
                    "data": {
                        "id": SLOT_ID,
                        "starts_at": "2026-12-02T16:00:00+00:00",
                        "ends_at": "2026-12-02T17:00:00+00:00",
                        "capacity": 20,
                        "booked": 3,
                        "active": True,
                        "unit": "items",
                        "cutoff_minutes": 120,
                        "postcode_prefixes": ["D02"],
                        "free": 9,
                    },
                },
            ],
        }
    )
    allotment, order, slot = (c.data for c in page.changes)
    assert isinstance(allotment, p.SlotAllotmentData) and allotment.allotted_total == 4
    assert isinstance(order, p.PhoneOrderData) and order.booking_status == "moved"
    assert isinstance(slot, p.DeliverySlotData) and (slot.unit, slot.free) == ("items", 9)
    assert p.PullQuery.model_validate({"bookings_pending": "true"}).bookings_pending is True
