"""Open-price items at the counter: above the store's limit a manager approves with their PIN;
the use case refuses an unapproved one and audits an approved one, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from app.domain.approval import ApprovalAction, ApprovalNeeded, ApprovalRefused
from app.domain.audit import AuditAction
from app.domain.cart import Cart, OpenPriceNeedsApproval
from app.domain.clerk import Role
from app.domain.errors import AuthenticationFailed
from app.domain.order import TenderInput, TenderKind
from app.services.approvals import grant_approval
from app.services.checkout import (
    add_open_price_item,
    approve_open_price_item,
    complete_sale,
    open_price_needs_manager,
    open_price_subject,
    park_sale,
    resume_sale,
)
from local_db.engine import DB_FILENAME

from .conftest import MILK


def sell(terminal, clerk, cart):
    return complete_sale(
        terminal.uow(),
        cart,
        [TenderInput(TenderKind.CASH, 100_000)],
        clerk,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )


def test_a_clerk_types_an_open_price_within_the_limit(terminal, clerk):
    cart = add_open_price_item(Cart().add(MILK), "Bakery", 350, "food", terminal.store)
    order = sell(terminal, clerk, cart)
    assert [(ln.product_id, ln.name, ln.unit_price) for ln in order.lines][1] == (
        "",
        "Bakery (open price)",
        350,
    )
    with terminal.read() as uow:
        assert uow.audit.recent() == []
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone() == (1,)


def test_above_the_limit_a_clerk_alone_is_refused_and_nothing_is_sold(terminal, clerk):
    assert "above the €50.00 a clerk may type" in open_price_needs_manager(5001, terminal.store)
    with pytest.raises(OpenPriceNeedsApproval, match="A manager must approve it"):
        add_open_price_item(Cart(), "Deli", 5001, "food", terminal.store)
    # Even a cart built around the dialog is refused by the use case.
    with pytest.raises(OpenPriceNeedsApproval, match="needs a manager's approval"):
        sell(terminal, clerk, Cart().add_open_price("Deli", 5001, "food"))
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)


def approve_item(terminal, cart, approval):
    return approve_open_price_item(
        terminal.uow(), cart, "Deli", 7500, "food", approval, terminal.store, terminal.clock
    )


def test_a_manager_approves_it_and_the_sale_audits_it(terminal, clerk, manager, approve):
    with pytest.raises(ApprovalNeeded) as needed:
        approve_item(terminal, Cart(), None)
    assert needed.value.subject == open_price_subject("Deli", 7500)
    with pytest.raises(AuthenticationFailed):  # a wrong PIN grants nothing
        grant_approval(
            terminal.uow(),
            terminal.ids,
            terminal.clock,
            ApprovalAction.OPEN_PRICE,
            needed.value.subject,
            clerk.id,
            manager.id,
            "000000",
            store=terminal.store,
        )
    cart = approve_item(
        terminal, Cart(), approve(ApprovalAction.OPEN_PRICE, needed.value.subject, clerk)
    )
    assert cart.lines[0].approver_name == "Sam"
    # Parked and resumed, the approval stays with the line.
    sale_id = park_sale(terminal.uow(), cart, clerk, "later", terminal.clock, terminal.ids)
    cart = resume_sale(terminal.uow(), sale_id)
    assert cart.lines[0].approver_id == manager.id
    order = sell(terminal, clerk, cart)
    with terminal.read() as uow:
        entry, approval_entry = uow.audit.recent()
    assert entry.action is AuditAction.OPEN_PRICE_APPROVED
    assert (entry.clerk_name, entry.amount) == ("Sam", 7500)
    assert order.receipt_no in entry.detail and "Deli (open price)" in entry.detail
    assert "Maria" in entry.reason
    assert approval_entry.action is AuditAction.APPROVAL_USED


def test_an_approval_of_one_open_price_does_not_approve_a_higher_one(terminal, clerk, approve):
    approval = approve(ApprovalAction.OPEN_PRICE, open_price_subject("Deli", 6000), clerk)
    with pytest.raises(ApprovalRefused, match="another open price"):
        approve_item(terminal, Cart(), approval)


def test_an_approver_who_is_no_longer_a_manager_does_not_count(terminal, clerk, manager, approve):
    approval = approve(ApprovalAction.OPEN_PRICE, open_price_subject("Deli", 7500), clerk)
    cart = approve_item(terminal, Cart(), approval)
    with terminal.uow() as uow:
        uow.clerks.save(replace(manager, role=Role.CLERK))
        uow.commit()
    with pytest.raises(OpenPriceNeedsApproval, match="may not approve open prices"):
        sell(terminal, clerk, cart)
