"""Money arithmetic and the one rounding rule (docs/money.md)."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import CurrencyMismatch, InvalidPrice
from app.domain.money import (
    Money,
    allocate,
    apply_basis_points,
    format_minor,
    parse_amount,
    round_half_up,
    tax_included_in,
)


def decimal_half_up(numerator: int, denominator: int) -> int:
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (-5, 2, -3), (7, 3, 2), (8, 3, 3), (1, 2, 1), (-1, 2, -1), (4, 2, 2), (0, 7, 0)],
)
def test_round_half_up_rounds_halves_away_from_zero(numerator, denominator, expected):
    assert round_half_up(numerator, denominator) == expected


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_round_half_up_matches_decimal_half_up(numerator, denominator):
    assert round_half_up(numerator, denominator) == decimal_half_up(numerator, denominator)


def test_round_half_up_refuses_division_by_zero():
    with pytest.raises(ZeroDivisionError):
        round_half_up(1, 0)


def test_rates_are_basis_points_rounded_once():
    assert apply_basis_points(1000, 700) == 70  # 7 % of 10.00
    assert apply_basis_points(5, 1000) == 1  # 10 % of 0.05 = 0.005 → 0.01
    assert tax_included_in(107, 700) == 7  # 1.07 gross at 7 % holds 0.07 VAT
    assert tax_included_in(119, 1900) == 19


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_allocate_parts_add_up_exactly_and_never_go_negative(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    if sum(weights):
        for part, weight in zip(parts, weights, strict=True):
            exact = total * weight / sum(weights)
            assert abs(part - exact) < 1 + 1e-9


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(CurrencyMismatch):
        Money(100, "EUR") + Money(100, "USD")
    assert Money(150) + Money(50) == Money(200)
    assert (Money(150) * 3).minor == 450
    assert Money(-5).format() == "-0.05"


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("3.2", 320), ("3,20", 320), (" 1 299.00 ", 129900), ("0.05", 5), ("12", 1200)],
)
def test_parse_amount_reads_what_a_person_types(typed, minor):
    assert parse_amount(typed) == minor


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("abc", "not an amount"),
        ("1.234", "more than two decimals"),
        ("-3", "negative"),
        ("1e12", "too large"),
        ("NaN", "not an amount"),
        ("", "not an amount"),
    ],
)
def test_parse_amount_names_what_is_wrong(typed, reason):
    with pytest.raises(InvalidPrice, match=reason) as caught:
        parse_amount(typed, field="price")
    assert caught.value.field == "price"


@given(st.integers(-(10**10), 10**10))
def test_format_then_parse_round_trips(minor):
    assert parse_amount(format_minor(minor, "EUR"), allow_negative=True) == minor
