"""Till → Server connection…: enroll this till with a server, or disconnect it.

The one-time code is exchanged for a token on the network pool, never on the UI thread. The
token goes to the OS keyring; where there is none, the dialog says so and offers an explicit
choice — an encrypted token file with a passphrase, asked for at every start or remembered by
the OS keyring where one exists — instead of a silent plaintext fallback. It says one state:
connected (and how the sync is doing) or not connected.
"""

from __future__ import annotations

import os
from typing import Any

import keyring
import keyring.errors
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
)

from sync import credentials
from sync.credentials import (
    KEYRING_CHOICE,
    DemoFileKeyring,
    EncryptedFileKeyring,
    KeyringUnavailable,
    TokenStore,
    backend_is_safe,
    use_encrypted_file,
)
from sync.engine import ConnectionState, SyncStatus
from sync.enrollment import current_enrollment, enroll, unenroll
from ui.sync_bridge import SyncBridge
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import PosDialog, button, error_text, label

ASK_EVERY_START = (
    "Ask for the passphrase at every start. Protects the token if the computer, its disk or "
    "a copy of the till's data folder is taken: without the passphrase nobody can reach the "
    "server as this till. Until someone types it after a start, the till sells offline."
)
REMEMBER_HERE = (
    "Remember it on this computer (in the system keyring). Nobody types it at start-up; it "
    "protects the token from other accounts and from a copy of the data folder, not from "
    "someone who can log in to this computer account."
)
NO_KEYRING_TO_REMEMBER = (
    "This computer has no system keyring that could remember the passphrase, so it is asked "
    "for at every start."
)


def state_sentence(status: SyncStatus) -> str:
    """How a connected till's sync is doing, in one sentence (the header shows the counts)."""
    last = (
        f"last sync {status.last_success_at.astimezone().strftime('%H:%M')}"
        if status.last_success_at
        else "not synced yet"
    )
    state = status.state
    if state is ConnectionState.NOT_ENROLLED:  # the engine has not run since connecting
        return "Syncing starts now."
    if state is ConnectionState.ONLINE:
        return f"Online, {last}."
    if state is ConnectionState.CONNECTING:
        return "Connecting…"
    words = {
        ConnectionState.OFFLINE: "The server cannot be reached",
        ConnectionState.DEGRADED: "The server answers with trouble",
        ConnectionState.AUTH_FAILED: "The server refuses this till's token",
        ConnectionState.INCOMPATIBLE: "The server runs another version",
    }[state]
    reason = f" ({status.reason})" if status.reason else ""
    return f"{words}{reason}; {last}."


