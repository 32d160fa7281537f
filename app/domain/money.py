"""Money as integer minor units with a currency, and the one rounding rule.

See docs/money.md. No float ever enters here: amounts are ``int`` minor units (cents),
rates are ``int`` basis points (1 bp = 0.01 %), weights are ``int`` grams.
``Decimal`` is used only to parse what a person types and to format what a person reads.
Formatting for a person is Babel's, in the store's currency (with that currency's own number
of decimals: JPY 0, EUR 2, KWD 3) and locale: ``format_money`` and ``format_minor`` are the
only two ways an amount becomes text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from app.domain.errors import CurrencyMismatch, InvalidPrice

if TYPE_CHECKING:
    from babel import Locale

MAX_AMOUNT = 10**11  # 1 billion in major units: anything larger is a typo, not a price.
BASIS_POINTS = 10_000  # 100 %
DEFAULT_LOCALE = "en_IE"  # how amounts read without a store's locale: English, euro area


def round_half_up(numerator: int, denominator: int) -> int:
    """Divide two integers and round half away from zero. The shop's only rounding rule.

    ``round_half_up(5, 2) == 3``, ``round_half_up(-5, 2) == -3``, ``round_half_up(7, 3) == 2``.
    """
    if denominator == 0:
        raise ZeroDivisionError("round_half_up by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def apply_basis_points(amount: int, basis_points: int) -> int:
    """``amount × basis_points / 10 000``, rounded half up (e.g. a 7 % rate is 700 bp)."""
    return round_half_up(amount * basis_points, BASIS_POINTS)


def tax_included_in(gross: int, rate_bp: int) -> int:
    """The tax contained in a tax-inclusive ``gross`` amount: gross × r / (1 + r), rounded."""
    return round_half_up(gross * rate_bp, BASIS_POINTS + rate_bp)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` over ``weights`` proportionally so the parts add up exactly.

    Largest-remainder method: each part is floored, then the leftover units go one each to
    the parts with the largest remainders (earliest first on a tie). Used to spread an order
    discount over its lines so tax can be computed per tax class on discounted amounts.
    """
    if total < 0:
        raise ValueError("allocate() takes a non-negative total")
    weight_sum = sum(weights)
    if weight_sum == 0:
        parts = [0] * len(weights)
        if parts:
            parts[0] = total
        return parts
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        floors[i] += 1
    return floors


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in integer minor units of one currency."""

    minor: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"Money needs an int of minor units, got {type(self.minor).__name__}")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"currency must be a 3-letter ISO code, got {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def is_zero(self) -> bool:
        return self.minor == 0

    def format(self, locale: str = DEFAULT_LOCALE) -> str:
        """``1.09`` style, for a person to read (sign kept, the currency's decimals)."""
        return format_minor(self.minor, self.currency, locale)

    def __str__(self) -> str:
        return f"{self.currency} {self.format()}"


# ------------------------------------------------------------------------- for a person to read


@cache
def _locale(tag: str) -> Locale:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(tag)
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"locale: {tag!r} is not a locale Babel knows (e.g. en_IE, de_DE)"
        ) from None


@cache
def currency_digits(currency: str) -> int:
    """How many decimals ``currency``'s minor unit has (CLDR, through Babel): EUR 2, JPY 0,
    KWD 3. An unknown code is refused, not guessed."""
    from babel.numbers import get_currency_precision, is_currency

    if not is_currency(currency):
        raise ValueError(f"currency: {currency!r} is not an ISO 4217 currency")
    return int(get_currency_precision(currency))


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units as an exact ``Decimal`` of major units: ``to_major(1234, "KWD") == 1.234``."""
    digits = currency_digits(currency)
    return Decimal(minor).scaleb(-digits) if digits else Decimal(minor)


@lru_cache(maxsize=8192)
def format_money(minor: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """An amount as the store's customers read it, with the currency's sign and decimals:
    ``€6.46`` (en_IE), ``6,46 €`` (de_DE), ``¥1,234`` (JPY), ``KWD1.234``, ``-€1,000,000.00``."""
    from babel.numbers import format_currency

    return format_currency(to_major(minor, currency), currency, locale=_locale(locale))


@lru_cache(maxsize=8192)
def format_minor(minor: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """The number alone, for columns next to a currency named once (receipts, tables,
    messages): ``6.46`` / ``-1234.56`` (EUR), ``1234`` (JPY), ``1.234`` (KWD), ``6,46`` (de_DE).
    The currency's decimals, the locale's decimal sign, no grouping (receipts are narrow)."""
    from babel.numbers import format_currency

    digits = currency_digits(currency)
    pattern = "0." + "0" * digits if digits else "0"
    return format_currency(
        to_major(minor, currency),
        currency,
        format=pattern,
        locale=_locale(locale),
        currency_digits=True,
        group_separator=False,
    )


def parse_amount(text: str, *, field: str = "amount", allow_negative: bool = False) -> int:
    """Parse what a person typed (``"3.2"``, ``"3,20"``, ``"1 299.00"``) into minor units.

    Refuses more than two decimals, non-numbers, negatives (unless allowed) and absurd sizes
    with a message that names the field.
    """
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidPrice(f"{field}: {text!r} is not an amount", field=field) from None
    if not value.is_finite():
        raise InvalidPrice(f"{field}: {text!r} is not an amount", field=field)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidPrice(f"{field}: {text!r} has more than two decimals", field=field)
    minor = int(value * 100)
    if minor < 0 and not allow_negative:
        raise InvalidPrice(f"{field}: {text!r} is negative", field=field)
    if abs(minor) > MAX_AMOUNT:
        raise InvalidPrice(f"{field}: {text!r} is too large to be a price", field=field)
    return minor
