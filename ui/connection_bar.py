"""The line under the header that says why the till is not talking to its server, and what to
do, naming the real menu entry (Till → Server connection…). Shown only while there is a
reason a person can act on: not connected, no secure keyring, a locked token file, a refused
token. An unreachable server needs no one: the header's "Offline" says it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from sync.engine import ConnectionState, SyncStatus
from ui.widgets import label, panel

SERVER_CONNECTION = "Till → Server connection…"


def connection_reason(status: SyncStatus, *, keyring_safe: bool, token_locked: bool) -> str:
    """One short line (it fits a 1024-pixel window), or "" when nobody needs to do anything."""
    state = status.state
    if token_locked and state in (ConnectionState.NOT_ENROLLED, ConnectionState.AUTH_FAILED):
        return (
            "Offline: the token file is locked — restart and type its passphrase, or see "
            f"{SERVER_CONNECTION}"
        )
    if state is ConnectionState.NOT_ENROLLED:
        if not keyring_safe:
            return (
                "Offline: no secure keyring for the server token — a manager chooses a token "
                f"file in {SERVER_CONNECTION}"
            )
        return f"Offline: not connected to a server — a manager connects it in {SERVER_CONNECTION}"
    if state is ConnectionState.AUTH_FAILED:
        return f"Offline: the server refused this till's token — a manager reconnects it in {SERVER_CONNECTION}"
    return ""


class ConnectionReasonBar(QWidget):
    """A thin bar under the header; hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.token_locked = False  # the token file's passphrase was not typed at start-up
        bar = panel()
        bar.setObjectName("AlertBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(16, 6, 16, 6)
        self.text = label("", "AlertText", wrap=True)
        row.addWidget(self.text, 1)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(bar)
        self.hide()

    def show_status(self, status: SyncStatus) -> None:
        from sync.credentials import TokenStore, backend_is_safe

        reason = connection_reason(
            status,
            keyring_safe=backend_is_safe(TokenStore().backend),
            token_locked=self.token_locked,
        )
        self.text.setText(reason)
        self.setVisible(bool(reason))
