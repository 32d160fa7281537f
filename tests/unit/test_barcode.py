import pytest

from app.domain.barcode import gtin_check_digit, make_ean13, parse_scan, validate_barcode
from app.domain.errors import InvalidBarcode


@pytest.mark.parametrize(
    "code",
    ["4006381333931", "5901234123457", "036000291452", "96385074", "4011", "12345"],
)
def test_valid_gtins_and_store_codes_are_accepted(code):
    assert validate_barcode(code) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("4006381333932", "check digit 2, expected 1"),
        ("40063813339", "has 11 digits"),
        ("40063A1333931", "digits only"),
        ("", "empty"),
        ("123", "has 3 digits"),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "digits only"),  # Arabic-Indic digits are not scanner output
    ],
)
def test_malformed_barcodes_are_refused_with_the_reason(code, reason):
    with pytest.raises(InvalidBarcode, match=reason):
        validate_barcode(code)


def test_check_digit_and_ean13_builder_agree():
    assert gtin_check_digit("400638133393") == 1
    assert make_ean13("400638133393") == "4006381333931"


def test_scale_label_carries_plu_and_weight():
    label = make_ean13("280401100742")
    scan = parse_scan(label)
    assert scan.lookup_code == "4011"
    assert scan.weight_grams == 742


def test_scale_label_with_zero_weight_is_refused():
    with pytest.raises(InvalidBarcode, match="0 g"):
        parse_scan(make_ean13("280401100000"))


def test_ordinary_barcode_has_no_weight():
    assert parse_scan("4006381333931").weight_grams is None
