"""Settings → Server: enroll this till with a server, or disconnect it.

The one-time code is exchanged for a token on the network pool, never on the UI thread. The
token goes to the OS keyring; where there is none, the dialog says so and offers an explicit
choice — an encrypted token file with a passphrase — instead of a silent plaintext fallback.
"""

from __future__ import annotations

from typing import Any

import keyring.errors
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
)

from sync.credentials import (
    KEYRING_CHOICE,
    KeyringUnavailable,
    TokenStore,
    backend_is_safe,
    use_encrypted_file,
)
from sync.enrollment import current_enrollment, enroll, unenroll
from ui.sync_bridge import SyncBridge, describe_status
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import ask_passphrase, button, error_text, label


class SettingsDialog(QDialog):
    def __init__(self, terminal: Any, bridge: SyncBridge, tasks: TaskRunner, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setWindowTitle("Settings — server connection")
        self.setMinimumWidth(620)
        self._terminal = terminal
        self._bridge = bridge
        self._tasks = tasks
        self._tokens = TokenStore()

        layout = QVBoxLayout(self)
        layout.setSpacing(14)
        self.current = label("", "Muted", wrap=True)
        layout.addWidget(self.current)
        self.keyring_notice = label("", "Notice", wrap=True)
        layout.addWidget(self.keyring_notice)
        self.use_file_button = button("Use an encrypted token file…", self._choose_file)
        layout.addWidget(self.use_file_button)

        form = QFormLayout()
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
        self._refresh()

    def showEvent(self, event: Any) -> None:
        """The focus starts in the first field, as in every dialog (ui.widgets)."""
        from ui.widgets import first_field, focus_first_field

        super().showEvent(event)
        if not event.spontaneous():
            focus_first_field(self, first_field(self), self.connect_button)

    def _refresh(self) -> None:
        url, terminal_id = current_enrollment(self._terminal.read)
        text, _style, tip = describe_status(self._bridge.status)
        if url:
            self.current.setText(
                f"Connected to {url} as till {self._terminal.store.terminal_code} "
                f"(terminal {terminal_id[:8]}…). {text} — {tip}."
            )
        else:
            self.current.setText(
                "This till is not connected to a server: sales stay on this computer until it is."
            )
        safe = backend_is_safe(self._tokens.backend)
        name = type(self._tokens.backend).__name__
        self.keyring_notice.setText(
            f"The device token is kept in the system keyring ({name})."
            if safe
            else "No secure keyring is available on this computer. ShopSmart will not keep the "
            "device token in a plain file. Choose an encrypted token file protected by a "
            "passphrase (asked for when the app starts), or install a Secret Service keyring."
        )
        self.use_file_button.setVisible(not safe)
        self.connect_button.setEnabled(safe and not url)
        self.disconnect_button.setEnabled(bool(url))
        self.sync_now_button.setEnabled(bool(url))

    def _choose_file(self) -> None:
        title = "Encrypted token file"
        passphrase = ask_passphrase(self, title, "Passphrase (at least 8 characters):")
        if passphrase is None:
            return
        again = ask_passphrase(self, title, "The same passphrase again:")
        if again is None:
            return
        if passphrase != again:
            self.message.setText("The two passphrases differ; nothing was changed.")
            return
        try:
            use_encrypted_file(self._terminal.data_dir, passphrase)
        except (ValueError, keyring.errors.KeyringError) as error:  # short, or wrong for the file
            self.message.setText(str(error))
            return
        terminal = self._terminal

        def remember_choice(_control: TaskControl) -> None:
            with terminal.uow() as uow:
                uow.settings.put(KEYRING_CHOICE, "encrypted-file")
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
            f"Connected to {enrollment.store_name} ({enrollment.store_code}) as till "
            f"{enrollment.terminal_code}. Restart the app to use the store's settings; "
            "syncing starts now."
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
        self._tasks.run_db(
            "unenroll",
            lambda _c: unenroll(terminal.uow, tokens),
            self._on_unenrolled,
            self._on_task_failed,
        )

    def _on_unenrolled(self, _result: Any) -> None:
        self.message.setText("Disconnected.")
        self._bridge.kick(force=True)
        self._refresh()
