"""The counter, driven through the real widgets: first run to a paid sale on disk."""

from __future__ import annotations

import gc
import json
import sqlite3
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.data import DEMO_MANAGER_PIN
from app.domain.barcode import make_ean13
from app.services.receipt import build_receipt, receipt_text
from local_db.engine import DB_FILENAME
from tests.ui.conftest import add_clerk
from ui.approval_dialog import ApprovalDialog
from ui.dialogs import (
    FirstManagerDialog,
    ParkedSalesDialog,
    QuantityDialog,
    TextPromptDialog,
)
from ui.pay import PayDialog
from ui.receipt_view import ReceiptDialog
from ui.sample_catalog import barcode_of

TIMEOUT = 10_000


def scan(qtbot: Any, register: Any, code: str) -> None:
    qtbot.keyClicks(register.scan_field, code)
    qtbot.keyClick(register.scan_field, Qt.Key.Key_Return)


def press(qtbot: Any, register: Any, key: Qt.Key) -> None:
    """A function key as the clerk presses it. The scan field must have the focus back by
    itself (after a dialog closed, after a background task finished)."""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is register.scan_field, timeout=TIMEOUT)
    qtbot.keyClick(register.scan_field, key)


def enter(qtbot: Any, widget: Any) -> None:
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def log_in(qtbot: Any, window: Any, name: str, pin: str) -> None:
    login = window.login
    login.select_clerk(next(c.id for c in login._clerks if c.name == name))
    with qtbot.waitSignal(window.register_ready, timeout=TIMEOUT):
        qtbot.keyClicks(login.pin, pin)
        enter(qtbot, login.pin)


