"""The shop's data files, shipped with the package.

``demo_catalog.csv`` is THE demo data set, in the one catalog file format
(``app.domain.catalog_file``): the till's first start, ``shopsmart demo-data`` and
``shopsmart-server demo`` all load it, so a till and the demo server hold the same products
with the same ids, barcodes and prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from app.domain.catalog_file import CatalogRow, parse_catalog
from app.domain.errors import PosError
from app.domain.tax import DEFAULT_TAX_TABLE

DEMO_CATALOG = "demo_catalog.csv"
DEMO_STORE_CODE = "DEMO"


@dataclass(frozen=True, slots=True)
class DemoClerk:
    name: str
    role: str  # a ``app.domain.clerk.Role`` value
    pin: str


# THE demo clerks: ``shopsmart-server demo`` creates them, and the login screen of the embedded
# demo (`make run`) names them with their PINs, from here.
# The one manager PIN of the demo and of every test fixture: managers' PINs are 6 to 8 digits
# (app.domain.clerk), so a test that made its own 4-digit manager would be refused.
DEMO_MANAGER_PIN = "246813"
DEMO_CLERK_PIN = "1234"
DEMO_CLERKS = (
    DemoClerk("Maria", "clerk", DEMO_CLERK_PIN),
    DemoClerk("Max", "manager", DEMO_MANAGER_PIN),
)


def demo_clerks_text() -> str:
    """``Maria (PIN 1234) and Max (manager, PIN 246813)``."""
    return " and ".join(
        f"{c.name} ({'' if c.role == 'clerk' else c.role + ', '}PIN {c.pin})" for c in DEMO_CLERKS
    )


def demo_catalog_text() -> str:
    """The demo catalog file's text (CSV)."""
    return files(__name__).joinpath(DEMO_CATALOG).read_text(encoding="utf-8")


def demo_catalog_rows() -> list[CatalogRow]:
    """The demo catalog, checked with the shop's product rules (every row has its id)."""
    return parse_catalog(demo_catalog_text(), "csv", DEFAULT_TAX_TABLE, _ids_are_in_the_file)


def _ids_are_in_the_file() -> str:
    raise PosError(f"{DEMO_CATALOG}: every product needs its id", field="id")
