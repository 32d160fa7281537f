"""Voids, cancellations, refunds and approved discounts for a manager: who took what off a
sale, when, and why."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.domain.audit import AuditAction, AuditEntry
from ui.tasks import TaskRunner
from ui.widgets import PosDialog, label, money

ACTION_WORDS = {
    AuditAction.LINE_REMOVED: "Line removed",
    AuditAction.SALE_CANCELLED: "Sale cancelled",
    AuditAction.ORDER_VOIDED: "Paid sale voided",
    AuditAction.ORDER_REFUNDED: "Paid sale refunded",
    AuditAction.RETURN_WITHOUT_RECEIPT: "Return without receipt",
    AuditAction.DISCOUNT_APPROVED: "Discount approved",
    AuditAction.SALE_PARKED_ON_CLOSE: "Sale parked when the till closed",
    AuditAction.OPEN_PRICE_APPROVED: "Open price approved",
    AuditAction.APPROVAL_USED: "Manager approval used",
    AuditAction.PRICE_OVERRIDDEN: "Price overridden",
    AuditAction.CLERK_SAVED: "Clerk added or changed",
}


class AuditDialog(PosDialog):
    def __init__(self, terminal: Any, runner: TaskRunner, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__("Voids and cancellations", parent)
        self.body.addWidget(label("The latest 200 on this till, newest first.", "Muted"))
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["When", "Clerk", "What", "Amount", "Items", "Why"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.body.addWidget(self.table)
        self.finish_layout("Close")
        self.setMinimumSize(1000, 520)
        self._store = terminal.store  # amounts in the store's currency and locale

        def load(_control: Any) -> list[AuditEntry]:
            with terminal.read() as uow:
                return uow.audit.recent(200)

        runner.run_db("audit", load, self._show)

    def _show(self, entries: list[AuditEntry]) -> None:
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            cells = [
                entry.at.astimezone().strftime("%d %b %H:%M"),
                entry.clerk_name,
                ACTION_WORDS.get(entry.action, entry.action.value),
                money(entry.amount, self._store.currency, self._store.locale),
                entry.detail,
                entry.reason,
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
