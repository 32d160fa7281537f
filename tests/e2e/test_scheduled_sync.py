"""The app's own wiring (app.bootstrap.open_sync + APScheduler) syncs a sale right after it."""

from __future__ import annotations

import random
import threading

from app.bootstrap import open_sync
from sync.engine import ConnectionState

from .test_offline_sync import sell


def test_scheduler_syncs_on_start_and_when_kicked_after_a_sale(backend, make_till):
    till = make_till("T01")
    scheduler = open_sync(till.terminal, tokens=till.tokens)
    seen = []
    online = threading.Event()
    since = {"at": till.terminal.clock.now()}

    def watch(status):
        seen.append(status)
        done = status.state is ConnectionState.ONLINE and status.waiting == 0
        if done and not status.running and status.last_success_at >= since["at"]:
            online.set()

    scheduler.engine.subscribe(watch)
    scheduler.start()
    try:
        assert online.wait(30), seen[-3:]
        sold = sell(till, random.Random(9), 3)
        since["at"] = till.terminal.clock.now()  # a run that finished before this won't do
        online.clear()
        scheduler.kick()
        assert online.wait(30), seen[-3:]
        on_server = backend.sql("SELECT id::text, total FROM orders")
        assert sorted(on_server) == sorted(sold)
    finally:
        scheduler.stop()
