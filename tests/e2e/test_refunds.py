"""Refunds and cancelled card attempts from the till through the real server (gunicorn,
PostgreSQL) to localstripe: a card refund is made once at Stripe and recorded once on the
server; a cash refund made offline arrives later; a cancelled attempt can no longer be paid."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
import stripe

from app.data import DEMO_MANAGER_PIN
from app.domain.approval import ApprovalNeeded
from app.domain.card import CardStatus
from app.domain.errors import InvalidInput
from app.domain.order import TenderInput, TenderKind
from app.domain.refund import RefundLine, RefundState
from app.services.approvals import grant_approval
from app.services.card_payments import cancel_card_payment, card_tender, check_card_payment
from app.services.refunds import refund_order
from local_db.engine import DB_FILENAME
from sync.engine import ConnectionState
from sync.payments import HttpPaymentGateway
from tests.e2e.test_card_payment import (
    VISA,
    a_cart,
    sell,
    server_env_extra,
    start,
    wait_for,
    webhooks,
)
from tests.server.conftest import free_loopback_port
from tests.server.test_payments import intents_for_order, pay_as_the_browser

__all__ = ["server_env_extra", "webhooks"]  # fixtures shared with test_card_payment


def approved_refund(till: Any, gateway: Any, order_id: str, reason: str, **kwargs: Any) -> Any:
    """The till's flow: the clerk asks, the refund wants an approval of exactly itself, the
    demo store's manager (pulled from the server) types their PIN, and it is asked again."""
    terminal = till.terminal

    def ask(approval: Any = None) -> Any:
        return refund_order(
            terminal.uow,
            gateway,
            order_id,
            reason,
            till.clerk,
            terminal.clock,
            terminal.ids,
            approval=approval,
            **kwargs,
        )

    try:
        return ask()
    except ApprovalNeeded as needed:
        with terminal.read() as uow:
            manager = next(c for c in uow.clerks.all() if c.is_manager and c.active)
        return ask(
            grant_approval(
                terminal.uow(),
                terminal.ids,
                terminal.clock,
                needed.action,
                needed.subject,
                till.clerk.id,
                manager.id,
                DEMO_MANAGER_PIN,
                store=terminal.store,
            )
        )


def paid_by_card(till: Any, gateway: Any, stripe_client: Any) -> tuple[Any, Any]:
    cart = a_cart(till)
    payment = start(till, gateway, cart)
    (intent,) = intents_for_order(stripe_client, cart.order_id)
    pay_as_the_browser(stripe_client, intent.id, VISA)
    terminal = till.terminal
    paid = wait_for(
        lambda: check_card_payment(terminal.uow, gateway, payment.payment_id),
        CardStatus.SUCCEEDED,
    )
    return sell(till, cart, [card_tender(paid)]), intent


def server_stock(backend: Any, product_id: str) -> int:
    ((quantity,),) = backend.sql(
        "SELECT quantity FROM stock_levels WHERE product_id = %s", product_id
    )
    return int(quantity)


@pytest.mark.usefixtures("webhooks")
def test_partial_card_refund_is_made_once_at_stripe_and_recorded_once_on_the_server(
    backend, make_till, stripe_client
):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    gateway = HttpPaymentGateway(till.transport())
    order, intent = paid_by_card(till, gateway, stripe_client)
    assert till.engine.run_once(force=True).waiting == 0
    milk_after_sale = server_stock(backend, "demo-milk")

    terminal = till.terminal
    refund = approved_refund(
        till,
        gateway,
        order.id,
        "one bottle was broken",
        lines=[RefundLine(1, 1)],  # one of the two milks
    )
    assert refund.state is RefundState.DONE
    assert refund.card_amount == refund.amount > 0 and refund.cash_amount == 0
    at_stripe = stripe_client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert [r.amount for r in at_stripe] == [refund.amount]

    assert till.engine.run_once(force=True).waiting == 0
    assert till.engine.run_once(force=True).waiting == 0  # nothing left to send twice
    assert backend.sql(
        "SELECT id::text, amount, card_amount, card_payment_id::text FROM order_refunds"
    ) == [(refund.id, refund.amount, refund.amount, order.tenders[0].reference)]
    assert backend.sql("SELECT status, refunded_total FROM orders") == [("paid", refund.amount)]
    assert server_stock(backend, "demo-milk") == milk_after_sale + 1
    with terminal.read() as uow:
        assert uow.orders.get(order.id).refunded_total == refund.amount


