"""Scanning into the cart against the real store: every bad input leaves the cart unchanged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.barcode import make_ean13
from app.domain.cart import Cart
from app.domain.errors import InactiveProduct, InvalidBarcode, InvalidQuantity, UnknownProduct
from app.services.scanning import add_scanned

from .conftest import BANANAS, MILK, WINE


def test_barcode_sku_and_scale_label_all_add(terminal):
    with terminal.read() as uow:
        cart = add_scanned(uow.products, Cart(), MILK.barcodes[0])
        cart = add_scanned(uow.products, cart, "alc-rioja".upper())
        cart = add_scanned(uow.products, cart, make_ean13("280401101250"))
    assert [(ln.sku, ln.quantity) for ln in cart.lines] == [
        ("DAI-MILK-1L", 1),
        ("ALC-RIOJA", 1),
        ("FRU-BANANA", 1250),
    ]


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        ("4000000000014", InvalidBarcode, "check digit 4, expected 3"),
        ("40000000000", InvalidBarcode, "11 digits"),
        ("4000000000037", UnknownProduct, "no product with code 4000000000037"),
        ("NO-SUCH-SKU", UnknownProduct, "no product with code NO-SUCH-SKU"),
        ("   ", UnknownProduct, "nothing was scanned"),
        ("4011", InvalidQuantity, "sold by weight"),
    ],
)
def test_bad_scans_name_the_problem_and_change_nothing(terminal, code, error, message):
    cart = Cart().add(MILK)
    with terminal.read() as uow, pytest.raises(error, match=message):
        add_scanned(uow.products, cart, code)
    assert cart.lines[0].quantity == 1 and len(cart.lines) == 1


def test_inactive_product_is_refused(terminal):
    with terminal.uow() as uow:
        uow.products.upsert_many([replace(WINE, active=False)])
        uow.commit()
    with terminal.read() as uow, pytest.raises(InactiveProduct, match="no longer sold"):
        add_scanned(uow.products, Cart(), WINE.barcodes[0])


def test_weight_typed_for_a_plu(terminal):
    with terminal.read() as uow:
        cart = add_scanned(uow.products, Cart(), BANANAS.barcodes[0], quantity=500)
    assert cart.totals(terminal.store.taxes).total == 95  # 0.5 kg × 1.89 = 0.945 → 0.95
