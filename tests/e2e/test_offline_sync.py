"""Selling through an outage: every sale reaches the server exactly once, totals to the cent."""

from __future__ import annotations

import random

from app.domain.cart import Cart
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from sync.engine import ConnectionState


def sell(till, rng: random.Random, count: int) -> list[tuple[str, int]]:
    """``count`` varied sales from what the till pulled; returns (order id, total)."""
    with till.terminal.read() as uow:
        products = [p for d in uow.products.departments() for p in uow.products.in_department(d)]
    assert products, "the till pulled no catalog"
    sold = []
    for _ in range(count):
        cart = Cart()
        for product in rng.sample(products, k=min(len(products), rng.randint(1, 5))):
            cart = cart.add(
                product, rng.randint(50, 1500) if product.by_weight else rng.randint(1, 3)
            )
        order = complete_sale(
            till.terminal.uow(),
            cart,
            [TenderInput(TenderKind.CASH, 1_000_000)],
            till.clerk,
            till.terminal.store,
            till.terminal.clock,
            till.terminal.ids,
        )
        sold.append((order.id, order.total))
    return sold


def test_500_sales_while_the_server_is_down_arrive_exactly_once(backend, make_till):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE  # catalog pulled
    backend.server.stop()
    sold = sell(till, random.Random(1), 500)
    down = till.engine.run_once(force=True)
    assert down.state is ConnectionState.OFFLINE and down.waiting == 500
    backend.server.start()
    status = till.engine.run_once(force=True)
    assert status.state is ConnectionState.ONLINE
    assert (status.waiting, status.rejected) == (0, 0)
    rows = backend.sql("SELECT id::text, total FROM orders")
    assert sorted(rows) == sorted(sold)
    assert backend.sql("SELECT count(*), sum(total) FROM orders") == [
        (500, sum(total for _, total in sold))
    ]
    with till.terminal.read() as uow:
        assert {o.sync_state.value for o in uow.orders.recent(limit=1000)} == {"acknowledged"}
