"""Money as a person reads it: Babel, the currency's own decimals, the store's locale."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from app.domain.money import (
    MAX_AMOUNT,
    Money,
    currency_digits,
    format_minor,
    format_money,
    to_major,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("currency", "digits", "minor", "major"),
    [
        ("EUR", 2, 1234, Decimal("12.34")),
        ("JPY", 0, 1234, Decimal("1234")),
        ("KWD", 3, 1234, Decimal("1.234")),
        ("EUR", 2, -5, Decimal("-0.05")),
    ],
)
def test_minor_units_become_major_by_the_currencys_digits(
    currency: str, digits: int, minor: int, major: Decimal
) -> None:
    assert currency_digits(currency) == digits
    assert to_major(minor, currency) == major


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "text"),
    [
        (646, "EUR", "en_IE", "€6.46"),
        (646, "EUR", "de_DE", f"6,46{NBSP}€"),
        (123456, "JPY", "ja_JP", "￥123,456"),
        (123456, "JPY", "en_IE", "JP¥123,456"),
        (1234, "KWD", "en_IE", "KWD1.234"),
        (-1050, "EUR", "en_IE", "-€10.50"),
        (-1050, "EUR", "de_DE", f"-10,50{NBSP}€"),
        (-7, "KWD", "en_IE", "-KWD0.007"),
        (MAX_AMOUNT, "EUR", "en_IE", "€1,000,000,000.00"),
        (MAX_AMOUNT, "EUR", "de_DE", f"1.000.000.000,00{NBSP}€"),
        (0, "EUR", "en_IE", "€0.00"),
    ],
)
def test_format_money_writes_the_currency_as_the_locale_does(
    minor: int, currency: str, locale: str, text: str
) -> None:
    assert format_money(minor, currency, locale) == text


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "text"),
    [
        (109, "EUR", "en_IE", "1.09"),
        (-109, "EUR", "en_IE", "-1.09"),
        (129900, "EUR", "en_IE", "1299.00"),  # no grouping: receipt columns are narrow
        (646, "EUR", "de_DE", "6,46"),
        (1234, "JPY", "en_IE", "1234"),
        (1234, "KWD", "en_IE", "1.234"),
        (-1, "KWD", "en_IE", "-0.001"),
        (MAX_AMOUNT, "EUR", "en_IE", "1000000000.00"),
    ],
)
def test_format_minor_writes_the_number_alone(
    minor: int, currency: str, locale: str, text: str
) -> None:
    assert format_minor(minor, currency, locale) == text


def test_an_amount_for_a_person_is_never_formatted_without_a_currency() -> None:
    """No euro by default: a yen store's ¥1234 must not read "12.34"."""
    currency = inspect.signature(format_minor).parameters["currency"]
    assert currency.default is inspect.Parameter.empty
    with pytest.raises(TypeError):
        format_minor(1234)  # type: ignore[call-arg]
    assert format_minor(1234, "JPY") == "1234"


def test_euro_amounts_read_as_they_always_did() -> None:
    """Messages of a euro store keep their two-decimal look."""
    assert [format_minor(m, "EUR") for m in (0, 5, 109, -250, 100000)] == [
        "0.00",
        "0.05",
        "1.09",
        "-2.50",
        "1000.00",
    ]
    assert Money(109).format() == "1.09"
    assert str(Money(-109)) == "EUR -1.09"
    assert Money(1234, "KWD").format() == "1.234"


@pytest.mark.parametrize(
    ("currency", "locale", "names"),
    [("EUR", "xx_YY", "locale: 'xx_YY'"), ("QQQ", "en_IE", "currency: 'QQQ'")],
)
def test_an_unknown_locale_or_currency_is_refused_by_name(
    currency: str, locale: str, names: str
) -> None:
    with pytest.raises(ValueError, match=names):
        format_money(100, currency, locale)
    with pytest.raises(ValueError, match=names):
        format_minor(100, currency, locale)
