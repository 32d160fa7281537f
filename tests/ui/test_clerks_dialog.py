"""Manager → Clerks… on the real window: a manager adds a clerk and deactivates one (each
saved with its clerk.saved event); the last manager cannot be demoted; a clerk gets no
Clerks screen."""

from __future__ import annotations

import sqlite3
from typing import Any

from local_db.engine import DB_FILENAME
from tests.ui.conftest import add_clerk
from tests.ui.test_register_flow import TIMEOUT, log_in
from ui.clerks_dialog import ClerkPinDialog, ClerksDialog

MANAGER_PIN = "246813"


def saved(terminal: Any) -> int:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        return db.execute(
            "SELECT count(*) FROM outbox WHERE event_type = 'clerk.saved'"
        ).fetchone()[0]


def test_a_manager_adds_and_deactivates_a_clerk(qtbot: Any, open_window: Any, terminal: Any):
    add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", MANAGER_PIN)
    assert window.clerks_action.isEnabled()
    window.clerks_action.trigger()
    dialog = window.clerks_dialog
    assert isinstance(dialog, ClerksDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=TIMEOUT)

    dialog.ask_add()
    add = dialog.child_dialog
    assert isinstance(add, ClerkPinDialog)
    qtbot.keyClicks(add.name_field, "Nina")
    qtbot.keyClicks(add.pin, "4321")
    qtbot.keyClicks(add.pin_again, "4321")
    with qtbot.waitSignal(dialog.changed, timeout=TIMEOUT) as added:
        add.ok_button.click()
    assert added.args[0].name == "Nina"
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=TIMEOUT)
    assert saved(terminal) == 1

    row = next(r for r in range(2) if dialog.table.item(r, 0).text() == "Nina")
    dialog.table.selectRow(row)
    assert dialog.active_button.text() == "Deactivate"
    with qtbot.waitSignal(dialog.changed, timeout=TIMEOUT):
        dialog.active_button.click()
    qtbot.waitUntil(lambda: dialog.table.item(row, 2).text() == "deactivated", timeout=TIMEOUT)
    assert saved(terminal) == 2

    maria = next(r for r in range(2) if dialog.table.item(r, 0).text() == "Maria")
    dialog.table.selectRow(maria)
    dialog.role_button.click()  # Maria is the only active manager
    qtbot.waitUntil(dialog.error.isVisible, timeout=TIMEOUT)
    assert "last active manager" in dialog.error.text()
    assert saved(terminal) == 2


def test_a_clerk_gets_no_clerks_screen(qtbot: Any, open_window: Any, terminal: Any):
    add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    add_clerk(terminal, "Ben", "1357")
    window = open_window()
    log_in(qtbot, window, "Ben", "1357")
    assert not window.clerks_action.isEnabled()
    window.show_clerks()  # even if asked another way
    assert window.clerks_dialog is None
    assert "Only a manager may manage clerks; Ben is a clerk" in window.register.notice.text()
