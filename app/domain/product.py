"""Products as the counter sells them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.domain.barcode import validate_barcode
from app.domain.errors import InvalidInput, InvalidPrice
from app.domain.money import MAX_AMOUNT
from app.domain.tax import DEFAULT_TAX_TABLE, TaxTable


class SoldBy(enum.StrEnum):
    EACH = "each"  # quantity is a count of units, price is per unit
    WEIGHT = "weight"  # quantity is grams, price is per kilogram


MAX_UNIT_PRICE = 10_000_00  # 10,000.00 per unit or per kg: above it is a typo
GRAMS_PER_KG = 1000


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    sku: str
    name: str
    unit_price: int  # minor units per unit, or per kg when sold by weight
    tax_class: str
    sold_by: SoldBy = SoldBy.EACH
    barcodes: tuple[str, ...] = ()
    brand: str = ""
    department: str = ""
    active: bool = True
    stock: int | None = None  # units, or grams when sold by weight; None = not tracked
    attributes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        check_product_fields(self.sku, self.name, self.unit_price, self.tax_class, self.barcodes)

    @classmethod
    def from_store(cls, **fields: object) -> Product:
        """Rebuild a product the store already validated, skipping the checks (hot path:
        every search result and scan goes through here)."""
        product = object.__new__(cls)
        for name in cls.__dataclass_fields__:
            object.__setattr__(product, name, fields[name])
        return product

    @property
    def by_weight(self) -> bool:
        return self.sold_by is SoldBy.WEIGHT


def check_product_fields(
    sku: str, name: str, unit_price: int, tax_class: str, barcodes: tuple[str, ...]
) -> None:
    check_sku(sku)
    check_name(name)
    check_unit_price(unit_price)
    check_tax_class(tax_class, taxes=None)
    for code in barcodes:
        validate_barcode(code)


# One check per field, so a caller that reports problems field by field (the server's
# product documents, a catalog file) applies exactly the rules a Product applies.


def check_sku(sku: str) -> None:
    if not sku or not sku.strip() or len(sku) > 64:
        raise InvalidInput("sku must be 1–64 characters", field="sku")


def check_name(name: str) -> None:
    if not name or not name.strip() or len(name) > 200:
        raise InvalidInput("name must be 1–200 characters", field="name")


def check_unit_price(unit_price: int) -> None:
    if not isinstance(unit_price, int) or isinstance(unit_price, bool):
        raise InvalidPrice("unit_price must be an integer of minor units", field="unit_price")
    if unit_price < 0:
        raise InvalidPrice(f"unit_price {unit_price} is negative", field="unit_price")
    if unit_price > MAX_UNIT_PRICE or unit_price > MAX_AMOUNT:
        raise InvalidPrice(f"unit_price {unit_price} is absurdly high", field="unit_price")


def check_tax_class(tax_class: str, taxes: TaxTable | None = DEFAULT_TAX_TABLE) -> None:
    """A class the till can price: required, and one of ``taxes`` (unless None)."""
    if not tax_class:
        raise InvalidInput("tax_class is required", field="tax_class")
    if taxes is not None:
        taxes.rate_for(tax_class)


def department_name(name: str) -> str:
    """A department as it is written down: spaces trimmed and single (``" Fruit  & Veg"``
    → ``"Fruit & Veg"``); the letters' case is the catalog's."""
    return " ".join(name.split())


def department_key(name: str) -> str:
    """The one rule that tells departments apart: case and spacing do not count, so
    "bakery", "Bakery" and " BAKERY " are one department."""
    return department_name(name).casefold()


def one_spelling_each(
    spellings: Iterable[tuple[str, int]], preferred: Iterable[str] = ()
) -> dict[str, str]:
    """The spelling to show for each department key, from ``(spelling, product count)``
    pairs: a ``preferred`` spelling (the server's catalog) wins, then the spelling most
    products carry, then the first in sort order."""
    chosen = {department_key(name): department_name(name) for name in preferred if name.strip()}
    counts: dict[str, dict[str, int]] = {}
    for name, count in spellings:
        if name.strip():
            by_spelling = counts.setdefault(department_key(name), {})
            shown = department_name(name)
            by_spelling[shown] = by_spelling.get(shown, 0) + count
    for key, by_spelling in counts.items():
        if key not in chosen:
            chosen[key] = min(by_spelling, key=lambda spelling: (-by_spelling[spelling], spelling))
    return chosen


def _amount(value: int, small: str, large: str) -> str:
    """``500`` g → ``500 g``; ``1500`` → ``1.5 kg`` (ml and L alike)."""
    if value >= 1000:
        whole, rest = divmod(value, 1000)
        return f"{whole}{f'.{rest:03d}'.rstrip('0') if rest else ''} {large}"
    return f"{value} {small}"


def size_text(product: Product) -> str:
    """The pack size a clerk tells two products apart by (``500 g``, ``1.5 L``, ``10 pcs``,
    ``per kg``), from the product's attributes; empty when the catalog gives none."""
    if product.by_weight:
        return "per kg"
    attributes = product.attributes
    pack = attributes.get("pack_size", "")
    for key, small, large in (("weight_g", "g", "kg"), ("volume_ml", "ml", "L")):
        value = str(attributes.get(key, ""))
        if value.isdigit() and int(value) > 0:
            size = _amount(int(value), small, large)
            if pack.isdigit() and int(pack) > 1 and int(value) % int(pack) == 0:
                size = f"{pack} × {_amount(int(value) // int(pack), small, large)}"
            return size
    count = str(attributes.get("count", ""))
    return f"{count} pcs" if count.isdigit() and int(count) > 1 else ""


def product_detail(product: Product) -> str:
    """Brand and size under a product's name in a list (``Roastery No. 5 · 1 kg``); a size
    the name already says is not repeated."""
    size = size_text(product)
    if size and size.casefold() in product.name.casefold():
        size = ""
    return " · ".join(part for part in (product.brand, size) if part)


def format_weight(grams: int) -> str:
    """``742`` → ``"0.742 kg"`` (always three decimals: scales weigh to the gram)."""
    kilos, rest = divmod(grams, GRAMS_PER_KG)
    return f"{kilos}.{rest:03d} kg"


def format_quantity(quantity: int, sold_by: str) -> str:
    """A line's quantity as a person reads it: ``3`` units, or ``0.742 kg`` when weighed."""
    return format_weight(quantity) if sold_by == SoldBy.WEIGHT else str(quantity)
