"""Sales the server refused: each with its reason, waiting for a manager; and from here, the
rows from the server this till could not use (``ui.quarantine_dialog``).

A manager can resend a sale once the cause is fixed (e.g. a product the server did not know
was added there) — the server answers "duplicate" for anything it already holds, so a resend
can never double a sale. A sale that should not exist is voided from History instead.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.domain.sync import OutboxEvent
from ui.approval_dialog import ApprovalDialog
from ui.quarantine_dialog import UnusableRowsDialog
from ui.sync_bridge import SyncBridge
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import PosDialog, button, label, money


class RejectedSalesDialog(PosDialog):
    def __init__(
        self, terminal: Any, store: Any, bridge: SyncBridge, tasks: TaskRunner, parent=None
    ) -> None:  # type: ignore[no-untyped-def]
        super().__init__("Sales the server refused", parent)
        self._terminal = terminal
        self._store = store  # SqliteSyncStore
        self._bridge = bridge
        self._tasks = tasks
        self._events: list[OutboxEvent] = []
        self.body.addWidget(
            label(
                "These sales are safe on this till but the server refused them. Fix the cause, "
                "then resend (manager PIN). A sale that should not exist is voided from History.",
                "Muted",
                wrap=True,
            )
        )
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Receipt", "Total", "Tries", "Why"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.body.addWidget(self.table)
        self.resend_button = button("Resend selected (manager)", self._resend, "Primary")
        self.body.addWidget(self.resend_button)
        unusable = bridge.status.unusable
        self.unusable_button = button(
            f"Rows from the server not used ({unusable})…", self.show_unusable
        )
        self.unusable_button.setEnabled(bool(unusable))
        self.body.addWidget(self.unusable_button)
        self.unusable_dialog: UnusableRowsDialog | None = None
        self.finish_layout("Close")
        self.setMinimumSize(900, 480)
        self._load()

    def _load(self) -> None:
        store = self._store
        self._tasks.run_db("rejected", lambda _c: store.rejected_events(), self._show)

    def show_unusable(self) -> None:
        """Pulled rows kept aside, listed for the manager (shown where refused sales are)."""
        self.unusable_dialog = UnusableRowsDialog(self._store, self._tasks, self)
        self.unusable_dialog.finished.connect(lambda _r: setattr(self, "unusable_dialog", None))
        self.unusable_dialog.open()

    def _show(self, events: list[OutboxEvent]) -> None:
        self._events = events
        self.table.setRowCount(len(events))
        profile = self._terminal.store  # the store's currency and locale
        for row, event in enumerate(events):
            payload = event.payload.get("payload", {})
            receipt = payload.get("receipt_no") or payload.get("order_id", event.event_id)[:8]
            total = payload.get("total")
            currency = payload.get("currency")
            if not isinstance(currency, str):
                currency = profile.currency
            cells = [
                str(receipt),
                money(total, currency, profile.locale) if isinstance(total, int) else "—",
                str(event.attempts),
                event.last_error,
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.resend_button.setEnabled(bool(events))

    def _resend(self) -> None:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows:
            self.show_error("Select the sales to resend.")
            return
        chosen = [self._events[row].event_id for row in rows]
        approval = ApprovalDialog(
            f"Resend {len(chosen)} refused sale(s)", self._terminal, self._tasks, self
        )
        if not approval.exec():
            return
        store = self._store

        def work(_control: TaskControl) -> int:
            for event_id in chosen:
                store.resend(event_id)
            return len(chosen)

        self._tasks.run_db("resend", work, self._on_resent)

    def _on_resent(self, count: int) -> None:
        self._bridge.kick(force=True)
        self._load()
