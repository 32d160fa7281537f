"""The phone-order rules: fulfilment transitions, slot cut-offs, allotments, moves, the
card authorisation and capture, and picked totals priced as a sale."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.cart import Cart
from app.domain.delivery import (
    NOT_AUTHORISED_REASON,
    TRANSITIONS,
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
    allotment_remaining,
    authorisation_amount,
    booking_units,
    booking_weight_g,
    capture_plan,
    check_fulfilment_transition,
    final_sale_lines,
    format_phone_order_no,
    make_customer,
    nearest_slot,
    picked_totals,
    slot_open,
    slot_serves,
    split_allotments,
)
from app.domain.errors import IllegalTransition, InvalidInput
from app.domain.product import Product, SoldBy
from app.domain.store import StoreProfile

S = FulfilmentState
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
HOME = Address("a1", "home", "1 Main Street", "", "D02 X285", "Dublin", "IE")


def slot(sid: str, starts: datetime, **fields: object) -> Slot:
    values: dict[str, object] = {
        "id": sid,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=1),
        "capacity": 10,
        "unit": CapacityUnit.ORDERS,
        "max_weight_g": None,
        "cutoff_minutes": 60,
        "lead_time_minutes": 30,
        "postcode_prefixes": (),
        "booked": 0,
        "active": True,
    }
    values.update(fields)
    return Slot(**values)  # type: ignore[arg-type]


def test_transitions_table_is_the_contracts():
    assert {
        S.RECEIVED: {S.PICKING, S.CANCELLED},
        S.PICKING: {S.READY, S.RECEIVED, S.CANCELLED},
        S.READY: {S.OUT_FOR_DELIVERY, S.PICKING, S.CANCELLED},
        S.OUT_FOR_DELIVERY: {S.DELIVERED, S.READY, S.CANCELLED},
        S.DELIVERED: set(),
        S.CANCELLED: set(),
    } == TRANSITIONS
    for current, targets in TRANSITIONS.items():
        for target in S:
            if target in targets:
                check_fulfilment_transition(current, target)
            else:
                with pytest.raises(IllegalTransition):
                    check_fulfilment_transition(current, target)


def test_an_illegal_transition_names_both_states():
    with pytest.raises(IllegalTransition, match="delivered cannot become picking") as caught:
        check_fulfilment_transition(S.DELIVERED, S.PICKING)
    assert caught.value.code == "illegal_transition"


def test_slot_open_at_the_cutoff_edge():
    s = slot("s", NOON, cutoff_minutes=60, lead_time_minutes=0)
    assert slot_open(s, NOON - timedelta(minutes=60))
    assert not slot_open(s, NOON - timedelta(minutes=60) + timedelta(microseconds=1))


def test_slot_open_at_the_lead_time_edge():
    s = slot("s", NOON, cutoff_minutes=0, lead_time_minutes=90)
    assert slot_open(s, NOON - timedelta(minutes=90))
    assert not slot_open(s, NOON - timedelta(minutes=89))


def test_an_inactive_slot_is_never_open():
    assert not slot_open(slot("s", NOON, active=False), NOON - timedelta(days=1))


def test_slot_serves_postcode_prefixes_ignoring_case_and_spaces():
    assert slot_serves(slot("s", NOON), HOME)
    assert slot_serves(slot("s", NOON, postcode_prefixes=("d02",)), HOME)
    assert slot_serves(slot("s", NOON, postcode_prefixes=("D02X",)), HOME)
    assert not slot_serves(slot("s", NOON, postcode_prefixes=("D04", "D06")), HOME)


def test_booking_units_count_orders_or_items_a_weighed_line_as_one():
    lines = [
        PhoneOrderLine(1, "p1", "S1", "Milk", SoldBy.EACH, 3, 100, "standard", 2300, 300),
        PhoneOrderLine(2, "p2", "S2", "Apples", SoldBy.WEIGHT, 750, 300, "food", 0, 225),
    ]
    assert booking_units(CapacityUnit.ORDERS, lines) == 1
    assert booking_units(CapacityUnit.ITEMS, lines) == 4
    assert booking_weight_g(lines) == 750
    assert allotment_remaining(5, 2) == 3
    assert allotment_remaining(2, 5) == 0


@given(st.integers(0, 10_000), st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=9))
def test_split_allotments_sums_to_what_is_free(free, ids):
    shares = split_allotments(free, ids)
    assert sum(shares.values()) == free
    assert set(shares) == set(ids)
    assert max(shares.values()) - min(shares.values()) <= 1


def test_split_allotments_gives_the_remainder_to_the_first_ids_in_order():
    assert split_allotments(7, ["t3", "t1", "t2"]) == {"t1": 3, "t2": 2, "t3": 2}
    assert split_allotments(5, []) == {}


def test_nearest_slot_same_day_closest_first_then_later_days_then_earlier():
    original = slot("orig", NOON + timedelta(days=1))
    same_far = slot("same-far", NOON + timedelta(days=1, hours=6))
    same_near = slot("same-near", NOON + timedelta(days=1, hours=-2))
    next_day = slot("next", NOON + timedelta(days=2, hours=-3))
    later = slot("later", NOON + timedelta(days=3))
    earlier = slot("earlier", NOON + timedelta(hours=5))
    every = [original, same_far, same_near, next_day, later, earlier]
    room = {s.id: 5 for s in every}

    def pick(free: dict[str, int]) -> str | None:
        found = nearest_slot(every, 1, 0, HOME, original, NOON, free)
        return found.id if found else None

    assert pick(room) == "same-near"
    assert pick({**room, "same-near": 0}) == "same-far"
    assert pick({**room, "same-near": 0, "same-far": 0}) == "next"
    assert pick({**room, "same-near": 0, "same-far": 0, "next": 0}) == "later"
    assert pick({"orig": 5, "earlier": 5}) == "earlier"
    assert pick({"orig": 5}) is None


def test_nearest_slot_skips_closed_unserved_and_too_heavy_slots():
    original = slot("orig", NOON + timedelta(hours=4))
    closed = slot("closed", NOON + timedelta(minutes=50))
    elsewhere = slot("elsewhere", NOON + timedelta(hours=5), postcode_prefixes=("D04",))
    light = slot("light", NOON + timedelta(hours=3), max_weight_g=500)
    fine = slot("fine", NOON + timedelta(hours=8))
    every = [original, closed, elsewhere, light, fine]
    free = {s.id: 3 for s in every}
    found = nearest_slot(every, 2, 750, HOME, original, NOON, free)
    assert found is not None and found.id == "fine"
    assert nearest_slot(every, 4, 0, HOME, original, NOON, free) is None


@pytest.mark.parametrize(
    ("estimate", "headroom", "expected"),
    [(10_000, 1500, 11_500), (1001, 1500, 1152), (1, 1500, 2), (999, 0, 999), (0, 1500, 0)],
)
def test_authorisation_amount_rounds_up_to_the_cent(estimate, headroom, expected):
    assert authorisation_amount(estimate, headroom) == expected


def test_default_headroom_is_fifteen_percent():
    assert StoreProfile().authorisation_headroom_bp == 1500


def test_capture_plan_captures_the_picked_total_or_reports_the_shortfall():
    lighter = capture_plan(900, 1150)
    assert (lighter.capture, lighter.shortfall) == (900, 0)
    heavier = capture_plan(1300, 1150)
    assert (heavier.capture, heavier.shortfall) == (1150, 150)


def _picked(status: PickStatus, line_no: int, product: Product, quantity: int) -> PickedLine:
    return PickedLine(
        line_no,
        status,
        product.id,
        product.sku,
        product.name,
        product.sold_by,
        quantity,
        product.unit_price,
        product.tax_class,
        0,
        0,
    )


MILK = Product("p1", "MILK-1", "Milk 1 L", 129, "standard", SoldBy.EACH)
APPLES = Product("p2", "APL-KG", "Apples", 349, "food", SoldBy.WEIGHT)
PEARS = Product("p3", "PER-KG", "Pears", 399, "food", SoldBy.WEIGHT)
BREAD = Product("p4", "BRD-1", "Bread", 250, "exempt", SoldBy.EACH)


def test_picked_totals_are_the_sale_arithmetic():
    store = StoreProfile()
    picked = [
        _picked(PickStatus.PICKED, 1, MILK, 3),
        _picked(PickStatus.SUBSTITUTED, 2, PEARS, 733),
        _picked(PickStatus.NOT_AVAILABLE, 3, BREAD, 0),
    ]
    sale = Cart().add(MILK, 3).add(PEARS, 733).totals(store.taxes)
    totals = picked_totals(picked, store)
    assert (totals.subtotal, totals.tax_total, totals.total) == (
        sale.subtotal,
        sale.tax_total,
        sale.total,
    )
    assert totals.total == 3 * 129 + 292  # 399 €/kg × 0.733 kg = 292.467 → 292
    assert [lt.line_id for lt in totals.lines] == [1, 2]


def test_a_picked_line_states_a_quantity_that_matches_its_status():
    with pytest.raises(InvalidInput, match="not available"):
        _picked(PickStatus.NOT_AVAILABLE, 1, MILK, 2)
    with pytest.raises(InvalidInput, match="give the quantity"):
        _picked(PickStatus.PICKED, 1, MILK, 0)


def test_an_address_names_its_missing_field():
    with pytest.raises(InvalidInput, match="postcode is required") as caught:
        Address("a", "", "1 Main St", "", " ", "Dublin", "IE")
    assert caught.value.field == "postcode"
    with pytest.raises(InvalidInput, match="country"):
        Address("a", "", "1 Main St", "", "D02", "Dublin", "Ireland")


def test_make_customer_normalises_the_phone_and_email():
    customer = make_customer(
        id="c1",
        name="  Ada   Byrne ",
        phone="087 123 4567",
        email=" ada@Example.COM ",
        addresses=[HOME],
        notes="",
        updated_at=NOON,
        country="IE",
    )
    assert (customer.name, customer.phone, customer.email) == (
        "Ada Byrne",
        "+353871234567",
        "ada@example.com",
    )
    with pytest.raises(InvalidInput, match="phone"):
        make_customer(
            id="c1",
            name="Ada",
            phone="12",
            email="",
            addresses=[HOME],
            notes="",
            updated_at=NOON,
            country="IE",
        )
    with pytest.raises(InvalidInput, match="at least one address"):
        make_customer(
            id="c1",
            name="Ada",
            phone="0871234567",
            email="",
            addresses=[],
            notes="",
            updated_at=NOON,
            country="IE",
        )


def _phone_order(picked: tuple[PickedLine, ...]) -> PhoneOrder:
    customer = Customer("c1", "Ada", "+353871234567", "", (HOME,), "", NOON)
    return PhoneOrder(
        id="o1",
        order_no=format_phone_order_no("T01", 12),
        terminal_code="T01",
        clerk_id="k1",
        clerk_name="Maria",
        customer=customer,
        address=HOME,
        lines=(),
        picked=picked,
        note="",
        slot_id="s1",
        booking_id="b1",
        booking_status=BookingStatus.FIRM,
        moved_from_slot_id="",
        state=S.OUT_FOR_DELIVERY,
        version=3,
        payment_method=PaymentMethod.CARD_LINK,
        payment_status="captured",
        authorised_amount=500,
        captured_amount=500,
        estimated_total=450,
        actual_total=0,
        currency="EUR",
        created_at=NOON,
        updated_at=NOON,
    )


def test_final_sale_takes_an_absorbed_shortfall_off_as_a_discount():
    store = StoreProfile()
    order = _phone_order(
        (_picked(PickStatus.PICKED, 1, MILK, 2), _picked(PickStatus.PICKED, 2, APPLES, 1000))
    )
    assert order.order_no == "T01-P000012"
    lines, totals = final_sale_lines(order, store)
    assert totals.total == 2 * 129 + 349
    lines, totals = final_sale_lines(order, store, absorbed_shortfall=107)
    assert totals.total == 2 * 129 + 349 - 107
    assert totals.order_discount == 107
    assert sum(line.net for line in lines) == totals.total
    assert {line.discount_reason for line in lines} == {NOT_AUTHORISED_REASON}
    with pytest.raises(InvalidInput, match="not been picked"):
        final_sale_lines(_phone_order(()), store)
