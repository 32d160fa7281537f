"""Sync engine benchmark (issue "Offline-first sync engine").

10,000 sales are queued on a till while the server is down; the server comes back and the
engine (on a background thread, as in the app) drains the backlog. Reported: seconds until the
last sale is confirmed and orders/s, beside the server-only rate measured in the same run (the
same kind of backlog from a second till pushed straight over HTTP in batches of 200, with no
till-side bookkeeping). While the engine runs, a Qt timer on the main thread measures the
longest stall of the event loop.

Needs SHOPSMART_TEST_DATABASE_URL (``make bench`` provides a throw-away PostgreSQL).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

from app.bootstrap import open_terminal
from app.domain.cart import Cart
from app.domain.clerk import Clerk, Role
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from bench.common import machine
from local_db.sync_store import SqliteSyncStore
from sync.engine import ConnectionState, SyncEngine
from sync.enrollment import current_enrollment, enroll
from sync.http_transport import HttpSyncTransport
from sync.scheduler import background_priority
from tests.e2e.harness import ServerProcess, keyring_for, server_cli


def fresh_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def make_till(workdir: Path, name: str, env: dict[str, str], url: str):  # type: ignore[no-untyped-def]
    terminal = open_terminal(workdir / name)
    tokens = keyring_for(workdir / name)
    code = server_cli(env, "terminal", "enroll-code", "--store", "DEMO").strip().split()[-1]
    enroll(terminal.uow, tokens, url, code, name)
    terminal.close()
    terminal = open_terminal(workdir / name)
    _, terminal_id = current_enrollment(terminal.read)
    transport = HttpSyncTransport(url, lambda: tokens.load(terminal_id))
    engine = SyncEngine(
        SqliteSyncStore(terminal.database.sync_writer),
        lambda: transport,
        terminal.clock,
        rng=random.Random(1),
    )
    return terminal, engine, transport


def queue_sales(terminal, count: int, seed: int) -> int:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    with terminal.read() as uow:
        products = [p for d in uow.products.departments() for p in uow.products.in_department(d)]
    clerk = Clerk(id="bench", name="Bench", role=Role.CLERK, pin_hash="x")
    total = 0
    for _ in range(count):
        cart = Cart()
        for product in rng.sample(products, k=5):
            cart = cart.add(product, rng.randint(100, 900) if product.by_weight else 1)
        order = complete_sale(
            terminal.uow(),
            cart,
            [TenderInput(TenderKind.CASH, 100_000)],
            clerk,
            terminal.store,
            terminal.clock,
            terminal.ids,
        )
        total += order.total
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_sync")
    parser.add_argument("--sales", type=int, default=10_000)
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SHOPSMART_TEST_DATABASE_URL")
    if not admin_url:
        print("SHOPSMART_TEST_DATABASE_URL is not set: run through `make bench`", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer

    with tempfile.TemporaryDirectory(prefix="shopsmart-bench-sync-") as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "DATABASE_URL": fresh_database(admin_url),
            "SHOPSMART_DATA_DIR": str(workdir / "srv"),
            "SHOPSMART_LOG_LEVEL": "WARNING",
            "SHOPSMART_RATE_LIMIT_PER_MINUTE": "100000",
            "SHOPSMART_RATE_LIMIT_BURST": "10000",
        }
        server_cli(env, "db", "upgrade")
        server_cli(env, "demo")
        server = ServerProcess(env, workdir / "server.log")
        server.start()
        try:
            till, engine, _ = make_till(workdir, "T01", env, server.url)
            other, other_engine, other_transport = make_till(workdir, "T02", env, server.url)
            engine.run_once(force=True)
            other_engine.run_once(force=True)
            server.stop()
            queue_sales(till, args.sales, 1)
            queue_sales(other, args.sales, 2)
            server.start()

            # Server-only: T02's backlog pushed straight over HTTP in batches of 200.
            events = [
                e.payload_json
                for e in SqliteSyncStore(other.database.writer).pending_events(args.sales)
            ]
            started = time.perf_counter()
            for start in range(0, len(events), 200):
                other_transport.push(events[start : start + 200])
            server_only = len(events) / (time.perf_counter() - started)

            # The engine on a background thread, the Qt event loop on this one.
            app = QCoreApplication.instance() or QCoreApplication([])
            stall = {"max_ms": 0.0, "ticks": 0}
            clock = QElapsedTimer()
            clock.start()
            last = [clock.nsecsElapsed()]

            def tick() -> None:
                now = clock.nsecsElapsed()
                late = (now - last[0]) / 1e6 - 5.0
                stall["max_ms"] = max(stall["max_ms"], late)
                stall["ticks"] += 1
                last[0] = now

            timer = QTimer()
            timer.setInterval(5)
            timer.timeout.connect(tick)
            timer.start()
            result: dict[str, object] = {}

            def drain() -> None:
                background_priority()  # as the app's scheduler thread does
                began = time.perf_counter()
                status = engine.run_once(force=True)
                result["seconds"] = time.perf_counter() - began
                result["status"] = status

            gc_pauses: list[float] = []
            gc_started: list[float] = []

            def on_gc(phase: str, info: dict[str, int]) -> None:
                if phase == "start":
                    gc_started.append(time.perf_counter())
                elif gc_started:
                    gc_pauses.append(time.perf_counter() - gc_started.pop())

            gc.freeze()  # as the app does once the register is up (ui.main_window)
            gc.callbacks.append(on_gc)
            worker = threading.Thread(target=drain)
            worker.start()
            while worker.is_alive():
                app.processEvents()
                time.sleep(0.001)
            timer.stop()
            worker.join()
            gc.callbacks.remove(on_gc)
            status = result["status"]
            assert status.state is ConnectionState.ONLINE and status.waiting == 0, status
            seconds = float(result["seconds"])  # type: ignore[arg-type]
            rate = args.sales / seconds
            with psycopg.connect(env["DATABASE_URL"]) as conn:
                stored = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
            till.close()
            other.close()
        finally:
            server.stop()
    print("## Sync engine\n")
    print(f"Machine: {machine()}\n")
    print(
        f"{args.sales:,} sales of 5 lines queued offline; server: gunicorn, 2 workers, "
        f"PostgreSQL on the same machine. Orders on the server afterwards: {stored:,} "
        f"(both tills).\n"
    )
    print("| figure | value | limit / reference |")
    print("|---|---:|---|")
    print(f"| backlog drained by the engine (last sale confirmed) | {seconds:.2f} s | — |")
    print(f"| engine rate | {rate:,.0f} orders/s | ≥ 70 % of server-only |")
    print(
        f"| server-only push, same run (HTTP, batches of 200) | {server_only:,.0f} orders/s | — |"
    )
    print(f"| **engine / server-only** | **{rate / server_only:.0%}** | ≥ 70 % |")
    print(
        f"| longest Qt event-loop stall while syncing ({stall['ticks']} ticks of 5 ms) "
        f"| {stall['max_ms']:.1f} ms | ≤ 50 ms |"
    )
    print(
        f"| longest garbage-collection pause meanwhile ({len(gc_pauses)} collections) "
        f"| {max(gc_pauses, default=0) * 1000:.1f} ms | — |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
