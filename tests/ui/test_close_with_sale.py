"""Closing the till (Ctrl+Q, the window's close button) with a sale open asks, and parks it by
default with its manager-approved discount, audited; an empty cart closes at once."""

from __future__ import annotations

import sqlite3
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.domain.audit import AuditAction
from local_db.engine import DB_FILENAME
from ui.approval_dialog import ApprovalDialog
from ui.dialogs import CloseWithSaleDialog, ParkedSalesDialog
from ui.sample_catalog import barcode_of

from .conftest import add_clerk
from .test_register_flow import TIMEOUT, log_in, press, scan

PIN = "246813"


def focus_in(qtbot: Any, widget: Any) -> Any:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=TIMEOUT)
    return widget


def half_price_sale(qtbot: Any, window: Any) -> Any:
    """Coffee and milk, 50 % off the whole sale, approved by the manager's PIN."""
    register = window.register
    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    scan(qtbot, register, barcode_of("Whole milk 1 L"))
    press(qtbot, register, Qt.Key.Key_F6)
    discount = register.active_dialog
    discount.sale_button.setChecked(True)
    qtbot.keyClicks(focus_in(qtbot, discount.value_field), "50")
    qtbot.keyClick(discount.value_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(register.active_dialog, ApprovalDialog), timeout=TIMEOUT)
    approval = register.active_dialog
    qtbot.keyClicks(focus_in(qtbot, approval.pin), PIN)
    qtbot.keyClick(approval.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: register.cart.order_discount is not None, timeout=TIMEOUT)
    assert register.cart.order_discount.approver_name == "Maria"
    return register


def test_ctrl_q_with_an_open_sale_parks_it_with_its_approved_discount_and_audits_it(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Maria", PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", PIN)
    register = half_price_sale(qtbot, window)
    total = register.totals.total

    qtbot.waitUntil(lambda: QApplication.focusWidget() is register.scan_field, timeout=TIMEOUT)
    qtbot.keyClick(register.scan_field, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(window.close_dialog, CloseWithSaleDialog), timeout=TIMEOUT)
    ask = window.close_dialog
    assert window.isVisible() and not register.cart.is_empty
    qtbot.keyClick(focus_in(qtbot, ask.ok_button), Qt.Key.Key_Return)  # the default: park
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)

    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        assert db.execute("SELECT total FROM parked_sales").fetchall() == [(total,)]
        audit = db.execute("SELECT action, clerk_name, amount, detail FROM audit_log").fetchall()
    actions = [row[0] for row in audit]
    assert actions.count(AuditAction.SALE_PARKED_ON_CLOSE.value) == 1
    (parked_on_close,) = [row for row in audit if row[0] == AuditAction.SALE_PARKED_ON_CLOSE]
    assert parked_on_close[1:3] == ("Maria", total)
    assert "Ground coffee 500 g" in parked_on_close[3]

    # The next start: F9 resumes it, the approved discount still on it, and it can be paid.
    window = open_window()
    log_in(qtbot, window, "Maria", PIN)
    register = window.register
    press(qtbot, register, Qt.Key.Key_F9)
    parked = register.active_dialog
    assert isinstance(parked, ParkedSalesDialog)
    with qtbot.waitSignal(register.sale_resumed, timeout=TIMEOUT):
        qtbot.keyClick(focus_in(qtbot, parked.table), Qt.Key.Key_Return)
    assert register.cart.order_discount.approver_name == "Maria"
    assert register.totals.total == total
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        qtbot.keyClick(focus_in(qtbot, pay.amount_field), Qt.Key.Key_Return)
    assert completed.args[0].total == total


def test_closing_the_window_asks_and_esc_keeps_the_sale(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Maria", PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", PIN)
    register = window.register
    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    cart = register.cart
    window.close()  # the window manager's close button
    qtbot.waitUntil(lambda: isinstance(window.close_dialog, CloseWithSaleDialog), timeout=TIMEOUT)
    qtbot.keyClick(focus_in(qtbot, window.close_dialog.ok_button), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.close_dialog is None, timeout=TIMEOUT)
    assert window.isVisible() and register.cart == cart
    with terminal.read() as uow:
        assert list(uow.parked.list()) == []
    focus_in(qtbot, register.scan_field)


def test_closing_with_an_empty_cart_quits_at_once(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Maria", PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", PIN)
    window.close()
    assert not window.isVisible() and window.close_dialog is None
