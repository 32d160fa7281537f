"""Orders for the unit tests: the header every test order shares, the rest given by the test."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.order import Order, OrderStatus


def till_order(at: datetime, **fields: Any) -> Order:
    """An order of till T01, clerk Maria, in EUR, paid ``at``; ``fields`` give the lines,
    tenders and totals (and override any header field)."""
    header: dict[str, Any] = {
        "id": "o1",
        "receipt_no": "T01-000001",
        "terminal_code": "T01",
        "sequence": 1,
        "clerk_id": "c1",
        "clerk_name": "Maria",
        "currency": "EUR",
        "status": OrderStatus.PAID,
        "created_at": at,
        "paid_at": at,
    }
    return Order(**{**header, **fields})
