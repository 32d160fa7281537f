"""Stock movements of sales, voids and refunds (app.domain.stock), on the till's domain objects
and on the wire's models the server reads."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.order import OrderLine
from app.domain.product import SoldBy
from app.domain.refund import Refund, RefundLine, RefundState
from app.domain.stock import (
    StockMovement,
    refund_changes,
    refund_movements,
    sale_changes,
    sale_movements,
    void_changes,
    void_movements,
)
from sync.protocol import OrderPayload, OrderRefundPayload
from tests.server.builders import order
from tests.unit.builders import till_order

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


ORDER = till_order(
    NOW,
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


def test_a_void_puts_back_what_the_sale_took():
    assert void_movements(ORDER) == (StockMovement("milk", 3), StockMovement("bananas", 1250))
    taken, back = sale_changes(ORDER), void_changes(ORDER)
    assert {pid: taken[pid] + back[pid] for pid in taken} == {"milk": 0, "bananas": 0}


def test_the_server_moves_stock_of_the_wire_models_by_the_same_rules():
    sold = OrderPayload.model_validate(order(lines=[("p1", 2), ("bananas", 1250), ("p1", 1)]))
    assert sale_changes(sold) == {"p1": -3, "bananas": -1250}
    assert void_changes(sold) == {"p1": 3, "bananas": 1250}
    refund = OrderRefundPayload.model_validate(
        {
            "refund_id": "0190f1c2-0000-7000-8000-0000000000bb",
            "order_id": str(sold.id),
            "amount": 100,
            "cash_amount": 100,
            "card_amount": 0,
            "reason": "damaged",
            "refunded_at": NOW.isoformat(),
            "clerk_id": "m1",
            "lines": [{"line_no": 2, "quantity": 250}, {"line_no": 3, "quantity": 1}],
        }
    )
    assert refund_changes(sold, refund) == {"bananas": 250, "p1": 1}
