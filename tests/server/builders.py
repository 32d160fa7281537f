"""Building consistent orders and events the way the terminal does."""

from __future__ import annotations

import uuid
from typing import Any

from app.domain.barcode import make_ean13
from app.domain.cart import line_gross

PRODUCTS: list[dict[str, Any]] = [
    {
        "id": f"p{i}",
        "sku": f"SKU-{i}",
        "name": f"Product {i}",
        "unit_price": 100 + i,
        "tax_class": "food",
        "sold_by": "each",
        "barcodes": [make_ean13(f"40000000{i:04d}")],
        "department": "grocery",
        "attributes": {"origin": "NL", "allergens": ["nuts"] if i % 2 else []},
    }
    for i in range(1, 9)
] + [
    {
        "id": "bananas",
        "sku": "SKU-BAN",
        "name": "Bananas",
        "unit_price": 199,
        "tax_class": "food",
        "sold_by": "weight",
        "barcodes": [],
        "department": "produce",
        "attributes": {"origin": "EC", "nutrition": {"kcal_per_100g": 89}},
    }
]
PRICE = {p["id"]: p["unit_price"] for p in PRODUCTS}
SOLD_BY = {p["id"]: p["sold_by"] for p in PRODUCTS}


def order(
    terminal_code: str = "T01",
    clerk_id: str = "clerk",
    lines: list[tuple[str, int]] | None = None,
    sequence: int = 1,
    unit_prices: dict[str, int] | None = None,
    customer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A paid, tax-inclusive order with consistent totals, paid in cash."""
    lines = lines or [("p1", 1), ("p2", 2), ("p3", 1), ("p4", 3), ("bananas", 1250)]
    prices = {**PRICE, **(unit_prices or {})}
    built = []
    for number, (product_id, quantity) in enumerate(lines, start=1):
        sold_by = SOLD_BY.get(product_id, "each")
        gross = line_gross(sold_by, quantity, prices[product_id])
        built.append(
            {
                "line_no": number,
                "product_id": product_id,
                "sku": f"SKU-{product_id}",
                "name": product_id,
                "sold_by": sold_by,
                "quantity": quantity,
                "unit_price": prices[product_id],
                "gross": gross,
                "line_discount": 0,
                "order_discount_share": 0,
                "net": gross,
                "tax_class": "food",
                "tax_rate_bp": 700,
                "discount_reason": "",
            }
        )
    total = sum(line["net"] for line in built)
    tax = (total * 700 + 5350) // 10700
    return {
        "id": str(uuid.uuid4()),
        "receipt_no": f"{terminal_code}-{sequence:06d}",
        "terminal_code": terminal_code,
        "sequence": sequence,
        "clerk_id": clerk_id,
        "clerk_name": "Maria",
        "currency": "EUR",
        "status": "paid",
        "kind": "counter",
        "created_at": "2026-11-25T13:00:00.123456+00:00",
        "paid_at": "2026-11-25T13:00:05+00:00",
        "subtotal": total,
        "discount_total": 0,
        "tax_total": tax,
        "total": total,
        "prices_include_tax": True,
        "customer": customer,
        "lines": built,
        "tenders": [
            {
                "kind": "cash",
                "amount": total,
                "tendered": total + 100,
                "change": 100,
                "reference": "",
            }
        ],
        "tax": [
            {"tax_class": "food", "label": "VAT 7%", "rate_bp": 700, "taxable": total, "tax": tax}
        ],
    }


def paid_event(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "order.paid",
        "occurred_at": "2026-11-25T13:00:05.123456+00:00",
        "payload": payload,
    }


def void_event(order_id: str, clerk_id: str = "clerk") -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "order.voided",
        "occurred_at": "2026-11-25T13:10:00+00:00",
        "payload": {
            "order_id": order_id,
            "reason": "customer changed mind",
            "voided_at": "2026-11-25T13:10:00+00:00",
            "clerk_id": clerk_id,
        },
    }


def push_body(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"protocol_version": 1, "events": events}
