"""Card-link phone orders through the real Stripe SDK against localstripe: the estimate plus
headroom authorised with a manual-capture PaymentIntent, the picked total captured, a
heavier one decided by staff (capture what was authorised, or a top-up link), and a
cancelled order's authorisation released or its capture refunded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.domain.card import CaptureChoice, PhoneCardStatus
from app.services.card_payments import (
    CardUnavailable,
    capture_phone_payment,
    card_link_tenders,
    phone_card_state,
)
from server.app import create_app
from server.models import (
    MailOutbox,
    Payment,
    PhoneOrder,
    PhoneOrderLine,
    PhoneOrderPayment,
    PhoneOrderPickedLine,
)
from server.payments.phone import note_cancelled, open_authorisation, settle_cancelled
from sync.http_transport import HttpSyncTransport
from sync.payments import HttpPaymentGateway
from tests.server.conftest import EnrolledTerminal, Shop, services_of
from tests.server.phone_builders import (
    customer_event,
    phone_order_event,
    picked_event,
    transition_event,
)
from tests.server.test_delivery import add_slot, latest, pull, push
from tests.server.test_payments import VISA, pay_as_the_browser
from tests.server.test_payments_webhooks import deliver, event_for, signature

ESTIMATE = 1000  # 2 × milk 2.50 + bananas about 1 kg at 5.00/kg
AUTHORISED = 1150  # + the store's 15 % headroom


@pytest.fixture
def app(payments_config: Any) -> Iterator[Flask]:
    app = create_app(payments_config)
    yield app
    services_of(app).close()


def place(app: Flask, terminal: EnrolledTerminal, *, email: str = "ada@example.com") -> str:
    """A card-link phone order as the push stores it: the order, its lines, and (in the
    same transaction) its authorisation and pay link."""
    svc = services_of(app)
    order_id = uuid.uuid4()
    now = datetime.now(UTC)
    with svc.sessions() as session, session.begin():
        order = PhoneOrder(
            store_id=terminal.store_id,
            id=order_id,
            terminal_id=uuid.UUID(terminal.terminal_id),
            event_id=uuid.uuid4(),
            order_no="T01-P000012",
            terminal_code=terminal.terminal_code,
            clerk_id=terminal.clerk_id,
            clerk_name="Clerk",
            customer_id=uuid.uuid4(),
            customer={"name": "Ada Lovelace", "phone": "+353851234567", "email": email},
            address={"line1": "1 Quay St", "postcode": "D02 X285", "city": "Dublin"},
            customer_email=email,
            note="",
            slot_id=None,
            booking_id=uuid.uuid4(),
            booking_status="firm",
            state="received",
            version=1,
            cancel_reason="",
            payment_method="card_link",
            currency="EUR",
            estimated_subtotal=ESTIMATE,
            estimated_tax_total=65,
            estimated_total=ESTIMATE,
            actual_subtotal=0,
            actual_tax_total=0,
            actual_total=0,
            created_at=now,
            updated_at=now,
        )
        session.add(order)
        for line_no, name, sold_by, quantity, price, net, substitution in (
            (1, "Whole milk 1 l", "each", 2, 250, 500, "best_match"),
            (2, "Bananas", "weight", 1000, 500, 500, "none"),
        ):
            session.add(
                PhoneOrderLine(
                    store_id=terminal.store_id,
                    order_id=order_id,
                    line_no=line_no,
                    product_id=f"p{line_no}",
                    sku=f"SKU{line_no}",
                    name=name,
                    sold_by=sold_by,
                    quantity=quantity,
                    unit_price=price,
                    tax_class="food",
                    tax_rate_bp=700,
                    net=net,
                    substitution=substitution,
                    substitute_product_id="",
                    note="",
                )
            )
        session.flush()
        open_authorisation(session, order, public_url=svc.config.public_url, ttl_minutes=60)
    return str(order_id)


def pick(app: Flask, terminal: EnrolledTerminal, order_id: str, banana_grams: int) -> int:
    """Picked as P2's ``phone_order.picked`` stores it: the milk substituted by oat milk,
    the bananas weighed; the order's actual totals. Returns the actual total."""
    bananas = round(banana_grams * 500 / 1000)
    total = 500 + bananas
    key = {"store_id": terminal.store_id, "order_id": uuid.UUID(order_id)}
    with services_of(app).sessions() as session, session.begin():
        for line_no, status, name, sold_by, quantity, price, net in (
            (1, "substituted", "Oat milk 1 l", "each", 2, 250, 500),
            (2, "picked", "Bananas", "weight", banana_grams, 500, bananas),
        ):
            session.add(
                PhoneOrderPickedLine(
                    **key,
                    line_no=line_no,
                    status=status,
                    product_id=f"p{line_no}",
                    sku=f"SKU{line_no}",
                    name=name,
                    sold_by=sold_by,
                    quantity=quantity,
                    unit_price=price,
                    tax_class="food",
                    tax_rate_bp=700,
                    net=net,
                )
            )
        order = session.get_one(PhoneOrder, {"store_id": terminal.store_id, "id": key["order_id"]})
        order.actual_subtotal = order.actual_total = total
        order.actual_tax_total = round(total * 700 / 10700)
        order.state = "picking"
    return total


