"""Card links of phone orders for terminals: create or resend the link, follow it, capture
after picking (docs/payments.md "Phone orders: authorise, then capture")."""

from __future__ import annotations

from flask import Blueprint

from server.api import endpoint
from server.payments.blueprint import base_url
from server.payments.phone import capture_phone_order, get_phone_payment, send_payment_link
from server.services import services
from server.terminals.auth import caller
from sync.protocol import CaptureRequest, PaymentLinkRequest, PhonePaymentData

bp = Blueprint("phone_payments", __name__, url_prefix="/api/v1/phone-orders")


@bp.post("/<order_id>/payment-link")
@endpoint(
    "Create the card authorisation link of a card-link phone order, or mail it again (to "
    "the address given, else the order's); a declined or expired authorisation gets a new one",
    tag="phone orders",
    body=PaymentLinkRequest,
    response=PhonePaymentData,
    errors=(409, 503),
)
def payment_link(order_id: str, body: PaymentLinkRequest) -> PhonePaymentData:
    return send_payment_link(services(), caller(), order_id, body.email, base_url())


@bp.get("/<order_id>/payment")
@endpoint(
    "The card side of a phone order (asks Stripe about an open link first)",
    tag="phone orders",
    response=PhonePaymentData,
    errors=(409, 503),
)
def payment(order_id: str) -> PhonePaymentData:
    return get_phone_payment(services(), caller(), order_id, base_url())


@bp.post("/<order_id>/capture")
@endpoint(
    "Charge a picked card-link phone order (idempotent by capture_id): the picked total if "
    "the authorisation covers it, else needs_decision with the shortfall; capture_authorised "
    "or top_up decide it",
    tag="phone orders",
    body=CaptureRequest,
    response=PhonePaymentData,
    errors=(409, 503),
)
def capture(order_id: str, body: CaptureRequest) -> PhonePaymentData:
    return capture_phone_order(services(), caller(), order_id, body, base_url())
