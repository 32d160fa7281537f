"""Child process for the crash test: sells forever, printing each receipt number once durable."""

from __future__ import annotations

import sys
from pathlib import Path

from app.bootstrap import open_terminal
from app.domain.cart import Cart
from app.domain.clerk import Clerk, Role
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from tests.integration.conftest import BANANAS, MILK, SAMPLE_PRODUCTS, WINE


def main(data_dir: Path) -> None:
    terminal = open_terminal(data_dir)
    with terminal.uow() as uow:
        if uow.products.count() == 0:
            uow.products.upsert_many(SAMPLE_PRODUCTS)
            uow.commit()
    clerk = Clerk(id="crash-clerk", name="Crash", role=Role.CLERK, pin_hash="x")
    cart = Cart().add(MILK, 2).add(BANANAS, 640).add(WINE)
    print("ready", flush=True)
    while True:
        order = complete_sale(
            terminal.uow(),
            cart,
            [TenderInput(TenderKind.CASH, 5000)],
            clerk,
            terminal.store,
            terminal.clock,
            terminal.ids,
        )
        print(order.receipt_no, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
