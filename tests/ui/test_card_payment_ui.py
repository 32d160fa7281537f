"""Card at the counter: the QR dialog follows the payment and the sale completes once paid."""

from __future__ import annotations

import sqlite3
from typing import Any

from PySide6.QtCore import Qt

from app.data import DEMO_MANAGER_PIN
from local_db.engine import DB_FILENAME
from sync.engine import ConnectionState, SyncStatus
from tests.fakes import FakeGateway, FakeServerTransport
from ui.card_dialog import CardPaymentDialog
from ui.pay import PayDialog
from ui.receipt_view import ReceiptDialog
from ui.sample_catalog import barcode_of

from .conftest import add_clerk
from .test_register_flow import TIMEOUT, enter, log_in, press, scan
from .test_sync_status import make_bridge


def go_online(qtbot: Any, window: Any, bridge: Any) -> None:
    """As if a sync run had just succeeded (after the window's own first status)."""
    qtbot.waitUntil(lambda: window.sync_status is not None, timeout=TIMEOUT)
    bridge.engine._publish(SyncStatus(ConnectionState.ONLINE))
    qtbot.waitUntil(lambda: bridge.online, timeout=TIMEOUT)


def start_card(
    qtbot: Any, open_window: Any, terminal: Any, gateway: FakeGateway
) -> tuple[Any, Any, PayDialog, CardPaymentDialog]:
    """Online till, Maria logged in, coffee scanned, F12, Card: (window, register, pay, card)."""
    add_clerk(terminal, "Maria", DEMO_MANAGER_PIN, manager=True)
    bridge = make_bridge(terminal, FakeServerTransport())
    window = open_window(sync=bridge)
    go_online(qtbot, window, bridge)
    window.register.payment_gateway = lambda: gateway
    log_in(qtbot, window, "Maria", DEMO_MANAGER_PIN)
    register = window.register
    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    assert isinstance(pay, PayDialog)
    assert pay.card_button.isEnabled()
    with qtbot.waitSignal(register.dialog_opened, timeout=TIMEOUT) as opened:
        pay.card_button.click()
    card = opened.args[0]
    assert isinstance(card, CardPaymentDialog)
    return window, register, pay, card


def test_card_paid_on_the_phone_completes_the_sale_with_one_charge(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    gateway = FakeGateway(checks_until_done=2)
    _window, register, pay, card = start_card(qtbot, open_window, terminal, gateway)
    qtbot.waitUntil(
        lambda: card.qr.pixmap() is not None and not card.qr.pixmap().isNull(), timeout=TIMEOUT
    )
    assert card.open_button.isEnabled()
    # The dialog polls until the fake server says paid; then the sale completes by itself
    # (no Enter) and the receipt is shown.
    completed: list[Any] = []
    register.sale_completed.connect(completed.append)
    with qtbot.waitSignals([card.paid, register.sale_completed], timeout=TIMEOUT):
        pass
    assert pay.tenders and pay.tenders[0].kind.value == "card"
    (order,) = completed
    qtbot.waitUntil(lambda: isinstance(register.active_dialog, ReceiptDialog), timeout=TIMEOUT)
    assert register.active_dialog.order.id == order.id
    assert gateway.created == 1
    assert order.id == next(iter(gateway.payments.values()))["order_id"]
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        assert db.execute("SELECT kind, amount, reference FROM tenders").fetchall() == [
            ("card", order.total, next(iter(gateway.payments)))
        ]
        assert db.execute("SELECT status FROM card_attempts").fetchall() == [("used",)]


def test_declined_card_says_why_and_a_retry_is_a_new_attempt(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    gateway = FakeGateway(checks_until_done=1, outcome="failed")
    _window, _register, pay, card = start_card(qtbot, open_window, terminal, gateway)
    qtbot.waitUntil(lambda: card.retry_button.isVisible(), timeout=TIMEOUT)
    assert "Your card was declined." in card.status.text()
    assert pay.tenders == []
    card.retry_button.click()
    qtbot.waitUntil(lambda: gateway.created == 2, timeout=TIMEOUT)


def test_closing_the_card_dialog_cancels_the_payment_so_cash_can_be_taken(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    gateway = FakeGateway(checks_until_done=10_000)  # the customer never pays
    _window, register, pay, card = start_card(qtbot, open_window, terminal, gateway)
    qtbot.waitUntil(lambda: card.payment is not None, timeout=TIMEOUT)
    with qtbot.waitSignal(card.rejected, timeout=TIMEOUT):
        card.reject()  # Esc
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        assert db.execute("SELECT status FROM card_attempts").fetchall() == [("abandoned",)]
    qtbot.mouseClick(pay.quick_buttons[0], Qt.MouseButton.LeftButton)  # cash, exact
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        enter(qtbot, pay.amount_field)
    assert [t.kind.value for t in completed.args[0].tenders] == ["cash"]


def test_phone_order_link_is_e_mailed_to_a_valid_address_only(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    gateway = FakeGateway(checks_until_done=10_000)
    _window, _register, _pay, card = start_card(qtbot, open_window, terminal, gateway)
    qtbot.waitUntil(lambda: card.email_button.isEnabled(), timeout=TIMEOUT)
    card.email_field.setText("not-an-address")
    card.email_button.click()
    qtbot.waitUntil(lambda: "is not an e-mail address" in card.error.text(), timeout=TIMEOUT)
    card.email_field.setText("ana@example.com")
    card.email_button.click()
    qtbot.waitUntil(lambda: "sent to ana@example.com" in card.status.text(), timeout=TIMEOUT)
    (payment,) = gateway.payments.values()
    assert payment["mailed"] == ["ana@example.com"]
