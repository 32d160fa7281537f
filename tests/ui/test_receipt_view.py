"""The printed receipt's tax block: per rate the net, the tax and the gross, which add up."""

from __future__ import annotations

import re
from typing import Any

from app.domain.cart import Cart
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from app.services.receipt import build_receipt
from ui.receipt_view import receipt_html
from ui.sample_catalog import barcode_of

from .conftest import add_clerk


def test_the_tax_block_shows_net_tax_and_gross_per_rate(terminal: Any) -> None:
    maria = add_clerk(terminal, "Maria", "1234")
    with terminal.read() as uow:
        milk = uow.products.by_code(barcode_of("Whole milk 1 L"))
        coffee = uow.products.by_code(barcode_of("Ground coffee 500 g"))
    cart = Cart(currency="EUR").add(milk, 2).add(coffee)
    total = cart.totals(terminal.store.taxes).total
    order = complete_sale(
        terminal.uow(),
        cart,
        [TenderInput(TenderKind.CASH, total)],
        maria,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )
    receipt = build_receipt(order, terminal.store)
    assert receipt.prices_include_tax and len(receipt.taxes) >= 1
    html = receipt_html(receipt)
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>.*?</tr>", html)]
    assert ["Tax", "Net", "Tax", "Gross"] in cells
    gross_sum = 0
    for tax in receipt.taxes:
        net, vat, gross = (receipt.amount(v) for v in (tax.taxable - tax.tax, tax.tax, tax.taxable))
        # prices include the tax: the gross is what the rate's lines cost
        assert [f"incl. {tax.label}", net, vat, gross] in cells
        gross_sum += tax.taxable
    assert gross_sum == order.total
