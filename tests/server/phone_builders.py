"""Building issue 13's push events the way the till does (customer.saved,
phone_order.placed, phone_order.transitioned, phone_order.picked)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.cart import line_gross
from app.domain.delivery import PickedLine, PickStatus, picked_totals, priced_picked_lines
from app.domain.product import SoldBy
from app.domain.store import StoreProfile
from app.domain.tax import DEFAULT_TAX_TABLE, TaxRate, TaxTable

AT = "2026-11-25T13:00:00+00:00"


def _event(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": kind, "occurred_at": AT, "payload": payload}


def address(postcode: str = "D02 X285") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "label": "home",
        "line1": "1 Quay Street",
        "line2": "",
        "postcode": postcode,
        "city": "Dublin",
        "country": "IE",
        "notes": "ring twice",
    }


def customer_event(
    customer_id: str | None = None,
    *,
    name: str = "Aoife Byrne",
    phone: str = "+353871234567",
    email: str = "aoife@example.com",
    updated_at: datetime | None = None,
    postcode: str = "D02 X285",
) -> dict[str, Any]:
    return _event(
        "customer.saved",
        {
            "id": customer_id or str(uuid.uuid4()),
            "name": name,
            "phone": phone,
            "email": email,
            "addresses": [address(postcode)],
            "notes": "",
            "updated_at": (updated_at or datetime.now(UTC)).isoformat(),
        },
    )


LINES = [("p1", "each", 2, 101), ("bananas", "weight", 1250, 199)]


def phone_order_event(
    customer_id: str,
    slot_id: str,
    *,
    status: str = "firm",
    units: int = 1,
    weight_g: int = 1250,
    booked_at: datetime | None = None,
    email: str = "aoife@example.com",
    order_id: str | None = None,
    postcode: str = "D02 X285",
    payment_method: str = "door_cash",
) -> dict[str, Any]:
    lines = []
    for number, (pid, sold_by, quantity, price) in enumerate(LINES, start=1):
        lines.append(
            {
                "line_no": number,
                "product_id": pid,
                "sku": f"SKU-{pid}",
                "name": pid.title(),
                "sold_by": sold_by,
                "quantity": quantity,
                "unit_price": price,
                "tax_class": "food",
                "tax_rate_bp": 700,
                "net": line_gross(sold_by, quantity, price),
                "substitution": "best_match",
                "substitute_product_id": "",
                "note": "",
            }
        )
    total = sum(line["net"] for line in lines)
    tax = total - round(total * 10000 / 10700)
    return _event(
        "phone_order.placed",
        {
            "id": order_id or str(uuid.uuid4()),
            "order_no": "T01-P000001",
            "terminal_code": "T01",
            "clerk_id": "clerk",
            "clerk_name": "Clerk",
            "customer_id": customer_id,
            "address": address(postcode),
            "currency": "EUR",
            "created_at": AT,
            "lines": lines,
            "note": "",
            "estimated_subtotal": total,
            "estimated_tax_total": tax,
            "estimated_total": total,
            "payment_method": payment_method,
            "customer_email": email,
            "booking": {
                "booking_id": str(uuid.uuid4()),
                "slot_id": slot_id,
                "units": units,
                "weight_g": weight_g,
                "status": status,
                "booked_at": (booked_at or datetime.now(UTC)).isoformat(),
            },
        },
    )


def transition_event(
    order_id: str, from_state: str, to_state: str, reason: str = ""
) -> dict[str, Any]:
    return _event(
        "phone_order.transitioned",
        {
            "order_id": order_id,
            "transition_id": str(uuid.uuid4()),
            "from_state": from_state,
            "to_state": to_state,
            "reason": reason,
            "at": AT,
            "clerk_id": "clerk",
        },
    )


def picked_event(order_id: str, grams: int, *, total_delta: int = 0) -> dict[str, Any]:
    """Line 1 picked as ordered, the bananas weighed at ``grams``; totals as a sale makes
    them (``total_delta`` spoils the total)."""
    lines = [
        PickedLine(1, PickStatus.PICKED, "p1", "SKU-p1", "P1", SoldBy.EACH, 2, 101, "food", 700, 0),
        PickedLine(
            2,
            PickStatus.PICKED,
            "bananas",
            "SKU-bananas",
            "Bananas",
            SoldBy.WEIGHT,
            grams,
            199,
            "food",
            700,
            0,
        ),
    ]
    store = StoreProfile(
        taxes=TaxTable(
            rates=(TaxRate("food", 700, "food"),),
            prices_include_tax=DEFAULT_TAX_TABLE.prices_include_tax,
        )
    )
    totals = picked_totals(lines, store)
    return _event(
        "phone_order.picked",
        {
            "order_id": order_id,
            "pick_id": str(uuid.uuid4()),
            "at": AT,
            "clerk_id": "clerk",
            "lines": [
                {
                    **{k: getattr(line, k) for k in PickedLine.__dataclass_fields__},
                    "status": line.status.value,
                    "sold_by": line.sold_by.value,
                }
                for line in priced_picked_lines(lines, store)
            ],
            "subtotal": totals.subtotal,
            "tax_total": totals.tax_total,
            "total": totals.total + total_delta,
        },
    )


def tomorrow_at(hour: int) -> datetime:
    day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    return day.replace(hour=hour)
