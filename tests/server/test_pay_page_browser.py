"""The payment page in real headless Chromium with localstripe's Stripe.js stand-in.

localstripe's stand-in renders the card element as plain inputs, but its
``confirmCardPayment`` ignores the card and only completes a 3-D Secure step. Real Stripe.js
sends the card from the element straight to Stripe, which creates a PaymentMethod and
confirms the PaymentIntent. This test plays that part of Stripe: a script injected into the
browser (before any page script) passes the element's card to a tiny "Stripe side" bridge
that does exactly that against localstripe with the SDK. The page's own code is the
production code, unchanged; the card goes browser → bridge → localstripe, never to our
server (checked on every request our server receives).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from flask import Flask, request
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from server.app import create_app
from server.mail.dispatch import MailDispatcher
from server.mail.mailer import EmlFileMailer
from server.models import MailOutbox, Payment
from tests.server.conftest import Shop, served_on_loopback, services_of
from tests.server.test_payments import VISA, payment_body, start

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

BRIDGE_JS = """
(function () {
  var stub;
  Object.defineProperty(window, 'Stripe', {
    configurable: true,
    get: function () { return stub; },
    set: function (factory) {
      stub = function (key) {
        var stripe = factory(key);
        var original = stripe.confirmCardPayment;
        stripe.confirmCardPayment = async function (clientSecret, data) {
          var card = data && data.payment_method && data.payment_method.card;
          if (card && card.value) {
            var response = await fetch('%(bridge)s/confirm', {
              method: 'POST',
              body: JSON.stringify({client_secret: clientSecret, card: card.value.card}),
            });
            var answer = await response.json();
            if (answer.error) { return {error: answer.error}; }
            if (answer.status !== 'requires_action') { return {paymentIntent: answer}; }
          }
          return original(clientSecret, data);
        };
        return stripe;
      };
    },
  });
})();
"""


@pytest.fixture
def app(payments_config: Any) -> Iterator[Flask]:
    app = create_app(payments_config)
    yield app
    services_of(app).close()


@pytest.fixture
def stripe_side(stripe_client: Any) -> Iterator[str]:
    """What Stripe's servers do with the card Stripe.js sends them (see module doc)."""
    bridge = Flask("stripe_side")

    @bridge.post("/confirm")
    def confirm() -> Any:
        data = json.loads(request.get_data())
        card = data["card"]
        intent_id = data["client_secret"].split("_secret_")[0]
        try:
            method = stripe_client.v1.payment_methods.create(
                params={
                    "type": "card",
                    "card": {
                        "number": card["number"],
                        "exp_month": int(card["exp_month"]),
                        "exp_year": int(card["exp_year"]),
                        "cvc": card["cvc"],
                    },
                }
            )
            stripe_client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
            intent = stripe_client.v1.payment_intents.confirm(intent_id)
            body: dict[str, Any] = {"id": intent.id, "status": intent.status}
        except stripe.CardError as exc:
            body = {"error": {"message": exc.user_message, "code": exc.code}}
        return body, 200, {"Access-Control-Allow-Origin": "*"}

    with served_on_loopback(bridge) as url:
        yield url


@pytest.fixture
def browser(stripe_side: str) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": BRIDGE_JS % {"bridge": stripe_side}}
        )
        # the page's CSP lets it talk to Stripe only; the bridge plays Stripe from elsewhere
        driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def seen_by_server(app: Flask) -> list[bytes]:
    """Every request line and body our server receives."""
    seen: list[bytes] = []
    inner = app.wsgi_app

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        seen.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}".encode() + body)
        return inner(environ, start_response)

    app.wsgi_app = recording  # type: ignore[method-assign]
    return seen


def fill_card(driver: webdriver.Chrome, number: str) -> None:
    for placeholder, value in (
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "10115"),
    ):
        field = driver.find_element(
            By.CSS_SELECTOR, f"#card-element input[placeholder={placeholder}]"
        )
        field.send_keys(value)


def test_customer_pays_on_the_page_and_gets_the_confirmation(
    app: Flask,
    live_server: str,
    shop: Shop,
    browser: webdriver.Chrome,
    seen_by_server: list[bytes],
    tmp_path: Path,
) -> None:
    client = app.test_client()
    body = payment_body(purpose="phone")
    started = start(client, shop.s1, body)
    token = started.json["pay_url"].rsplit("/", 1)[-1]

    browser.get(f"{live_server}/pay/{token}")
    assert "High Street" in browser.page_source and "€12.50" in browser.page_source
    fill_card(browser, VISA)
    browser.find_element(By.ID, "pay-button").click()
    WebDriverWait(browser, 20).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "result"), "Paid — thank you")
    )

    with services_of(app).sessions() as session:
        payment = session.scalars(
            select(Payment).where(Payment.id == uuid.UUID(body["payment_id"]))
        ).one()
        assert payment.status == "succeeded"
        mails = session.scalars(select(MailOutbox)).all()
    assert [m.kind for m in mails] == ["order_confirmation"]
    worker = MailDispatcher(services_of(app).sessions, EmlFileMailer(tmp_path, "shop@test"))
    assert worker.run_once().sent == 1
    eml = next(tmp_path.glob("*.eml")).read_text()
    assert "To: ada@example.com" in eml and "T01-000042" in eml

    assert all(VISA.encode() not in seen for seen in seen_by_server)
    assert any(b"/refresh" in seen for seen in seen_by_server)

    browser.get(f"{live_server}/pay/{token}")  # the link, opened again later
    assert "Paid — thank you" in browser.find_element(By.ID, "result").text


def test_declined_card_shows_the_reason_on_the_page(
    app: Flask, live_server: str, shop: Shop, browser: webdriver.Chrome
) -> None:
    client = app.test_client()
    body = payment_body()
    token = start(client, shop.s1, body).json["pay_url"].rsplit("/", 1)[-1]
    browser.get(f"{live_server}/pay/{token}")
    fill_card(browser, "4000000000000341")
    browser.find_element(By.ID, "pay-button").click()
    WebDriverWait(browser, 20).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "message"), "declined")
    )
    status = client.get(f"/api/v1/payments/{body['payment_id']}", headers=shop.s1.headers)
    assert status.json["status"] == "failed"
    assert status.json["decline_code"] == "card_declined"


def test_unknown_token_is_a_404_page(live_server: str, browser: webdriver.Chrome) -> None:
    import requests

    answer = requests.get(f"{live_server}/pay/{'x' * 43}", timeout=5)
    assert answer.status_code == 404
    assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_page_may_load_scripts_and_connect_only_to_stripe(
    app: Flask, live_server: str, shop: Shop
) -> None:
    import requests

    token = start(app.test_client(), shop.s1, payment_body()).json["pay_url"].rsplit("/", 1)[-1]
    answer = requests.get(f"{live_server}/pay/{token}", timeout=5)
    policy = answer.headers["Content-Security-Policy"]
    stripe_origin = services_of(app).config.stripe_api_base
    assert f"connect-src 'self' {stripe_origin} https://*.stripe.com;" in policy
    assert "script-src 'nonce-" in policy and "unsafe-eval" not in policy
    assert answer.headers["Cache-Control"] == "no-store"
