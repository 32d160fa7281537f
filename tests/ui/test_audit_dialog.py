"""The manager's audit list shows every kind of entry the till records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.domain.audit import AuditAction, AuditEntry

TIMEOUT = 10_000


def test_every_audit_action_is_listed_in_words(qtbot: Any, terminal: Any) -> None:
    from ui.audit_dialog import ACTION_WORDS, AuditDialog
    from ui.tasks import TaskRunner

    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    with terminal.uow() as uow:
        for n, action in enumerate(AuditAction):
            uow.audit.add(AuditEntry(at, "m1", "Sam", action, f"why {n}", 100 * n, f"what {n}"))
        uow.commit()
    runner = TaskRunner()
    try:
        dialog = AuditDialog(terminal, runner)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: dialog.table.rowCount() == len(AuditAction), timeout=TIMEOUT)
        shown = {dialog.table.item(row, 2).text() for row in range(dialog.table.rowCount())}
        for row in range(dialog.table.rowCount()):  # every cell of every row says something
            cells = [dialog.table.item(row, c).text() for c in range(dialog.table.columnCount())]
            assert all(cells), cells
    finally:
        runner.shutdown()
    assert shown == {ACTION_WORDS[action] for action in AuditAction}
    assert "Paid sale refunded" in shown and "Discount approved" in shown


def test_amounts_are_shown_in_the_stores_currency(qtbot: Any, terminal: Any) -> None:
    """A yen store's refund of ¥1234 reads "¥1,234", not the euro's "€12.34"."""
    from dataclasses import replace

    from ui.audit_dialog import AuditDialog
    from ui.tasks import TaskRunner

    terminal.store = replace(terminal.store, currency="JPY", locale="en_JP")
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    with terminal.uow() as uow:
        uow.audit.add(
            AuditEntry(at, "m1", "Sam", AuditAction.ORDER_REFUNDED, "broken", 1234, "T01-000007")
        )
        uow.commit()
    runner = TaskRunner()
    try:
        dialog = AuditDialog(terminal, runner)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=TIMEOUT)
        amount = dialog.table.item(0, 3).text()
    finally:
        runner.shutdown()
    assert amount == "¥1,234"
