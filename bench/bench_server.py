"""Sync server push throughput: gunicorn (2 workers) on PostgreSQL, 5-line orders.

Measures orders/s and batch latency for batches of 100 and 500 orders, the replay of the
same orders (all duplicates), and beside them the database-only limit: COPY into a temp
table + INSERT … SELECT … ON CONFLICT DO NOTHING of the same rows, with no HTTP and no
validation. Needs SHOPSMART_TEST_DATABASE_URL (``make bench`` starts PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import machine, summary_ms

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_order(terminal_code: str, clerk_id: str, sequence: int) -> dict[str, Any]:
    lines = []
    for line_no in range(1, 6):
        product = (sequence * 7 + line_no * 13) % PRODUCTS
        quantity = 1 + (sequence + line_no) % 3
        unit_price = 100 + product
        gross = unit_price * quantity
        lines.append(
            {
                "line_no": line_no,
                "product_id": f"bench-{product}",
                "sku": f"B-{product}",
                "name": f"Bench product {product}",
                "sold_by": "each",
                "quantity": quantity,
                "unit_price": unit_price,
                "gross": gross,
                "line_discount": 0,
                "order_discount_share": 0,
                "net": gross,
                "tax_class": "food",
                "tax_rate_bp": 700,
                "discount_reason": "",
            }
        )
    total = sum(line["net"] for line in lines)
    tax = (total * 700 + 5350) // 10700
    return {
        "event_id": str(uuid.uuid4()),
        "type": "order.paid",
        "occurred_at": "2026-11-25T13:00:00.123456+00:00",
        "payload": {
            "id": str(uuid.uuid4()),
            "receipt_no": f"{terminal_code}-{sequence:06d}",
            "terminal_code": terminal_code,
            "sequence": sequence,
            "clerk_id": clerk_id,
            "clerk_name": "Bench",
            "currency": "EUR",
            "status": "paid",
            "kind": "counter",
            "created_at": "2026-11-25T13:00:00+00:00",
            "paid_at": "2026-11-25T13:00:01+00:00",
            "subtotal": total,
            "discount_total": 0,
            "tax_total": tax,
            "total": total,
            "prices_include_tax": True,
            "customer": None,
            "lines": lines,
            "tenders": [
                {"kind": "card", "amount": total, "tendered": total, "change": 0, "reference": ""}
            ],
            "tax": [
                {"tax_class": "food", "label": "VAT", "rate_bp": 700, "taxable": total, "tax": tax}
            ],
        },
    }


@contextmanager
def bench_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(database_url: str) -> tuple[str, str, str]:
    """Migrate, create a store, a clerk, the catalog and stock; returns an enroll code."""
    from server import admin
    from server.app import create_app
    from server.auth import create_enroll_code
    from server.catalog import ProductDocument
    from server.config import Config
    from server.db import unit_of_work, upgrade_database

    config = Config(database_url=database_url, log_level="WARNING")
    upgrade_database(config.sqlalchemy_url)
    app = create_app(config)
    svc = app.extensions["shopsmart"]
    with unit_of_work(svc.sessions) as session:
        store = admin.create_store(session, "B1", "Bench store")
        clerk = admin.add_clerk(session, store, "Bench", "clerk", "1234")
        products = [
            ProductDocument(
                id=f"bench-{i}",
                sku=f"B-{i}",
                name=f"Bench product {i}",
                unit_price=100 + i,
                tax_class="food",
            )
            for i in range(PRODUCTS)
        ]
        admin.save_products(session, svc.catalog(session), products)
        admin.set_stock(session, store, {p.id: 10_000_000 for p in products})
        code = create_enroll_code(session, store.id, timedelta(hours=1))
        clerk_id, store_id = str(clerk.id), str(store.id)
    svc.close()
    return code, clerk_id, store_id


@contextmanager
def gunicorn(database_url: str, workers: int) -> Iterator[str]:
    import requests

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SHOPSMART_BIND": f"127.0.0.1:{port}",
        "SHOPSMART_WORKERS": str(workers),
        "SHOPSMART_LOG_LEVEL": "WARNING",
        "SHOPSMART_RATE_LIMIT_PER_MINUTE": "100000000",
        "SHOPSMART_RATE_LIMIT_BURST": "100000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=5).ok:
                    break
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not come up")
            time.sleep(0.1)  # polling a process we do not control: no event to wait on
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def push_all(
    base: str, token: str, bodies: list[bytes], clients: int
) -> tuple[float, list[float], dict[str, int]]:
    """POST every body; ``clients`` threads share the list. Returns wall time, latencies."""
    import requests

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    queue = iter(range(len(bodies)))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def work() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    index = next(queue, None)
                if index is None:
                    return
                started = time.perf_counter()
                response = session.post(
                    f"{base}/api/v1/sync/push", data=bodies[index], headers=headers, timeout=120
                )
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                result = response.json()
                with lock:
                    latencies.append(elapsed)
                    for key in ("accepted", "duplicates", "rejected", "conflicts"):
                        statuses[key] = statuses.get(key, 0) + result[key]

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def db_only(
    database_url: str, store_id: str, events: list[dict[str, Any]], batch: int
) -> tuple[float, list[float]]:
    """The same rows straight into PostgreSQL: COPY to temp tables, INSERT … SELECT … ON
    CONFLICT DO NOTHING, one transaction per batch."""
    import psycopg

    order_cols = [
        "id",
        "store_id",
        "terminal_id",
        "event_id",
        "content_hash",
        "receipt_no",
        "terminal_code",
        "sequence",
        "clerk_id",
        "clerk_name",
        "currency",
        "status",
        "kind",
        "created_at",
        "paid_at",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "prices_include_tax",
        "tax",
        "received_at",
    ]
    line_cols = [
        "order_id",
        "line_no",
        "product_id",
        "sku",
        "name",
        "sold_by",
        "quantity",
        "unit_price",
        "gross",
        "line_discount",
        "order_discount_share",
        "net",
        "tax_class",
        "tax_rate_bp",
        "discount_reason",
    ]
    latencies = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        terminal_id = conn.execute("SELECT id FROM terminals LIMIT 1").fetchone()[0]  # type: ignore[index]
        started_all = time.perf_counter()
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "CREATE TEMP TABLE t_orders (LIKE orders INCLUDING DEFAULTS) ON COMMIT DROP;"
                    "CREATE TEMP TABLE t_lines (LIKE order_lines INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                with conn.cursor().copy(
                    f"COPY t_orders ({', '.join(order_cols)}) FROM STDIN"
                ) as copy:
                    for event in chunk:
                        o = event["payload"]
                        copy.write_row(
                            (
                                o["id"],
                                store_id,
                                terminal_id,
                                event["event_id"],
                                "x" * 64,
                                o["receipt_no"],
                                o["terminal_code"],
                                o["sequence"],
                                o["clerk_id"],
                                o["clerk_name"],
                                o["currency"],
                                o["status"],
                                o["kind"],
                                o["created_at"],
                                o["paid_at"],
                                o["subtotal"],
                                o["discount_total"],
                                o["tax_total"],
                                o["total"],
                                o["prices_include_tax"],
                                json.dumps(o["tax"]),
                                o["paid_at"],
                            )
                        )
                with conn.cursor().copy(
                    f"COPY t_lines ({', '.join(line_cols)}) FROM STDIN"
                ) as copy:
                    for event in chunk:
                        o = event["payload"]
                        for line in o["lines"]:
                            copy.write_row((o["id"], *(line[c] for c in line_cols[1:])))
                conn.execute("INSERT INTO orders SELECT * FROM t_orders ON CONFLICT DO NOTHING")
                conn.execute("INSERT INTO order_lines SELECT * FROM t_lines ON CONFLICT DO NOTHING")
            latencies.append(time.perf_counter() - started)
        return time.perf_counter() - started_all, latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_server")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--batches", default="100,500")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SHOPSMART_TEST_DATABASE_URL")
    if not admin_url:
        print("SHOPSMART_TEST_DATABASE_URL is not set: run `make bench`", file=sys.stderr)
        return 2
    import requests

    rows: list[tuple[str, int, int, float, float, float]] = []
    with bench_database(admin_url) as database_url:
        code, clerk_id, store_id = prepare(database_url)
        with gunicorn(database_url, args.workers) as base:
            enrolled = requests.post(
                f"{base}/api/v1/terminals/enroll",
                json={"protocol_version": 1, "code": code, "terminal_code": "T01"},
                timeout=10,
            ).json()
            token = enrolled["token"]
            warm_up = [build_order("T01", clerk_id, 10**7 + i) for i in range(40)]
            push_all(
                base,
                token,
                [
                    json.dumps({"protocol_version": 1, "events": warm_up[i : i + 10]}).encode()
                    for i in range(0, 40, 10)
                ],
                args.clients,
            )  # every worker opens its pool and imports its code before anything is timed
            sequence = 0
            for batch in (int(b) for b in args.batches.split(",")):
                events = [build_order("T01", clerk_id, sequence + i) for i in range(args.orders)]
                sequence += args.orders
                bodies = [
                    json.dumps({"protocol_version": 1, "events": events[i : i + batch]}).encode()
                    for i in range(0, len(events), batch)
                ]
                wall, latencies, counts = push_all(base, token, bodies, args.clients)
                assert counts.get("accepted") == args.orders, counts
                p50, p99, _ = summary_ms(latencies)
                rows.append(("push (new orders)", batch, args.orders, wall, p50, p99))
                if batch == 100:
                    wall, latencies, counts = push_all(base, token, bodies, args.clients)
                    assert counts.get("duplicates") == args.orders, counts
                    p50, p99, _ = summary_ms(latencies)
                    rows.append(("replay (all duplicates)", batch, args.orders, wall, p50, p99))
        for batch in (int(b) for b in args.batches.split(",")):
            events = [build_order("T01", clerk_id, 10**6 + i) for i in range(args.orders)]
            wall, latencies = db_only(database_url, store_id, events, batch)
            p50, p99, _ = summary_ms(latencies)
            rows.append(("DB only: COPY + INSERT…SELECT", batch, args.orders, wall, p50, p99))
    print("## Sync server push\n")
    print(f"Machine: {machine()}\n")
    print(
        f"gunicorn {args.workers} sync workers on 127.0.0.1, {args.clients} client "
        "connections, PostgreSQL on the same machine, orders of 5 lines.\n"
    )
    print("| scenario | orders/batch | orders | seconds | orders/s | p50 batch ms | p99 batch ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, batch, orders, wall, p50, p99 in rows:
        print(
            f"| {name} | {batch} | {orders} | {wall:.2f} | {orders / wall:,.0f} | "
            f"{p50:.1f} | {p99:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
