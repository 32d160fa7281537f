"""Tenders, change and the order state machine."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import IllegalTransition, InvalidInput, TenderShortfall
from app.domain.ids import uuid7
from app.domain.order import (
    OrderStatus,
    TenderInput,
    TenderKind,
    check_transition,
    format_receipt_no,
    settle_tenders,
)

CASH, CARD, LATER = TenderKind.CASH, TenderKind.CARD, TenderKind.PAY_LATER


def test_cash_over_the_total_gives_change():
    (tender,) = settle_tenders(646, [TenderInput(CASH, 1000)], currency="EUR")
    assert (tender.amount, tender.tendered, tender.change) == (646, 1000, 354)


def test_split_tender_card_then_cash():
    tenders = settle_tenders(
        2500, [TenderInput(CARD, 2000), TenderInput(CASH, 1000)], currency="EUR"
    )
    assert [(t.kind, t.amount, t.change) for t in tenders] == [(CARD, 2000, 0), (CASH, 500, 500)]


def test_tenders_that_do_not_cover_the_total_are_refused_naming_the_shortfall():
    with pytest.raises(TenderShortfall, match=r"1\.46 still due"):
        settle_tenders(646, [TenderInput(CASH, 500)], currency="EUR")


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        ("JPY", "tendered 1000 does not cover the total 1234: 234 still due"),
        ("KWD", "tendered 1.000 does not cover the total 1.234: 0.234 still due"),
        ("EUR", "tendered 10.00 does not cover the total 12.34: 2.34 still due"),
    ],
)
def test_a_shortfall_is_named_in_the_stores_currency(currency, message):
    with pytest.raises(TenderShortfall) as refused:
        settle_tenders(1234, [TenderInput(CASH, 1000)], currency=currency)
    assert refused.value.message == message


def test_card_cannot_exceed_the_total():
    with pytest.raises(InvalidInput, match="only cash"):
        settle_tenders(646, [TenderInput(CARD, 1000)], currency="EUR")


@given(
    st.integers(1, 10**7),
    st.lists(
        st.tuples(st.sampled_from([CASH, CARD, LATER]), st.integers(1, 10**7)),
        min_size=1,
        max_size=5,
    ),
)
def test_change_is_never_negative_and_tenders_pay_exactly_the_total(total, raw):
    inputs = [TenderInput(kind, amount) for kind, amount in raw]
    try:
        tenders = settle_tenders(total, inputs, currency="EUR")
    except (TenderShortfall, InvalidInput):
        non_cash = sum(a for k, a in raw if k is not CASH)
        assert non_cash > total or sum(a for _, a in raw) < total
        return
    assert sum(t.amount for t in tenders) == total
    assert all(t.change >= 0 and t.amount >= 0 for t in tenders)
    assert all(t.change == 0 for t in tenders if t.kind is not CASH)
    assert sum(t.change for t in tenders) == sum(a for _, a in raw) - total


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OrderStatus.OPEN, OrderStatus.PAID),
        (OrderStatus.OPEN, OrderStatus.VOIDED),
        (OrderStatus.PAID, OrderStatus.VOIDED),
        (OrderStatus.PAID, OrderStatus.REFUNDED),
    ],
)
def test_legal_transitions_pass(current, target):
    check_transition("T01-000001", current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OrderStatus.PAID, OrderStatus.OPEN),
        (OrderStatus.PAID, OrderStatus.PAID),
        (OrderStatus.VOIDED, OrderStatus.PAID),
        (OrderStatus.REFUNDED, OrderStatus.PAID),
        (OrderStatus.OPEN, OrderStatus.REFUNDED),
        (OrderStatus.REFUNDED, OrderStatus.VOIDED),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_error(current, target):
    with pytest.raises(
        IllegalTransition, match=f"is {current.value}; it cannot become {target.value}"
    ):
        check_transition("T01-000042", current, target)


def test_receipt_numbers_carry_the_terminal_code():
    assert format_receipt_no("T03", 123) == "T03-000123"


def test_uuid7_is_version_7_and_time_ordered():
    first = uuid7(unix_ms=1_700_000_000_000)
    later = uuid7(unix_ms=1_700_000_000_001)
    assert first.version == 7 and first.variant == uuid.RFC_4122
    assert str(first) < str(later)
    ms = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert uuid7(unix_ms=ms).int >> 80 == ms
