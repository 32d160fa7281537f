"""Card payments as the till sees them: an attempt the server runs through the gateway.

The till never sees card data: it asks the server for a payment (amount, the sale's order id,
a fresh attempt id), shows the customer the payment page link as a QR code, and waits for the
server's word. The attempt and the cart it pays for are kept on disk until the answer is
known, so an outage or a crash in the middle can neither lose a paid sale nor charge twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class CardStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the customer or the gateway
    REQUIRES_ACTION = "requires_action"  # the customer must authenticate on the page
    SUCCEEDED = "succeeded"  # the server confirmed the charge
    FAILED = "failed"  # declined or cancelled: a new attempt gets a new id
    USED = "used"  # (till only) the sale it paid for is complete
    ABANDONED = "abandoned"  # (till only) failed and its cart parked for the clerk

    @property
    def is_open(self) -> bool:
        return self in (CardStatus.PENDING, CardStatus.REQUIRES_ACTION)


@dataclass(frozen=True, slots=True)
class CardPayment:
    """What the server says about one attempt."""

    payment_id: str
    order_id: str
    amount: int
    currency: str
    status: CardStatus
    pay_url: str = ""
    decline_reason: str = ""
    message: str = ""
    amount_refunded: int = 0


@dataclass(frozen=True, slots=True)
class LocalCardAttempt:
    """An attempt as the till keeps it until it is settled one way or the other."""

    payment_id: str
    order_id: str
    amount: int
    status: CardStatus
    clerk_id: str
    created_at: datetime
    pay_url: str = ""


class CardRefundStatus(enum.StrEnum):
    PENDING = "pending"  # the payment service has not answered clearly yet: ask again
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CardRefund:
    """What the server says about one refund of a card payment (``refund_id`` is the
    till's id: sending it again never refunds twice)."""

    refund_id: str
    payment_id: str
    amount: int
    status: CardRefundStatus
    failure_reason: str = ""
    payment_amount_refunded: int = 0


class PhoneCardStatus(enum.StrEnum):
    """The card side of a card-link phone order, as the server keeps it (docs/payments.md
    "Phone orders: authorise, then capture")."""

    LINK_SENT = "link_sent"  # the customer has the link; nothing authorised yet
    AUTHORISED = "authorised"  # the card holds the estimate plus the store's headroom
    NEEDS_DECISION = "needs_decision"  # picked total above the authorisation: staff choose
    TOP_UP_SENT = "top_up_sent"  # the authorisation captured; a link asks for the rest
    CAPTURED = "captured"  # charged: the final sale can be completed at delivery
    RELEASED = "released"  # cancelled before capture: the hold is gone
    REFUNDED = "refunded"  # cancelled after capture: paid back to the card
    FAILED = "failed"  # declined or expired: send a new link


class CaptureChoice(enum.StrEnum):
    CAPTURE = "capture"  # the picked total, when the authorisation covers it
    CAPTURE_AUTHORISED = "capture_authorised"  # all that was authorised; the rest is a discount
    TOP_UP = "top_up"  # all that was authorised, and a second link for the rest


@dataclass(frozen=True, slots=True)
class PhoneCardState:
    """What the server says about a card-link phone order's authorisation and capture."""

    order_id: str
    status: PhoneCardStatus
    currency: str
    estimated_total: int
    authorised_amount: int
    actual_total: int | None
    shortfall: int
    captured_amount: int
    decision: CaptureChoice | None
    authorisation_payment_id: str
    top_up_payment_id: str = ""
    top_up_amount: int = 0
    pay_url: str = ""
    message: str = ""

    def card_charges(self) -> tuple[tuple[str, int], ...]:
        """(payment id, amount) of each card charge, for the card tenders of the final sale
        (their reference is the payment id, checked by the server at push): none until
        the order is captured in full."""
        if self.status is not PhoneCardStatus.CAPTURED:
            return ()
        if self.top_up_payment_id:
            return (
                (self.authorisation_payment_id, self.captured_amount - self.top_up_amount),
                (self.top_up_payment_id, self.top_up_amount),
            )
        return ((self.authorisation_payment_id, self.captured_amount),)
