"""Card payments from the till through the real server to localstripe: one charge per sale,
confirmed before the sale completes, and settled correctly after a crash or a decline."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from app.domain.card import CardStatus
from app.domain.cart import Cart
from app.domain.order import TenderInput
from app.services.card_payments import (
    card_tender,
    check_card_payment,
    settle_card_attempts,
    start_card_payment,
)
from app.services.checkout import complete_sale
from sync.engine import ConnectionState
from sync.payments import HttpPaymentGateway
from tests.server.conftest import (
    STRIPE_TEST_PUBLISHABLE_KEY,
    STRIPE_TEST_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
)
from tests.server.test_payments import intents_for_order, pay_as_the_browser

VISA = "4242424242424242"
DECLINED = "4000000000000341"
PUBLIC_URL = "https://pos.example.test"


@pytest.fixture
def server_env_extra(localstripe_url: str) -> dict[str, str]:
    return {
        "STRIPE_SECRET_KEY": STRIPE_TEST_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": STRIPE_TEST_PUBLISHABLE_KEY,
        "STRIPE_API_BASE": localstripe_url,
        "STRIPE_JS_URL": f"{localstripe_url}/js.stripe.com/v3/",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "SHOPSMART_PUBLIC_URL": PUBLIC_URL,
    }


@pytest.fixture
def webhooks(backend: Any, localstripe_url: str) -> Any:
    """localstripe signs and delivers payment events to this test's server."""
    hook = f"e2e-{backend.server.port}"
    config = {
        "url": f"{backend.server.url}/stripe/webhook",
        "secret": STRIPE_WEBHOOK_SECRET,
        "events": ["payment_intent.succeeded", "payment_intent.payment_failed"],
    }
    requests.post(f"{localstripe_url}/_config/webhooks/{hook}", json=config, timeout=5)
    yield
    requests.post(
        f"{localstripe_url}/_config/webhooks/{hook}",
        json={**config, "events": ["shopsmart.disabled"]},
        timeout=5,
    )


def a_cart(till: Any) -> Cart:
    with till.terminal.read() as uow:
        milk, wine = uow.products.by_id("demo-milk"), uow.products.by_id("demo-wine")
    return Cart().add(milk, 2).add(wine).with_order_id(till.terminal.ids.new_id())


def wait_for(check: Any, status: CardStatus, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    payment = check()
    while payment.status is not status and time.monotonic() < deadline:
        time.sleep(0.2)
        payment = check()
    return payment


def sell(till: Any, cart: Cart, tenders: list[TenderInput]) -> Any:
    t = till.terminal
    return complete_sale(t.uow(), cart, tenders, till.clerk, t.store, t.clock, t.ids)


def start(till: Any, gateway: Any, cart: Cart) -> Any:
    terminal = till.terminal
    total = cart.totals(terminal.store.taxes).total
    return start_card_payment(
        terminal.uow, gateway, cart, total, till.clerk, terminal.store, terminal.clock, terminal.ids
    )


def test_counter_card_payment_charges_once_and_the_sale_reaches_the_server(
    backend, make_till, stripe_client, webhooks
):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    gateway = HttpPaymentGateway(till.transport())
    cart = a_cart(till)
    first = start(till, gateway, cart)
    assert first.status is CardStatus.PENDING
    assert first.pay_url.startswith(f"{PUBLIC_URL}/pay/")
    again = start(till, gateway, cart)  # the clerk pressed Card twice / the app retried
    assert again.payment_id == first.payment_id
    (intent,) = intents_for_order(stripe_client, cart.order_id)

    pay_as_the_browser(stripe_client, intent.id, VISA)
    terminal = till.terminal
    paid = wait_for(
        lambda: check_card_payment(terminal.uow, gateway, first.payment_id), CardStatus.SUCCEEDED
    )
    assert paid.status is CardStatus.SUCCEEDED
    order = sell(till, cart, [card_tender(paid)])
    assert order.id == cart.order_id
    assert till.engine.run_once(force=True).waiting == 0
    assert backend.sql("SELECT kind, amount, reference FROM tenders") == [
        ("card", order.total, first.payment_id)
    ]
    assert len(intents_for_order(stripe_client, cart.order_id)) == 1
    with terminal.read() as uow:
        assert uow.card_attempts.unsettled() == []


def test_declined_card_shows_the_reason_and_parks_the_sale_when_settled(
    backend, make_till, stripe_client, webhooks
):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    gateway = HttpPaymentGateway(till.transport())
    cart = a_cart(till)
    payment = start(till, gateway, cart)
    (intent,) = intents_for_order(stripe_client, cart.order_id)
    with pytest.raises(Exception):  # noqa: B017 - the SDK's CardError, as Stripe.js sees it
        pay_as_the_browser(stripe_client, intent.id, DECLINED)
    terminal = till.terminal
    failed = wait_for(
        lambda: check_card_payment(terminal.uow, gateway, payment.payment_id), CardStatus.FAILED
    )
    assert failed.status is CardStatus.FAILED
    assert failed.decline_reason  # words for the clerk
    (settled,) = settle_card_attempts(
        terminal.uow, gateway, terminal.store, terminal.clock, terminal.ids
    )
    assert "failed" in settled.outcome and "parked" in settled.outcome
    with terminal.read() as uow:
        (parked,) = uow.parked.list()
        assert parked[0] == cart.order_id
    retry = start(till, gateway, cart)  # a new attempt for the same sale, not the failed one
    assert retry.payment_id != payment.payment_id


def test_till_lost_mid_payment_completes_the_sale_once_the_payment_is_confirmed(
    backend, make_till, stripe_client, webhooks
):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    with till.terminal.read() as uow:  # a clerk the till pulled from the server
        till.clerk = next(c for c in uow.clerks.all() if c.name == "Maria")
    gateway = HttpPaymentGateway(till.transport())
    cart = a_cart(till)
    payment = start(till, gateway, cart)
    # The till dies here; the customer pays on their phone meanwhile.
    (intent,) = intents_for_order(stripe_client, cart.order_id)
    pay_as_the_browser(stripe_client, intent.id, VISA)
    terminal = till.terminal
    deadline = time.monotonic() + 20
    settled = []
    while not settled and time.monotonic() < deadline:
        settled = settle_card_attempts(
            terminal.uow, gateway, terminal.store, terminal.clock, terminal.ids
        )
        time.sleep(0.2)
    (result,) = settled
    assert result.order is not None and result.order.id == cart.order_id
    assert "completed" in result.outcome
    assert (
        settle_card_attempts(terminal.uow, gateway, terminal.store, terminal.clock, terminal.ids)
        == []
    )  # nothing twice
    assert till.engine.run_once(force=True).waiting == 0
    assert backend.sql("SELECT id::text FROM orders") == [(cart.order_id,)]
    assert backend.sql("SELECT reference FROM tenders") == [(payment.payment_id,)]


def test_phone_order_payment_link_is_queued_for_the_customer_once(backend, make_till):
    from app.services.card_payments import email_payment_link

    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    gateway = HttpPaymentGateway(till.transport())
    cart = a_cart(till)
    payment = start(till, gateway, cart)
    assert email_payment_link(gateway, payment.payment_id, "ana@example.com") == "ana@example.com"
    email_payment_link(gateway, payment.payment_id, "ana@example.com")  # asked twice
    rows = backend.sql("SELECT kind, to_address, text_body FROM mail_outbox")
    assert [(kind, to) for kind, to, _ in rows] == [("payment_link", "ana@example.com")]
    assert payment.pay_url in rows[0][2]
