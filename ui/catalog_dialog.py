"""Catalog import from the till's menu: runs in the DB worker with progress and Cancel.

``import_catalog`` is all-or-nothing (one transaction). Cancel works by making the unit of
work refuse to go on: the next repository call (or the commit) raises ``TaskCancelled`` and the
transaction rolls back, so a cancelled import changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QListWidget, QProgressBar, QWidget

from app.domain.errors import CatalogImportError
from app.services.catalog_import import ImportReport, import_rows, read_catalog_text
from ui.catalog_file import read_catalog_file
from ui.tasks import Task, TaskCancelled, TaskControl, TaskRunner
from ui.widgets import PosDialog, button, error_text, label


class _WatchedProducts:
    """Products repository proxy: counts calls for progress and honours Cancel."""

    def __init__(self, inner: Any, control: TaskControl, total: int) -> None:
        self._inner = inner
        self._control = control
        self._total = total
        self._done = 0

    def _tick(self, amount: int = 1) -> None:
        self._control.check()
        self._done += amount
        if self._done % 200 == 0 or self._done >= self._total:
            self._control.report(min(self._done, self._total), self._total)

    def by_code(self, code: str) -> Any:
        self._tick()
        return self._inner.by_code(code)

    def upsert_many(self, products: Any) -> int:
        items = list(products)
        written = 0
        for start in range(0, len(items), 500):
            self._control.check()
            written += self._inner.upsert_many(items[start : start + 500])
            self._done += len(items[start : start + 500])
            self._control.report(min(self._done, self._total), self._total)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CancellableUnitOfWork:
    """Wraps a unit of work so a long import reports progress and can be cancelled."""

    def __init__(self, inner: Any, control: TaskControl, total: int) -> None:
        self._inner = inner
        self._control = control
        self._total = total

    def __enter__(self) -> CancellableUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name == "products":
            return _WatchedProducts(value, self._control, self._total)
        return value

    def commit(self) -> None:
        self._control.check()
        self._inner.commit()


def run_import(terminal, path: Path, control: TaskControl) -> ImportReport:  # type: ignore[no-untyped-def]
    rows = read_catalog_text(*read_catalog_file(path))  # read and split once
    steps = max(1, len(rows) * 3)
    control.report(0, steps)
    uow = CancellableUnitOfWork(terminal.uow(), control, steps)
    return import_rows(uow, rows, terminal.store.taxes, terminal.ids)  # type: ignore[arg-type]


class CatalogImportDialog(PosDialog):
    imported = Signal(object)  # ImportReport
    import_failed = Signal(str)

    def __init__(self, terminal, runner: TaskRunner, parent: QWidget | None = None):  # type: ignore[no-untyped-def]
        super().__init__("Import catalog", parent)
        self._terminal = terminal
        self._runner = runner
        self._task: Task | None = None
        self.resize(760, 520)
        self.body.addWidget(
            label(
                "A CSV or JSON file with sku, name, price, tax_class (and optionally id, brand, "
                "department, sold_by, barcodes separated by |, active, stock); prices as written "
                "(1.29), per kg when sold by weight. A file with any bad row imports nothing; "
                "every problem is listed below.",
                "Muted",
                wrap=True,
            )
        )
        self.file_label = label("No file chosen", "Subtitle", wrap=True)
        self.body.addWidget(self.file_label)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.body.addWidget(self.progress)
        self.problems = QListWidget()
        self.problems.hide()
        self.body.addWidget(self.problems, 1)
        self.choose_button = button("Choose file…", self.choose_file)
        self.choose_button.setAutoDefault(False)
        self.buttons.addWidget(self.choose_button)
        self.finish_layout("Close", "Cancel import", stretch=False)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.disconnect()
        self.cancel_button.clicked.connect(self.cancel_import)

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import catalog", "", "Catalog files (*.csv *.json *.jsonl)"
        )
        if path:
            self.start(Path(path))

    def start(self, path: Path) -> None:
        self.file_label.setText(f"Importing {path.name}…")
        self.problems.clear()
        self.problems.hide()
        self.error.hide()
        self.progress.setRange(0, 0)
        self.choose_button.setEnabled(False)
        self.ok_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        terminal = self._terminal
        task = self._runner.run_db(
            "import catalog",
            lambda control: run_import(terminal, path, control),
            self._on_done,
            self._on_failed,
        )
        task.progress.connect(self._on_progress)
        task.cancelled.connect(self._on_cancelled)
        self._task = task

    def cancel_import(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.file_label.setText("Cancelling…")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _finish(self) -> None:
        self._task = None
        self.choose_button.setEnabled(True)
        self.ok_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_done(self, report: ImportReport) -> None:
        self._finish()
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.file_label.setText(
            f"Imported {report.imported} products ({report.created} new, {report.updated} updated)."
        )
        self.imported.emit(report)

    def _on_failed(self, error: Exception) -> None:
        self._finish()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        message = error_text(error)
        self.file_label.setText(message)
        if isinstance(error, CatalogImportError):
            self.problems.addItems(error.problems)
            self.problems.show()
        self.import_failed.emit(message)

    def _on_cancelled(self) -> None:
        self._finish()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.file_label.setText("Import cancelled; nothing was changed.")

    def reject(self) -> None:
        if self._task is not None:
            self.cancel_import()
            return
        super().reject()


__all__ = ["CancellableUnitOfWork", "CatalogImportDialog", "TaskCancelled", "run_import"]
