"""Child process for the crash test: sells forever, printing each receipt number once durable.

``crash_writer DATA_DIR`` sells; ``crash_writer --fork-server DATA_DIR`` forks a fresh seller
for each round the test asks for (tests/fork_server.py).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

from app.bootstrap import open_terminal
from app.domain.cart import Cart
from app.domain.clerk import Clerk, Role
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from tests.integration.conftest import BANANAS, MILK, SAMPLE_PRODUCTS, WINE


def main(data_dir: Path, sales: int | None = None) -> None:
    """Sell ``sales`` times (for ever without a number)."""
    terminal = open_terminal(data_dir)
    with terminal.uow() as uow:
        if uow.products.count() == 0:
            uow.products.upsert_many(SAMPLE_PRODUCTS)
            uow.commit()
    clerk = Clerk(id="crash-clerk", name="Crash", role=Role.CLERK, pin_hash="x")
    cart = Cart().add(MILK, 2).add(BANANAS, 640).add(WINE)
    print("ready", flush=True)
    sold = 0
    while sales is None or sold < sales:
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
        sold += 1
    terminal.close()


def warm_up() -> None:
    """One sale on a throw-away till, so every module a sale needs is imported before forking."""
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):
        main(Path(scratch), sales=1)


if __name__ == "__main__":
    if sys.argv[1] == "--fork-server":
        from tests.fork_server import serve

        warm_up()
        serve(lambda: main(Path(sys.argv[2])))
    else:
        main(Path(sys.argv[1]))
