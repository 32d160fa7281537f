"""The sync engine seen from Qt: status as a signal, kicks and enrollment off the UI thread.

The engine runs on APScheduler's worker thread; its status listener emits ``status_changed``
from there, and Qt queues the signal to the GUI thread (the bridge lives there). The UI never
calls the network itself.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from sync.engine import ConnectionState, SyncStatus

log = logging.getLogger(__name__)


class SyncBridge(QObject):
    status_changed = Signal(object)  # SyncStatus

    def __init__(self, scheduler: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._scheduler = scheduler
        self.status: SyncStatus = scheduler.engine.status
        scheduler.engine.subscribe(self.status_changed.emit)
        self.status_changed.connect(self._on_status)

    @property
    def engine(self) -> Any:
        return self._scheduler.engine

    def _on_status(self, status: SyncStatus) -> None:
        self.status = status

    def start(self) -> None:
        self._scheduler.start()

    def kick(self, *, force: bool = False) -> None:
        """After a sale (respects backoff) or from "Sync now" (force=True)."""
        self._scheduler.kick(force=force)

    def stop(self) -> None:
        self._scheduler.stop()

    @property
    def online(self) -> bool:
        return self.status.state is ConnectionState.ONLINE


def describe_status(status: SyncStatus) -> tuple[str, str, str]:
    """(text, style name, tooltip) for the header: colour always with a word."""
    waiting = f"{status.waiting} waiting"
    if status.unusable:
        many = status.unusable != 1
        waiting += f" · {status.unusable} catalog {'rows' if many else 'row'} could not be used"
    last = (
        f"last sync {status.last_success_at.astimezone().strftime('%H:%M')}"
        if status.last_success_at
        else "never synced"
    )
    state = status.state
    if state is ConnectionState.ONLINE:
        style = "StatusWaiting" if status.waiting else "StatusOnline"
        return f"● Online · {waiting}", style, last
    if state is ConnectionState.DEGRADED:
        return f"● Degraded · {waiting}", "StatusWaiting", f"{status.reason} — {last}"
    if state is ConnectionState.CONNECTING:
        return f"● Connecting · {waiting}", "StatusWaiting", last
    if state is ConnectionState.NOT_ENROLLED:
        return (
            f"● Offline · {waiting}",
            "StatusOffline",
            "Not connected to a server: a manager connects it in Till → Server connection…",
        )
    label = {
        ConnectionState.OFFLINE: "Offline",
        ConnectionState.AUTH_FAILED: "Sign-in refused",
        ConnectionState.INCOMPATIBLE: "Server version mismatch",
    }[state]
    return f"● {label} · {waiting}", "StatusOffline", f"{status.reason} — {last}"
