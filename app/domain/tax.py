"""Tax classes and the store's rate table."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class TaxRate:
    tax_class: str  # e.g. "food", "standard", "exempt"
    rate_bp: int  # basis points: 700 = 7 %
    label: str  # what the receipt prints, e.g. "VAT 7 %"

    def __post_init__(self) -> None:
        if not 0 <= self.rate_bp <= 10_000:
            raise InvalidInput(f"tax rate {self.rate_bp} bp is outside 0–100 %", field="rate_bp")


@dataclass(frozen=True, slots=True)
class TaxTable:
    """The store's tax configuration: one rate per class, and how shelf prices are meant."""

    rates: tuple[TaxRate, ...]
    prices_include_tax: bool = True

    def rate_for(self, tax_class: str) -> TaxRate:
        for rate in self.rates:
            if rate.tax_class == tax_class:
                return rate
        raise InvalidInput(f"unknown tax class {tax_class!r}", field="tax_class")

    def classes(self) -> tuple[str, ...]:
        return tuple(rate.tax_class for rate in self.rates)


DEFAULT_TAX_TABLE = TaxTable(
    rates=(
        TaxRate("food", 700, "VAT 7 %"),
        TaxRate("standard", 1900, "VAT 19 %"),
        TaxRate("exempt", 0, "VAT 0 %"),
    ),
    prices_include_tax=True,
)
