"""Barcodes as a clerk's scanner sends them.

Accepted: EAN-13, UPC-A (12 digits), EAN-8, each with its GS1 check digit; in-store PLU codes
of 4 or 5 digits (produce, e.g. 4011 bananas); and scale labels, EAN-13 codes with prefix
``28`` that carry a 5-digit PLU and a 5-digit weight in grams (``28 PPPPP WWWWW C``).
Anything else is refused with a message that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.errors import InvalidBarcode

SCALE_PREFIX = "28"
GTIN_LENGTHS = (8, 12, 13)
PLU_LENGTHS = (4, 5)


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits before it (weights 3,1,3,… from the right)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def validate_barcode(code: str) -> str:
    """Return ``code`` stripped if it is a valid GTIN or PLU, else raise ``InvalidBarcode``."""
    code = code.strip()
    if not code:
        raise InvalidBarcode("barcode is empty", field="barcode")
    if not code.isdigit() or not code.isascii():
        raise InvalidBarcode(f"barcode {code!r} must contain digits only", field="barcode")
    if len(code) in PLU_LENGTHS:
        return code
    if len(code) not in GTIN_LENGTHS:
        raise InvalidBarcode(
            f"barcode {code!r} has {len(code)} digits; expected 13 (EAN-13), 12 (UPC-A), "
            "8 (EAN-8) or a 4–5 digit store code",
            field="barcode",
        )
    expected = gtin_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise InvalidBarcode(
            f"barcode {code!r} has check digit {code[-1]}, expected {expected}", field="barcode"
        )
    return code


@dataclass(frozen=True, slots=True)
class Scan:
    """What a scanned code means: the code to look up and, for a scale label, the weight."""

    lookup_code: str
    weight_grams: int | None = None


def parse_scan(code: str) -> Scan:
    """Validate a scanned code and decode scale labels into (PLU, grams)."""
    code = validate_barcode(code)
    if len(code) == 13 and code.startswith(SCALE_PREFIX):
        plu = code[2:7].lstrip("0") or "0"
        grams = int(code[7:12])
        if grams == 0:
            raise InvalidBarcode(f"scale label {code!r} carries a weight of 0 g", field="barcode")
        return Scan(lookup_code=plu.zfill(4), weight_grams=grams)
    return Scan(lookup_code=code)


def make_ean13(body12: str) -> str:
    """Append the check digit to 12 digits (used by demo data and tests)."""
    if len(body12) != 12 or not body12.isdigit():
        raise ValueError("make_ean13 needs 12 digits")
    return body12 + str(gtin_check_digit(body12))


class DuplicateBarcode(InvalidBarcode):
    """A barcode claimed by a second product: a barcode belongs to one product of a catalog."""

    code = "duplicate_barcode"


@dataclass(frozen=True, slots=True)
class BarcodeClaim:
    """A product that holds (or wants) a barcode, named as a person knows it."""

    product_id: str
    name: str
    sku: str

    def __str__(self) -> str:
        return f"{self.name} (sku {self.sku})"


def barcode_taken(barcode: str, owner: BarcodeClaim, claimant: BarcodeClaim) -> DuplicateBarcode:
    """The refusal when ``claimant`` wants a barcode that ``owner`` already holds."""
    return DuplicateBarcode(
        f"barcode {barcode} already belongs to {owner}; {claimant} cannot have it too",
        field="barcodes",
    )


def first_shared_barcode(
    claims: Iterable[tuple[BarcodeClaim, Iterable[str]]],
) -> DuplicateBarcode | None:
    """The first barcode that two different products of ``claims`` both hold, or None.

    ``claims`` are (product, its barcodes) in order; a product repeating one of its own
    barcodes is not a clash. The earlier product is named as the owner.
    """
    owners: dict[str, BarcodeClaim] = {}
    for claim, barcodes in claims:
        for barcode in barcodes:
            owner = owners.setdefault(barcode, claim)
            if owner.product_id != claim.product_id:
                return barcode_taken(barcode, owner, claim)
    return None
