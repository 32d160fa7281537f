"""The sale being rung up, and the pricing of it (see docs/money.md for the rules)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from app.domain.errors import InvalidDiscount, InvalidInput, InvalidQuantity, PermissionDenied
from app.domain.money import (
    BASIS_POINTS,
    allocate,
    apply_basis_points,
    round_half_up,
    tax_included_in,
)
from app.domain.product import GRAMS_PER_KG, Product, SoldBy
from app.domain.tax import TaxTable

MAX_EACH_QUANTITY = 9_999
MAX_GRAMS = 100_000  # 100 kg on one line
# No open-price line above this (10,000.00), approved or not: a typed price that large is a
# slip of the finger (two zeros too many), not goods without a barcode.
MAX_OPEN_PRICE = 1_000_000
OPEN_PRICE_SUFFIX = " (open price)"


class DiscountKind(enum.StrEnum):
    PERCENT = "percent"  # value in basis points (1000 = 10 %)
    AMOUNT = "amount"  # value in minor units


@dataclass(frozen=True, slots=True)
class Discount:
    kind: DiscountKind
    value: int
    reason: str = ""
    # The manager who approved it with their PIN (app.services.discounts), when it is above
    # what a clerk may give on their own.
    approver_id: str = ""
    approver_name: str = ""

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise InvalidDiscount("a discount must be greater than zero", field="discount")
        if self.kind is DiscountKind.PERCENT and self.value > BASIS_POINTS:
            raise InvalidDiscount("a percent discount cannot exceed 100 %", field="discount")

    def amount_off(self, base: int) -> int:
        """Minor units taken off ``base``; never more than ``base``."""
        if self.kind is DiscountKind.PERCENT:
            return min(base, apply_basis_points(base, self.value))
        return min(base, self.value)

    def percent_of(self, base: int) -> int:
        """The discount as basis points of ``base`` (used for manager-approval thresholds)."""
        if base <= 0:
            return 0
        return (
            self.value if self.kind is DiscountKind.PERCENT else self.value * BASIS_POINTS // base
        )


class DiscountNeedsApproval(PermissionDenied):
    """A discount above the store's threshold without a manager's approval."""

    code = "discount_needs_approval"


class OpenPriceNeedsApproval(PermissionDenied):
    """An open-price item above the store's limit without a manager's approval."""

    code = "open_price_needs_approval"


def open_price_needs_approval(unit_price: int, limit: int) -> bool:
    """An open price above the store's limit (StoreProfile.open_price_approval_limit) needs a
    manager's PIN."""
    return unit_price > limit


def check_open_price(department: str, unit_price: int) -> None:
    """What any open-price item must be: a department named, a price above 0 and at most
    MAX_OPEN_PRICE (in minor units)."""
    if not department.strip():
        raise InvalidInput("choose the department of the item", field="department")
    if not isinstance(unit_price, int) or isinstance(unit_price, bool) or unit_price <= 0:
        raise InvalidInput("an open price must be more than 0", field="price")
    if unit_price > MAX_OPEN_PRICE:
        raise InvalidInput(
            f"an open price of {unit_price} is more than the most one item may cost "
            f"({MAX_OPEN_PRICE})",
            field="price",
        )


def percent_text(basis_points: int) -> str:
    """Basis points as a person reads them: 2000 → "20 %", 1250 → "12.50 %"."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole} %" if not rest else f"{whole}.{rest:02d} %"


def needs_approval(discount: Discount, base: int, threshold_bp: int) -> bool:
    """A discount above ``threshold_bp`` of what it is taken off needs a manager's PIN."""
    return discount.percent_of(base) > threshold_bp


@dataclass(frozen=True, slots=True)
class CartLine:
    line_id: int
    product_id: str
    sku: str
    name: str
    unit_price: int
    tax_class: str
    sold_by: SoldBy
    quantity: int  # units, or grams when sold by weight
    discount: Discount | None = None
    # An open-price item above the store's limit: the manager who approved its price.
    approver_id: str = ""
    approver_name: str = ""

    @property
    def gross(self) -> int:
        return line_gross(self.sold_by, self.quantity, self.unit_price)

    @property
    def is_open_price(self) -> bool:
        """Goods without a barcode, sold at a typed price: a line of no product."""
        return not self.product_id


def line_gross(sold_by: str, quantity: int, unit_price: int) -> int:
    """Unit price × quantity; by weight: price per kg × grams / 1000, rounded half up."""
    if sold_by == SoldBy.WEIGHT:
        return round_half_up(unit_price * quantity, GRAMS_PER_KG)
    return unit_price * quantity


# The most one line may hold, by how the product is sold (str keys work too: a StrEnum).
QUANTITY_LIMITS: dict[str, int] = {SoldBy.EACH: MAX_EACH_QUANTITY, SoldBy.WEIGHT: MAX_GRAMS}


