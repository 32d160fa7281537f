"""Discounts above the store's threshold need a manager: checked and audited by the use cases
(app.services.discounts, complete_sale) on a real SQLite file, whatever the screen did."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from app.domain.approval import ApprovalAction, ApprovalNeeded, ApprovalRefused
from app.domain.audit import AuditAction
from app.domain.cart import Cart, Discount, DiscountKind, DiscountNeedsApproval
from app.domain.order import TenderInput, TenderKind
from app.services.approvals import grant_approval
from app.services.checkout import complete_sale, park_sale, resume_sale
from app.services.discounts import (
    approve_discount,
    check_discount,
    discount_subject,
    give_discount,
)
from local_db.engine import DB_FILENAME

from .conftest import MILK, WINE

HALF_OFF = Discount(DiscountKind.PERCENT, 5000, "best before today")  # above the 20 % default
TEN_OFF = Discount(DiscountKind.PERCENT, 1000, "dented")


def sell(terminal, clerk, cart):
    return complete_sale(
        terminal.uow(),
        cart,
        [TenderInput(TenderKind.CASH, 10_000)],
        clerk,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )


def counts(terminal) -> tuple[int, int, int]:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        return tuple(
            db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("orders", "outbox", "audit_log")
        )


def approved(terminal, approve, cart, discount, line_id, asked_by):
    """The till's flow: approve_discount asks for an approval of exactly this discount, the
    manager Sam grants it with his PIN, and it is asked again with it."""
    with pytest.raises(ApprovalNeeded) as needed:
        approve_discount(
            terminal.uow(), cart, discount, line_id, None, terminal.clock, store=terminal.store
        )
    assert needed.value.subject == discount_subject(cart, discount, line_id)
    approval = approve(needed.value.action, needed.value.subject, asked_by)
    return approve_discount(
        terminal.uow(), cart, discount, line_id, approval, terminal.clock, store=terminal.store
    )


def test_a_clerk_gives_a_small_discount_alone(terminal, clerk):
    cart = give_discount(Cart().add(WINE), TEN_OFF, 1, terminal.store)
    order = sell(terminal, clerk, cart)
    assert order.lines[0].line_discount == 80
    with terminal.read() as uow:
        assert uow.audit.recent() == []  # nothing a manager approved


def test_a_large_discount_is_refused_without_a_manager(terminal, clerk):
    cart = Cart().add(WINE)
    assert check_discount(cart, HALF_OFF, 1, terminal.store).needs_manager
    with pytest.raises(DiscountNeedsApproval, match="above the 20 % a clerk may give"):
        give_discount(cart, HALF_OFF, 1, terminal.store)


def test_a_sale_with_an_unapproved_large_discount_is_refused_and_nothing_is_written(
    terminal, clerk
):
    """A screen that skipped the PIN (or a cart built by hand) cannot complete the sale."""
    cart = Cart().add(WINE).add(MILK).set_order_discount(HALF_OFF)
    with pytest.raises(DiscountNeedsApproval, match="whole sale needs a manager's approval"):
        sell(terminal, clerk, cart)
    assert counts(terminal) == (0, 0, 0)


def test_a_clerk_cannot_approve_a_discount(terminal, clerk, manager):
    cart = Cart().add(WINE)
    with pytest.raises(ApprovalRefused, match="Maria is not a manager"):
        grant_approval(
            terminal.uow(),
            terminal.ids,
            terminal.clock,
            ApprovalAction.DISCOUNT,
            discount_subject(cart, HALF_OFF, 1),
            clerk.id,
            clerk.id,
            "2468",
            store=terminal.store,
        )


def test_an_approval_of_one_discount_does_not_approve_a_larger_one(terminal, clerk, approve):
    cart = Cart().add(WINE)
    approval = approve(ApprovalAction.DISCOUNT, discount_subject(cart, HALF_OFF, 1), clerk)
    more = Discount(DiscountKind.PERCENT, 6000, "best before today")
    with pytest.raises(ApprovalRefused, match="another discount"):
        approve_discount(
            terminal.uow(), cart, more, 1, approval, terminal.clock, store=terminal.store
        )
    assert counts(terminal) == (0, 0, 0)


def test_an_approved_discount_is_sold_and_audited_with_who_asked_and_who_approved(
    terminal, clerk, manager, approve
):
    cart = Cart().add(WINE).add(MILK)
    cart = approved(terminal, approve, cart, HALF_OFF, 1, clerk)
    wine = cart.lines[0].discount
    assert wine is not None and (wine.approver_id, wine.approver_name) == (manager.id, "Sam")
    assert wine.reason == "best before today, approved by Sam"  # printed on the receipt

    order = sell(terminal, clerk, cart)
    assert order.lines[0].line_discount == 400  # 7.99 − 50 %, half up
    with terminal.read() as uow:
        entry, approval_entry = uow.audit.recent()
    assert entry.action is AuditAction.DISCOUNT_APPROVED
    assert (entry.clerk_id, entry.clerk_name, entry.amount) == (manager.id, "Sam", 400)
    assert entry.reason == "best before today, approved by Sam"
    assert entry.detail == (
        f"{order.receipt_no}: 50 % off Rioja Crianza 0.75 L, asked by {clerk.name}"
    )
    assert approval_entry.action is AuditAction.APPROVAL_USED
    assert approval_entry.amount == 400 and "asked by Maria" in approval_entry.detail


def test_an_approval_by_someone_who_is_not_a_manager_is_refused(terminal, clerk):
    forged = replace(HALF_OFF, approver_id=clerk.id, approver_name=clerk.name)
    cart = Cart().add(WINE).set_line_discount(1, forged)
    with pytest.raises(DiscountNeedsApproval, match="Maria may not approve discounts"):
        sell(terminal, clerk, cart)
    assert counts(terminal) == (0, 0, 0)


def test_a_parked_sale_keeps_its_approval(terminal, clerk, manager, approve):
    cart = Cart().add(WINE)
    cart = approved(terminal, approve, cart, HALF_OFF, 1, clerk)
    sale_id = park_sale(terminal.uow(), cart, clerk, "Mrs Smith", terminal.clock, terminal.ids)
    resumed = resume_sale(terminal.uow(), sale_id)
    assert resumed.lines[0].discount == cart.lines[0].discount
    sell(terminal, clerk, resumed)
    assert counts(terminal) == (1, 2, 2)  # the approval's event and entry, and the sale's


def test_a_card_payment_is_not_started_for_an_unapproved_discount(terminal, clerk):
    from app.services.card_payments import start_card_payment
    from tests.fakes import FakeGateway

    cart = Cart().add(WINE).set_line_discount(1, HALF_OFF).with_order_id(terminal.ids.new_id())
    gateway = FakeGateway()
    with pytest.raises(DiscountNeedsApproval):
        start_card_payment(
            terminal.uow, gateway, cart, 400, clerk, terminal.store, terminal.clock, terminal.ids
        )
    assert gateway.created == 0


def test_a_card_paid_sale_whose_discount_lost_its_approval_is_parked_not_lost(
    terminal, clerk, manager, approve
):
    """The customer paid by card, but meanwhile the approver stopped being a manager (a pull
    changed their role): the sale is parked for the clerk to finish, not left half done, and
    settling again does not repeat the notice."""
    from app.domain.clerk import Role
    from app.services.card_payments import settle_card_attempts, start_card_payment
    from tests.fakes import FakeGateway

    cart = Cart().add(WINE).with_order_id(terminal.ids.new_id())
    cart = approved(terminal, approve, cart, HALF_OFF, 1, clerk)
    gateway = FakeGateway(checks_until_done=0)
    total = cart.totals(terminal.store.taxes).total
    start_card_payment(
        terminal.uow, gateway, cart, total, clerk, terminal.store, terminal.clock, terminal.ids
    )
    with terminal.uow() as uow:
        uow.clerks.save(replace(manager, role=Role.CLERK))
        uow.commit()
    settle = lambda: settle_card_attempts(  # noqa: E731
        terminal.uow, gateway, terminal.store, terminal.clock, terminal.ids
    )
    (settled,) = settle()
    assert "parked until a manager approves its discount" in settled.outcome
    assert settled.order is None
    with terminal.read() as uow:
        ((sale_id, label, *_),) = uow.parked.list()
    assert sale_id == cart.order_id and "a manager must approve the discount" in label
    assert settle() == []
    assert counts(terminal)[0] == 0
