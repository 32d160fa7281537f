"""Phone-order screen benchmarks (issue 13): `python -m bench.bench_phone`.

1. Opening the phone-order screen (Ctrl+P on the register) until it is painted with the
   focus in the customer search, on a till with 100,000 products and 100,000 customers;
   p50/p99 over N opens.
2. Finding a customer by phone among 100,000 on the till (``find_customers``: the typed
   number normalised with the store's country, an index range on the E.164 number), whole
   numbers and the first digits of one as staff type them; p50/p99 over N look-ups.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.data import DEMO_MANAGER_PIN
from bench.common import machine, summary_ms

PIN = DEMO_MANAGER_PIN


def phone_of(index: int) -> str:
    """An Irish mobile number for customer ``index`` (087 and 086, seven digits)."""
    return f"+3538{7 - index % 2}{index:07d}"


def build_store(data_dir: Path, products: int, customers: int) -> Any:
    from app.bootstrap import open_terminal
    from app.domain.clerk import Role
    from app.services.clerks import create_clerk
    from app.services.demo_catalog import demo_products, favourite_skus
    from ui.picker import FAVOURITES_KEY

    terminal = open_terminal(data_dir)
    catalog = demo_products(products, seed=3)
    with terminal.uow() as uow:
        uow.products.replace_all(catalog)
        uow.settings.put(FAVOURITES_KEY, ",".join(favourite_skus(catalog)))
        uow.commit()
    create_clerk(terminal.uow(), "Bench", PIN, Role.MANAGER, terminal.ids)
    names = ["Aoife", "Ciarán", "Siobhán", "Declan", "Niamh", "Pádraig", "Orla", "Seán"]
    surnames = ["Byrne", "Walsh", "Kelly", "Murphy", "O'Brien", "Doyle", "Ryan", "Quinn"]
    rng = random.Random(13)
    # Written in bulk as the repository writes each one (local_db.phone_orders): the
    # benchmark is of finding them, and 100,000 single saves would take minutes.
    from sqlalchemy import insert

    from app.domain.timestamps import utc_iso
    from local_db.models import CUSTOMERS
    from local_db.phone_orders import CUSTOMER_ADDRESSES, name_key

    updated = utc_iso(datetime.now(UTC))
    with terminal.database.writer.begin() as connection:
        for start in range(0, customers, 10_000):
            rows, addresses = [], []
            for index in range(start, min(customers, start + 10_000)):
                customer_id = terminal.ids.new_id()
                name = f"{rng.choice(names)} {rng.choice(surnames)} {index}"
                rows.append(
                    {
                        "id": customer_id,
                        "name": name,
                        "name_key": name_key(name),
                        "phone": phone_of(index),
                        "email": "",
                        "notes": "",
                        "updated_at": updated,
                        "deleted": False,
                    }
                )
                addresses.append(
                    {
                        "id": terminal.ids.new_id(),
                        "customer_id": customer_id,
                        "position": 0,
                        "label": "Home",
                        "line1": f"{index % 200 + 1} Main Street",
                        "line2": "",
                        "postcode": "D01 X2Y3",
                        "city": "Dublin",
                        "country": "IE",
                        "notes": "",
                    }
                )
            connection.execute(insert(CUSTOMERS), rows)
            connection.execute(insert(CUSTOMER_ADDRESSES), addresses)
    return terminal


def bench_open(terminal: Any, opens: int) -> list[str]:
    from PySide6.QtWidgets import QApplication

    from app.services.clerks import log_in
    from ui.main_window import MainWindow
    from ui.style import STYLESHEET

    app = QApplication.instance() or QApplication(["bench"])
    app.setStyleSheet(STYLESHEET)
    window = MainWindow(terminal=terminal, load_demo=False)
    window.resize(1366, 768)
    window.show()
    window.start()
    while window.login is None:
        app.processEvents()
    with terminal.read() as uow:
        clerk_id = uow.clerks.all()[0].id
    window._on_logged_in(log_in(terminal.uow(), clerk_id, PIN, terminal.clock))
    app.processEvents()

    cpu_times: list[float] = []

    def one(spare: bool) -> float:
        if spare:  # as between two calls: the next screen was built while the till was idle
            while window._spare_phone_order is None:
                app.processEvents()
                time.sleep(0.01)
        elif window._spare_phone_order is not None:
            window._spare_phone_order.deleteLater()
            window._spare_phone_order = None
        app.processEvents()
        start, cpu = time.perf_counter(), time.thread_time()
        window.show_phone_order()
        dialog = window.phone_order_dialog
        while not (dialog.isVisible() and QApplication.focusWidget() is dialog.customer_search):
            app.processEvents()
        dialog.repaint()  # the first full paint, done before the clock stops
        end, cpu_end = time.perf_counter(), time.thread_time()
        dialog.reject()
        while window.phone_order_dialog is not None:
            app.processEvents()
        cpu_times.append(cpu_end - cpu)
        return end - start

    for _ in range(3):  # warm up: imports, styles, statement caches
        one(True)
        one(False)
    cpu_times.clear()
    samples = [one(True) for _ in range(opens)]
    warm_cpu = list(cpu_times)
    cold = [one(False) for _ in range(opens)]
    cold_cpu = cpu_times[len(warm_cpu) :]
    window.runner.shutdown()
    window.deleteLater()
    app.processEvents()
    c50, c99, cworst = summary_ms(cold)
    p50, p99, worst = summary_ms(samples)
    u50, u99, _u = summary_ms(warm_cpu)
    v50, v99, _v = summary_ms(cold_cpu)
    return [
        "| measure | opens | p50 ms | p99 ms | max ms | CPU p50 / p99 ms | limit |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| Ctrl+P → phone-order screen painted, focus in the customer search | {opens} "
        f"| {p50:.1f} | {p99:.1f} | {worst:.1f} | {u50:.1f} / {u99:.1f} | ≤ 100 ms |",
        f"| the same with no screen built ahead (built on the key) | {opens} "
        f"| {c50:.1f} | {c99:.1f} | {cworst:.1f} | {v50:.1f} / {v99:.1f} | — |",
        "",
        "The till builds the next phone-order screen while it is idle (1.5 s after a login "
        "or after the last phone order closed), so Ctrl+P only shows and paints it. CPU: the "
        "GUI thread's own CPU time for the same span (time.thread_time), which other "
        f"processes on the machine do not inflate (load average {os.getloadavg()[0]:.1f}).",
    ]


def bench_find(terminal: Any, customers: int, lookups: int) -> list[str]:
    import gc

    from app.services.phone_orders import find_customers

    country = terminal.store.country
    rng = random.Random(7)
    gc.collect()
    gc.freeze()  # as the till does after start-up (ui/main_window.freeze_startup_objects)
    for index in range(20):  # warm up: statement caches, the phonenumbers metadata
        find_customers(terminal.read(), "0" + phone_of(index)[4:], country)
    whole: list[float] = []
    partial: list[float] = []
    whole_cpu: list[float] = []
    partial_cpu: list[float] = []
    misses = 0
    for _ in range(lookups):
        index = rng.randrange(customers)
        national = "0" + phone_of(index)[4:]  # as staff type it: 087 …
        typed = f"{national[:3]} {national[3:6]} {national[6:]}"
        start, cpu = time.perf_counter(), time.thread_time()
        found = find_customers(terminal.read(), typed, country)
        whole.append(time.perf_counter() - start)
        whole_cpu.append(time.thread_time() - cpu)
        misses += not any(c.phone == phone_of(index) for c in found)
        start, cpu = time.perf_counter(), time.thread_time()
        find_customers(terminal.read(), national[:7], country)  # the first digits
        partial.append(time.perf_counter() - start)
        partial_cpu.append(time.thread_time() - cpu)
    w50, w99, wmax = summary_ms(whole)
    p50, p99, pmax = summary_ms(partial)
    wc50, wc99, _w = summary_ms(whole_cpu)
    pc50, pc99, _p = summary_ms(partial_cpu)
    return [
        "| measure | look-ups | p50 ms | p99 ms | max ms | CPU p50 / p99 ms | limit |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| whole number typed (`087 123 4567`) → the customer | {lookups} | {w50:.2f} "
        f"| {w99:.2f} | {wmax:.2f} | {wc50:.2f} / {wc99:.2f} | p99 ≤ 5 ms |",
        f"| first 7 digits typed → the first 20 customers | {lookups} | {p50:.2f} "
        f"| {p99:.2f} | {pmax:.2f} | {pc50:.2f} / {pc99:.2f} | p99 ≤ 5 ms |",
        "",
        f"Whole numbers that did not find their customer: {misses}. Load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores during the run.",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_phone")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--lookups", type=int, default=1_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shopsmart-bench-phone-") as tmp:
        started = time.perf_counter()
        terminal = build_store(Path(tmp) / "till", args.products, args.customers)
        built = time.perf_counter() - started
        print("## Phone-order screen (PySide6)\n")
        print(f"Machine: {machine()}, QT_QPA_PLATFORM=offscreen\n")
        print(
            f"Till: {args.products:,} products, {args.customers:,} customers "
            f"(built in {built:.0f} s).\n"
        )
        print("### Opening the screen\n")
        print("\n".join(bench_open(terminal, args.opens)))
        print("\n### Finding a customer by phone\n")
        print("\n".join(bench_find(terminal, args.customers, args.lookups)))
        terminal.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
