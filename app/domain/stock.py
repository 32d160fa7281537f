"""Stock movements: what a sale takes off the shelf, and what a void or a refund puts back.

The one rule for both sides: the till moves its local copy of tracked stock (units, or grams
for weighed products) with it so the register can warn before it runs out; the server
(server/orders) moves the store's stock levels with every order, void and refund it accepts,
and its figure replaces the till's with the next pull. Untracked products (stock ``None``)
are never changed by a movement at the till.

The functions take any order and refund with the fields they read (the till's domain
objects, the wire's models, the server's stored rows), so neither side converts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.domain.refund import ReturnedLine


class SoldLine(Protocol):
    """A line of a sale: how much of which product (units, or grams if weighed)."""

    @property
    def product_id(self) -> str: ...

    @property
    def quantity(self) -> int: ...


class ShelfLine(Protocol):
    """A numbered line of a sale, as a refund names it."""

    @property
    def line_no(self) -> int: ...

    @property
    def product_id(self) -> str: ...


class Sale(Protocol):
    @property
    def lines(self) -> Sequence[SoldLine]: ...


class NumberedSale(Protocol):
    @property
    def lines(self) -> Sequence[ShelfLine]: ...


class Return(Protocol):
    @property
    def lines(self) -> Sequence[ReturnedLine]: ...


@dataclass(frozen=True, slots=True)
class StockMovement:
    product_id: str
    change: int  # units or grams; negative leaves the shelf, positive comes back


StockChanges = dict[str, int]
"""Product id → how much of it moves (units or grams), one entry per product in first-seen
order (a product may be on several lines). The form a batch adds up without building an
object per movement (the server's push); ``movements`` turns it into ``StockMovement``s."""


def movements(changes: StockChanges) -> tuple[StockMovement, ...]:
    return tuple(StockMovement(pid, change) for pid, change in changes.items() if change)


def sale_changes(order: Sale) -> StockChanges:
    """Every sold quantity of a product leaves the shelf (an open-price line, of no product,
    moves nothing)."""
    total: StockChanges = {}
    for line in order.lines:
        if line.product_id:
            total[line.product_id] = total.get(line.product_id, 0) - line.quantity
    return total


def void_changes(order: Sale) -> StockChanges:
    """A voided sale's quantities come back (a sale that was partly refunded is not voided:
    its refunded lines came back already)."""
    return {product_id: -change for product_id, change in sale_changes(order).items()}


def refund_changes(order: NumberedSale, refund: Return) -> StockChanges:
    """The refunded quantities of ``order``'s lines come back; a refund by amount only
    (goodwill) moves nothing."""
    product_of = {line.line_no: line.product_id for line in order.lines}
    total: StockChanges = {}
    for line in refund.lines:
        product_id = product_of.get(line.line_no)
        if product_id:  # not an open-price line (of no product)
            total[product_id] = total.get(product_id, 0) + line.quantity
    return total


def sale_movements(order: Sale) -> tuple[StockMovement, ...]:
    return movements(sale_changes(order))


def void_movements(order: Sale) -> tuple[StockMovement, ...]:
    return movements(void_changes(order))


def refund_movements(order: NumberedSale, refund: Return) -> tuple[StockMovement, ...]:
    return movements(refund_changes(order, refund))
