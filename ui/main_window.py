"""The till's one window: a header (store · till · clerk · connection), then login or register.

Start-up paints first and opens the database after: ``open_terminal`` (SQLAlchemy, Alembic,
migrations) runs in the DB worker while the window already shows "Starting…".
"""

from __future__ import annotations

import gc
import logging
import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PosError
from ui.connection_bar import ConnectionReasonBar
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import ask_passphrase, button, error_text, label, panel

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 10_000
PHONE_SPARE_DELAY_MS = 1_500  # after login or a phone order: the next screen, built idle
CARD_SETTLE_AFTER_S = 120  # younger card attempts belong to the dialog following them
CARD_SETTLE_EVERY_S = 30
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


def freeze_startup_objects() -> None:
    """Move everything start-up created (Qt wrappers, SQLAlchemy, pydantic schemas, the
    catalog's first pages) out of the garbage collector's sight: a full collection then scans
    only what the session creates, and no longer pauses the register (and every thread) for
    ~130 ms in the middle of a sync (docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()


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
        sync: Any = None,
        start_sync: bool = False,
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
        self.settings_dialog: Any = None
        self.audit_dialog: Any = None
        self.reports_dialog: Any = None
        self.clerks_dialog: Any = None
        self.manager_sessions: dict[str, Any] = {}  # clerk id → the server's manager session
        self.refused_dialog: Any = None
        self.first_manager_dialog: Any = None
        self.close_dialog: Any = None  # asks before closing with a sale open
        self.phone_order_dialog: Any = None
        self._spare_phone_order: Any = None  # the next phone-order screen, built while idle
        self.shift_dialog: Any = None
        self.phone_queue_dialog: Any = None
        self.reconcile_dialog: Any = None
        self.sync: Any = sync  # ui.sync_bridge.SyncBridge, or None (tests without a server)
        self.start_sync = start_sync
        self.sync_status: Any = None
        self._last_settle = -float(CARD_SETTLE_EVERY_S)
        self._startup_frozen = False

        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self._build_header())
        column.addWidget(self._build_refused_banner())
        self.connection_bar = ConnectionReasonBar()  # why offline, and what to do
        column.addWidget(self.connection_bar)
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

    def _build_refused_banner(self) -> QWidget:
        self.refused_banner = panel()
        self.refused_banner.setObjectName("AlertBar")
        row = QHBoxLayout(self.refused_banner)
        row.setContentsMargins(16, 6, 16, 6)
        self.refused_label = label("", "AlertText", wrap=True)
        row.addWidget(self.refused_label, 1)
        review = button("Review refused sales", self.show_refused)
        row.addWidget(review)
        self.refused_banner.hide()
        return self.refused_banner

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
        self.sync_now_action = QAction("Sync now\tCtrl+S", self)
        self.sync_now_action.setShortcut(QKeySequence("Ctrl+S"))
        self.sync_now_action.triggered.connect(self.sync_now)
        self.settings_action = QAction("Server connection…", self)
        self.settings_action.triggered.connect(self.show_settings)
        self.refused_action = QAction("Refused sales…", self)
        self.refused_action.triggered.connect(self.show_refused)
        self.reports_action = QAction("Reports…\tCtrl+R", self)
        self.reports_action.setShortcut(QKeySequence("Ctrl+R"))
        self.reports_action.triggered.connect(self.show_reports)
        self.audit_action = QAction("Voids and cancellations…", self)
        self.audit_action.triggered.connect(self.show_audit)
        self.phone_order_action = QAction("Phone order…\tCtrl+P", self)
        self.phone_order_action.setShortcut(QKeySequence("Ctrl+P"))
        self.phone_order_action.triggered.connect(self.show_phone_order)
        self.phone_queue_action = QAction("Phone orders queue…\tCtrl+Shift+P", self)
        self.phone_queue_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.phone_queue_action.triggered.connect(self.show_phone_queue)
        self.reconcile_action = QAction("Customers to call…", self)
        self.reconcile_action.triggered.connect(self.show_reconcile)
        self.phone_actions = (
            self.phone_order_action,
            self.phone_queue_action,
            self.reconcile_action,
        )
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        for action in (
            self.history_action,
            self.parked_action,
            self.import_action,
            self.audit_action,
            self.reports_action,
        ):
            action.setEnabled(False)
            till.addAction(action)
        till.addSeparator()
        for action in self.phone_actions:
            action.setEnabled(False)
            till.addAction(action)
        till.addSeparator()
        for action in (self.sync_now_action, self.settings_action, self.refused_action):
            action.setEnabled(False)
            till.addAction(action)
        till.addSeparator()
        self.switch_action.setEnabled(False)
        till.addAction(self.switch_action)
        till.addAction(quit_action)
        self._build_shift_menu()
        manager = self.menuBar().addMenu("&Manager")
        self.clerks_action = QAction("Clerks…", self)
        self.clerks_action.triggered.connect(self.show_clerks)
        self.clerks_action.setEnabled(False)
        manager.addAction(self.clerks_action)

    def _build_shift_menu(self) -> None:
        """Shift: open with a float, paid in/out, no-sale, X report, close into a Z report
        (ui/shift_dialogs.py)."""
        from app.domain.shift import CashMovementKind

        shift = self.menuBar().addMenu("S&hift")
        self.open_shift_action = QAction("Open shift…", self)
        self.open_shift_action.triggered.connect(self.show_open_shift)
        self.paid_in_action = QAction("Paid in…", self)
        self.paid_in_action.triggered.connect(
            lambda: self.show_cash_movement(CashMovementKind.PAID_IN)
        )
        self.paid_out_action = QAction("Paid out…", self)
        self.paid_out_action.triggered.connect(
            lambda: self.show_cash_movement(CashMovementKind.PAID_OUT)
        )
        self.no_sale_action = QAction("No sale (open drawer)…", self)
        self.no_sale_action.triggered.connect(
            lambda: self.show_cash_movement(CashMovementKind.NO_SALE)
        )
        self.x_report_action = QAction("X report", self)
        self.x_report_action.triggered.connect(self.show_x_report)
        self.close_shift_action = QAction("Close shift…", self)
        self.close_shift_action.triggered.connect(self.show_close_shift)
        self.shift_actions = (
            self.open_shift_action,
            self.paid_in_action,
            self.paid_out_action,
            self.no_sale_action,
            self.x_report_action,
            self.close_shift_action,
        )
        for action in self.shift_actions:
            action.setEnabled(False)
            shift.addAction(action)
            if action is self.no_sale_action:
                shift.addSeparator()

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
        from ui.login import DEMO_ENV, LoginWidget
        from ui.register import RegisterWidget

        self.terminal = terminal
        self.runner.route_writes(terminal)  # one writer: the DB worker (ui/tasks.py)
        self.login = LoginWidget(terminal, self.runner, demo=os.environ.get(DEMO_ENV) == "1")
        self.login.logged_in.connect(self._on_logged_in)
        self.login.add_manager_requested.connect(self.ask_first_manager)
        self.register = RegisterWidget(terminal, self.runner)
        self.register.switch_clerk_requested.connect(self.switch_clerk)
        self.register.history_requested.connect(self.show_history)
        self.register.phone_order_requested.connect(self.show_phone_order)
        self.register.shift_needed.connect(self.show_open_shift)
        self.register.sale_completed.connect(self._on_sale_completed)
        self.register.card_state = self.card_state
        self.register.payment_gateway = self.payment_gateway
        self.stack.addWidget(self.login)
        self.stack.addWidget(self.register)
        self._set_header()
        self.terminal_ready.emit()
        if self.sync is None and self.start_sync:
            self._start_sync()
        if self.sync is not None:
            self.sync.status_changed.connect(self._on_sync_status)
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
            self.audit_action,
            self.reports_action,
            self.clerks_action,
            self.switch_action,
            self.sync_now_action,
            self.settings_action,
            self.refused_action,
            *self.phone_actions,
            *self.shift_actions,
        ):
            action.setEnabled(False)
        self.login_shown.emit()
        log.info("login screen shown")
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
        if clerk.pin_change_due:  # a 4-digit manager PIN of before the 6-digit rule
            from app.services.clerks import pin_change_text

            self.register.notice.show_notice(pin_change_text(clerk), seconds=15)
        for action in (
            self.history_action,
            self.parked_action,
            self.import_action,
            self.switch_action,
            *self.phone_actions,
            *self.shift_actions,
        ):
            action.setEnabled(True)
        self.refresh_shift_actions()
        self.import_action.setEnabled(clerk.is_manager)
        self.audit_action.setEnabled(clerk.is_manager)
        self.reports_action.setEnabled(clerk.is_manager)
        self.clerks_action.setEnabled(clerk.is_manager)
        self.sync_now_action.setEnabled(self.sync is not None)
        self.settings_action.setEnabled(clerk.is_manager and self.sync is not None)
        self.refused_action.setEnabled(clerk.is_manager and self.sync is not None)
        self.register_ready.emit()
        self.prepare_phone_order()
        log.info("register ready: %s logged in", clerk.name)
        if not self._startup_frozen:
            self._startup_frozen = True
            QTimer.singleShot(0, freeze_startup_objects)
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
        sync = self.sync
        if sync is not None:
            # Counts are read in the DB worker; the engine publishes them as a status.
            self.runner.run_db("sync counts", lambda _c: sync.engine.refresh_counts())
            return

        def count(_control: TaskControl) -> int:
            with terminal.read() as uow:
                return int(uow.outbox.pending_count())

        self.runner.run_db("outbox count", count, self._on_pending_count)

    def _on_pending_count(self, pending: int) -> None:
        self.pending = pending
        # No sync engine on this window (tests): the till is offline, and says so in words.
        self.status_label.setText(f"● Offline · {pending} waiting")
        self.status_label.setObjectName("StatusOffline")
        self.status_refreshed.emit(pending)

    def _on_sync_status(self, status: Any) -> None:
        from ui.sync_bridge import describe_status

        self.sync_status = status
        self.pending = status.waiting
        text, style, tip = describe_status(status)
        self.status_label.setText(text)
        self.status_label.setToolTip(tip)
        self.connection_bar.show_status(status)
        if self.status_label.objectName() != style:
            self.status_label.setObjectName(style)
            self.status_label.style().unpolish(self.status_label)
            self.status_label.style().polish(self.status_label)
        if status.state.value == "online" and not status.running:
            self.settle_card_payments()
            self._show_pulled_clerks()
        if status.rejected:
            many = status.rejected != 1
            self.refused_label.setText(
                f"⚠ {status.rejected} {'sales were' if many else 'sale was'} refused by the "
                f"server and {'need' if many else 'needs'} a manager. They are safe on this till."
            )
        elif status.unusable:  # rows from the server kept aside: listed in the same dialog
            self.refused_label.setText(
                f"⚠ {status.unusable} {'rows' if status.unusable != 1 else 'row'} from the "
                "server could not be used on this till; a manager can see why."
            )
        self.refused_banner.setVisible(bool(status.rejected or status.unusable))
        self.status_refreshed.emit(status.waiting)

    def _show_pulled_clerks(self) -> None:
        """Clerks a pull brought appear on the login screen, and the first-manager dialog
        closes once the server has sent a manager (`make run`'s first start). This follows
        every sync run: the clerks are read in the DB worker, not on the UI thread."""
        from app.services.clerks import needs_first_manager

        if self.login is None or self.clerk is not None:
            return
        terminal = self.terminal

        def read(_control: TaskControl) -> tuple[list[Any], bool]:
            with terminal.read() as uow:
                clerks = uow.clerks.all()
            return clerks, needs_first_manager(terminal.read())

        self.runner.run_db("pulled clerks", read, self._on_pulled_clerks)

    def _on_pulled_clerks(self, read: tuple[list[Any], bool]) -> None:
        clerks, needs_manager = read
        if self.clerk is not None:  # a clerk logged in meanwhile
            return
        if [c.id for c in clerks if c.active] != [c.id for c in self.login._clerks]:
            self.login.set_clerks(clerks)
        if self.first_manager_dialog is not None and not needs_manager:
            self.first_manager_dialog.reject()

    def card_state(self) -> tuple[bool, str]:
        """Card needs the server (the gateway is behind it); offline the reason is shown."""
        from ui.pay import CARD_OFFLINE_REASON

        if self.sync is None or not self.sync.online:
            return False, CARD_OFFLINE_REASON
        return True, ""

    def payment_gateway(self) -> Any:
        return self.terminal.payments() if self.sync is not None else None

    def settle_card_payments(self) -> None:
        """Card attempts left over by a crash, an outage or a closed dialog: ask the server
        (network pool) and complete, or park, their sales; tell the clerk what happened."""
        if self.sync is None or not self.sync.online or self.terminal is None:
            return
        if time.monotonic() - self._last_settle < CARD_SETTLE_EVERY_S:
            return
        self._last_settle = time.monotonic()
        from app.services.card_payments import settle_card_attempts

        gateway = self.payment_gateway()
        if gateway is None:
            return
        terminal = self.terminal

        def settle(_control: TaskControl) -> list[Any]:
            from app.services.refunds import settle_pending_refunds

            settle_pending_refunds(terminal.uow, gateway, terminal.clock, terminal.ids)
            return settle_card_attempts(
                terminal.uow,
                gateway,
                terminal.store,
                terminal.clock,
                terminal.ids,
                older_than_s=CARD_SETTLE_AFTER_S,
            )

        self.runner.run_network(
            "settle card payments",
            settle,
            self._on_card_settled,
            lambda error: log.info("card payments not settled yet: %s", error),
        )

    def _on_card_settled(self, results: list[Any]) -> None:
        if not results:
            return
        if self.register is not None:
            self.register.notice.show_notice(
                " · ".join(r.outcome[0].upper() + r.outcome[1:] for r in results), seconds=12
            )
        self.refresh_status()

    def _on_sale_completed(self, _order: Any) -> None:
        terminal = self.terminal
        # Fold the WAL into the database now, while the clerk hands over the receipt, so the
        # next sale's commit does not pay for SQLite's automatic checkpoint.
        self.runner.run_db("checkpoint", lambda _c: terminal.checkpoint())
        if self.sync is not None:
            self.sync.kick()
        self.refresh_status()

    def sync_now(self) -> None:
        if self.sync is not None:
            self.sync.kick(force=True)

    def _start_sync(self) -> None:
        """Build the engine for this till; with an encrypted token file, ask its passphrase."""
        from ui.sync_bridge import SyncBridge

        terminal = self.terminal
        if not terminal.prepare_keyring():  # the token file, its passphrase not remembered
            self.connection_bar.token_locked = True
            for _attempt in range(3):
                passphrase = ask_passphrase(
                    self,
                    "Unlock the server token",
                    "Passphrase of this till's encrypted token file:",
                )
                if passphrase is None:
                    break
                try:
                    terminal.unlock_token_file(passphrase)
                    self.connection_bar.token_locked = False
                    break
                except Exception as error:  # wrong passphrase: ask again
                    log.info("token file not unlocked: %s", error)
        self.sync = SyncBridge(terminal.open_sync(), self)
        self.sync.start()
        self._auto_enroll()

    def _auto_enroll(self) -> None:
        """`make run` hands the till its local server's code (SHOPSMART_ENROLL="url code");
        it is used only if the till is not enrolled yet and a secure keyring exists."""
        work = self.terminal.auto_enrollment(os.environ.get("SHOPSMART_ENROLL", ""))
        if work is None:
            return
        self.runner.run_network(
            "enroll",
            lambda _c: work(),
            lambda _e: self._on_auto_enrolled(),
            lambda error: log.warning("automatic enrollment failed: %s", error),
        )

    def _on_auto_enrolled(self) -> None:
        """The server's store name and code show at once (header, receipts), not next start."""
        store = self.terminal.reload_store()
        if self.register is not None:
            self.register.store = store
        self._set_header()
        self.sync.kick(force=True)

    # menus -------------------------------------------------------------------------------

    def show_history(self) -> None:
        from ui.history import HistoryDialog

        if self.clerk is None or self.terminal is None:
            return
        dialog = HistoryDialog(self.terminal, self.runner, self)
        dialog.clerk = self.clerk
        dialog.payment_gateway = lambda: self.payment_gateway() if self.card_state()[0] else None
        dialog.order_voided.connect(lambda _o: self.refresh_status())
        self._open_menu_dialog("history_dialog", dialog)

    def show_import(self) -> None:
        from ui.catalog_dialog import CatalogImportDialog

        if self.clerk is None or not self.clerk.is_manager:
            return
        dialog = CatalogImportDialog(self.terminal, self.runner, self)
        dialog.imported.connect(lambda _r: self.register.picker.reload())
        self._open_menu_dialog("import_dialog", dialog)

    def show_settings(self) -> None:
        from ui.settings_dialog import SettingsDialog

        if self.sync is None or self.clerk is None or not self.clerk.is_manager:
            return
        dialog = SettingsDialog(self.terminal, self.sync, self.runner, self)
        self._open_menu_dialog("settings_dialog", dialog)

    def show_clerks(self) -> None:
        """Manager → Clerks…: add, deactivate, reset PIN, role (ui/clerks_dialog.py)."""
        from app.services.approvals import require_manager_role
        from ui.clerks_dialog import ClerksDialog

        if self.terminal is None:
            return
        try:
            manager = require_manager_role(self.clerk, "manage clerks")
        except PosError as error:
            if self.register is not None:
                self.register.notice.show_error(error_text(error))
            return
        dialog = ClerksDialog(self.terminal, self.runner, manager, self)
        dialog.changed.connect(lambda _c: self.login.refresh())
        self._open_menu_dialog("clerks_dialog", dialog)

    def show_audit(self) -> None:
        from ui.audit_dialog import AuditDialog

        if self.clerk is None or not self.clerk.is_manager:
            return
        self._open_menu_dialog("audit_dialog", AuditDialog(self.terminal, self.runner, self))

    def show_reports(self) -> None:
        """Ctrl+R: the store's reports (ui/reports.py), for managers only: a clerk is told
        so and nothing opens."""
        from ui.reports import ReportsDialog

        if self.clerk is None or self.terminal is None or self.reports_dialog is not None:
            return
        sync = self.sync
        try:
            dialog = ReportsDialog(
                self.terminal,
                self.runner,
                self.clerk,
                server=self.terminal.report_server if sync is not None else None,
                online=lambda: sync is not None and sync.online,
                sessions=self.manager_sessions,
                parent=self,
            )
        except PosError as error:
            if self.register is not None:
                self.register.notice.show_error(error_text(error))
            return
        self._open_menu_dialog("reports_dialog", dialog)

    def show_refused(self) -> None:
        from ui.rejected_dialog import RejectedSalesDialog

        if self.sync is None or self.clerk is None:
            return
        store = self.terminal.sync_store()
        dialog = RejectedSalesDialog(self.terminal, store, self.sync, self.runner, self)
        self._open_menu_dialog("refused_dialog", dialog)

    def show_phone_order(self) -> None:
        """Ctrl+P: take a phone order (ui/phone_order.py); the register waits behind it."""
        from ui.phone_order import PhoneOrderDialog

        if self.clerk is None or self.terminal is None or self.phone_order_dialog is not None:
            return
        if self.register is not None and self.register.active_dialog is not None:
            return
        spare, self._spare_phone_order = self._spare_phone_order, None
        if spare is not None and spare.clerk is self.clerk:
            dialog = spare
        else:
            if spare is not None:
                spare.deleteLater()
            dialog = PhoneOrderDialog(self.terminal, self.runner, self.clerk, self)
        dialog.saved.connect(self._on_phone_order_saved)
        dialog.finished.connect(lambda _r: self.prepare_phone_order())
        self._open_menu_dialog("phone_order_dialog", dialog)

    def prepare_phone_order(self, delay_ms: int = PHONE_SPARE_DELAY_MS) -> None:
        """Build the next phone-order screen while the till is idle, so Ctrl+P shows it at
        once when a customer rings (docs/benchmarks.md); it is built empty, hidden."""
        QTimer.singleShot(delay_ms, self._build_spare_phone_order)

    def _build_spare_phone_order(self) -> None:
        from ui.phone_order import PhoneOrderDialog

        if self._spare_phone_order is not None or self.clerk is None or self.runner.closed:
            return
        if self.phone_order_dialog is not None:  # one is open: the next after it closes
            return
        spare = PhoneOrderDialog(self.terminal, self.runner, self.clerk, self)
        room = self.screen().availableGeometry()  # as PosDialog will fit it on the screen
        spare.resize(min(spare.width(), room.width()), min(spare.height(), room.height() - 40))
        spare.ensurePolished()  # the stylesheet applied to every child now, not on the key
        spare.layout().activate()
        spare.winId()  # its native window made now
        self._spare_phone_order = spare

    def _on_phone_order_saved(self, order: Any) -> None:
        from ui.slot_picker import booking_words

        if self.register is not None:
            self.register.notice.show_notice(
                f"Phone order {order.order_no} for {order.customer.name} saved "
                f"({booking_words(order.booking_status)}). Ctrl+Shift+P shows the queue.",
                seconds=8,
            )
        if self.sync is not None:
            self.sync.kick()
        self.refresh_status()

    def show_phone_queue(self) -> None:
        """Ctrl+Shift+P: the store's phone orders by slot, with their next moves."""
        from ui.phone_queue import PhoneQueueDialog

        if self.clerk is None or self.terminal is None or self.phone_queue_dialog is not None:
            return
        if self.register is not None and self.register.active_dialog is not None:
            return
        dialog = PhoneQueueDialog(self.terminal, self.runner, self.clerk, self)
        dialog.phone_gateway = lambda: (
            self.terminal.phone_payments() if self.card_state()[0] else None
        )
        dialog.moved.connect(lambda _o: self.sync.kick() if self.sync is not None else None)
        self._open_menu_dialog("phone_queue_dialog", dialog)

    def show_reconcile(self) -> None:
        """Bookings the server moved or could not place: customers to phone."""
        from ui.reconcile import ReconcileDialog

        if self.clerk is None or self.terminal is None or self.reconcile_dialog is not None:
            return
        if self.register is not None and self.register.active_dialog is not None:
            return
        self._open_menu_dialog(
            "reconcile_dialog", ReconcileDialog(self.terminal, self.runner, self)
        )

    # shift -------------------------------------------------------------------------------

    def _shift_menu_free(self) -> bool:
        return (
            self.clerk is not None
            and self.terminal is not None
            and self.shift_dialog is None
            and (self.register is None or self.register.active_dialog is None)
        )

    def show_open_shift(self) -> None:
        from ui.shift_dialogs import OpenShiftDialog

        if not self._shift_menu_free():
            return
        dialog = OpenShiftDialog(self.terminal, self.runner, self.clerk, self)
        dialog.shift_opened.connect(self._on_shift_opened)
        self._open_menu_dialog("shift_dialog", dialog)

    def refresh_shift_actions(self) -> None:
        """Read (in the DB worker) whether a shift is open, and offer only what fits: Open
        shift… without one; paid in/out, no sale, X report and Close shift… with one."""
        terminal = self.terminal
        if terminal is None:
            return

        def is_open(_c: Any) -> bool:
            with terminal.read() as uow:
                return uow.shifts.current() is not None

        self.runner.run_db(
            "shift actions",
            is_open,
            self._set_shift_actions,
            lambda error: log.warning("shift state not read: %s", error),  # all stay offered
        )

    def _set_shift_actions(self, shift_open: bool) -> None:
        if self.clerk is None:  # logged out meanwhile: the login screen keeps them off
            return
        for action in self.shift_actions:
            action.setEnabled((action is self.open_shift_action) != shift_open)

    def _on_shift_opened(self, _shift: Any) -> None:
        self._set_shift_actions(True)
        if self.register is not None:
            self.register.shift_required = False
            self.register.notice.show_notice("Shift open. Happy selling!", seconds=3)

    def show_cash_movement(self, kind: Any) -> None:
        from ui.shift_dialogs import MOVEMENT_TITLES, CashMovementDialog

        if not self._shift_menu_free():
            return
        dialog = CashMovementDialog(self.terminal, self.runner, self.clerk, kind, self)
        dialog.recorded.connect(
            lambda _m: self.register.notice.show_notice(
                f"{MOVEMENT_TITLES[kind]} recorded.", seconds=3
            )
        )
        self._open_menu_dialog("shift_dialog", dialog)

    def show_close_shift(self) -> None:
        from ui.shift_dialogs import CloseShiftDialog

        if not self._shift_menu_free():
            return
        dialog = CloseShiftDialog(self.terminal, self.runner, self.clerk, self)
        dialog.closed.connect(self._on_shift_closed)
        self._open_menu_dialog("shift_dialog", dialog)

    def _on_shift_closed(self, report: Any) -> None:
        """The Z report of the close, on screen to print or save (ui/z_report_view.py)."""
        from ui.z_report_view import ZReportDialog, z_report_sheet

        self._set_shift_actions(False)
        if self.sync is not None:
            self.sync.kick()
        if self.register is not None:
            self.register.shift_required = True  # the next sale waits for the next shift
        terminal = self.terminal

        def names(_c: Any) -> dict[str, str]:
            with terminal.read() as uow:
                return {clerk.id: clerk.name for clerk in uow.clerks.all()}

        def show(names: dict[str, str]) -> None:
            sheet = z_report_sheet(report, terminal.store, names)
            QTimer.singleShot(
                0,
                lambda: self._open_menu_dialog(
                    "shift_dialog", ZReportDialog(sheet, self.runner, self)
                ),
            )

        self.runner.run_db("clerk names", names, show, self._on_shift_failed)

    def show_x_report(self) -> None:
        """The open shift's figures so far; nothing is closed or reset."""
        from app.services.shifts import x_report
        from ui.z_report_view import ZReportDialog, x_report_sheet

        if not self._shift_menu_free():
            return
        terminal = self.terminal

        def work(_c: Any) -> Any:
            with terminal.read() as uow:
                shift = uow.shifts.current()
                names = {clerk.id: clerk.name for clerk in uow.clerks.all()}
            figures = x_report(terminal.read(), terminal.store)
            return shift, figures, names

        def show(found: Any) -> None:
            shift, figures, names = found
            sheet = x_report_sheet(shift, figures, terminal.store, terminal.clock.now(), names)
            self._open_menu_dialog("shift_dialog", ZReportDialog(sheet, self.runner, self))

        self.runner.run_db("x report", work, show, self._on_shift_failed)

    def _on_shift_failed(self, error: Exception) -> None:
        from ui.widgets import error_text

        if self.register is not None:
            self.register.notice.show_error(error_text(error))

    def _open_menu_dialog(self, name: str, dialog: QDialog) -> None:
        """Open a dialog from the Till menu, kept as ``self.<name>`` while it is open; the
        register keeps its hands off the scan field until it closes."""
        dialog.finished.connect(lambda _r: self._after_dialog(name))
        setattr(self, name, dialog)
        if self.register is not None:
            self.register.active_dialog = dialog
        dialog.open()

    def _after_dialog(self, name: str) -> None:
        setattr(self, name, None)
        if self.register is not None:
            self.register.active_dialog = None
            QTimer.singleShot(0, self.register.focus_scan)

    def _park_before_closing(self) -> bool:
        """Closing with a sale open asks first and parks it by default (audited, as parked on
        close); True while the window must stay open. An empty cart closes as before."""
        register = self.register
        if register is None or register.clerk is None or register.cart.is_empty:
            return False
        if self.runner.closed:  # shutting down already (nothing could park it now)
            return False
        if register.busy:
            register.notice.show_error("The sale is being saved; close the till in a moment.")
            return True
        if self.close_dialog is not None:
            return True
        from ui.dialogs import CloseWithSaleDialog
        from ui.widgets import money

        if register.active_dialog is not None:  # the pay dialog, a menu dialog: back first
            register.active_dialog.reject()
        dialog = CloseWithSaleDialog(
            money(register.totals.total, register.store.currency), len(register.cart.lines), self
        )
        label_text = f"Open at closing {time.strftime('%H:%M')}"
        dialog.accepted.connect(lambda: register.park(label_text, self.close, closing=True))
        self._open_menu_dialog("close_dialog", dialog)  # Esc: back to the scan field
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._park_before_closing():
            event.ignore()
            return
        self._status_timer.stop()
        if self.sync is not None:
            self.sync.stop()
        self.runner.shutdown()
        if self.terminal is not None and self.data_dir is not None:
            self.terminal.close()
        super().closeEvent(event)
