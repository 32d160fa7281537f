"""Stripe's webhook: signature verified, each event applied once, the authority for "paid"."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.app import create_app
from server.models import MailOutbox, Payment, StripeEvent
from tests.server.conftest import STRIPE_WEBHOOK_SECRET, Shop, services_of
from tests.server.test_payments import (
    DECLINED,
    VISA,
    intent_of,
    pay_as_the_browser,
    payment_body,
    start,
)


@pytest.fixture
def app(payments_config: Any) -> Iterator[Flask]:
    app = create_app(payments_config)
    yield app
    services_of(app).close()


def signature(payload: bytes, secret: str = STRIPE_WEBHOOK_SECRET, at: int | None = None) -> str:
    """Stripe's scheme: ``t=<unix time>,v1=<HMAC-SHA256 of "<t>.<payload>">``."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event_for(stripe_client: Any, intent_id: str, kind: str) -> bytes:
    intent = stripe_client.v1.payment_intents.retrieve(intent_id).to_dict()
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": intent},
    }
    return json.dumps(event).encode()


def deliver(client: FlaskClient, payload: bytes, header: str) -> Any:
    return client.post(
        "/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def status_of(app: Flask, payment_id: str) -> str:
    with services_of(app).sessions() as session:
        return (
            session.scalars(select(Payment).where(Payment.id == uuid.UUID(payment_id))).one().status
        )


def counts(app: Flask) -> tuple[int, int]:
    with services_of(app).sessions() as session:
        events = session.scalar(select(func.count()).select_from(StripeEvent))
        mails = session.scalar(select(func.count()).select_from(MailOutbox))
    return int(events or 0), int(mails or 0)


@pytest.fixture
def paid_at_stripe(app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any) -> Any:
    """A payment the customer completed at Stripe, which our server has not heard of yet."""
    body = payment_body()
    start(client, shop.s1, body)
    intent = intent_of(app, body["payment_id"])
    pay_as_the_browser(stripe_client, intent, VISA)
    return body, intent


def test_signed_success_event_marks_the_payment_paid_and_queues_the_email(
    app: Flask, client: FlaskClient, stripe_client: Any, paid_at_stripe: Any
) -> None:
    body, intent = paid_at_stripe
    assert status_of(app, body["payment_id"]) == "pending"
    payload = event_for(stripe_client, intent, "payment_intent.succeeded")
    answer = deliver(client, payload, signature(payload))
    assert answer.status_code == 200
    assert answer.json == {"received": True, "duplicate": False}
    assert status_of(app, body["payment_id"]) == "succeeded"
    assert counts(app) == (1, 1)


def test_replayed_event_has_no_second_effect(
    app: Flask, client: FlaskClient, stripe_client: Any, paid_at_stripe: Any
) -> None:
    _, intent = paid_at_stripe
    payload = event_for(stripe_client, intent, "payment_intent.succeeded")
    deliver(client, payload, signature(payload))
    again = deliver(client, payload, signature(payload))
    assert again.json == {"received": True, "duplicate": True}
    assert counts(app) == (1, 1)


@pytest.mark.parametrize(
    "header",
    [
        lambda p: signature(p, secret="whsec_someone_else"),
        lambda p: signature(p, at=int(time.time()) - 3600),  # outside the tolerance window
        lambda p: "t=1,v1=00",
        lambda p: "",
    ],
    ids=["wrong-secret", "too-old", "garbage", "missing"],
)
def test_event_with_a_bad_signature_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, stripe_client: Any, paid_at_stripe: Any, header: Any
) -> None:
    body, intent = paid_at_stripe
    payload = event_for(stripe_client, intent, "payment_intent.succeeded")
    answer = deliver(client, payload, header(payload))
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_signature"
    assert status_of(app, body["payment_id"]) == "pending"
    assert counts(app) == (0, 0)


def test_tampered_payload_is_refused(
    app: Flask, client: FlaskClient, stripe_client: Any, paid_at_stripe: Any
) -> None:
    body, intent = paid_at_stripe
    payload = event_for(stripe_client, intent, "payment_intent.succeeded")
    header = signature(payload)
    answer = deliver(client, payload.replace(b"1250", b"9999"), header)
    assert answer.status_code == 400
    assert status_of(app, body["payment_id"]) == "pending"


def test_failure_event_marks_the_payment_failed_with_the_reason(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    body = payment_body()
    start(client, shop.s1, body)
    intent = intent_of(app, body["payment_id"])
    with pytest.raises(stripe.CardError):
        pay_as_the_browser(stripe_client, intent, DECLINED)
    payload = event_for(stripe_client, intent, "payment_intent.payment_failed")
    assert deliver(client, payload, signature(payload)).status_code == 200
    with services_of(app).sessions() as session:
        payment = session.scalars(
            select(Payment).where(Payment.id == uuid.UUID(body["payment_id"]))
        ).one()
        assert (payment.status, payment.decline_code) == ("failed", "card_declined")
    assert counts(app) == (1, 0)


def test_localstripe_delivers_signed_events_to_the_running_server(
    app: Flask, live_server: str, localstripe_url: str, shop: Shop, stripe_client: Any
) -> None:
    hook = f"shopsmart-{uuid.uuid4().hex[:8]}"
    config = {
        "url": f"{live_server}/stripe/webhook",
        "secret": STRIPE_WEBHOOK_SECRET,
        "events": ["payment_intent.succeeded"],
    }
    requests.post(f"{localstripe_url}/_config/webhooks/{hook}", json=config, timeout=5)
    try:
        client = app.test_client()
        body = payment_body()
        start(client, shop.s1, body)
        pay_as_the_browser(stripe_client, intent_of(app, body["payment_id"]), VISA)
        deadline = time.monotonic() + 15
        while status_of(app, body["payment_id"]) != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status_of(app, body["payment_id"]) == "succeeded"  # no GET: the webhook did it
        events, mails = counts(app)
        assert events >= 1 and mails == 1
    finally:  # this server goes away: send nothing more to it
        requests.post(
            f"{localstripe_url}/_config/webhooks/{hook}",
            json={**config, "events": ["shopsmart.disabled"]},
            timeout=5,
        )


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_\u0000", "type": "payment_intent.succeeded", "data": {"object": {}}},
        {"id": "evt_" + "x" * 300, "type": "payment_intent.succeeded", "data": {"object": {}}},
        {
            "id": "evt_nul_in_the_intent",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_\u0000", "object": "payment_intent"}},
        },
    ],
    ids=["nul-in-id", "id-too-long", "nul-in-intent-id"],
)
def test_signed_event_no_database_can_record_is_a_422_not_a_500(
    app: Flask, client: FlaskClient, event: dict[str, Any]
) -> None:
    payload = json.dumps({"object": "event", "created": int(time.time()), **event}).encode()
    answer = deliver(client, payload, signature(payload))
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.json["error"] == "invalid_body"
    assert counts(app) == (0, 0)
