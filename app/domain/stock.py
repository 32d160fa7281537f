"""Stock movements: what a sale takes off the shelf and what a refund puts back.

The till keeps a local copy of tracked stock (units, or grams for weighed products) so the
register can warn before it runs out; the server's figure arrives with the next pull and
replaces it. Untracked products (stock ``None``) are never changed by a movement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.order import Order
from app.domain.refund import Refund


@dataclass(frozen=True, slots=True)
class StockMovement:
    product_id: str
    change: int  # units or grams; negative leaves the shelf, positive comes back


def _merged(moves: Iterable[tuple[str, int]]) -> tuple[StockMovement, ...]:
    """One movement per product, in first-seen order (a product may be on several lines)."""
    total: dict[str, int] = {}
    for product_id, change in moves:
        total[product_id] = total.get(product_id, 0) + change
    return tuple(StockMovement(pid, change) for pid, change in total.items() if change)


def sale_movements(order: Order) -> tuple[StockMovement, ...]:
    """Every sold quantity leaves the shelf."""
    return _merged((line.product_id, -line.quantity) for line in order.lines)


def refund_movements(order: Order, refund: Refund) -> tuple[StockMovement, ...]:
    """The refunded quantities of ``order``'s lines come back; a refund by amount only
    (goodwill) moves nothing."""
    product_of = {line.line_no: line.product_id for line in order.lines}
    return _merged(
        (product_of[line.line_no], line.quantity)
        for line in refund.lines
        if line.line_no in product_of
    )
