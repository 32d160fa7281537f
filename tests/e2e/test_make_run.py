"""`make run` as a newcomer runs it: the embedded server on SQLite, started by
scripts/run_embedded.py's own functions, and the till's window offered the server's
enrollment code. The till enrolls by itself, goes Online with the server's clerks, delivery
slots and store pulled, and a card sale shows the customer's pay link (Stripe: localstripe)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import Qt

from local_db.engine import DB_FILENAME
from scripts import run_embedded
from sync.credentials import EncryptedFileKeyring
from sync.engine import ConnectionState
from tests.e2e.conftest import SQLITE
from tests.e2e.test_card_payment import PUBLIC_URL, server_env_extra
from tests.server.test_payments import intents_for_order
from tests.ui.test_register_flow import log_in, press, scan
from ui.card_dialog import CardPaymentDialog
from ui.pay import PayDialog

__all__ = ["server_env_extra"]  # Stripe (localstripe) configured, as in test_card_payment

TIMEOUT = 60_000  # ms: first start migrates, loads the demo catalog, enrolls and pulls


@pytest.fixture
def os_keyring(tmp_path: Path) -> Iterator[None]:
    """The computer's keyring, as the till finds it: here an isolated encrypted file (a secure
    backend, so the till enrolls by itself as on a desktop with a Secret Service)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(EncryptedFileKeyring(tmp_path / "os-keyring.json", "e2e passphrase"))
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def online(window: Any) -> bool:
    status = window.sync_status
    return (
        status is not None
        and status.state is ConnectionState.ONLINE
        and not status.running
        and status.waiting == 0
        and status.last_success_at is not None
    )


@pytest.mark.parametrize("backend", [SQLITE], indirect=True)
@pytest.mark.usefixtures("os_keyring")
def test_make_run_till_enrolls_goes_online_with_the_servers_data_and_starts_a_card_payment(
    backend: Any,
    qtbot: Any,
    qapp: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stripe_client: Any,
) -> None:
    from ui.main_window import MainWindow
    from ui.style import STYLESHEET

    # What `make run` does once its server is healthy: the demo store and a fresh code...
    code = run_embedded.load_demo(backend.env)
    till_env = run_embedded.till_environment(backend.server.url, code, os.environ)
    for name in set(os.environ) - set(till_env):
        monkeypatch.delenv(name)
    monkeypatch.setenv("SHOPSMART_ENROLL", till_env["SHOPSMART_ENROLL"])
    # ...and the till on its own data directory, as ui.main.run_app opens it.
    qapp.setStyleSheet(STYLESHEET)
    window = MainWindow(tmp_path / "var" / "till", start_sync=True)
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        qtbot.waitUntil(lambda: online(window), timeout=TIMEOUT)
        assert window.status_label.text().startswith("● Online")
        terminal = window.terminal
        with terminal.read() as uow:
            clerks = {c.name: c.role.value for c in uow.clerks.all()}
            assert clerks == {"Maria": "clerk", "Max": "manager"}
            assert uow.settings.get("store_code") == "DEMO"
            assert uow.settings.get("store_name") == "ShopSmart Demo Grocery"
            assert uow.settings.get("currency") == "EUR"
        with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
            slots = db.execute("SELECT starts_at, ends_at, capacity FROM delivery_slots").fetchall()
        assert len(slots) == 3 and {capacity for *_, capacity in slots} == {8}
        assert all(text.endswith("+00:00") for start, end, _ in slots for text in (start, end))

        # Maria (the server's clerk, the server's PIN hash) sells milk by card.
        qtbot.waitUntil(lambda: window.first_manager_dialog is None, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: "Maria" in [c.name for c in window.login._clerks], timeout=TIMEOUT)
        log_in(qtbot, window, "Maria", "1234")
        register = window.register
        with terminal.read() as uow:
            milk = uow.products.by_id("demo-milk")
        scan(qtbot, register, milk.barcodes[0])
        qtbot.waitUntil(lambda: not register.cart.is_empty, timeout=TIMEOUT)
        press(qtbot, register, Qt.Key.Key_F12)
        pay = register.active_dialog
        assert isinstance(pay, PayDialog)
        assert pay.card_button.isEnabled()  # card needs the server: the till is online
        with qtbot.waitSignal(register.dialog_opened, timeout=TIMEOUT) as opened:
            pay.card_button.click()
        card = opened.args[0]
        assert isinstance(card, CardPaymentDialog)
        qtbot.waitUntil(
            lambda: card.qr.pixmap() is not None and not card.qr.pixmap().isNull(),
            timeout=TIMEOUT,
        )
        assert card.open_button.isEnabled()
        payment = card.payment
        (intent,) = intents_for_order(stripe_client, payment.order_id)
        assert intent.amount == milk.unit_price == payment.amount
        assert intent.status == "requires_payment_method"  # waiting for the customer's card
        ((pay_token,),) = backend.sql("SELECT pay_token FROM payments")
        assert payment.pay_url == f"{PUBLIC_URL}/pay/{pay_token}"
    finally:
        window.runner.shutdown()
        if window.sync is not None:
            window.sync.stop()
