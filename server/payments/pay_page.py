"""The customer's payment page, ``/pay/<token>``: no login, an opaque expiring token.

The card is typed into Stripe's own element (Stripe.js, loaded from STRIPE_JS_URL) and the
payment is confirmed in the browser with the PaymentIntent's client secret
(``stripe.confirmCardPayment``). Card numbers never reach this server. After confirming,
the page asks ``POST /pay/<token>/refresh``, which checks with Stripe (server to server)
before it says "Paid — thank you".
"""

from __future__ import annotations

import json
import secrets
from typing import Literal
from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, url_for
from pydantic import BaseModel

from app.domain.money import format_money
from server.errors import NotFound
from server.mail.notifications import environment
from server.openapi import HTML, JSON_ERROR, PageResponse, PageSpec, page
from server.payments.service import OPEN, PAY_TOKEN, PaymentStatus, PayPage, pay_page
from server.services import services

bp = Blueprint("pay_page", __name__)
TOKEN_PATTERN = f"^{PAY_TOKEN.pattern}$"  # anything else is answered 404, never looked up


class PayPageStatus(BaseModel):
    """The pay page's answer to "is it paid now?" (``POST /pay/<token>/refresh``)."""

    status: Literal["pending", "requires_action", "authorised", "succeeded", "failed"]
    decline_reason: str | None = None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _state(page: PayPage) -> str:
    if not services().config.payments_enabled:
        return "unavailable"
    if page.expired:
        return "expired"
    if page.status in OPEN and page.client_secret:
        return "open"
    if page.status in OPEN:
        return "unavailable"
    return page.status


def _secure(response: Response, nonce: str = "") -> Response:
    cfg = services().config
    stripe_origin = _origin(cfg.stripe_js_url)
    nonce_source = f"'nonce-{nonce}'" if nonce else ""
    scripts = " ".join(s for s in (nonce_source, stripe_origin) if s) or "'none'"
    # The page holds a PaymentIntent's client secret: no other site may frame it (a
    # clickjacking overlay), no cache keeps it, no Referer carries the token in its URL.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        f"frame-src {stripe_origin} https://*.stripe.com; "
        f"connect-src 'self' {stripe_origin} https://*.stripe.com; "
        "img-src 'self' data: https://*.stripe.com; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"  # the same, for browsers without CSP 2
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"  # Stripe.js' popups
    return response


@bp.get("/pay/<token>")
@page(
    PageSpec(
        "The customer's payment page (HTML): Stripe's card element, or the payment's state",
        tag="pay page",
        responses={
            200: (PageResponse("text/html", description="The page"),),
            404: (HTML, JSON_ERROR),  # no such token; a path that is no token at all
            410: (PageResponse("text/html", description="The link has expired"),),
        },
        path_patterns=(("token", TOKEN_PATTERN),),
    )
)
def show(token: str) -> Response:
    try:
        page = pay_page(services(), token)
    except NotFound:
        response = make_response("<!doctype html><title>Not found</title><p>No such payment.", 404)
        return _secure(response)
    cfg = services().config
    nonce = secrets.token_urlsafe(16)
    state = _state(page)
    config_json = json.dumps(
        {
            "publishableKey": cfg.stripe_publishable_key,
            "clientSecret": page.client_secret if state == "open" else None,
            "refreshUrl": url_for("pay_page.refresh", token=token),
        }
    ).replace("<", "\\u003c")
    html = (
        environment()
        .get_template("pay/page.html")
        .render(
            store_name=page.store_name,
            amount=format_money(page.amount, page.currency),
            state=state,
            decline_reason=page.decline_reason,
            stripe_js_url=cfg.stripe_js_url,
            nonce=nonce,
            config_json=config_json,
        )
    )
    status = 410 if state == "expired" else 200
    return _secure(make_response(html, status), nonce)


@bp.post("/pay/<token>/refresh")
@page(
    PageSpec(
        "The pay page asks whether it is paid now: the server asks Stripe, then answers",
        tag="pay page",
        responses={200: (PageResponse(model=PayPageStatus),), 404: (JSON_ERROR,)},
        path_patterns=(("token", TOKEN_PATTERN),),
    )
)
def refresh(token: str) -> Response:
    """The page's question "is it paid now?": the server asks Stripe, then answers."""
    found = pay_page(services(), token, refresh=True)
    answer = PayPageStatus(
        status=found.status,  # type: ignore[arg-type]
        decline_reason=found.decline_reason if found.status == PaymentStatus.FAILED else None,
    )
    return _secure(Response(answer.model_dump_json(), mimetype="application/json"))
