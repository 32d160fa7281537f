"""F7 open price at the counter, through the real widgets: a typed price in a chosen
department; above the store's limit a manager's PIN; the sale is stored with a line of no
product and the approval audited."""

from __future__ import annotations

import sqlite3
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from local_db.engine import DB_FILENAME
from ui.approval_dialog import ApprovalDialog
from ui.dialogs import OpenPriceDialog

from .conftest import add_clerk
from .test_register_flow import TIMEOUT, log_in, press

MANAGER_PIN = "246813"


def focus_in(qtbot: Any, widget: Any) -> Any:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=TIMEOUT)
    return widget


def open_price(qtbot: Any, register: Any, typed: str, department: str) -> OpenPriceDialog:
    press(qtbot, register, Qt.Key.Key_F7)
    dialog = register.active_dialog
    assert isinstance(dialog, OpenPriceDialog)
    qtbot.keyClicks(focus_in(qtbot, dialog.price_field), typed)
    dialog.department_box.setCurrentText(department)
    qtbot.keyClick(dialog.price_field, Qt.Key.Key_Return)
    return dialog


def pay_exact(qtbot: Any, register: Any) -> Any:
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        qtbot.keyClick(focus_in(qtbot, pay.amount_field), Qt.Key.Key_Return)
    return completed.args[0]


def test_a_clerk_sells_an_open_price_item_from_the_keyboard(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Jo", "1357")
    window = open_window()
    log_in(qtbot, window, "Jo", "1357")
    register = window.register
    dialog = open_price(qtbot, register, "3.50", "Household")
    assert dialog.tax_box.currentData() == "standard"  # the department's usual VAT
    qtbot.waitUntil(lambda: len(register.cart.lines) == 1, timeout=TIMEOUT)
    (line,) = register.cart.lines
    assert (line.product_id, line.name, line.unit_price, line.tax_class) == (
        "",
        "Household (open price)",
        350,
        "standard",
    )
    order = pay_exact(qtbot, register)
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        assert db.execute(
            "SELECT product_id, sku, name, unit_price FROM order_lines WHERE order_id = ?",
            (order.id,),
        ).fetchall() == [("", "", "Household (open price)", 350)]
        assert db.execute("SELECT event_type FROM outbox").fetchall() == [("order.paid",)]


def test_a_bad_price_says_what_is_wrong_and_adds_nothing(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Jo", "1357")
    window = open_window()
    log_in(qtbot, window, "Jo", "1357")
    register = window.register
    dialog = open_price(qtbot, register, "0", "Bakery")
    assert "more than 0" in dialog.error.text() and dialog.isVisible()
    assert register.cart.is_empty


def test_above_the_store_limit_a_manager_approves_and_the_sale_audits_it(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Jo", "1357")
    add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Jo", "1357")
    register = window.register
    open_price(qtbot, register, "75", "Bakery")
    qtbot.waitUntil(lambda: isinstance(register.active_dialog, ApprovalDialog), timeout=TIMEOUT)
    approval = register.active_dialog
    assert any(
        "above the €50.00 a clerk may type" in w.text()
        for w in approval.findChildren(type(approval.error))
    )
    qtbot.keyClicks(focus_in(qtbot, approval.pin), MANAGER_PIN)
    qtbot.keyClick(approval.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(register.cart.lines) == 1, timeout=TIMEOUT)
    assert register.cart.lines[0].approver_name == "Maria"
    order = pay_exact(qtbot, register)
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        audit = db.execute("SELECT action, clerk_name, amount, detail FROM audit_log").fetchall()
    assert audit[1:] == [
        ("open_price_approved", "Maria", 7500, f"{order.receipt_no}: Bakery (open price) at 75.00")
    ]
    assert audit[0][:3] == ("approval_used", "Maria", 7500)  # used when the line was added
