"""Stock movements of sales and refunds (app.domain.stock)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.order import Order, OrderLine, OrderStatus
from app.domain.product import SoldBy
from app.domain.refund import Refund, RefundLine, RefundState
from app.domain.stock import StockMovement, refund_movements, sale_movements

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def line(no: int, product_id: str, quantity: int, sold_by: SoldBy = SoldBy.EACH) -> OrderLine:
    return OrderLine(
        no,
        product_id,
        product_id.upper(),
        product_id,
        sold_by,
        quantity,
        100,
        100,
        0,
        0,
        100,
        "food",
        700,
    )


ORDER = Order(
    id="o1",
    receipt_no="T01-000001",
    terminal_code="T01",
    sequence=1,
    clerk_id="c1",
    clerk_name="Maria",
    currency="EUR",
    status=OrderStatus.PAID,
    created_at=NOW,
    paid_at=NOW,
    lines=(line(1, "milk", 2), line(2, "bananas", 1250, SoldBy.WEIGHT), line(3, "milk", 1)),
    tenders=(),
    tax=(),
    subtotal=300,
    discount_total=0,
    tax_total=0,
    total=300,
)


def refund_of(*lines: RefundLine) -> Refund:
    return Refund(
        "r1", "o1", 100, 0, 100, None, "damaged", lines, "m1", "Sam", NOW, RefundState.DONE, NOW
    )


def test_a_sale_takes_every_sold_quantity_off_the_shelf_once_per_product():
    assert sale_movements(ORDER) == (StockMovement("milk", -3), StockMovement("bananas", -1250))


def test_a_refund_by_lines_puts_the_refunded_quantities_back():
    back = refund_movements(ORDER, refund_of(RefundLine(2, 250), RefundLine(3, 1)))
    assert back == (StockMovement("bananas", 250), StockMovement("milk", 1))


def test_a_refund_by_amount_moves_no_stock():
    assert refund_movements(ORDER, refund_of()) == ()
