"""The till's one window: a header (store · till · clerk · connection), then login or register.

Start-up paints first and opens the database after: ``open_terminal`` (SQLAlchemy, Alembic,
migrations) runs in the DB worker while the window already shows "Starting…".
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.tasks import TaskControl, TaskRunner
from ui.widgets import error_text, label, panel

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 10_000
READY_PROBE_ENV = "SHOPSMART_READY_PROBE"  # bench: log in with this PIN, print READY, quit


def _resident_kib() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class StartupPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Page")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = panel()
        box.setMaximumWidth(560)
        inner = QVBoxLayout(box)
        inner.setContentsMargins(32, 28, 32, 28)
        inner.setSpacing(14)
        inner.addWidget(label("ShopSmart POS", "Title"))
        self.message = label("Starting the till…", "Subtitle", wrap=True)
        inner.addWidget(self.message)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        inner.addWidget(self.progress)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 2)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)


class MainWindow(QMainWindow):
    terminal_ready = Signal()
    login_shown = Signal()
    register_ready = Signal()
    status_refreshed = Signal(int)
    startup_failed = Signal(str)

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        terminal: Any = None,
        load_demo: bool = True,
        runner: TaskRunner | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("ShopSmart POS")
        self.resize(1280, 800)
        self.setMinimumSize(1024, 700)
        self.data_dir = data_dir
        self.terminal = terminal
        self.load_demo = load_demo
        self.runner = runner or TaskRunner(self)
        self.login: Any = None
        self.register: Any = None
        self.clerk: Any = None
        self.pending = 0
        self.history_dialog: Any = None
        self.import_dialog: Any = None
        self.first_manager_dialog: Any = None

        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self._build_header())
        self.stack = QStackedWidget()
        self.startup = StartupPage()
        self.stack.addWidget(self.startup)
        column.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_menu()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh_status)

    # chrome ------------------------------------------------------------------------------

    def _build_header(self) -> QWidget:
        header = panel()
        header.setObjectName("Header")
        row = QHBoxLayout(header)
        row.setContentsMargins(16, 8, 16, 8)
        row.setSpacing(16)
        self.store_label = label("ShopSmart", "HeaderTitle")
        row.addWidget(self.store_label)
        row.addStretch(1)
        self.clerk_label = label("")
        row.addWidget(self.clerk_label)
        row.addStretch(1)
        self.status_label = label("● Offline · – waiting", "StatusOffline")
        self.status_label.setToolTip(
            "This till works offline. Sales wait in its outbox until the store's server "
            "can be reached."
        )
        row.addWidget(self.status_label)
        return header

    def _build_menu(self) -> None:
        till = self.menuBar().addMenu("&Till")
        self.history_action = QAction("Sales history\tF3", self)
        self.history_action.triggered.connect(self.show_history)
        self.parked_action = QAction("Parked sales\tF9", self)
        self.parked_action.triggered.connect(lambda: self.register and self.register.show_parked())
        self.import_action = QAction("Import catalog…", self)
        self.import_action.triggered.connect(self.show_import)
        self.switch_action = QAction("Switch clerk\tF10", self)
        self.switch_action.triggered.connect(self.switch_clerk)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        for action in (self.history_action, self.parked_action, self.import_action):
            action.setEnabled(False)
            till.addAction(action)
        till.addSeparator()
        self.switch_action.setEnabled(False)
        till.addAction(self.switch_action)
        till.addAction(quit_action)

    def _set_header(self) -> None:
        if self.terminal is not None:
            store = self.terminal.store
            self.store_label.setText(
                f"{store.store_name} · Store {store.store_code} · Till {store.terminal_code}"
            )
        if self.clerk is not None:
            role = " (manager)" if self.clerk.is_manager else ""
            self.clerk_label.setText(f"Clerk: {self.clerk.name}{role}   F10 switch")
        else:
            self.clerk_label.setText("Nobody logged in")

    # start-up ----------------------------------------------------------------------------

    def start(self) -> None:
        """Call after the window is shown: opens (and migrates) the store in the DB worker."""
        if self.terminal is not None:
            self._on_terminal_opened(self.terminal)
            return
        data_dir = self.data_dir
        assert data_dir is not None

        def open_store(_control: TaskControl) -> Any:
            from app.bootstrap import open_terminal

            return open_terminal(data_dir)

        self.runner.run_db(
            "open terminal", open_store, self._on_terminal_opened, self._on_startup_failed
        )

    def _on_startup_failed(self, error: Exception) -> None:
        message = f"The till could not open its database: {error_text(error)}"
        self.startup.message.setText(message)
        self.startup.progress.hide()
        self.startup_failed.emit(message)

    def _on_terminal_opened(self, terminal: Any) -> None:
        from ui.login import LoginWidget
        from ui.register import RegisterWidget

        self.terminal = terminal
        self.login = LoginWidget(terminal, self.runner)
        self.login.logged_in.connect(self._on_logged_in)
        self.login.add_manager_requested.connect(self.ask_first_manager)
        self.register = RegisterWidget(terminal, self.runner)
        self.register.switch_clerk_requested.connect(self.switch_clerk)
        self.register.history_requested.connect(self.show_history)
        self.register.sale_completed.connect(lambda _order: self.refresh_status())
        self.stack.addWidget(self.login)
        self.stack.addWidget(self.register)
        self._set_header()
        self.terminal_ready.emit()
        self.refresh_status()
        self._status_timer.start()
        with terminal.read() as uow:
            empty = uow.products.count() == 0
        if empty and self.load_demo:
            self._load_demo_catalog()
        else:
            self.show_login()

    def _load_demo_catalog(self) -> None:
        self.startup.message.setText(
            "First start: loading the demo catalog so there is something to sell…"
        )
        terminal = self.terminal

        def load(control: TaskControl) -> int:
            from ui.picker import FAVOURITES_KEY
            from ui.sample_catalog import demo_catalog

            products, favourites = demo_catalog()
            with terminal.uow() as uow:
                if uow.products.count():
                    return 0
                for start in range(0, len(products), 500):
                    control.check()
                    uow.products.upsert_many(products[start : start + 500])
                    control.report(min(start + 500, len(products)), len(products))
                uow.settings.put(FAVOURITES_KEY, ",".join(favourites))
                uow.commit()
            return len(products)

        task = self.runner.run_db(
            "demo catalog", load, lambda _n: self.show_login(), self._on_demo_failed
        )
        task.progress.connect(self._on_demo_progress)

    def _on_demo_progress(self, done: int, total: int) -> None:
        self.startup.progress.setRange(0, total)
        self.startup.progress.setValue(done)
        self.startup.message.setText(f"First start: loading the demo catalog… {done} of {total}")

    def _on_demo_failed(self, error: Exception) -> None:
        log.warning("demo catalog not loaded: %s", error)
        self.show_login()

    # login -------------------------------------------------------------------------------

    def show_login(self) -> None:
        from app.services.clerks import needs_first_manager

        self.clerk = None
        self._set_header()
        self.login.refresh()
        self.stack.setCurrentWidget(self.login)
        self.login.reset()
        for action in (
            self.history_action,
            self.parked_action,
            self.import_action,
            self.switch_action,
        ):
            action.setEnabled(False)
        self.login_shown.emit()
        if needs_first_manager(self.terminal.read()):
            self.ask_first_manager()
        probe_pin = os.environ.get(READY_PROBE_ENV)
        if probe_pin and self.login.selected is None and self.login._clerks:
            self.login.select_clerk(self.login._clerks[0].id)
        if probe_pin:
            self.login.pin.setText(probe_pin)
            self.login.submit()

    def ask_first_manager(self) -> None:
        from ui.dialogs import FirstManagerDialog

        if self.first_manager_dialog is not None:
            return
        dialog = FirstManagerDialog(self.terminal, self.runner, self)
        self.first_manager_dialog = dialog
        dialog.created.connect(self._on_manager_created)
        dialog.finished.connect(lambda _r: setattr(self, "first_manager_dialog", None))
        dialog.open()

    def _on_manager_created(self, clerk: Any) -> None:
        self.login.refresh()
        self.login.select_clerk(clerk.id)

    def _on_logged_in(self, clerk: Any) -> None:
        self.clerk = clerk
        self._set_header()
        self.stack.setCurrentWidget(self.register)
        self.register.start_session(clerk)
        for action in (
            self.history_action,
            self.parked_action,
            self.import_action,
            self.switch_action,
        ):
            action.setEnabled(True)
        self.import_action.setEnabled(clerk.is_manager)
        self.register_ready.emit()
        if os.environ.get(READY_PROBE_ENV):
            QTimer.singleShot(0, self._report_ready)

    def _report_ready(self) -> None:
        """Bench probe: the register has painted and waits for the first scan."""
        print(f"READY {time.time():.6f} RSS_KB {_resident_kib()}", flush=True)
        self.close()

    def switch_clerk(self) -> None:
        """F10: the current sale is parked (not lost), then the next clerk logs in."""
        if self.register is None or self.clerk is None or self.register.busy:
            return
        if self.register.active_dialog is not None:
            return
        if not self.register.cart.is_empty:
            self.register.park(
                f"{self.clerk.name}'s sale {time.strftime('%H:%M')}", self.show_login
            )
            return
        self.show_login()

    # status ------------------------------------------------------------------------------

    def refresh_status(self) -> None:
        if self.terminal is None:
            return
        terminal = self.terminal

        def count(_control: TaskControl) -> int:
            with terminal.read() as uow:
                return int(uow.outbox.pending_count())

        self.runner.run_db("outbox count", count, self._on_pending_count)

    def _on_pending_count(self, pending: int) -> None:
        self.pending = pending
        # There is no sync engine yet: the till is offline, and says so in words.
        self.status_label.setText(f"● Offline · {pending} waiting")
        self.status_label.setObjectName("StatusOffline")
        self.status_refreshed.emit(pending)

    # menus -------------------------------------------------------------------------------

    def show_history(self) -> None:
        from ui.history import HistoryDialog

        if self.clerk is None or self.terminal is None:
            return
        dialog = HistoryDialog(self.terminal, self.runner, self)
        dialog.order_voided.connect(lambda _o: self.refresh_status())
        dialog.finished.connect(lambda _r: self._after_dialog("history_dialog"))
        self.history_dialog = dialog
        self.register.active_dialog = dialog
        dialog.open()

    def show_import(self) -> None:
        from ui.catalog_dialog import CatalogImportDialog

        if self.clerk is None or not self.clerk.is_manager:
            return
        dialog = CatalogImportDialog(self.terminal, self.runner, self)
        dialog.imported.connect(lambda _r: self.register.picker.reload())
        dialog.finished.connect(lambda _r: self._after_dialog("import_dialog"))
        self.import_dialog = dialog
        self.register.active_dialog = dialog
        dialog.open()

    def _after_dialog(self, name: str) -> None:
        setattr(self, name, None)
        if self.register is not None:
            self.register.active_dialog = None
            QTimer.singleShot(0, self.register.focus_scan)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._status_timer.stop()
        self.runner.shutdown()
        if self.terminal is not None and self.data_dir is not None:
            self.terminal.close()
        super().closeEvent(event)
