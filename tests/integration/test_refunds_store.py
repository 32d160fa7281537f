"""Refunds and card-attempt cancelling on a real SQLite file: the refund, the order's new
refunded total, the stock and the outbox event are one transaction."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.data import DEMO_MANAGER_PIN
from app.domain.approval import ApprovalAction, ApprovalNeeded, ApprovalRefused
from app.domain.card import CardStatus
from app.domain.cart import Cart
from app.domain.errors import InvalidInput
from app.domain.order import OrderStatus, TenderInput, TenderKind
from app.domain.refund import RefundLine, RefundState
from app.services.approvals import grant_approval
from app.services.card_payments import cancel_card_payment, start_card_payment
from app.services.checkout import complete_sale, void_order
from app.services.refunds import quote_refund, refund_left, refund_order, refund_subject
from local_db.engine import DB_FILENAME
from local_db.repositories import SqliteOutboxRepository
from sync.protocol import OrderRefundedEvent
from tests.fakes import FakeGateway, FakeRefundGateway

from .conftest import BANANAS, MILK, WINE


def raw(terminal) -> sqlite3.Connection:
    return sqlite3.connect(terminal.data_dir / DB_FILENAME)


def sell(terminal, clerk, cart, tenders=None):
    return complete_sale(
        terminal.uow(),
        cart,
        tenders or [TenderInput(TenderKind.CASH, 10_000)],
        clerk,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )


def stock(terminal, product) -> int:
    with terminal.read() as uow:
        return uow.products.by_id(product.id).stock


def refund(terminal, gateway, asked_by, **kwargs):
    """The till's flow: the refund asks for an approval, the manager Sam types his PIN, the
    refund is asked again with it (``approve=False``: nobody approves)."""
    approve = kwargs.pop("approve", True)
    args = (kwargs.pop("order_id"), kwargs.pop("reason", "customer returned it"), asked_by)

    def ask(approval=None):
        return refund_order(
            terminal.uow, gateway, *args, terminal.clock, terminal.ids, approval=approval, **kwargs
        )

    try:
        return ask()
    except ApprovalNeeded as needed:
        if not approve:
            raise
        with terminal.read() as uow:
            (sam,) = [c for c in uow.clerks.all() if c.is_manager]
        return ask(
            grant_approval(
                terminal.uow(),
                terminal.ids,
                terminal.clock,
                needed.action,
                needed.subject,
                asked_by.id,
                sam.id,
                DEMO_MANAGER_PIN,
                store=terminal.store,
            )
        )


def outbox_rows(terminal) -> list[tuple[str, dict]]:
    with raw(terminal) as db:
        rows = db.execute("SELECT event_type, payload FROM outbox ORDER BY seq").fetchall()
    return [(kind, json.loads(payload)) for kind, payload in rows]


def test_cash_refund_of_lines_is_stored_with_its_event_and_stock_comes_back(
    terminal, clerk, manager
):
    order = sell(terminal, clerk, Cart().add(MILK, 3).add(WINE))
    assert stock(terminal, MILK) == 37
    done = refund(terminal, None, manager, order_id=order.id, lines=[RefundLine(1, 2)])
    assert done.state is RefundState.DONE and done.amount == 218 and done.cash_amount == 218
    assert stock(terminal, MILK) == 39
    with terminal.read() as uow:
        stored = uow.orders.get(order.id)
        assert (stored.status, stored.refunded_total) == (OrderStatus.PAID, 218)
        assert uow.refunds.for_order(order.id) == [done]
        assert [e.action.value for e in uow.audit.recent(2)] == ["order_refunded", "approval_used"]
    kind, event = outbox_rows(terminal)[-1]
    assert kind == "order.refunded"
    parsed = OrderRefundedEvent.model_validate(event)  # speaks the protocol
    assert parsed.payload.lines[0].quantity == 2 and parsed.payload.card_payment_id is None
    left = refund_left(terminal.read(), order.id)
    assert left.amount == order.total - 218 and left.lines == {1: 1, 2: 1}


def test_full_refund_makes_the_order_refunded_and_voiding_it_is_refused(terminal, clerk, manager):
    order = sell(terminal, clerk, Cart().add(MILK).add(BANANAS, 500))
    first = refund(terminal, None, manager, order_id=order.id, amount=50)
    with pytest.raises(InvalidInput, match="partly refunded"):
        void_order(terminal.uow(), order.id, "oops", manager, terminal.clock, terminal.ids)
    plan = quote_refund(terminal.read(), order.id)
    assert plan.amount == order.total - 50 and plan.completes_order
    rest = refund(terminal, None, manager, order_id=order.id)
    assert first.amount + rest.amount == order.total
    with terminal.read() as uow:
        assert uow.orders.get(order.id).status is OrderStatus.REFUNDED
    assert stock(terminal, BANANAS) == 25_000  # the weighed line came back in grams


def test_over_refund_is_refused_and_nothing_changes(terminal, clerk, manager):
    order = sell(terminal, clerk, Cart().add(WINE))
    before = outbox_rows(terminal)
    with pytest.raises(InvalidInput, match=r"at most 7\.99 is left"):
        refund(terminal, None, manager, order_id=order.id, amount=order.total + 1)
    with pytest.raises(InvalidInput, match="only 1 of it"):
        refund(terminal, None, manager, order_id=order.id, lines=[RefundLine(1, 2)])
    assert outbox_rows(terminal) == before
    with raw(terminal) as db:
        assert db.execute("SELECT count(*) FROM refunds").fetchone() == (0,)
        assert db.execute("SELECT refunded_total FROM orders").fetchone() == (0,)
    assert stock(terminal, WINE) == 11


def test_a_failure_while_writing_the_event_leaves_no_refund_behind(
    terminal, clerk, manager, monkeypatch
):
    order = sell(terminal, clerk, Cart().add(MILK))

    def broken_add(self, event):
        raise OSError("disk full")

    monkeypatch.setattr(SqliteOutboxRepository, "add", broken_add)
    with pytest.raises(OSError):
        refund(terminal, None, manager, order_id=order.id)
    with raw(terminal) as db:
        assert db.execute("SELECT count(*) FROM refunds").fetchone() == (0,)
        assert db.execute("SELECT status, refunded_total FROM orders").fetchone() == ("paid", 0)
    assert stock(terminal, MILK) == 39


def card_sale(terminal, clerk, gateway):
    cart = Cart().add(MILK, 2).add(WINE).with_order_id(terminal.ids.new_id())
    total = cart.totals(terminal.store.taxes).total
    payment = start_card_payment(
        terminal.uow, gateway, cart, total, clerk, terminal.store, terminal.clock, terminal.ids
    )
    payment = gateway.get_payment(payment.payment_id)
    return sell(
        terminal,
        clerk,
        cart,
        [TenderInput(TenderKind.CARD, payment.amount, reference=payment.payment_id)],
    )


def test_card_refund_is_pending_on_disk_while_the_server_is_asked(terminal, clerk, manager):
    gateway = FakeRefundGateway()
    order = card_sale(terminal, clerk, gateway)
    seen = []

    def look(refund_id):
        with raw(terminal) as db:
            seen.append(
                db.execute("SELECT state FROM refunds WHERE id = ?", (refund_id,)).fetchone()
            )
            seen.append(db.execute("SELECT count(*) FROM outbox").fetchone())

    gateway.on_refund = look
    done = refund(terminal, gateway, manager, order_id=order.id, lines=[RefundLine(2, 1)])
    assert seen == [("pending",), (2,)]  # the sale's and the approval's events so far
    assert (done.card_amount, done.cash_amount) == (799, 0)
    assert outbox_rows(terminal)[-1][1]["payload"]["card_amount"] == 799
    assert stock(terminal, WINE) == 12


def test_complete_sale_is_refused_while_a_card_attempt_is_open_until_it_is_cancelled(
    terminal, clerk
):
    gateway = FakeGateway(checks_until_done=99)
    cart = Cart().add(MILK).with_order_id(terminal.ids.new_id())
    payment = start_card_payment(
        terminal.uow, gateway, cart, 109, clerk, terminal.store, terminal.clock, terminal.ids
    )
    with pytest.raises(InvalidInput, match="still open: cancel it"):
        sell(terminal, clerk, cart)
    cancelled = cancel_card_payment(terminal.uow, gateway, payment.payment_id)
    assert cancelled.status is CardStatus.FAILED
    with terminal.read() as uow:
        (attempt,) = uow.card_attempts.for_order(cart.order_id)
        assert attempt.status is CardStatus.ABANDONED
        assert uow.card_attempts.unsettled() == []  # the background settling leaves it be
    assert sell(terminal, clerk, cart).tenders[0].kind is TenderKind.CASH


def test_cancel_after_the_customer_paid_keeps_the_payment_for_the_sale(terminal, clerk):
    gateway = FakeGateway(checks_until_done=0)
    cart = Cart().add(MILK).with_order_id(terminal.ids.new_id())
    payment = start_card_payment(
        terminal.uow, gateway, cart, 109, clerk, terminal.store, terminal.clock, terminal.ids
    )
    paid = cancel_card_payment(terminal.uow, gateway, payment.payment_id)
    assert paid.status is CardStatus.SUCCEEDED
    with pytest.raises(InvalidInput, match="already paid"):
        sell(terminal, clerk, cart)
    with terminal.read() as uow:
        assert uow.card_attempts.for_order(cart.order_id)[0].status is CardStatus.SUCCEEDED
    order = sell(terminal, clerk, cart, [TenderInput(TenderKind.CARD, 109, paid.payment_id)])
    assert order.tenders[0].reference == paid.payment_id


def test_a_return_without_a_receipt_needs_a_manager_in_the_use_case_and_is_audited(
    terminal, clerk, manager, approve
):
    order = sell(terminal, clerk, Cart().add(MILK, 2))
    with pytest.raises(ApprovalNeeded, match="without a receipt: a manager must approve") as needed:
        refund(
            terminal,
            None,
            clerk,
            order_id=order.id,
            lines=[RefundLine(1, 1)],
            with_receipt=False,
            approve=False,
        )
    assert needed.value.action is ApprovalAction.RETURN_WITHOUT_RECEIPT
    with terminal.read() as uow:  # nothing was written
        assert uow.refunds.for_order(order.id) == []
        assert uow.orders.get(order.id).refunded_total == 0
    assert stock(terminal, MILK) == 38
    # an approval of a refund with a receipt does not approve one without
    with_receipt = approve(
        ApprovalAction.REFUND,
        needed.value.subject.replace("return_without_receipt:", "refund:"),
        clerk,
    )
    with pytest.raises(ApprovalRefused, match="is for a refund, not a return without a receipt"):
        refund_order(
            terminal.uow,
            None,
            order.id,
            "no receipt",
            clerk,
            terminal.clock,
            terminal.ids,
            lines=[RefundLine(1, 1)],
            with_receipt=False,
            approval=with_receipt,
        )

    done = refund(
        terminal, None, clerk, order_id=order.id, lines=[RefundLine(1, 1)], with_receipt=False
    )
    assert done.state is RefundState.DONE and stock(terminal, MILK) == 39
    assert done.clerk_name == "Sam"  # the approving manager
    with terminal.read() as uow:
        actions = {e.action.value: e for e in uow.audit.recent(5)}
    assert set(actions) == {"return_without_receipt", "order_refunded", "approval_used"}
    no_receipt = actions["return_without_receipt"]
    assert (no_receipt.clerk_name, no_receipt.amount) == ("Sam", done.amount)
    assert "no receipt shown" in no_receipt.detail and order.receipt_no in no_receipt.detail
    assert "asked by Maria" in no_receipt.detail


def test_an_approval_of_a_refund_is_for_that_amount_and_that_order_and_used_once(
    terminal, clerk, approve
):
    order = sell(terminal, clerk, Cart().add(MILK, 3))
    other = sell(terminal, clerk, Cart().add(MILK, 3))
    approval = approve(ApprovalAction.REFUND, refund_subject(order.id, 109)[1], clerk)

    def ask(order_id, amount):
        return refund_order(
            terminal.uow,
            None,
            order_id,
            "dented",
            clerk,
            terminal.clock,
            terminal.ids,
            amount=amount,
            approval=approval,
        )

    with pytest.raises(ApprovalRefused, match="another refund"):
        ask(order.id, 110)
    with pytest.raises(ApprovalRefused, match="another refund"):
        ask(other.id, 109)
    assert ask(order.id, 109).amount == 109
    with pytest.raises(ApprovalRefused, match="used already"):
        ask(order.id, 109)
    with terminal.read() as uow:
        assert [r.amount for r in uow.refunds.for_order(order.id)] == [109]
        assert uow.refunds.for_order(other.id) == []


def test_a_sale_without_its_receipt_is_found_by_what_was_bought(terminal, clerk):
    milk_only = sell(terminal, clerk, Cart().add(MILK))
    with_wine = sell(terminal, clerk, Cart().add(MILK).add(WINE))
    with terminal.read() as uow:
        assert [o.id for o in uow.orders.recent(query="rioja")] == [with_wine.id]
        assert [o.id for o in uow.orders.recent(query="whole MILK")] == [with_wine.id, milk_only.id]
        assert [o.id for o in uow.orders.recent(query=WINE.sku)] == [with_wine.id]
        assert [o.id for o in uow.orders.recent(query=milk_only.receipt_no[-6:])] == [milk_only.id]
        assert uow.orders.recent(query="50%_") == []  # LIKE's wildcards are plain text