def test_first_run_to_paid_sale_on_disk(qtbot: Any, open_window: Any, terminal: Any) -> None:
    gc.unfreeze()  # what an earlier window in this process froze
    window = open_window()

    # First run: nobody can log in, so the first manager is created on the spot.
    dialog = window.first_manager_dialog
    assert isinstance(dialog, FirstManagerDialog)
    qtbot.keyClicks(dialog.name_field, "Maria")
    qtbot.keyClicks(dialog.pin, DEMO_MANAGER_PIN)
    qtbot.keyClicks(dialog.pin_again, DEMO_MANAGER_PIN)
    with qtbot.waitSignal(dialog.created, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert window.login.selected is not None and window.login.selected.name == "Maria"

    log_in(qtbot, window, "Maria", DEMO_MANAGER_PIN)
    register = window.register
    assert window.stack.currentWidget() is register
    assert QApplication.focusWidget() is register.scan_field
    assert "Maria" in window.clerk_label.text()
    # Once the register is up, start-up's objects leave the collector's sight, so a full
    # collection no longer pauses the register for them (the Z report bench relies on it).
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=TIMEOUT)

    # 1) a barcode, 2) a scale label carrying 742 g of loose bananas (PLU 4011), 3) unknown.
    scan(qtbot, register, barcode_of("Whole milk 1 L"))
    scale_label = make_ean13("28" + "04011" + "00742")
    scan(qtbot, register, scale_label)
    assert [(ln.name, ln.quantity) for ln in register.cart.lines] == [
        ("Whole milk 1 L", 1),
        ("Bananas, loose", 742),
    ]
    assert register.view.selectionModel().selectedRows()[0].row() == 1  # last scanned
    before = register.cart
    with qtbot.waitSignal(register.notice.shown, timeout=TIMEOUT) as notice:
        scan(qtbot, register, make_ean13("400000099999"))
    assert "Unknown barcode" in notice.args[0]
    assert register.notice.isVisible()
    assert register.cart == before
    assert register.scan_field.text() == ""
    with qtbot.waitSignal(register.notice.shown, timeout=TIMEOUT) as notice:
        scan(qtbot, register, "4006381333932")  # wrong check digit
    assert "check digit" in notice.args[0]
    assert register.cart == before

    # Quantity: ↑ selects the milk line, F4 asks for the new quantity.
    qtbot.keyClick(register.scan_field, Qt.Key.Key_Up)
    press(qtbot, register, Qt.Key.Key_F4)
    quantity = register.active_dialog
    assert isinstance(quantity, QuantityDialog)
    quantity.field.clear()
    qtbot.keyClicks(quantity.field, "3")
    enter(qtbot, quantity.field)
    assert register.cart.lines[0].quantity == 3
    assert register.totals.total == 3 * 109 + 140

    # Park (F8) with a label, then resume (F9) from the list.
    press(qtbot, register, Qt.Key.Key_F8)
    park = register.active_dialog
    assert isinstance(park, TextPromptDialog)
    park.field.setText("Mrs Smith")
    with qtbot.waitSignal(register.sale_parked, timeout=TIMEOUT):
        enter(qtbot, park.field)
    assert register.cart.is_empty
    with terminal.read() as uow:
        assert [label for _id, label, *_rest in uow.parked.list()] == ["Mrs Smith"]
    press(qtbot, register, Qt.Key.Key_F9)
    parked = register.active_dialog
    assert isinstance(parked, ParkedSalesDialog)
    assert parked.table.item(0, 0).text() == "Mrs Smith"
    assert parked.table.item(0, 3).text() == "€4.67"
    with qtbot.waitSignal(register.sale_resumed, timeout=TIMEOUT):
        enter(qtbot, parked.table)
    assert [(ln.name, ln.quantity) for ln in register.cart.lines] == [
        ("Whole milk 1 L", 3),
        ("Bananas, loose", 742),
    ]
    with terminal.read() as uow:
        assert list(uow.parked.list()) == []

    # Pay (F12): cash 20.00 typed, change 15.33 shown as large as the amount due.
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    assert isinstance(pay, PayDialog)
    assert pay.due_label.text() == "€4.67"
    assert not pay.card_button.isEnabled()
    assert "No connection" in pay.card_reason.text()
    qtbot.keyClicks(pay.amount_field, "20")
    enter(qtbot, pay.amount_field)
    assert pay.change_label.text() == "€15.33"
    assert pay.change_label.font().pixelSize() == pay.due_label.font().pixelSize()
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        enter(qtbot, pay.amount_field)
    order = completed.args[0]
    assert register.cart.is_empty
    assert order.total == 467 and order.change == 1533
    receipt_dialog = register.active_dialog
    assert isinstance(receipt_dialog, ReceiptDialog)
    text = receipt_text(build_receipt(order, terminal.store))
    assert order.receipt_no in text
    assert "0.742 kg × 1.89/kg" in text and "3 × 1.09" in text
    assert "Change" in text and "15.33" in text and "Served by Maria" in text
    assert order.receipt_no in receipt_dialog.document.toPlainText()
    # the sale and the first manager, who reaches the server with it (clerk.saved)
    qtbot.waitUntil(lambda: window.status_label.text() == "● Offline · 2 waiting", timeout=TIMEOUT)

    # What is on disk, read with plain sqlite3.
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        row = db.execute(
            "SELECT receipt_no, status, total, clerk_name FROM orders WHERE id = ?", (order.id,)
        ).fetchone()
        assert row == (order.receipt_no, "paid", 467, "Maria")
        lines = db.execute(
            "SELECT name, sold_by, quantity, gross FROM order_lines WHERE order_id = ? "
            "ORDER BY line_no",
            (order.id,),
        ).fetchall()
        assert lines == [("Whole milk 1 L", "each", 3, 327), ("Bananas, loose", "weight", 742, 140)]
        tenders = db.execute(
            "SELECT kind, amount, tendered, change FROM tenders WHERE order_id = ?", (order.id,)
        ).fetchall()
        assert tenders == [("cash", 467, 2000, 1533)]
        outbox = db.execute("SELECT event_type, state, payload FROM outbox ORDER BY seq").fetchall()
        assert [(kind, state) for kind, state, _payload in outbox] == [
            ("clerk.saved", "pending"),
            ("order.paid", "pending"),
        ]
        assert json.loads(outbox[0][2])["payload"]["name"] == "Maria"
        assert json.loads(outbox[1][2])["payload"]["receipt_no"] == order.receipt_no

    # Done: the receipt closes and the next scan goes straight into a new sale.
    enter(qtbot, receipt_dialog.ok_button)
    qtbot.waitUntil(lambda: register.active_dialog is None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is register.scan_field, timeout=TIMEOUT)


