"""Adding to the cart by what the clerk scans or types: barcode, PLU, scale label or SKU."""

from __future__ import annotations

from app.domain.barcode import parse_scan
from app.domain.cart import Cart
from app.domain.errors import InactiveProduct, UnknownProduct
from app.domain.product import Product
from app.ports import ProductRepository


def find_scanned(products: ProductRepository, code: str) -> tuple[Product, int | None]:
    """The product for a scanned/typed code and the weight a scale label carries, if any.

    All-digit input is a barcode and is validated (check digit, length) before lookup;
    anything else is looked up as a SKU. Unknown or inactive products are refused by name.
    """
    code = code.strip()
    weight: int | None = None
    lookup = code
    if code.isdigit():
        scan = parse_scan(code)
        lookup, weight = scan.lookup_code, scan.weight_grams
    if not lookup:
        raise UnknownProduct("nothing was scanned", field="barcode")
    product = products.by_code(lookup)
    if product is None:
        raise UnknownProduct(f"no product with code {code}", field="barcode")
    if not product.active:
        raise InactiveProduct(f"{product.name} is no longer sold", field="barcode")
    return product, weight


def add_scanned(
    products: ProductRepository, cart: Cart, code: str, quantity: int | None = None
) -> Cart:
    """Add what was scanned; a scale label brings its own weight. The cart is unchanged on error."""
    product, weight = find_scanned(products, code)
    return cart.add(product, weight if weight is not None else quantity)
