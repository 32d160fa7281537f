"""The product rules the till applies, field by field, and one barcode for one product."""

from __future__ import annotations

import pytest

from app.domain.barcode import BarcodeClaim, DuplicateBarcode, first_shared_barcode
from app.domain.errors import InvalidInput, InvalidPrice
from app.domain.product import (
    MAX_UNIT_PRICE,
    Product,
    check_tax_class,
    check_unit_price,
)

MILK = BarcodeClaim("milk", "Whole milk 1 L", "MILK1")
OAT = BarcodeClaim("oat", "Oat drink", "OAT1")


def test_a_price_above_the_tills_limit_is_refused_by_the_field_check_and_the_product() -> None:
    check_unit_price(MAX_UNIT_PRICE)
    with pytest.raises(InvalidPrice, match="absurdly high"):
        check_unit_price(MAX_UNIT_PRICE + 1)
    with pytest.raises(InvalidPrice, match="absurdly high"):
        Product("p", "P1", "Caviar", MAX_UNIT_PRICE + 1, "food")


def test_a_tax_class_the_till_cannot_price_is_refused() -> None:
    check_tax_class("food")
    with pytest.raises(InvalidInput, match="unknown tax class 'luxury'"):
        check_tax_class("luxury")
    with pytest.raises(InvalidInput, match="tax_class is required"):
        check_tax_class("")


def test_two_products_claiming_one_barcode_are_both_named() -> None:
    clash = first_shared_barcode([(MILK, ["4006381333931"]), (OAT, ["4006381333931"])])
    assert isinstance(clash, DuplicateBarcode)
    assert clash.message == (
        "barcode 4006381333931 already belongs to Whole milk 1 L (sku MILK1); "
        "Oat drink (sku OAT1) cannot have it too"
    )
    assert clash.field == "barcodes"


def test_a_product_repeating_its_own_barcode_is_no_clash() -> None:
    assert first_shared_barcode([(MILK, ["4006381333931", "4006381333931"]), (OAT, [])]) is None
