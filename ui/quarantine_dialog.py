"""Rows from the server this till could not use: each with what it is and why, for a manager.

A pulled product, price, stock figure, clerk, slot or customer that breaks one of the shop's
rules (a barcode with a wrong check digit, a barcode another product already has, a time
without a zone...) is kept aside by the sync, never dropped in silence. Nothing to do here
but read: the fix belongs on the server, and the corrected row is applied by the next sync.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHeaderView, QTableWidgetItem

from app.domain.sync import PulledKind, UnusableRow
from ui.tasks import TaskRunner
from ui.widgets import PosDialog, label, list_table


def kind_label(kind: str) -> str:
    try:
        return PulledKind(kind).label
    except ValueError:
        return kind.replace("_", " ")


class UnusableRowsDialog(PosDialog):
    def __init__(self, store: Any, tasks: TaskRunner, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__("Rows from the server this till could not use", parent)
        self._store = store  # anything with unusable_rows() (SqliteSyncStore)
        self._tasks = tasks
        self.rows: list[UnusableRow] = []
        self.body.addWidget(
            label(
                "The server sent these rows but they break the shop's rules, so this till "
                "keeps them aside and sells without them. Correct them on the server: the "
                "next sync applies the corrected rows and they leave this list.",
                "Muted",
                wrap=True,
            )
        )
        self.summary = label("Loading…")
        self.body.addWidget(self.summary)
        self.table = list_table(["Kind", "Name or key", "Why it could not be used"], 32)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.body.addWidget(self.table)
        self.finish_layout("Close")
        self.cancel_button.hide()
        self.setMinimumSize(900, 420)
        self._load()

    def _load(self) -> None:
        store = self._store
        self._tasks.run_db("unusable rows", lambda _c: store.unusable_rows(), self._show)

    def _show(self, rows: list[UnusableRow]) -> None:
        self.rows = rows
        self.summary.setText(
            f"{len(rows)} {'row' if len(rows) == 1 else 'rows'} kept aside."
            if rows
            else "Every row from the server was used."
        )
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            name = row.name if row.name == row.key else f"{row.name} · {row.key}"
            for column, text in enumerate((kind_label(row.kind), name, row.reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(index, column, item)