def check_quantity(sold_by: SoldBy, quantity: int) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise InvalidQuantity("quantity must be a whole number", field="quantity")
    if quantity <= 0:
        unit = "grams" if sold_by is SoldBy.WEIGHT else "units"
        raise InvalidQuantity(f"quantity must be more than 0 {unit}", field="quantity")
    limit = QUANTITY_LIMITS[sold_by]
    if quantity > limit:
        unit = "g" if sold_by is SoldBy.WEIGHT else "units"
        raise InvalidQuantity(f"quantity {quantity} {unit} is more than {limit}", field="quantity")


@dataclass(frozen=True, slots=True)
class LineTotal:
    line_id: int
    gross: int
    line_discount: int
    order_discount_share: int
    net: int  # what the customer pays for the line (gross − both discounts)
    tax_class: str
    tax_rate_bp: int


@dataclass(frozen=True, slots=True)
class TaxBreakdownEntry:
    tax_class: str
    label: str
    rate_bp: int
    taxable: int  # sum of the class's line nets (as shelf prices are meant)
    tax: int


@dataclass(frozen=True, slots=True)
class CartTotals:
    lines: tuple[LineTotal, ...]
    subtotal: int  # Σ gross − line discounts
    line_discount_total: int
    order_discount: int
    tax: tuple[TaxBreakdownEntry, ...]
    tax_total: int
    total: int  # what the customer owes

    @property
    def discount_total(self) -> int:
        return self.line_discount_total + self.order_discount


def price_lines(
    lines: tuple[CartLine, ...], order_discount: Discount | None, taxes: TaxTable
) -> CartTotals:
    """Price a cart. The rules, in order (docs/money.md):

    1. line gross = unit price × quantity; by weight: round_half_up(price/kg × grams / 1000);
    2. line discount taken off the gross (percent rounded half up), never below zero;
    3. order discount on the subtotal, spread over lines by largest remainder;
    4. tax per tax class on the sum of that class's nets, rounded once per class;
    5. total = Σ nets (tax-inclusive prices) or Σ nets + Σ tax (tax-exclusive prices).
    """
    grosses = [line.gross for line in lines]
    line_discounts = [
        line.discount.amount_off(gross) if line.discount else 0
        for line, gross in zip(lines, grosses, strict=True)
    ]
    after_line = [g - d for g, d in zip(grosses, line_discounts, strict=True)]
    subtotal = sum(after_line)
    order_off = order_discount.amount_off(subtotal) if order_discount else 0
    shares = allocate(order_off, after_line)
    line_totals: list[LineTotal] = []
    taxable_by_class: dict[str, int] = {}
    for line, gross, line_off, share, base in zip(
        lines, grosses, line_discounts, shares, after_line, strict=True
    ):
        rate = taxes.rate_for(line.tax_class)
        net = base - share
        line_totals.append(
            LineTotal(line.line_id, gross, line_off, share, net, line.tax_class, rate.rate_bp)
        )
        taxable_by_class[line.tax_class] = taxable_by_class.get(line.tax_class, 0) + net
    breakdown: list[TaxBreakdownEntry] = []
    for rate in taxes.rates:
        if rate.tax_class not in taxable_by_class:
            continue
        taxable = taxable_by_class[rate.tax_class]
        if taxes.prices_include_tax:
            tax = tax_included_in(taxable, rate.rate_bp)
        else:
            tax = apply_basis_points(taxable, rate.rate_bp)
        breakdown.append(TaxBreakdownEntry(rate.tax_class, rate.label, rate.rate_bp, taxable, tax))
    tax_total = sum(entry.tax for entry in breakdown)
    net_total = subtotal - order_off
    total = net_total if taxes.prices_include_tax else net_total + tax_total
    return CartTotals(
        lines=tuple(line_totals),
        subtotal=subtotal,
        line_discount_total=sum(line_discounts),
        order_discount=order_off,
        tax=tuple(breakdown),
        tax_total=tax_total,
        total=total,
    )


