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
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, make_response, url_for

from app.domain.money import format_money
from server.errors import NotFound
from server.mail.notifications import environment
from server.payments.service import OPEN, PaymentStatus, PayPage, pay_page
from server.services import services

bp = Blueprint("pay_page", __name__)


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
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        f"frame-src {stripe_origin} https://*.stripe.com; "
        f"connect-src 'self' {stripe_origin} https://*.stripe.com; "
        "img-src 'self' data: https://*.stripe.com; base-uri 'none'; form-action 'self'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/pay/<token>")
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
def refresh(token: str) -> Response:
    """The page's question "is it paid now?": the server asks Stripe, then answers."""
    page = pay_page(services(), token, refresh=True)
    return _secure(
        jsonify(
            {
                "status": page.status,
                "decline_reason": page.decline_reason
                if page.status == PaymentStatus.FAILED
                else None,
            }
        )
    )
