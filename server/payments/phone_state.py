"""The card state of a card-link phone order, kept in step with its payments.

A phone order paid by card link has one ``phone_order_payments`` row: its authorisation (a
manual-capture payment, purpose ``phone_auth``) and, when staff chose a top-up, a second
payment (purpose ``phone_top_up``, captured at once). Whatever tells us about a payment —
the webhook, a check with Stripe, the pay page — goes through ``_apply_intent``, which calls
``phone_payment_changed`` in the same transaction, so the order's card state follows Stripe
whether the customer pays before or after the till asked. No Stripe call is made here.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from server.mail.final_receipt import queue_final_receipt
from server.models import Payment, PhoneOrderPayment, utcnow
from server.sync.changes import record_changes

PHONE_AUTH = "phone_auth"  # the manual-capture authorisation of a phone order
PHONE_TOP_UP = "phone_top_up"  # the difference when the picked total exceeds it
PHONE_ORDER_PURPOSES = frozenset({PHONE_AUTH, PHONE_TOP_UP})


class PhonePaymentStatus(StrEnum):
    """``phone_order_payments.status`` (``sync.protocol.PhonePaymentStatus``)."""

    LINK_SENT = "link_sent"
    AUTHORISED = "authorised"
    NEEDS_DECISION = "needs_decision"
    TOP_UP_SENT = "top_up_sent"
    CAPTURED = "captured"
    RELEASED = "released"
    REFUNDED = "refunded"
    FAILED = "failed"


def announce(session: Session, card: PhoneOrderPayment) -> None:
    """Tell the store's tills that the phone order changed (they pull its card state)."""
    card.updated_at = utcnow()
    record_changes(session, "phone_order", [str(card.order_id)], card.store_id)


def phone_payment_changed(session: Session, payment: Payment) -> None:
    """A phone order's payment changed status (in the caller's transaction)."""
    card = session.get(
        PhoneOrderPayment,
        {"store_id": payment.store_id, "order_id": payment.order_id},
        with_for_update=True,
    )
    if card is None:
        return
    before = card.status
    if payment.id == card.authorisation_id:
        if payment.status == "authorised" and before in (
            PhonePaymentStatus.LINK_SENT,
            PhonePaymentStatus.FAILED,
        ):
            card.status = PhonePaymentStatus.AUTHORISED
        elif payment.status == "failed" and before in (
            PhonePaymentStatus.LINK_SENT,
            PhonePaymentStatus.AUTHORISED,
            PhonePaymentStatus.NEEDS_DECISION,
        ):
            card.status = (
                PhonePaymentStatus.RELEASED if card.cancelled else PhonePaymentStatus.FAILED
            )
    elif (
        payment.id == card.top_up_id
        and payment.status == "succeeded"
        and before == PhonePaymentStatus.TOP_UP_SENT
    ):
        card.status = PhonePaymentStatus.CAPTURED
        card.captured_amount += payment.amount_received
        queue_final_receipt(session, card)
    if card.status != before:
        announce(session, card)