@dataclass(frozen=True, slots=True)
class Cart:
    """An immutable cart: every change returns a new cart (easy to park, undo and test)."""

    currency: str = "EUR"
    lines: tuple[CartLine, ...] = ()
    order_discount: Discount | None = None
    next_line_id: int = 1
    # The id the order will have, fixed once payment starts (a card attempt names it).
    order_id: str = ""

    def with_order_id(self, order_id: str) -> Cart:
        return self if self.order_id else replace(self, order_id=order_id)

    def add(self, product: Product, quantity: int | None = None) -> Cart:
        """Add a product. Each-items merge into an existing undiscounted line of the same product."""
        if quantity is None:
            if product.sold_by is SoldBy.WEIGHT:
                raise InvalidQuantity(
                    f"{product.name} is sold by weight: enter the weight in grams", field="quantity"
                )
            quantity = 1
        check_quantity(product.sold_by, quantity)
        if product.sold_by is SoldBy.EACH:
            for line in self.lines:
                if line.product_id == product.id and line.discount is None:
                    return self.set_quantity(line.line_id, line.quantity + quantity)
        line = CartLine(
            line_id=self.next_line_id,
            product_id=product.id,
            sku=product.sku,
            name=product.name,
            unit_price=product.unit_price,
            tax_class=product.tax_class,
            sold_by=product.sold_by,
            quantity=quantity,
        )
        return replace(self, lines=(*self.lines, line), next_line_id=self.next_line_id + 1)

    def add_open_price(
        self,
        department: str,
        unit_price: int,
        tax_class: str,
        *,
        approver_id: str = "",
        approver_name: str = "",
    ) -> Cart:
        """Goods without a barcode: one unit at a typed price, named after its department.
        The line has no product (no id, no sku), so it never merges and moves no stock."""
        check_open_price(department, unit_price)
        line = CartLine(
            line_id=self.next_line_id,
            product_id="",
            sku="",
            name=f"{department.strip()}{OPEN_PRICE_SUFFIX}",
            unit_price=unit_price,
            tax_class=tax_class,
            sold_by=SoldBy.EACH,
            quantity=1,
            approver_id=approver_id,
            approver_name=approver_name,
        )
        return replace(self, lines=(*self.lines, line), next_line_id=self.next_line_id + 1)

    def unapproved_open_prices(self, limit: int) -> list[CartLine]:
        """Open-price lines above ``limit`` that no manager approved."""
        return [
            line
            for line in self.lines
            if line.is_open_price
            and not line.approver_id
            and open_price_needs_approval(line.unit_price, limit)
        ]

    def line(self, line_id: int) -> CartLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise InvalidQuantity(f"there is no line {line_id} in this sale", field="line_id")

    def _replace_line(self, new: CartLine) -> Cart:
        return replace(
            self, lines=tuple(new if ln.line_id == new.line_id else ln for ln in self.lines)
        )

    def set_quantity(self, line_id: int, quantity: int) -> Cart:
        line = self.line(line_id)
        check_quantity(line.sold_by, quantity)
        return self._replace_line(replace(line, quantity=quantity))

    def remove(self, line_id: int) -> Cart:
        self.line(line_id)
        return replace(self, lines=tuple(ln for ln in self.lines if ln.line_id != line_id))

    def with_price(
        self, line_id: int, unit_price: int, *, approver_id: str, approver_name: str
    ) -> Cart:
        """Line ``line_id`` at another unit price, marked with the manager who approved it
        (app.services.checkout.override_price)."""
        line = self.line(line_id)
        return self._replace_line(
            replace(
                line, unit_price=unit_price, approver_id=approver_id, approver_name=approver_name
            )
        )

    def set_line_discount(self, line_id: int, discount: Discount | None) -> Cart:
        line = self.line(line_id)
        if discount and discount.kind is DiscountKind.AMOUNT and discount.value > line.gross:
            raise InvalidDiscount(
                f"a discount of {discount.value} is more than the line's {line.gross}",
                field="discount",
            )
        return self._replace_line(replace(line, discount=discount))

    @property
    def subtotal_after_line_discounts(self) -> int:
        """What an order discount is taken off."""
        return sum(
            ln.gross - (ln.discount.amount_off(ln.gross) if ln.discount else 0) for ln in self.lines
        )

    def discount_base(self, line_id: int | None) -> int:
        """What a discount of line ``line_id`` (None: of the whole sale) is taken off."""
        return self.subtotal_after_line_discounts if line_id is None else self.line(line_id).gross

    def with_discount(self, discount: Discount | None, line_id: int | None) -> Cart:
        """The discount on line ``line_id``, or on the whole sale when it is None."""
        if line_id is None:
            return self.set_order_discount(discount)
        return self.set_line_discount(line_id, discount)

    def discounts(self) -> list[tuple[int | None, Discount]]:
        """(line id or None for the whole sale, discount) of every discount, lines first."""
        found: list[tuple[int | None, Discount]] = [
            (ln.line_id, ln.discount) for ln in self.lines if ln.discount
        ]
        if self.order_discount:
            found.append((None, self.order_discount))
        return found

    def unapproved_discounts(self, threshold_bp: int) -> list[tuple[int | None, Discount]]:
        """(line id or None for the whole sale, discount) above the threshold that no manager
        approved."""
        return [
            (line_id, discount)
            for line_id, discount in self.discounts()
            if not discount.approver_id
            and needs_approval(discount, self.discount_base(line_id), threshold_bp)
        ]

    def set_order_discount(self, discount: Discount | None) -> Cart:
        if discount and discount.kind is DiscountKind.AMOUNT:
            subtotal = self.subtotal_after_line_discounts
            if discount.value > subtotal:
                raise InvalidDiscount(
                    f"an order discount of {discount.value} is more than the subtotal {subtotal}",
                    field="discount",
                )
        return replace(self, order_discount=discount)

    def totals(self, taxes: TaxTable) -> CartTotals:
        return price_lines(self.lines, self.order_discount, taxes)

    @property
    def is_empty(self) -> bool:
        return not self.lines
