"""What the till records for a manager: removed lines, cancelled sales, voided and refunded
orders, discounts a manager approved, and sales parked because the till was closed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class AuditAction(enum.StrEnum):
    LINE_REMOVED = "line_removed"
    SALE_CANCELLED = "sale_cancelled"
    ORDER_VOIDED = "order_voided"
    ORDER_REFUNDED = "order_refunded"
    RETURN_WITHOUT_RECEIPT = "return_without_receipt"  # a refund the customer had no receipt for
    DISCOUNT_APPROVED = "discount_approved"
    SALE_PARKED_ON_CLOSE = "sale_parked_on_close"  # the till was closed with the sale open
    OPEN_PRICE_APPROVED = "open_price_approved"  # an open-price item above the store's limit
    APPROVAL_USED = "approval_used"  # a manager's approval, used (app.domain.approval)
    PRICE_OVERRIDDEN = "price_overridden"  # a line's price changed, a manager approving
    CLERK_SAVED = "clerk_saved"  # a clerk added or changed by a manager on this till


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    clerk_id: str  # who did it (or, for a DISCOUNT_APPROVED entry, the manager who approved)
    clerk_name: str
    action: AuditAction
    reason: str
    amount: int  # minor units taken off the sale
    detail: str  # what, in words: "2 × Whole milk 1 L", "T01-000042"


ASKED_BY = ", asked by "


def void_detail(receipt_no: str, asked_by: str | None = None) -> str:
    """The detail of a void's audit entry: the sale's receipt, and who asked for the void
    when it was not the manager who approved it ("T01-000042, asked by Maria")."""
    return f"{receipt_no}{ASKED_BY}{asked_by}" if asked_by else receipt_no


def voided_receipt_no(detail: str) -> str:
    """The receipt a void's audit entry names (``void_detail`` read back)."""
    return detail.split(ASKED_BY, 1)[0].strip()