def test_large_discount_needs_a_manager_pin(qtbot: Any, open_window: Any, terminal: Any) -> None:
    add_clerk(terminal, "Maria", DEMO_MANAGER_PIN, manager=True)
    add_clerk(terminal, "Ben", "1357")
    window = open_window()
    assert window.first_manager_dialog is None
    log_in(qtbot, window, "Ben", "1357")
    register = window.register
    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    scan(qtbot, register, barcode_of("Sourdough loaf"))

    # 10 % is within what a clerk may give: applied at once.
    press(qtbot, register, Qt.Key.Key_F6)
    small = register.active_dialog
    qtbot.keyClicks(small.value_field, "10")
    qtbot.keyClicks(small.reason_field, "dented")
    enter(qtbot, small.value_field)
    assert register.cart.lines[1].discount is not None
    assert register.cart.lines[1].discount.value == 1000

    # 50 % on the coffee is above the 20 % threshold: a manager's PIN is needed.
    qtbot.keyClick(register.scan_field, Qt.Key.Key_Up)
    press(qtbot, register, Qt.Key.Key_F6)
    large = register.active_dialog
    qtbot.keyClicks(large.value_field, "50")
    qtbot.keyClicks(large.reason_field, "best before today")
    enter(qtbot, large.value_field)
    approval = register.active_dialog
    assert isinstance(approval, ApprovalDialog)
    assert register.cart.lines[0].discount is None

    with qtbot.waitSignal(approval.refused, timeout=TIMEOUT) as refused:
        qtbot.keyClicks(approval.pin, "1357")  # Ben's own PIN: not a manager's
        enter(qtbot, approval.pin)
    assert "Wrong PIN for Maria" in refused.args[0]  # counts toward her lockout
    assert approval.isVisible() and register.cart.lines[0].discount is None

    with qtbot.waitSignal(approval.approved, timeout=TIMEOUT):
        qtbot.keyClicks(approval.pin, DEMO_MANAGER_PIN)
        enter(qtbot, approval.pin)
    coffee = register.cart.lines[0]
    assert coffee.discount is not None and coffee.discount.value == 5000
    assert coffee.discount.reason == "best before today, approved by Maria"
    assert register.totals.total == 349 + 288  # 6.99 − 3.50 (half up) + 3.20 − 0.32


def test_five_wrong_pins_lock_the_clerk_out(qtbot: Any, open_window: Any, terminal: Any) -> None:
    add_clerk(terminal, "Maria", DEMO_MANAGER_PIN, manager=True)
    add_clerk(terminal, "Ben", "1357")
    window = open_window()
    login = window.login
    login.select_clerk(next(c.id for c in login._clerks if c.name == "Ben"))
    messages = []
    for _attempt in range(5):
        with qtbot.waitSignal(login.login_failed, timeout=TIMEOUT) as failed:
            qtbot.keyClicks(login.pin, "0000")
            enter(qtbot, login.pin)
        messages.append(failed.args[0])
    assert messages[0] == "Wrong PIN for Ben; 4 tries left"
    assert messages[3] == "Wrong PIN for Ben; 1 try left"
    assert "locked" in messages[4]
    with qtbot.waitSignal(login.login_failed, timeout=TIMEOUT) as failed:
        qtbot.keyClicks(login.pin, "1357")  # the right PIN, but too late
        enter(qtbot, login.pin)
    assert "locked" in failed.args[0]
    assert login.message.text() == failed.args[0]
    assert window.stack.currentWidget() is login
    assert window.clerk is None
