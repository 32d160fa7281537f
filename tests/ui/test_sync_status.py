"""The header tells the truth about sync: state, waiting sales, refused sales for a manager."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

from PySide6.QtCore import Qt

from app.data import DEMO_MANAGER_PIN
from local_db.sync_store import SqliteSyncStore
from sync.engine import ConnectionState, SyncEngine
from sync.errors import ServerUnreachable
from tests.fakes import FakeServerTransport
from ui.pay import PayDialog
from ui.sample_catalog import barcode_of

from .conftest import add_clerk
from .test_register_flow import enter, log_in, press, scan


class ThreadScheduler:
    """The scheduler's contract (engine, start, kick, stop) running each kick on a thread."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.kick()

    def kick(self, *, force: bool = False) -> None:
        thread = threading.Thread(target=self.engine.run_once, kwargs={"force": True})
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        for thread in self.threads:
            thread.join(timeout=10)


def make_bridge(terminal: Any, transport: FakeServerTransport) -> Any:
    from ui.sync_bridge import SyncBridge

    engine = SyncEngine(
        SqliteSyncStore(terminal.database.sync_writer),
        lambda: transport,
        terminal.clock,
        rng=random.Random(1),
    )
    return SyncBridge(ThreadScheduler(engine))


def pay_exact(qtbot: Any, window: Any) -> None:
    register = window.register
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    assert isinstance(pay, PayDialog)
    pay.quick_buttons[0].click()  # "Exact"
    with qtbot.waitSignal(register.sale_completed, timeout=10_000):
        enter(qtbot, pay.amount_field)
    receipt = register.active_dialog
    if receipt is not None:
        receipt.accept()


def test_header_shows_offline_then_online_and_a_refused_sale_needs_a_manager(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Maria", DEMO_MANAGER_PIN, manager=True)
    transport = FakeServerTransport()
    transport.fail_next = [ServerUnreachable("cannot reach the server")]
    bridge = make_bridge(terminal, transport)
    window = open_window(sync=bridge)
    bridge.start()
    qtbot.waitUntil(
        lambda: "cannot reach the server" in window.status_label.toolTip(), timeout=5000
    )
    assert window.status_label.text() == "● Offline · 0 waiting"
    log_in(qtbot, window, "Maria", DEMO_MANAGER_PIN)
    available, reason = window.card_state()
    assert not available and "No connection" in reason

    milk = barcode_of("Whole milk 1 L")
    scan(qtbot, window.register, milk)
    assert window.register.cart.lines
    pay_exact(qtbot, window)
    qtbot.waitUntil(
        lambda: (
            window.sync_status is not None and window.sync_status.state is ConnectionState.ONLINE
        ),
        timeout=10_000,
    )
    assert window.status_label.text() == "● Online · 0 waiting"
    assert not window.refused_banner.isVisible()
    assert len(transport.stored) == 1

    # The next sale is refused by the server: the banner tells a manager, the sale stays.
    scan(qtbot, window.register, milk)
    original_push = transport.push

    def refuse_all(events: list[str]) -> Any:
        transport.reject_ids = {json.loads(e)["event_id"] for e in events}
        return original_push(events)

    transport.push = refuse_all  # type: ignore[method-assign]
    pay_exact(qtbot, window)
    qtbot.waitUntil(lambda: window.refused_banner.isVisible(), timeout=10_000)
    assert "1 sale was refused by the server and needs a manager" in window.refused_label.text()
    bridge.stop()