def mails(app: Flask, kind: str) -> list[MailOutbox]:
    with services_of(app).sessions() as session:
        return list(
            session.scalars(
                select(MailOutbox).where(MailOutbox.kind == kind).order_by(MailOutbox.id)
            )
        )


def authorise(client: FlaskClient, app: Flask, stripe_client: Any, pay_link: str) -> Any:
    """The customer opens the mailed link (the PaymentIntent is made then) and authorises."""
    token = pay_link.rsplit("/", 1)[-1]
    assert client.get(f"/pay/{token}").status_code == 200
    with services_of(app).sessions() as session:
        payment = session.scalars(select(Payment).where(Payment.pay_token == token)).one()
        intent = payment.stripe_payment_intent_id
    assert intent
    return pay_as_the_browser(stripe_client, intent, VISA)


def link_in(mail: MailOutbox) -> str:
    return next(w for w in mail.text_body.split() if "/pay/" in w)


def state(client: FlaskClient, terminal: EnrolledTerminal, order_id: str) -> Any:
    answer = client.get(f"/api/v1/phone-orders/{order_id}/payment", headers=terminal.headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def capture(
    client: FlaskClient, terminal: EnrolledTerminal, order_id: str, choice: str, cid: str = ""
) -> Any:
    return client.post(
        f"/api/v1/phone-orders/{order_id}/capture",
        json={"protocol_version": 1, "capture_id": cid or str(uuid.uuid4()), "choice": choice},
        headers=terminal.headers,
    )


def intent_of_order(app: Flask, order_id: str, purpose: str = "phone_auth") -> str:
    with services_of(app).sessions() as session:
        payment = session.scalars(
            select(Payment).where(
                Payment.order_id == uuid.UUID(order_id), Payment.purpose == purpose
            )
        ).one()
        assert payment.stripe_payment_intent_id
        return payment.stripe_payment_intent_id


def test_lighter_pick_captures_less_than_was_authorised(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    order_id = place(app, shop.s1)
    [link] = mails(app, "payment_link")
    assert link.to_address == "ada@example.com"
    assert "up to €11.50" in link.text_body and "T01-P000012" in link.text_body
    assert state(client, shop.s1, order_id)["payment_status"] == "link_sent"

    early = capture(client, shop.s1, order_id, "capture")  # picked before the customer paid
    assert (early.status_code, early.json["error"]) == (409, "payment_not_authorised")

    confirmed = authorise(client, app, stripe_client, link_in(link))
    assert (confirmed.status, confirmed.amount, confirmed.capture_method) == (
        "requires_capture",
        AUTHORISED,
        "manual",
    )
    seen = state(client, shop.s1, order_id)
    assert (seen["payment_status"], seen["authorised_amount"]) == ("authorised", AUTHORISED)

    actual = pick(app, shop.s1, order_id, banana_grams=820)  # lighter than estimated
    assert actual == 910
    cid = str(uuid.uuid4())
    done = capture(client, shop.s1, order_id, "capture", cid)
    assert done.status_code == 200, done.json
    assert (done.json["payment_status"], done.json["captured_amount"]) == ("captured", 910)
    assert done.json["shortfall"] == 0
    intent = stripe_client.v1.payment_intents.retrieve(intent_of_order(app, order_id))
    assert intent.status == "succeeded"
    charge = intent.latest_charge  # localstripe expands it
    if isinstance(charge, str):
        charge = stripe_client.v1.charges.retrieve(charge)
    assert charge.amount - charge.amount_refunded == 910  # the rest was never charged

    again = capture(client, shop.s1, order_id, "capture", cid)  # a replay changes nothing
    assert (again.status_code, again.json["captured_amount"]) == (200, 910)
    other = capture(client, shop.s1, order_id, "capture")
    assert (other.status_code, other.json["error"]) == (409, "already_captured")

    [receipt] = mails(app, "final_receipt")
    text = receipt.text_body
    assert "Oat milk 1 l" in text and "instead of Whole milk 1 l" in text
    assert "0.820 kg × Bananas" in text and "ordered about 1.000 kg" in text
    assert "Paid: €9.10, charged to your card" in text
    with services_of(app).sessions() as session:
        payment = session.scalars(
            select(Payment).where(Payment.order_id == uuid.UUID(order_id))
        ).one()
        assert (payment.status, payment.amount_received) == ("succeeded", 910)


def test_heavier_pick_asks_staff_and_capturing_the_authorised_amount_notes_the_difference(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    order_id = place(app, shop.s1)
    authorise(client, app, stripe_client, link_in(mails(app, "payment_link")[0]))
    actual = pick(app, shop.s1, order_id, banana_grams=1400)  # 500 + 700 = 1200 > 1150
    asked = capture(client, shop.s1, order_id, "capture")
    assert asked.status_code == 200, asked.json
    assert (asked.json["payment_status"], asked.json["shortfall"]) == ("needs_decision", 50)
    assert asked.json["actual_total"] == actual == 1200
    assert "€0.50 more" in asked.json["message"]
    assert stripe_client.v1.payment_intents.retrieve(intent_of_order(app, order_id)).status == (
        "requires_capture"
    )  # nothing charged until staff decide

    decided = capture(client, shop.s1, order_id, "capture_authorised")
    assert decided.status_code == 200, decided.json
    assert decided.json["payment_status"] == "captured"
    assert (decided.json["captured_amount"], decided.json["decision"]) == (
        AUTHORISED,
        "capture_authorised",
    )
    [receipt] = mails(app, "final_receipt")
    assert "Discount, not authorised by card: -€0.50" in receipt.text_body
    assert "Paid: €11.50" in receipt.text_body


def test_heavier_pick_with_a_top_up_link_through_the_tills_services_over_http(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any, live_server: str
) -> None:
    """The picking screen's services (app/services/card_payments.py) through the till's
    HTTP gateway: asked, decided as a top-up, paid by the customer, then the final sale's
    card tenders."""
    gateway = HttpPaymentGateway(HttpSyncTransport(live_server, lambda: shop.s1.token))
    order_id = place(app, shop.s1)
    authorise(client, app, stripe_client, link_in(mails(app, "payment_link")[0]))
    assert phone_card_state(gateway, order_id).status is PhoneCardStatus.AUTHORISED
    pick(app, shop.s1, order_id, banana_grams=1400)
    asked = capture_phone_payment(gateway, order_id)
    assert (asked.status, asked.shortfall) == (PhoneCardStatus.NEEDS_DECISION, 50)
    with pytest.raises(CardUnavailable, match="needs decision"):
        card_link_tenders(asked)
    topped = capture_phone_payment(gateway, order_id, CaptureChoice.TOP_UP)
    assert (topped.status, topped.captured_amount, topped.top_up_amount) == (
        PhoneCardStatus.TOP_UP_SENT,
        AUTHORISED,
        50,
    )
    again = capture_phone_payment(gateway, order_id, CaptureChoice.TOP_UP)  # a lost answer
    assert again.top_up_payment_id == topped.top_up_payment_id  # asked again: one top-up
    top_up_mail = mails(app, "payment_link")[-1]
    assert "remaining €0.50" in top_up_mail.text_body
    assert topped.pay_url == link_in(top_up_mail)
    assert mails(app, "final_receipt") == []

    authorise(client, app, stripe_client, topped.pay_url)  # captured at once: automatic
    paid = phone_card_state(gateway, order_id)
    assert (paid.status, paid.captured_amount) == (PhoneCardStatus.CAPTURED, 1200)
    tenders = card_link_tenders(paid)
    assert [(t.kind.value, t.amount, t.reference) for t in tenders] == [
        ("card", AUTHORISED, paid.authorisation_payment_id),
        ("card", 50, paid.top_up_payment_id),
    ]
    assert stripe_client.v1.payment_intents.retrieve(
        intent_of_order(app, order_id, "phone_top_up")
    ).status == ("succeeded")
    [receipt] = mails(app, "final_receipt")
    assert "Paid: €12.00" in receipt.text_body


def _cancel(app: Flask, terminal: EnrolledTerminal, order_id: str) -> None:
    """What the cancelling transition does: in its transaction, then after it."""
    svc = services_of(app)
    key = uuid.UUID(order_id)
    with svc.sessions() as session, session.begin():
        order = session.get_one(PhoneOrder, {"store_id": terminal.store_id, "id": key})
        order.state = "cancelled"
        assert note_cancelled(session, terminal.store_id, key)
    settle_cancelled(svc, terminal.store_id, key)


def test_cancelled_order_releases_its_authorisation(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    order_id = place(app, shop.s1)
    link = link_in(mails(app, "payment_link")[0])
    authorise(client, app, stripe_client, link)
    _cancel(app, shop.s1, order_id)
    intent = stripe_client.v1.payment_intents.retrieve(intent_of_order(app, order_id))
    assert intent.status == "canceled"
    assert state(client, shop.s1, order_id)["payment_status"] == "released"
    late = capture(client, shop.s1, order_id, "capture")
    assert (late.status_code, late.json["error"]) == (409, "order_cancelled")
    _cancel_again = settle_cancelled(services_of(app), shop.s1.store_id, uuid.UUID(order_id))
    assert _cancel_again is None  # settled once; a second call does nothing


def test_cancelled_order_after_capture_is_refunded(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    order_id = place(app, shop.s1)
    authorise(client, app, stripe_client, link_in(mails(app, "payment_link")[0]))
    pick(app, shop.s1, order_id, banana_grams=900)
    assert capture(client, shop.s1, order_id, "capture").json["captured_amount"] == 950
    _cancel(app, shop.s1, order_id)
    assert state(client, shop.s1, order_id)["payment_status"] == "refunded"
    refunds = stripe_client.v1.refunds.list(
        params={"payment_intent": intent_of_order(app, order_id), "limit": 100}
    )
    ours = [r for r in refunds.data if r.metadata.to_dict().get("refund_id")]
    assert [r.amount for r in ours] == [950]


def test_another_stores_terminal_neither_sees_nor_captures_the_order(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    order_id = place(app, shop.s1)
    for answer in (
        client.get(f"/api/v1/phone-orders/{order_id}/payment", headers=shop.s2.headers),
        capture(client, shop.s2, order_id, "capture"),
        client.post(
            f"/api/v1/phone-orders/{order_id}/payment-link",
            json={"protocol_version": 1},
            headers=shop.s2.headers,
        ),
    ):
        assert answer.status_code == 404, answer.json


def test_payment_link_is_sent_again_and_a_declined_authorisation_gets_a_new_one(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    order_id = place(app, shop.s1, email="")
    assert mails(app, "payment_link") == []  # no address: no link yet
    url = f"/api/v1/phone-orders/{order_id}/payment-link"
    missing = client.post(url, json={"protocol_version": 1}, headers=shop.s1.headers)
    assert (missing.status_code, missing.json["field"]) == (422, "email")
    sent = client.post(
        url, json={"protocol_version": 1, "email": "bob@example.com"}, headers=shop.s1.headers
    )
    assert sent.status_code == 200, sent.json
    first = sent.json["authorisation_payment_id"]
    [mail] = mails(app, "payment_link")
    assert mail.to_address == "bob@example.com" and sent.json["pay_url"] == link_in(mail)
    token = link_in(mail).rsplit("/", 1)[-1]
    client.get(f"/pay/{token}")
    with pytest.raises(stripe.CardError):
        pay_as_the_browser(stripe_client, intent_of_order(app, order_id), "4000000000000341")
    assert state(client, shop.s1, order_id)["payment_status"] == "failed"
    again = client.post(url, json={"protocol_version": 1}, headers=shop.s1.headers)
    assert again.status_code == 200, again.json
    assert again.json["payment_status"] == "link_sent"
    assert again.json["authorisation_payment_id"] != first
    assert len(mails(app, "payment_link")) == 2


def test_an_order_paid_at_the_door_gets_no_card_link(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot_id = add_slot(app, 10, 5)
    customer = customer_event()
    placed = phone_order_event(customer["payload"]["id"], slot_id, payment_method="door_cash")
    order_id = placed["payload"]["id"]
    assert [r["status"] for r in push(client, shop.s1, customer, placed)] == ["accepted"] * 2
    assert mails(app, "payment_link") == []
    url = f"/api/v1/phone-orders/{order_id}"
    for answer in (
        client.get(f"{url}/payment", headers=shop.s1.headers),
        client.post(f"{url}/payment-link", json={"protocol_version": 1}, headers=shop.s1.headers),
        capture(client, shop.s1, order_id, "capture"),
    ):
        assert (answer.status_code, answer.json["error"]) == (409, "not_card_link"), answer.json


def test_through_the_push_a_card_link_order_is_authorised_captured_and_refunded_on_cancel(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    """The delivery package's push handlers call the card hooks: the placed order mails
    its link, the picked total is captured, and a cancel pushed afterwards refunds it once
    the push committed."""
    slot_id = add_slot(app, 10, 5)
    customer = customer_event(email="aoife@example.com")
    placed = phone_order_event(customer["payload"]["id"], slot_id, payment_method="card_link")
    order_id = placed["payload"]["id"]
    assert [r["status"] for r in push(client, shop.s1, customer, placed)] == ["accepted"] * 2
    [link] = mails(app, "payment_link")
    assert link.to_address == "aoife@example.com"
    estimate = placed["payload"]["estimated_total"]  # 2 × 1.01 + 1.250 kg × 1.99 = 4.51
    assert state(client, shop.s1, order_id)["authorised_amount"] == -(-estimate * 115 // 100)
    pulled = latest(pull(client, shop.s1)[0], "phone_order")[order_id]
    assert (pulled["payment_status"], pulled["pay_url"]) == ("link_sent", link_in(link))
    authorise(client, app, stripe_client, link_in(link))
    assert [
        r["status"]
        for r in push(
            client,
            shop.s1,
            transition_event(order_id, "received", "picking"),
            picked_event(order_id, grams=1000),
        )
    ] == ["accepted"] * 2
    charged = capture(client, shop.s1, order_id, "capture")
    assert charged.status_code == 200, charged.json
    assert (charged.json["payment_status"], charged.json["captured_amount"]) == (
        "captured",
        202 + 199,
    )
    [cancel] = push(client, shop.s1, transition_event(order_id, "picking", "cancelled", "gone"))
    assert cancel["status"] == "accepted"
    with services_of(app).sessions() as session:  # settled once the push had committed
        card = session.get_one(
            PhoneOrderPayment, {"store_id": shop.s1.store_id, "order_id": uuid.UUID(order_id)}
        )
        assert (card.status, card.cancelled) == ("refunded", True)
    refunds = stripe_client.v1.refunds.list(
        params={"payment_intent": intent_of_order(app, order_id), "limit": 100}
    )
    assert [r.amount for r in refunds.data if r.metadata.to_dict().get("refund_id")] == [401]


def card_state_in_db(app: Flask, terminal: EnrolledTerminal, order_id: str) -> tuple[str, int]:
    with services_of(app).sessions() as session:
        card = session.get_one(
            PhoneOrderPayment, {"store_id": terminal.store_id, "order_id": uuid.UUID(order_id)}
        )
        return card.status, card.captured_amount


def test_stripes_webhooks_alone_keep_the_card_state_when_the_customer_pays_later(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any
) -> None:
    """Nobody asks Stripe: the customer authorises after the till tried to capture, and pays
    the top-up long after staff sent it; the signed webhooks bring both."""
    order_id = place(app, shop.s1)
    token = link_in(mails(app, "payment_link")[0]).rsplit("/", 1)[-1]
    assert client.get(f"/pay/{token}").status_code == 200  # the intent is made, unpaid
    pick(app, shop.s1, order_id, banana_grams=1400)
    early = capture(client, shop.s1, order_id, "top_up")
    assert (early.status_code, early.json["error"]) == (409, "payment_not_authorised")
    auth_intent = intent_of_order(app, order_id)
    pay_as_the_browser(stripe_client, auth_intent, VISA)
    assert card_state_in_db(app, shop.s1, order_id) == ("link_sent", 0)  # not asked yet
    payload = event_for(stripe_client, auth_intent, "payment_intent.amount_capturable_updated")
    assert deliver(client, payload, signature(payload)).status_code == 200
    assert card_state_in_db(app, shop.s1, order_id) == ("authorised", 0)

    topped = capture(client, shop.s1, order_id, "top_up")
    assert topped.json["payment_status"] == "top_up_sent", topped.json
    client.get(f"/pay/{topped.json['pay_url'].rsplit('/', 1)[-1]}")
    top_up_intent = intent_of_order(app, order_id, "phone_top_up")
    pay_as_the_browser(stripe_client, top_up_intent, VISA)
    payload = event_for(stripe_client, top_up_intent, "payment_intent.succeeded")
    assert deliver(client, payload, signature(payload)).status_code == 200
    assert card_state_in_db(app, shop.s1, order_id) == ("captured", 1200)
    assert deliver(client, payload, signature(payload)).json["duplicate"] is True
    assert card_state_in_db(app, shop.s1, order_id) == ("captured", 1200)  # counted once
    assert len(mails(app, "final_receipt")) == 1


def test_a_cancel_while_stripe_is_away_is_answered_and_the_worker_releases_the_hold(
    app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any, payments_config: Any
) -> None:
    """The order is cancelled while Stripe cannot be reached: the order's card still answers
    (cancelled, the hold to be released) instead of a 503, and the worker's chore releases
    the hold once Stripe is back, with nobody looking at the order."""
    from server.worker import housekeeping

    order_id = place(app, shop.s1)
    authorise(client, app, stripe_client, link_in(mails(app, "payment_link")[0]))
    away = create_app(
        payments_config.replace(stripe_api_base="http://127.0.0.1:9", stripe_max_retries=0)
    )
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the SDK raises: it is away
            _cancel(away, shop.s1, order_id)
        answer = away.test_client().get(
            f"/api/v1/phone-orders/{order_id}/payment", headers=shop.s1.headers
        )
        assert answer.status_code == 200, answer.json
        assert answer.json["payment_status"] not in ("released", "refunded")
        assert "cancelled" in answer.json["message"]
        housekeeping(services_of(away).sessions, services_of(away))  # still away: kept
    finally:
        services_of(away).close()
    intent = intent_of_order(app, order_id)
    assert stripe_client.v1.payment_intents.retrieve(intent).status == "requires_capture"

    housekeeping(services_of(app).sessions, services_of(app))  # Stripe is back
    assert stripe_client.v1.payment_intents.retrieve(intent).status == "canceled"
    with services_of(app).sessions() as session:
        card = session.get_one(
            PhoneOrderPayment, {"store_id": shop.s1.store_id, "order_id": uuid.UUID(order_id)}
        )
        assert card.status == "released"