def test_cash_refund_made_offline_syncs_when_the_server_is_back(backend, make_till):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    order = sell(till, a_cart(till), [TenderInput(TenderKind.CASH, 5000)])
    assert till.engine.run_once(force=True).waiting == 0

    till.base_url = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens: offline
    terminal = till.terminal
    refund = approved_refund(till, None, order.id, "changed mind")
    assert refund.cash_amount == order.total
    with terminal.read() as uow:
        assert uow.orders.get(order.id).status.value == "refunded"
    assert till.engine.run_once(force=True).state is ConnectionState.OFFLINE
    assert backend.sql("SELECT count(*) FROM order_refunds") == [(0,)]

    till.base_url = ""  # the server is reachable again
    assert till.engine.run_once(force=True).waiting == 0
    assert backend.sql("SELECT amount, cash_amount FROM order_refunds") == [
        (order.total, order.total)
    ]
    assert backend.sql("SELECT status FROM orders") == [("refunded",)]


def test_line_refund_reaches_the_server_exactly_once_and_restocks_there(backend, make_till):
    """One of two milks back, in cash: the server stores the refund with its line once, even
    when the till sends it again (its answer lost), and its stock takes the milk back once;
    what is left of the line is the same rule on both sides."""
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    order = sell(till, a_cart(till), [TenderInput(TenderKind.CASH, 5000)])
    assert till.engine.run_once(force=True).waiting == 0
    milk_after_sale = server_stock(backend, "demo-milk")
    terminal = till.terminal
    refund = approved_refund(
        till,
        None,
        order.id,
        "one bottle was broken",
        lines=[RefundLine(1, 1)],
    )
    assert refund.lines == (RefundLine(1, 1),) and refund.cash_amount == refund.amount > 0
    assert till.engine.run_once(force=True).waiting == 0
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:  # the answer was lost
        db.execute("UPDATE outbox SET state = 'pending' WHERE event_type = 'order.refunded'")
    assert till.engine.run_once(force=True).waiting == 0  # sent again: a duplicate
    assert backend.sql("SELECT id::text, amount, cash_amount FROM order_refunds") == [
        (refund.id, refund.amount, refund.amount)
    ]
    ((lines,),) = backend.sql("SELECT lines FROM order_refunds")
    stored = json.loads(lines) if isinstance(lines, str) else lines
    assert [(ln["line_no"], ln["quantity"]) for ln in stored] == [(1, 1)]
    assert backend.sql("SELECT status, refunded_total FROM orders") == [("paid", refund.amount)]
    assert server_stock(backend, "demo-milk") == milk_after_sale + 1
    with pytest.raises(InvalidInput, match="line 1: only 1 of it can still be refunded"):
        approved_refund(
            till,
            None,
            order.id,
            "both",
            lines=[RefundLine(1, 2)],
        )


@pytest.mark.usefixtures("webhooks")
def test_cancelled_card_attempt_cannot_be_paid_and_the_sale_completes_in_cash(
    backend, make_till, stripe_client
):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    gateway = HttpPaymentGateway(till.transport())
    cart = a_cart(till)
    payment = start(till, gateway, cart)
    (intent,) = intents_for_order(stripe_client, cart.order_id)
    total = cart.totals(till.terminal.store.taxes).total
    with pytest.raises(InvalidInput, match="cancel it"):
        sell(till, cart, [TenderInput(TenderKind.CASH, total)])

    cancelled = cancel_card_payment(till.terminal.uow, gateway, payment.payment_id)
    assert cancelled.status is CardStatus.FAILED
    assert cancelled.decline_reason == "cancelled at the till"
    with pytest.raises(stripe.StripeError):
        pay_as_the_browser(stripe_client, intent.id, VISA)
    assert stripe_client.v1.payment_intents.retrieve(intent.id).status == "canceled"

    order = sell(till, cart, [TenderInput(TenderKind.CASH, total)])
    assert till.engine.run_once(force=True).waiting == 0
    assert backend.sql("SELECT kind, amount FROM tenders") == [("cash", order.total)]
    assert backend.sql("SELECT status FROM payments") == [("failed",)]


def test_cancel_after_the_customer_paid_gives_the_till_the_payment(
    backend, make_till, stripe_client
):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    gateway = HttpPaymentGateway(till.transport())
    cart = a_cart(till)
    payment = start(till, gateway, cart)
    (intent,) = intents_for_order(stripe_client, cart.order_id)
    pay_as_the_browser(stripe_client, intent.id, VISA)
    paid = cancel_card_payment(till.terminal.uow, gateway, payment.payment_id)
    assert paid.status is CardStatus.SUCCEEDED
    order = sell(till, cart, [card_tender(paid)])
    assert till.engine.run_once(force=True).waiting == 0
    assert backend.sql("SELECT reference FROM tenders") == [(order.tenders[0].reference,)]
