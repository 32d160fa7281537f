"""POST /stripe/webhook: Stripe's signed events — the authority for "paid".

No bearer token: the ``Stripe-Signature`` header is verified with the endpoint's secret
(``STRIPE_WEBHOOK_SECRET``) and a tolerance window against replays of old deliveries. Each
event id is recorded once, in the transaction that applies it.
"""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, Response, request
from pydantic import BaseModel

from server.errors import ApiError
from server.openapi import JSON_ERROR, PageResponse, PageSpec, page
from server.payments.service import PaymentsUnavailable, after_event, apply_event
from server.payments.stripe_gateway import construct_event
from server.services import services

bp = Blueprint("webhooks", __name__)
log = logging.getLogger("shopsmart.server.webhooks")


class WebhookReceived(BaseModel):
    """The answer to Stripe: taken (``duplicate``: this event id was applied before)."""

    received: bool
    duplicate: bool


@bp.post("/stripe/webhook")
@page(
    PageSpec(
        "Stripe's signed events (payment_intent.*, charge.refunded): verified by the "
        "Stripe-Signature header, each event id applied once",
        tag="payments",
        responses={
            200: (PageResponse(model=WebhookReceived),),
            400: (JSON_ERROR,),  # signature or event refused
            413: (JSON_ERROR,),
            422: (JSON_ERROR,),  # a signed event no database could record (a NUL, say)
            503: (JSON_ERROR,),  # webhooks not configured
        },
        json_body=True,
        headers=("Stripe-Signature",),
    )
)
def stripe_webhook() -> Response:
    svc = services()
    secret = svc.config.stripe_webhook_secret
    if not secret or not svc.config.payments_enabled:
        raise PaymentsUnavailable("Stripe webhooks are not configured on this server")
    payload = request.get_data(cache=False)
    try:
        event = construct_event(
            payload,
            request.headers.get("Stripe-Signature"),
            secret,
            svc.config.stripe_webhook_tolerance_seconds,
        )
    except stripe.SignatureVerificationError:
        log.warning("webhook signature refused", extra={"event": "webhook_bad_signature"})
        raise ApiError(
            "the Stripe-Signature header does not verify", code="invalid_signature"
        ) from None
    except ValueError:
        raise ApiError("the body is not a Stripe event", code="invalid_event") from None
    outcome = apply_event(svc, event.to_dict() if hasattr(event, "to_dict") else dict(event))
    after_event(svc, outcome)
    answer = WebhookReceived(received=True, duplicate=outcome.duplicate)
    return Response(answer.model_dump_json(), mimetype="application/json")
