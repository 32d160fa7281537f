"""A line's price changed at the counter: only with a manager's approval of that line and that
price, audited with the old and new price, and sold at the new price (real SQLite file)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.approval import ApprovalAction, ApprovalNeeded, ApprovalRefused
from app.domain.audit import AuditAction
from app.domain.cart import Cart
from app.domain.clerk import Role
from app.domain.errors import InvalidInput, InvalidPrice
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale, override_price, price_override_subject

from .conftest import MILK, WINE


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


def override(terminal, cart, clerk, price, approval=None):
    return override_price(
        terminal.uow(),
        cart,
        2,
        price,
        "shelf label says 6.99",
        clerk,
        terminal.clock,
        approval=approval,
    )


def test_a_price_override_needs_an_approval_of_that_line_and_price(terminal, clerk, approve):
    cart = Cart().add(MILK).add(WINE)
    with pytest.raises(ApprovalNeeded, match=r"from 7\.99 to 6\.99") as needed:
        override(terminal, cart, clerk, 699)
    assert needed.value.action is ApprovalAction.PRICE_OVERRIDE
    assert needed.value.subject == price_override_subject(cart, 2, 699)
    approval = approve(needed.value.action, needed.value.subject, clerk)
    with pytest.raises(ApprovalRefused, match="another price override"):
        override(terminal, cart, clerk, 599, approval)
    changed = override(terminal, cart, clerk, 699, approval)
    assert (changed.lines[1].unit_price, changed.lines[1].approver_name) == (699, "Sam")
    with pytest.raises(ApprovalRefused, match="used already"):
        override(terminal, cart, clerk, 699, approval)
    order = sell(terminal, clerk, changed)
    assert order.lines[1].unit_price == 699 and order.total == 109 + 699
    with terminal.read() as uow:
        overridden, used = uow.audit.recent()
    assert overridden.action is AuditAction.PRICE_OVERRIDDEN
    assert (overridden.clerk_name, overridden.reason) == ("Sam", "shelf label says 6.99")
    assert overridden.detail == "Rioja Crianza 0.75 L: 7.99 → 6.99, asked by Maria"
    assert used.action is AuditAction.APPROVAL_USED


def test_bad_override_is_refused_before_any_approval(terminal, clerk):
    cart = Cart().add(MILK).add(WINE)
    with pytest.raises(InvalidPrice):
        override(terminal, cart, clerk, -1)
    with pytest.raises(InvalidInput, match="already costs"):
        override(terminal, cart, clerk, 799)


def test_an_overridden_price_whose_approver_is_no_longer_a_manager_is_not_sold(
    terminal, clerk, manager, approve
):
    cart = Cart().add(MILK).add(WINE)
    approval = approve(ApprovalAction.PRICE_OVERRIDE, price_override_subject(cart, 2, 699), clerk)
    cart = override(terminal, cart, clerk, 699, approval)
    with terminal.uow() as uow:
        uow.clerks.save(replace(manager, role=Role.CLERK))
        uow.commit()
    with pytest.raises(InvalidPrice, match="Sam may not override prices"):
        sell(terminal, clerk, cart)
