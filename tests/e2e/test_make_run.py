"""`make run` as a newcomer runs it on a bare Debian box (no secure keyring): the embedded
server on SQLite, started by scripts/run_embedded.py's own functions, and the till's window
offered the server's enrollment code. Nobody types a code: the till enrolls by itself (its
loopback-only token in the demo's 0600 file), goes Online with the server's clerks, delivery
slots and store pulled, its login names the demo clerks and PINs, the connection dialog says
one state, and a card sale shows the customer's pay link (Stripe: localstripe)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from PySide6.QtCore import Qt

from app.data import DEMO_CLERKS
from local_db.engine import DB_FILENAME
from scripts import run_embedded
from sync import credentials
from sync.engine import ConnectionState
from tests.e2e.conftest import SQLITE
from tests.e2e.test_card_payment import PUBLIC_URL, server_env_extra
from tests.server.test_payments import intents_for_order
from tests.ui.test_register_flow import log_in, press, scan
from ui.card_dialog import CardPaymentDialog
from ui.pay import PayDialog
from ui.settings_dialog import SettingsDialog

__all__ = ["server_env_extra"]  # Stripe (localstripe) configured, as in test_card_payment

TIMEOUT = 60_000  # ms: first start migrates, loads the demo catalog, enrolls and pulls


@pytest.fixture
def no_keyring(tmp_path: Path) -> Iterator[None]:
    """The computer's keyring as a fresh Debian box has it: keyring's plaintext file backend,
    which the till never trusts (isolated from the developer's own)."""
    previous = keyring.get_keyring()
    plain = PlaintextKeyring()
    plain.file_path = str(tmp_path / "plain.cfg")
    keyring.set_keyring(plain)
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
@pytest.mark.usefixtures("no_keyring")
def test_make_run_till_enrolls_by_itself_without_a_keyring_and_starts_a_card_payment(
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
    for name in ("SHOPSMART_ENROLL", "SHOPSMART_DEMO"):
        monkeypatch.setenv(name, till_env[name])
    # ...and the till on its own data directory, as ui.main.run_app opens it.
    qapp.setStyleSheet(STYLESHEET)
    window = MainWindow(tmp_path / "var" / "till", start_sync=True)
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        qtbot.waitUntil(lambda: online(window), timeout=TIMEOUT)
        assert window.status_label.text().startswith("● Online")
        assert not window.connection_bar.isVisible()  # nothing for a person to do
        assert window.store_label.text() == "ShopSmart Demo Grocery · Store DEMO · Till T01"
        terminal = window.terminal
        token_file = terminal.data_dir / credentials.DEMO_TOKEN_FILE
        assert (token_file.stat().st_mode & 0o777) == 0o600
        with terminal.read() as uow:
            assert uow.settings.get(credentials.KEYRING_CHOICE) == credentials.KEYRING_DEMO_FILE
        with terminal.read() as uow:
            clerks = {c.name: c.role.value for c in uow.clerks.all()}
            assert clerks == {c.name: c.role for c in DEMO_CLERKS}
            assert uow.settings.get("store_code") == "DEMO"
            assert uow.settings.get("store_name") == "ShopSmart Demo Grocery"
            assert uow.settings.get("currency") == "EUR"
        with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
            slots = db.execute("SELECT starts_at, ends_at, capacity FROM delivery_slots").fetchall()
        assert len(slots) == 3 and {capacity for *_, capacity in slots} == {8}
        assert all(text.endswith("+00:00") for start, end, _ in slots for text in (start, end))

        # Maria (the server's clerk, the server's PIN hash) sells milk by card.
        qtbot.waitUntil(lambda: window.first_manager_dialog is None, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: len(window.login._clerks) == len(DEMO_CLERKS), timeout=TIMEOUT)
        # The login screen says whom to pick and the PIN: the demo's own clerks.
        qtbot.waitUntil(lambda: window.login.demo_hint.isVisible(), timeout=TIMEOUT)
        for demo_clerk in DEMO_CLERKS:
            assert f"{demo_clerk.name}" in window.login.demo_hint.text()
            assert f"PIN {demo_clerk.pin}" in window.login.demo_hint.text()
        # The connection dialog: connected and online, said once, no menu that does not exist.
        dialog = SettingsDialog(terminal, window.sync, window.runner, window)
        qtbot.addWidget(dialog)
        assert dialog.current.text().startswith(f"Connected to {backend.server.url} as till")
        assert "Online, last sync" in dialog.current.text()
        assert "Not connected" not in dialog.current.text()
        assert not dialog.connect_button.isVisibleTo(dialog)  # connected: nothing to type
        assert not dialog.code.isVisibleTo(dialog)
        assert credentials.DEMO_TOKEN_FILE in dialog.keyring_notice.text()
        dialog.close()
        maria = next(c for c in DEMO_CLERKS if c.role == "clerk")
        log_in(qtbot, window, maria.name, maria.pin)
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
