"""Card payments for terminals: start (idempotent), follow, refund, mail the pay link."""

from __future__ import annotations

from flask import Blueprint

from server.api import endpoint
from server.payments.service import (
    cancel_payment,
    email_payment_link,
    get_payment,
    refund_payment,
    start_payment,
)
from server.services import services
from server.terminals.auth import caller
from sync.protocol import (
    CancelPaymentRequest,
    CreatePaymentRequest,
    EmailLinkRequest,
    EmailQueued,
    PaymentConflictResponse,
    PaymentData,
    RefundData,
    RefundRequest,
)

bp = Blueprint("payments", __name__, url_prefix="/api/v1/payments")


def base_url() -> str:
    """Where customers reach this server: SHOPSMART_PUBLIC_URL, and nothing a request says
    (a Host header of ``evil.example`` would otherwise be mailed to a customer as the pay
    link). A server with card payments does not start without it (server.app)."""
    return services().config.public_url


@bp.post("")
@endpoint(
    "Start a card payment, or replay one (idempotent by payment_id): answers its status "
    "and the payment page URL to show as a QR code or to mail",
    tag="payments",
    body=CreatePaymentRequest,
    response=PaymentData,
    errors=(409, 503),
)
def create_payment(body: CreatePaymentRequest) -> PaymentData:
    return start_payment(services(), caller(), body, base_url())


@bp.get("/<payment_id>")
@endpoint(
    "A payment's current status (asks Stripe when it is open and the last check is stale)",
    tag="payments",
    response=PaymentData,
    errors=(503,),
)
def payment_status(payment_id: str) -> PaymentData:
    return get_payment(services(), caller(), payment_id, base_url())


@bp.post("/<payment_id>/refunds")
@endpoint(
    "Refund all or part of a succeeded card payment (idempotent by refund_id)",
    tag="payments",
    body=RefundRequest,
    response=RefundData,
    errors=(409, 503),
)
def create_refund(payment_id: str, body: RefundRequest) -> RefundData:
    return refund_payment(services(), caller(), payment_id, body)


@bp.post("/<payment_id>/cancel")
@endpoint(
    "Cancel an open payment so it can never be paid (the clerk closed the card dialog); "
    "idempotent. 409 payment_already_succeeded carries the payment when the customer paid "
    "first",
    tag="payments",
    body=CancelPaymentRequest,
    response=PaymentData,
    errors=(409, 503),
    error_bodies=((409, PaymentConflictResponse),),
)
def cancel(payment_id: str, body: CancelPaymentRequest) -> PaymentData:
    return cancel_payment(services(), caller(), payment_id, base_url())


@bp.post("/<payment_id>/email-link")
@endpoint(
    "Mail the payment page link to a customer (phone orders); once per address",
    tag="payments",
    body=EmailLinkRequest,
    response=EmailQueued,
    errors=(409, 503),
)
def email_link(payment_id: str, body: EmailLinkRequest) -> EmailQueued:
    return email_payment_link(services(), caller(), payment_id, body.email, base_url())
