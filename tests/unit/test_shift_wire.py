"""The shift events on the wire: each encodes to JSON the server's model parses, and the
models refuse a Z report or float whose figures do not add up."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.domain.events import SaleCompleted
from app.domain.ids import new_id
from app.domain.order import TenderKind
from app.domain.shift import (
    CashCount,
    CashMoved,
    CashMovement,
    CashMovementKind,
    Shift,
    ShiftClosed,
    ShiftOpened,
    close_z,
    final_z,
    z_figures,
)
from sync import protocol as p
from sync.wire import encode_event, wire_event
from tests.unit.test_shift import card, cash, sale

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SHIFT = Shift(new_id(), "T01", AT, "c1", CashCount.from_counts("EUR", {2000: 5, 50: 3}))


def test_shift_opened_carries_the_float_count() -> None:
    event = wire_event(ShiftOpened(SHIFT))
    assert isinstance(event, p.ShiftOpenedEvent)
    assert event.payload.float_amount == 10150
    assert event.payload.float_count == {"2000": 5, "50": 3}


def test_cash_moved_round_trips() -> None:
    move = CashMovement(
        new_id(), SHIFT.id, CashMovementKind.PAID_OUT, 1234, "window cleaner", "c1", None, AT
    )
    event = wire_event(CashMoved(move))
    assert isinstance(event, p.CashMovedEvent)
    assert (event.payload.kind, event.payload.amount) == ("paid_out", 1234)


def test_provisional_and_final_z_both_parse() -> None:
    orders = [
        sale(1, [(250, 2, "food")], [cash(1000)]),
        sale(2, [(1999, 1, "standard")], [card(1999)]),
    ]
    counted = CashCount.from_counts("EUR", {5000: 2})
    provisional = close_z(SHIFT, 3, AT + timedelta(hours=8), "c1", counted, orders, {orders[1].id})
    first = wire_event(ShiftClosed(new_id(), provisional))
    assert isinstance(first, p.ShiftClosedEvent)
    assert first.payload.status == "provisional"
    assert first.payload.waiting == ["T01-000002"]
    assert first.payload.difference == 10000 - (10150 + 500)
    final = final_z(provisional, z_figures(orders, float_amount=10150), AT + timedelta(hours=9))
    second = wire_event(ShiftClosed(new_id(), final))
    assert isinstance(second, p.ShiftClosedEvent)
    assert second.payload.status == "final" and second.payload.synced_after_close == ["T01-000002"]
    assert second.payload.figures.tenders[1].kind == TenderKind.CARD.value


def test_a_z_whose_difference_does_not_add_up_is_refused() -> None:
    report = close_z(SHIFT, 1, AT, "c1", CashCount.from_counts("EUR", {}), [], set())
    body = json.loads(encode_event(ShiftClosed(new_id(), report)).body)
    body["payload"]["difference"] += 1
    with pytest.raises(ValidationError, match="difference is not"):
        p.ShiftClosedEvent.model_validate(body)
    opened = json.loads(encode_event(ShiftOpened(SHIFT)).body)
    opened["payload"]["float_amount"] = 1
    with pytest.raises(ValidationError, match="float_amount is not the total"):
        p.ShiftOpenedEvent.model_validate(opened)


def test_a_sale_with_a_shift_names_it_and_one_without_is_unchanged() -> None:
    order = sale(1, [(250, 2, "food")], [cash(1000)])
    plain = json.loads(encode_event(SaleCompleted(order, AT)).body)
    assert "shift_id" not in plain["payload"]
    with_shift = replace(order, id=new_id(), shift_id=SHIFT.id)
    parsed = wire_event(SaleCompleted(with_shift, AT))
    assert isinstance(parsed, p.OrderPaidEvent)
    assert str(parsed.payload.shift_id) == SHIFT.id
