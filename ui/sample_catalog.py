"""A small, hand-written grocery catalog: the fallback demo data, the UI tests and screenshots.

The full demo catalog (thousands of products) comes from ``app.services.demo_catalog`` when it
is installed; this one is small enough to know by heart.
"""

from __future__ import annotations

import uuid

from app.domain.barcode import make_ean13
from app.domain.product import Product, SoldBy

# (department, name, brand, price minor, tax class, sold by, PLU or None, stock)
ITEMS: tuple[tuple[str, str, str, int, str, SoldBy, str | None, int | None], ...] = (
    ("Fruit & Veg", "Bananas, loose", "", 189, "food", SoldBy.WEIGHT, "4011", 48_000),
    ("Fruit & Veg", "Apples Gala, loose", "", 249, "food", SoldBy.WEIGHT, "4133", 30_500),
    ("Fruit & Veg", "Tomatoes on the vine", "", 399, "food", SoldBy.WEIGHT, "4664", 12_250),
    ("Fruit & Veg", "Avocado, ripe", "", 129, "food", SoldBy.EACH, None, 36),
    ("Fruit & Veg", "Cucumber", "", 69, "food", SoldBy.EACH, None, 40),
    ("Fruit & Veg", "Lemons, net 500 g", "Sunfield", 179, "food", SoldBy.EACH, None, 22),
    ("Bakery", "Sourdough loaf", "Miller & Sons", 320, "food", SoldBy.EACH, None, 14),
    ("Bakery", "Butter croissant", "Miller & Sons", 95, "food", SoldBy.EACH, None, 30),
    ("Bakery", "Banana bread 400 g", "Miller & Sons", 249, "food", SoldBy.EACH, None, 8),
    ("Bakery", "Wholemeal rolls, 6 pack", "Miller & Sons", 189, "food", SoldBy.EACH, None, 20),
    ("Dairy", "Whole milk 1 L", "Alpine Farm", 109, "food", SoldBy.EACH, None, 120),
    ("Dairy", "Greek yoghurt 500 g", "Olympus", 229, "food", SoldBy.EACH, None, 35),
    ("Dairy", "Salted butter 250 g", "Alpine Farm", 259, "food", SoldBy.EACH, None, 44),
    ("Dairy", "Mature cheddar 400 g", "Highland", 449, "food", SoldBy.EACH, None, 18),
    ("Dairy", "Free-range eggs, 10", "Meadow Hens", 329, "food", SoldBy.EACH, None, 60),
    ("Drinks", "Sparkling water 1.5 L", "Clearspring", 59, "food", SoldBy.EACH, None, 200),
    ("Drinks", "Orange juice 1 L", "Sunfield", 199, "food", SoldBy.EACH, None, 54),
    ("Drinks", "Ground coffee 500 g", "Roastery No. 5", 699, "food", SoldBy.EACH, None, 26),
    ("Drinks", "Red wine, Rioja 0.75 L", "Bodega Alta", 899, "standard", SoldBy.EACH, None, 12),
    ("Drinks", "Craft lager 0.5 L", "Harbour Brew", 179, "standard", SoldBy.EACH, None, 96),
    ("Pantry", "Spaghetti 500 g", "Nonna Rosa", 129, "food", SoldBy.EACH, None, 80),
    ("Pantry", "Chopped tomatoes 400 g", "Nonna Rosa", 89, "food", SoldBy.EACH, None, 70),
    ("Pantry", "Extra virgin olive oil 0.5 L", "Oliveto", 649, "food", SoldBy.EACH, None, 25),
    ("Pantry", "Basmati rice 1 kg", "Golden Field", 299, "food", SoldBy.EACH, None, 40),
    ("Pantry", "Dark chocolate 70 %", "Cacao Co.", 199, "food", SoldBy.EACH, None, 65),
    ("Household", "Washing-up liquid 500 ml", "Sparkle", 179, "standard", SoldBy.EACH, None, 30),
    ("Household", "Kitchen roll, 4 pack", "Softex", 349, "standard", SoldBy.EACH, None, 24),
    ("Household", "Hand soap 300 ml", "Sparkle", 250, "standard", SoldBy.EACH, None, 28),
    ("Household", "Bin bags 35 L, 20", "Softex", 299, "standard", SoldBy.EACH, None, 16),
)
FAVOURITES = (
    "SS-0001",
    "SS-0011",
    "SS-0007",
    "SS-0008",
    "SS-0015",
    "SS-0016",
    "SS-0021",
    "SS-0004",
)
_NAMESPACE = uuid.UUID("5f3e9d4a-58a1-4d2b-9a4e-2b1f0c7e6a10")


def sample_products() -> list[Product]:
    products = []
    for number, (department, name, brand, price, tax, sold_by, plu, stock) in enumerate(
        ITEMS, start=1
    ):
        sku = f"SS-{number:04d}"
        barcodes = (plu,) if plu else (make_ean13(f"400638{number:06d}"),)
        products.append(
            Product(
                id=str(uuid.uuid5(_NAMESPACE, sku)),
                sku=sku,
                name=name,
                brand=brand,
                department=department,
                unit_price=price,
                tax_class=tax,
                sold_by=sold_by,
                barcodes=barcodes,
                stock=stock,
            )
        )
    return products


def barcode_of(name: str) -> str:
    """The first barcode of a sample product by name (tests and screenshots)."""
    for product in sample_products():
        if product.name == name:
            return product.barcodes[0]
    raise KeyError(name)


def demo_catalog(count: int = 5000) -> tuple[list[Product], list[str]]:
    """The demo grocery catalog (app.services.demo_catalog) and its favourite SKUs."""
    from app.services.demo_catalog import demo_products, favourite_skus

    products = demo_products(count, seed=42)
    return products, favourite_skus(products)