class TokenFileDialog(PosDialog):
    """A passphrase for the encrypted token file (twice), and whether the OS keyring
    remembers it; each choice says what it protects."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__("Encrypted token file", parent)
        self.setMinimumWidth(560)
        self.body.addWidget(
            label(
                "The till keeps its server token in a file encrypted with this passphrase "
                "(at least 8 characters).",
                wrap=True,
            )
        )
        form = QFormLayout()
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("The same again", self.again)
        self.body.addLayout(form)
        self.ask_every_start = QRadioButton("Ask for it at every start")
        self.remember = QRadioButton("Remember it on this computer")
        self.body.addWidget(self.ask_every_start)
        self.body.addWidget(label(ASK_EVERY_START, "Muted", wrap=True))
        self.body.addWidget(self.remember)
        can_remember = credentials.can_remember_passphrase()
        self.remember.setEnabled(can_remember)
        self.body.addWidget(
            label(REMEMBER_HERE if can_remember else NO_KEYRING_TO_REMEMBER, "Muted", wrap=True)
        )
        (self.remember if can_remember else self.ask_every_start).setChecked(True)
        self.finish_layout("Use this file")
        self.passphrase.returnPressed.connect(self.again.setFocus)
        self.again.returnPressed.connect(self._on_ok)

    def _on_ok(self) -> None:
        if len(self.passphrase.text()) < 8:
            self.show_error("The passphrase must be at least 8 characters; nothing was changed.")
        elif self.passphrase.text() != self.again.text():
            self.show_error("The two passphrases differ; nothing was changed.")
        else:
            self.accept()


class SettingsDialog(QDialog):
    def __init__(self, terminal: Any, bridge: SyncBridge, tasks: TaskRunner, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setWindowTitle("Server connection")
        self.setMinimumWidth(620)
        self._terminal = terminal
        self._bridge = bridge
        self._tasks = tasks
        self._tokens = TokenStore()
        self.token_file_dialog: TokenFileDialog | None = None

        layout = QVBoxLayout(self)
        layout.setSpacing(14)
        self.current = label("", "Muted", wrap=True)
        layout.addWidget(self.current)
        self.keyring_notice = label("", "Notice", wrap=True)
        layout.addWidget(self.keyring_notice)
        self.use_file_button = button("Use an encrypted token file…", self._choose_file)
        layout.addWidget(self.use_file_button)

        self.form = form = QFormLayout()
        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("https://pos.example.com")
        self.code = QLineEdit()
        self.code.setPlaceholderText("one-time code from `shopsmart-server terminal enroll-code`")
        self.till_code = QLineEdit(terminal.store.terminal_code)
        self.till_code.setMaxLength(16)
        form.addRow("Server address", self.server_url)
        form.addRow("Enrollment code", self.code)
        form.addRow("Till code (on receipts)", self.till_code)
        layout.addLayout(form)
        self.message = label("", "Muted", wrap=True)
        layout.addWidget(self.message)

        row = QHBoxLayout()
        self.connect_button = button("Connect", self._enroll, "Primary")
        self.disconnect_button = button("Disconnect", self._unenroll, "Danger")
        self.sync_now_button = button("Sync now", lambda: self._bridge.kick(force=True))
        close = button("Close", self.accept)
        self.connect_button.setDefault(True)  # Enter in the fields connects
        for widget in (self.connect_button, self.disconnect_button, self.sync_now_button):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        bridge.status_changed.connect(self._on_status)
        self._refresh()
        self._prefill_offer()

    def _prefill_offer(self) -> None:
        """`make run`'s address and code (SHOPSMART_ENROLL), should the till not have used
        them by itself (an expired code): a click on Connect, nothing to type."""
        offer = os.environ.get("SHOPSMART_ENROLL", "").split()
        if len(offer) == 2 and not current_enrollment(self._terminal.read)[0]:
            self.server_url.setText(offer[0])
            self.code.setText(offer[1])

    def _on_status(self, _status: SyncStatus) -> None:
        self._refresh()

    def showEvent(self, event: Any) -> None:
        """The focus starts in the first field, as in every dialog (ui.widgets)."""
        from ui.widgets import first_field, focus_first_field

        super().showEvent(event)
        if not event.spontaneous():
            focus_first_field(self, first_field(self), self.connect_button)

    def _refresh(self) -> None:
        url, terminal_id = current_enrollment(self._terminal.read)
        if url:
            self.current.setText(
                f"Connected to {url} as till {self._terminal.store.terminal_code} "
                f"(terminal {terminal_id[:8]}…). {state_sentence(self._bridge.status)}"
            )
        else:
            self.current.setText(
                "Not connected to a server: sales stay on this computer until the till is."
            )
        backend = self._tokens.backend
        safe = backend_is_safe(backend)
        self.keyring_notice.setText(self._keyring_text(backend, safe))
        file_in_use = isinstance(backend, EncryptedFileKeyring | DemoFileKeyring)
        self.use_file_button.setVisible(not url and not file_in_use)
        self.use_file_button.setText(
            "Use an encrypted token file instead…" if safe else "Use an encrypted token file…"
        )
        for field in (self.server_url, self.code, self.till_code):
            self.form.setRowVisible(field, not url)  # connected: nothing to type
        self.connect_button.setVisible(not url)
        self.connect_button.setEnabled(safe and not url)
        self.disconnect_button.setEnabled(bool(url))
        self.sync_now_button.setEnabled(bool(url))

    def _keyring_text(self, backend: Any, safe: bool) -> str:
        if isinstance(backend, DemoFileKeyring):
            return (
                "Demo: the server is on this computer, so the device token is kept in "
                f"{credentials.DEMO_TOKEN_FILE} in the till's data folder, readable only by "
                "this computer account. A till connected to any other server keeps it in the "
                "system keyring or an encrypted file."
            )
        if isinstance(backend, EncryptedFileKeyring):
            remembered = credentials.remembered_passphrase(self._terminal.data_dir) is not None
            return "The device token is kept in an encrypted file; its passphrase is " + (
                "remembered by this computer's system keyring."
                if remembered
                else "asked for at every start."
            )
        if safe:
            return f"The device token is kept in the system keyring ({type(backend).__name__})."
        return (
            "No secure keyring is available on this computer. ShopSmart will not keep the "
            "device token in a plain file. Choose an encrypted token file protected by a "
            "passphrase, or install a Secret Service keyring."
        )

    def _choose_file(self) -> None:
        dialog = TokenFileDialog(self)
        self.token_file_dialog = dialog
        dialog.accepted.connect(
            lambda: self._use_file(dialog.passphrase.text(), dialog.remember.isChecked())
        )
        dialog.finished.connect(lambda _r: setattr(self, "token_file_dialog", None))
        dialog.open()

    def _use_file(self, passphrase: str, remember: bool) -> None:
        data_dir = self._terminal.data_dir
        try:
            use_encrypted_file(data_dir, passphrase)
            if remember:
                credentials.remember_passphrase(data_dir, passphrase)
            else:
                credentials.forget_passphrase(data_dir)
        except (ValueError, KeyringUnavailable, keyring.errors.KeyringError) as error:
            self.message.setText(str(error))  # short, or wrong for an existing file
            return
        terminal = self._terminal

        def remember_choice(_control: TaskControl) -> None:
            with terminal.uow() as uow:
                uow.settings.put(KEYRING_CHOICE, credentials.KEYRING_ENCRYPTED_FILE)
                uow.commit()

        self._tasks.run_db(
            "keyring choice", remember_choice, self._on_file_chosen, self._on_task_failed
        )

    def _on_file_chosen(self, _result: None) -> None:
        self._tokens = TokenStore()
        self.message.setText("The token will be kept in an encrypted file on this computer.")
        self._refresh()

    def _on_task_failed(self, error: Exception) -> None:
        self.message.setText(error_text(error))

    def _enroll(self) -> None:
        url, code, till = self.server_url.text(), self.code.text(), self.till_code.text()
        self.connect_button.setEnabled(False)
        self.message.setText("Connecting…")
        terminal, tokens = self._terminal, self._tokens

        def work(_control: TaskControl) -> Any:
            return enroll(terminal.uow, tokens, url, code, till)

        self._tasks.run_network("enroll", work, self._on_enrolled, self._on_failed)

    def _on_enrolled(self, enrollment: Any) -> None:
        self.code.clear()
        self.message.setText(
            f"Store: {enrollment.store_name} ({enrollment.store_code}). Its name and settings "
            "show on the receipts from the next start."
        )
        self._bridge.kick(force=True)
        self._refresh()

    def _on_failed(self, error: Exception) -> None:
        if isinstance(error, KeyringUnavailable):
            self.message.setText(str(error))
        else:
            self.message.setText(f"Could not connect: {error_text(error)}")
        self._refresh()

    def _unenroll(self) -> None:
        answer = QMessageBox.question(
            self,
            "Disconnect this till?",
            "The till stops syncing and its token is removed from the keyring. Sales already "
            "made stay on this computer and are sent when the till is connected again.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        terminal, tokens = self._terminal, self._tokens

        def disconnect(_control: TaskControl) -> None:
            unenroll(terminal.uow, tokens)
            if isinstance(tokens.backend, DemoFileKeyring):  # the demo's file: never again
                with terminal.uow() as uow:
                    uow.settings.put(KEYRING_CHOICE, "")
                    uow.commit()

        self._tasks.run_db("unenroll", disconnect, self._on_unenrolled, self._on_task_failed)

    def _on_unenrolled(self, _result: Any) -> None:
        if isinstance(self._tokens.backend, DemoFileKeyring):
            credentials.use_computer_keyring()
            self._tokens = TokenStore()
        self.message.setText("Disconnected.")
        self._bridge.kick(force=True)
        self._refresh()
