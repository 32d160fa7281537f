"""The demo catalog as the till's screens use it: first start, UI tests and screenshots.

There is one demo data set, app/data/demo_catalog.csv (read by ``app.services.demo_catalog``,
and by the server's ``demo``); this module only gives the UI its shortcuts.
"""

from __future__ import annotations

from app.domain.product import Product
from app.services.demo_catalog import DEMO_FAVOURITES
from app.services.demo_catalog import demo_catalog as _demo_catalog

FAVOURITES = tuple(DEMO_FAVOURITES)


def sample_products() -> list[Product]:
    """The demo catalog's products."""
    return _demo_catalog()


def barcode_of(name: str) -> str:
    """The first barcode of a demo product by name (tests and screenshots)."""
    for product in sample_products():
        if product.name == name:
            return product.barcodes[0]
    raise KeyError(name)


def demo_catalog() -> tuple[list[Product], list[str]]:
    """What the till loads on first start: the demo catalog and its favourite SKUs."""
    return _demo_catalog(), list(DEMO_FAVOURITES)
