"""The arithmetic a finished order must satisfy, checked where an order arrives from elsewhere.

The till prices a sale with ``app.domain.cart.price_lines``; the server receives the result
(a till's push today; phone orders and the web shop later) and checks here that its numbers
agree with the same rules: line gross from ``line_gross``, the quantity limits of
``check_quantity``, net = gross − discounts, the totals, and tenders that pay exactly the total.

The check reads an order through the small read-only shapes below, so the wire models of
``sync.protocol`` and the domain's own ``Order`` both pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.domain.cart import MAX_OPEN_PRICE, QUANTITY_LIMITS, check_quantity, line_gross
from app.domain.errors import InvalidQuantity
from app.domain.order import TenderKind
from app.domain.product import SoldBy

# The most a line may hold whatever it is sold by (the wire's bound; each line is then held
# to its own sold_by's limit by check_quantity).
MAX_LINE_QUANTITY = max(QUANTITY_LIMITS.values())


class PricedLine(Protocol):
    @property
    def line_no(self) -> int: ...
    @property
    def product_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def sold_by(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> int: ...
    @property
    def gross(self) -> int: ...
    @property
    def line_discount(self) -> int: ...
    @property
    def order_discount_share(self) -> int: ...
    @property
    def net(self) -> int: ...


class TaxLine(Protocol):
    @property
    def tax(self) -> int: ...


class PaidTender(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def tendered(self) -> int: ...
    @property
    def change(self) -> int: ...


class PricedOrder(Protocol):
    @property
    def lines(self) -> Sequence[PricedLine]: ...
    @property
    def tax(self) -> Sequence[TaxLine]: ...
    @property
    def tenders(self) -> Sequence[PaidTender]: ...
    @property
    def subtotal(self) -> int: ...
    @property
    def discount_total(self) -> int: ...
    @property
    def tax_total(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def prices_include_tax(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """An order whose numbers do not add up; ``field`` points at the first wrong one."""

    reason: str
    message: str
    field: str


def _check_open_price_line(i: int, line: PricedLine) -> Inconsistency | None:
    """A line of no product is an open-price item: one unit, sold by the unit, at a price
    within MAX_OPEN_PRICE, and no sku."""
    if line.sku:
        return Inconsistency(
            "open_price_line_invalid", "a line with a sku needs its product_id", f"lines[{i}]"
        )
    if line.sold_by != SoldBy.EACH or line.quantity != 1:
        return Inconsistency(
            "open_price_line_invalid",
            "an open-price line (no product_id) is one unit, sold by the unit",
            f"lines[{i}].quantity",
        )
    if not 0 < line.unit_price <= MAX_OPEN_PRICE:
        return Inconsistency(
            "open_price_line_invalid",
            f"an open price is more than 0 and at most {MAX_OPEN_PRICE}",
            f"lines[{i}].unit_price",
        )
    return None


def _check_line(i: int, line: PricedLine) -> Inconsistency | None:
    if not line.product_id:
        problem = _check_open_price_line(i, line)
        if problem is not None:
            return problem
    # The quick test first (this runs for every line pushed); check_quantity has the words.
    if not 0 < line.quantity <= QUANTITY_LIMITS[line.sold_by]:
        try:
            check_quantity(SoldBy(line.sold_by), line.quantity)
        except InvalidQuantity as error:
            return Inconsistency("invalid_quantity", error.message, f"lines[{i}].quantity")
    expected = line_gross(line.sold_by, line.quantity, line.unit_price)
    if line.gross != expected:
        return Inconsistency(
            "line_gross_mismatch",
            f"gross {line.gross} is not unit_price × quantity = {expected}",
            f"lines[{i}].gross",
        )
    if line.net != line.gross - line.line_discount - line.order_discount_share:
        return Inconsistency(
            "line_net_mismatch",
            f"net {line.net} is not gross − line_discount − order_discount_share",
            f"lines[{i}].net",
        )
    return None


def _check_tenders(order: PricedOrder) -> Inconsistency | None:
    for i, tender in enumerate(order.tenders):
        if tender.tendered - tender.change != tender.amount:
            return Inconsistency(
                "tender_mismatch",
                f"tendered {tender.tendered} − change {tender.change} is not amount "
                f"{tender.amount}",
                f"tenders[{i}].amount",
            )
        if tender.change and tender.kind != TenderKind.CASH:
            return Inconsistency(
                "tender_mismatch", "only cash gives change", f"tenders[{i}].change"
            )
    paid = sum(t.amount for t in order.tenders)
    if paid != order.total:
        return Inconsistency(
            "tenders_do_not_cover_total",
            f"tenders add up to {paid}, the total is {order.total}",
            "tenders",
        )
    return None


def check_order_consistency(order: PricedOrder) -> Inconsistency | None:
    """The first way in which the order's numbers contradict each other, or None."""
    seen: set[int] = set()
    for i, line in enumerate(order.lines):
        if line.line_no in seen:
            return Inconsistency(
                "duplicate_line_no", f"line_no {line.line_no} appears twice", f"lines[{i}].line_no"
            )
        seen.add(line.line_no)
        problem = _check_line(i, line)
        if problem is not None:
            return problem
    subtotal = sum(ln.gross - ln.line_discount for ln in order.lines)
    if order.subtotal != subtotal:
        return Inconsistency(
            "subtotal_mismatch",
            f"subtotal {order.subtotal} is not Σ(gross − line_discount) = {subtotal}",
            "subtotal",
        )
    discounts = sum(ln.line_discount + ln.order_discount_share for ln in order.lines)
    if order.discount_total != discounts:
        return Inconsistency(
            "discount_total_mismatch",
            f"discount_total {order.discount_total} is not the lines' discounts {discounts}",
            "discount_total",
        )
    tax_total = sum(entry.tax for entry in order.tax)
    if order.tax and order.tax_total != tax_total:
        return Inconsistency(
            "tax_total_mismatch",
            f"tax_total {order.tax_total} is not Σ tax = {tax_total}",
            "tax_total",
        )
    net_total = sum(ln.net for ln in order.lines)
    expected_total = net_total if order.prices_include_tax else net_total + order.tax_total
    if order.total != expected_total:
        return Inconsistency(
            "total_mismatch",
            f"total {order.total} is not {expected_total} (Σ line net"
            f"{'' if order.prices_include_tax else ' + tax_total'})",
            "total",
        )
    return _check_tenders(order)
