"""Register benchmarks (issue "counter register"): `python -m bench.bench_ui [--only cold-start]`.

1. Scan-to-row-visible latency with 100,000 products: keystrokes through the real scan field
   (QTest.keyClicks digits + Enter) until the line is in the cart model, selected, and the
   view has processed its repaint; p50/p99 over N scans. A new sale starts every 40 scans
   (a long real basket), so the numbers are for realistic cart sizes.
2. Cold start: subprocess start → register ready for the first scan (the app logs a clerk in
   with the probe PIN, prints READY and quits), median of N runs, on the full store.
3. Resident memory of that process at "ready" with 100,000 products and 100,000 orders stored.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.data import DEMO_MANAGER_PIN
from bench.common import machine, summary_ms

PIN = DEMO_MANAGER_PIN  # the bench logs in as a manager: 6 digits
SCANS_PER_SALE = 40


def build_store(data_dir: Path, products: int, orders: int) -> tuple[Any, list[str]]:
    from app.bootstrap import open_terminal
    from app.domain.clerk import Role
    from app.services.clerks import create_clerk
    from app.services.demo_catalog import demo_products, favourite_skus
    from bench.bench_store import preload_orders
    from local_db.engine import DB_FILENAME
    from ui.picker import FAVOURITES_KEY

    terminal = open_terminal(data_dir)
    catalog = demo_products(products, seed=3)
    with terminal.uow() as uow:
        uow.products.replace_all(catalog)
        uow.settings.put(FAVOURITES_KEY, ",".join(favourite_skus(catalog)))
        uow.commit()
    create_clerk(terminal.uow(), "Bench", PIN, Role.MANAGER, terminal.ids)
    terminal.close()
    preload_orders(data_dir / DB_FILENAME, orders)
    codes = [
        p.barcodes[0]
        for p in catalog
        if p.active and not p.by_weight and p.barcodes and len(p.barcodes[0]) >= 8
    ]
    return catalog, codes


def bench_scans(data_dir: Path, codes: list[str], scans: int) -> list[str]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import open_terminal
    from app.domain.cart import Cart
    from app.services.clerks import log_in
    from ui.main_window import MainWindow
    from ui.style import STYLESHEET

    app = QApplication.instance() or QApplication(["bench"])
    app.setStyleSheet(STYLESHEET)
    terminal = open_terminal(data_dir)
    window = MainWindow(terminal=terminal, load_demo=False)
    window.resize(1280, 800)
    window.show()
    window.start()
    while window.login is None:
        app.processEvents()
    with terminal.read() as uow:
        clerk_id = uow.clerks.all()[0].id
    window._on_logged_in(log_in(terminal.uow(), clerk_id, PIN, terminal.clock))
    register = window.register
    field = register.scan_field
    rng = random.Random(5)
    sample = [rng.choice(codes) for _ in range(scans + 50)]

    def one(code: str) -> tuple[float, float, bool]:
        before = len(register.cart.lines)
        start = time.perf_counter()
        QTest.keyClicks(field, code)
        enter = time.perf_counter()
        QTest.keyClick(field, Qt.Key.Key_Return)
        app.processEvents()  # the view's repaint of the new/changed row
        end = time.perf_counter()
        row = register.view.selectionModel().selectedRows()
        ok = bool(row) and (len(register.cart.lines) > before or register.model.flash_line)
        return end - start, end - enter, bool(ok)

    for code in sample[:50]:  # warm up (statement caches, first paint)
        one(code)
    register.set_cart(Cart(currency=terminal.store.currency))
    full: list[float] = []
    after_enter: list[float] = []
    misses = 0
    for index, code in enumerate(sample[50:]):
        if index and index % SCANS_PER_SALE == 0:
            register.set_cart(Cart(currency=terminal.store.currency))
            app.processEvents()
        total, from_enter, ok = one(code)
        misses += not ok
        full.append(total)
        after_enter.append(from_enter)
    window.close()
    window.deleteLater()
    app.processEvents()
    terminal.close()
    p50, p99, worst = summary_ms(full)
    e50, e99, eworst = summary_ms(after_enter)
    return [
        "| measure | scans | p50 ms | p99 ms | max ms | target |",
        "|---|---:|---:|---:|---:|---|",
        f"| Enter → row in model, selected, view repainted | {scans} | {e50:.2f} | {e99:.2f} "
        f"| {eworst:.2f} | p99 ≤ 16 ms |",
        f"| first digit typed → row visible (13 key events + lookup) | {scans} | {p50:.2f} "
        f"| {p99:.2f} | {worst:.2f} | — |",
        "",
        f"Scans that did not show their row: {misses}.",
    ]


def bench_cold_start(data_dir: Path, runs: int) -> list[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SHOPSMART_READY_PROBE=PIN)
    command = [sys.executable, "-m", "ui.cli", "--data-dir", str(data_dir), "run"]
    times: list[float] = []
    rss: list[int] = []
    for attempt in range(runs + 1):
        start = time.time()
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        ready = [line for line in result.stdout.splitlines() if line.startswith("READY")]
        if not ready:
            raise RuntimeError(f"the app never got ready: {result.stderr[-2000:]}")
        parts = ready[0].split()
        if attempt == 0:
            continue  # the first run warms the OS file cache
        times.append(float(parts[1]) - start)
        rss.append(int(parts[3]))
    return [
        "| measure | runs | median | min | max | target |",
        "|---|---:|---:|---:|---:|---|",
        f"| cold start → register ready for the first scan | {runs} | "
        f"{statistics.median(times):.2f} s | {min(times):.2f} s | {max(times):.2f} s | ≤ 1.5 s |",
        f"| resident memory at ready (100k products, 100k orders) | {runs} | "
        f"{statistics.median(rss) / 1024:.0f} MB | {min(rss) / 1024:.0f} MB | "
        f"{max(rss) / 1024:.0f} MB | ≤ 150 MB |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_ui")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--scans", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--only",
        choices=("scans", "cold-start"),
        default=None,
        help="run one part only (default: both)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shopsmart-bench-ui-") as tmp:
        data_dir = Path(tmp) / "till"
        started = time.perf_counter()
        _catalog, codes = build_store(data_dir, args.products, args.orders)
        built = time.perf_counter() - started
        print("## Register (PySide6)\n")
        print(f"Machine: {machine()}, QT_QPA_PLATFORM=offscreen\n")
        print(
            f"Store: {args.products:,} products, {args.orders:,} orders (built in {built:.0f} s).\n"
        )
        if args.only in (None, "scans"):
            print("### Scan to row visible\n")
            print("\n".join(bench_scans(data_dir, codes, args.scans)))
        if args.only in (None, "cold-start"):
            print("\n### Cold start and memory\n")
            print("\n".join(bench_cold_start(data_dir, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
