"""Refunds and the sales history through the real widgets: a refund by line and quantity from
a sale found by its receipt number, its confirmation and refund receipt, the history row that
says what was refunded, and a reprint that is a copy listing its refunds."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.services.receipt import receipt_text, refund_receipt_text
from local_db.engine import DB_FILENAME
from tests.ui.conftest import add_clerk
from tests.ui.test_register_flow import TIMEOUT, enter, log_in, press, scan
from ui.approval_dialog import ApprovalDialog
from ui.history import HistoryDialog
from ui.receipt_view import ReceiptDialog, RefundReceiptDialog
from ui.refund_dialog import RefundDialog
from ui.sample_catalog import barcode_of

MANAGER_PIN = "246813"  # a manager's PIN is at least 6 digits
MILK = "Whole milk 1 L"
BREAD = "Sourdough loaf"


def manager_at_the_register(qtbot: Any, open_window: Any, terminal: Any) -> tuple[Any, Any]:
    """Maria, a manager, logged in at a fresh till: (window, register)."""
    add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", MANAGER_PIN)
    return window, window.register


def sell_milk_and_bread(qtbot: Any, register: Any) -> Any:
    """Two milks and a loaf, paid with € 10 cash (change due)."""
    scan(qtbot, register, barcode_of(MILK))
    scan(qtbot, register, barcode_of(MILK))
    scan(qtbot, register, barcode_of(BREAD))
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    ten = next(b for b in pay.quick_buttons if b.text() == "€10.00")
    qtbot.mouseClick(ten, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        qtbot.mouseClick(pay.ok_button, Qt.MouseButton.LeftButton)
    register.active_dialog.accept()
    return completed.args[0]


def open_history(qtbot: Any, window: Any, register: Any, receipt_no: str) -> HistoryDialog:
    """F3, then the receipt number typed (or scanned) into the search: the one sale."""
    press(qtbot, register, Qt.Key.Key_F3)
    history = window.history_dialog
    assert isinstance(history, HistoryDialog)
    qtbot.waitUntil(lambda: history.table.rowCount() >= 1, timeout=TIMEOUT)
    with qtbot.waitSignal(history.loaded, timeout=TIMEOUT):  # typed as a scanner does
        qtbot.keyClicks(history.search, receipt_no[-6:])
        qtbot.keyClick(history.search, Qt.Key.Key_Return)
    assert history.isVisible()  # Enter searched; it did not press Close
    assert history.table.rowCount() == 1
    assert history.table.item(0, 0).text() == receipt_no
    return history


def stock_of(terminal: Any, name: str) -> int | None:
    with terminal.read() as uow:
        return uow.products.by_code(barcode_of(name)).stock


def test_refund_by_line_and_quantity_gives_a_receipt_and_the_history_shows_it(
    qtbot: Any, open_window: Any, terminal: Any, tmp_path: Path
) -> None:
    with terminal.uow() as uow:  # track the milk's stock
        milk = uow.products.by_code(barcode_of(MILK))
        uow.products.upsert_many([replace(milk, stock=10)])
        uow.commit()
    window, register = manager_at_the_register(qtbot, open_window, terminal)
    order = sell_milk_and_bread(qtbot, register)
    assert order.change > 0
    assert stock_of(terminal, MILK) == 8

    history = open_history(qtbot, window, register, order.receipt_no)
    assert history.table.item(0, 5).text() == "paid"
    history.ask_refund()
    refund = history.child_dialog
    assert isinstance(refund, RefundDialog)
    milk_box = refund.quantity_boxes[1]
    qtbot.waitUntil(lambda: milk_box.maximum() == 2, timeout=TIMEOUT)  # two were sold
    milk_box.setValue(5)  # more than was sold: the box stops at what is left
    assert milk_box.value() == 2
    refund.set_quantity(1, 1)
    assert refund.by_items.isChecked()
    qtbot.waitUntil(lambda: refund.preview.text().startswith("Refund €1.09"), timeout=TIMEOUT)
    assert "1 item line back to stock" in refund.preview.text()
    refund._on_ok()
    approval = refund.findChild(ApprovalDialog)
    assert approval is not None
    with qtbot.waitSignal(history.refund_receipt_shown, timeout=TIMEOUT) as shown:
        qtbot.keyClicks(approval.pin, MANAGER_PIN)
        enter(qtbot, approval.pin)

    # The confirmation and the refund receipt.
    slip_dialog = shown.args[0]
    assert isinstance(slip_dialog, RefundReceiptDialog)
    confirmation = slip_dialog.confirmation.text()
    assert confirmation.startswith(f"Refunded €1.09 of sale {order.receipt_no}")
    assert "in cash" in confirmation and "1 item line back in stock" in confirmation
    assert "e-mails them this refund receipt" in confirmation
    text = refund_receipt_text(slip_dialog.receipt)
    for words in (
        "*** REFUND ***",
        f"Receipt {order.receipt_no}",
        "Whole milk 1 L",
        "1 of 2",
        "In cash",
        "Reason: Damaged or faulty",
        "Approved by Maria",
    ):
        assert words in text, words
    assert "Whole milk" in slip_dialog.screen_document.toPlainText()
    with qtbot.waitSignal(slip_dialog.pdf_saved, timeout=TIMEOUT) as saved:
        slip_dialog.save_pdf(tmp_path / "refund.pdf")
    assert Path(saved.args[0]).read_bytes().startswith(b"%PDF")
    slip_dialog.accept()

    # The goods are back in stock, and the refund waits to be synced.
    assert stock_of(terminal, MILK) == 9
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        events = [r[0] for r in db.execute("SELECT event_type FROM outbox ORDER BY seq")]
    assert events == ["order.paid", "approval.used", "order.refunded"]

    # The history row says what was refunded; the sale is still "paid" for the rest.
    qtbot.waitUntil(
        lambda: history.table.item(0, 5).text() == "paid · refunded €1.09", timeout=TIMEOUT
    )

    # A reprint is a copy with its refund and without the sale's "Change due".
    history.table.selectRow(0)
    history.reprint()
    qtbot.waitUntil(lambda: isinstance(history.child_dialog, ReceiptDialog), timeout=TIMEOUT)
    copy = history.child_dialog
    assert copy.change_amount is None
    copy_text = receipt_text(copy.receipt)
    assert "*** COPY ***" in copy_text
    assert "REFUNDS" in copy_text and "1 × Whole milk 1 L" in copy_text
    assert "COPY" in copy.screen_document.toPlainText()
    copy.show_refund_receipt()  # the refund's receipt again, marked as a copy
    again = copy.refund_receipt_dialog
    assert isinstance(again, RefundReceiptDialog)
    again_text = refund_receipt_text(again.receipt)
    assert "*** REFUND · COPY ***" in again_text and "1 of 2" in again_text
    again.accept()
    copy.accept()


def test_the_sale_screen_shows_change_due_but_a_reprint_never_does(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    window, register = manager_at_the_register(qtbot, open_window, terminal)
    scan(qtbot, register, barcode_of(BREAD))
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    qtbot.mouseClick(pay.quick_buttons[1], Qt.MouseButton.LeftButton)  # € 5 for € 3.20
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        qtbot.mouseClick(pay.ok_button, Qt.MouseButton.LeftButton)
    after_sale = register.active_dialog
    assert isinstance(after_sale, ReceiptDialog)
    assert after_sale.change_amount is not None and after_sale.change_amount.text() == "€1.80"
    after_sale.accept()
    history = open_history(qtbot, window, register, completed.args[0].receipt_no)
    history.reprint()
    qtbot.waitUntil(lambda: isinstance(history.child_dialog, ReceiptDialog), timeout=TIMEOUT)
    assert history.child_dialog.change_amount is None
    assert history.child_dialog.receipt.copy


def test_a_sale_picked_from_the_list_is_a_return_without_receipt_audited_as_such(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    window, register = manager_at_the_register(qtbot, open_window, terminal)
    order = sell_milk_and_bread(qtbot, register)
    press(qtbot, register, Qt.Key.Key_F3)
    history = window.history_dialog
    qtbot.waitUntil(lambda: history.table.rowCount() == 1, timeout=TIMEOUT)
    history.table.selectRow(0)  # picked from the list: no receipt number typed or scanned
    history.ask_refund()
    refund = history.child_dialog
    assert isinstance(refund, RefundDialog)
    assert not refund.receipt_shown.isChecked()
    qtbot.waitUntil(lambda: refund.quantity_boxes[2].maximum() == 1, timeout=TIMEOUT)
    refund.set_quantity(2, 1)  # the loaf
    qtbot.waitUntil(lambda: refund.preview.text().startswith("Refund €3.20"), timeout=TIMEOUT)
    refund._on_ok()
    approval = refund.findChild(ApprovalDialog)
    assert approval is not None
    shown_text = [w.text() for w in approval.findChildren(QLabel)]
    assert any(t.startswith("Return without receipt: Refund €3.20") for t in shown_text)
    with qtbot.waitSignal(history.refund_receipt_shown, timeout=TIMEOUT) as shown:
        qtbot.keyClicks(approval.pin, MANAGER_PIN)
        enter(qtbot, approval.pin)
    assert "Returned without a receipt" in refund_receipt_text(shown.args[0].receipt)
    with terminal.read() as uow:
        entries = uow.audit.recent(5)
    no_receipt = next(e for e in entries if e.action.value == "return_without_receipt")
    assert order.receipt_no in no_receipt.detail and no_receipt.clerk_name == "Maria"


def unwrapped_or_cut_labels(dialog: Any) -> list[str]:
    """Labels of ``dialog`` whose whole text is not shown: too wide without word wrap, or
    wrapped into more lines than their height holds."""
    problems = []
    for widget in dialog.findChildren(QLabel):
        if not widget.isVisible() or not widget.text():
            continue
        room = widget.contentsRect()
        if widget.wordWrap():  # heightForWidth: the whole label's, padding and border included
            if widget.heightForWidth(widget.width()) > widget.height() + 1:
                problems.append(f"{widget.text()!r} is cut off below")
        elif widget.fontMetrics().horizontalAdvance(widget.text()) > room.width() + 1:
            problems.append(f"{widget.text()!r} is cut off at the side")
    return problems


def test_refund_dialog_and_history_show_every_text_whole_at_1024x768(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    window, register = manager_at_the_register(qtbot, open_window, terminal)
    order = sell_milk_and_bread(qtbot, register)
    history = open_history(qtbot, window, register, order.receipt_no)
    history.ask_refund()
    refund = history.child_dialog
    assert isinstance(refund, RefundDialog)
    qtbot.waitUntil(lambda: refund.preview.text().startswith("Refund"), timeout=TIMEOUT)
    # The no-connection warning is the long one (offline tills: this one has no gateway).
    assert refund.offline_notice.isVisible() and refund.offline_notice.wordWrap()
    for dialog in (refund, history):
        dialog.resize(min(dialog.width(), 1024), min(dialog.height(), 768 - 40))
        qtbot.wait(50)
        assert unwrapped_or_cut_labels(dialog) == [], dialog.windowTitle()
    for size in ((600, refund.height()), (refund.minimumSizeHint().width(), 0)):
        refund.resize(*size)  # narrower still, and as small as it goes: texts wrap, none cut
        qtbot.wait(50)
        assert unwrapped_or_cut_labels(refund) == [], refund.size()


def test_history_says_waiting_then_refused_with_the_servers_reason(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    from app.domain.sync import PushOutcome, ResultStatus
    from local_db.sync_store import SqliteSyncStore

    window, register = manager_at_the_register(qtbot, open_window, terminal)
    order = sell_milk_and_bread(qtbot, register)
    history = open_history(qtbot, window, register, order.receipt_no)
    assert history.table.item(0, 6).text() == "● waiting"  # offline: not "sent"
    assert history.detail.text() == f"Sale {order.receipt_no}: paid; waiting."
    history.accept()
    SqliteSyncStore(terminal.database.writer).record_results(
        [PushOutcome(order.id, ResultStatus.REJECTED, "inconsistent_totals", "lines do not add up")]
    )
    history = open_history(qtbot, window, register, order.receipt_no)
    assert history.table.item(0, 6).text() == "● refused"
    assert "refused by the server: " in history.detail.text()
    assert "lines do not add up" in history.detail.text()
    assert "Till → Refused sales" in history.detail.text()


def test_a_refund_still_on_its_way_makes_its_received_sale_waiting_then_refused(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    from app.domain.refund import RefundLine
    from app.domain.sync import PushOutcome, ResultStatus
    from app.services.approvals import grant_approval
    from app.services.refunds import quote_refund, refund_order, refund_subject
    from local_db.sync_store import SqliteSyncStore

    window, register = manager_at_the_register(qtbot, open_window, terminal)
    order = sell_milk_and_bread(qtbot, register)
    store = SqliteSyncStore(terminal.database.writer)
    store.record_results([PushOutcome(order.id, ResultStatus.ACCEPTED)])
    history = open_history(qtbot, window, register, order.receipt_no)
    assert history.table.item(0, 6).text() == "● received"
    history.accept()
    with terminal.read() as uow:
        manager = next(c for c in uow.clerks.all() if c.name == "Maria")
    one = RefundLine(1, 1)
    approval = grant_approval(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        *refund_subject(order.id, quote_refund(terminal.read(), order.id, lines=[one]).amount),
        manager.id,
        manager.id,
        MANAGER_PIN,
        store=terminal.store,
    )
    refund_order(
        terminal.uow,
        None,
        order.id,
        "broken",
        manager,
        terminal.clock,
        terminal.ids,
        lines=[RefundLine(1, 1)],
        approval=approval,
    )
    history = open_history(qtbot, window, register, order.receipt_no)
    assert history.table.item(0, 6).text() == "● waiting"  # the refund is not at the server
    history.accept()
    (refund_event,) = [e for e in store.pending_events(10) if e.event_type == "order.refunded"]
    store.record_results(
        [PushOutcome(refund_event.event_id, ResultStatus.REJECTED, "refund_exceeds_line", "no")]
    )
    history = open_history(qtbot, window, register, order.receipt_no)
    assert history.table.item(0, 6).text() == "● refused"
    assert "refund_exceeds_line" in history.detail.text()
    history.accept()
    store.resend(refund_event.event_id)
    store.record_results([PushOutcome(refund_event.event_id, ResultStatus.ACCEPTED)])
    history = open_history(qtbot, window, register, order.receipt_no)
    assert history.table.item(0, 6).text() == "● received"
