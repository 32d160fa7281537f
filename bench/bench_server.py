"""Sync server push throughput: gunicorn (2 workers) on PostgreSQL, 5-line orders.

Measures orders/s and batch latency for batches of 100 and 500 orders, the replay of the
same orders (all duplicates, and the database checked unchanged), and beside them the
database-only limit from the same number of connections: every row a push stores for those
orders (events, orders, lines, tenders, stock levels, change log, flags) loaded with COPY
into temp tables + INSERT … SELECT … ON CONFLICT DO NOTHING, with no HTTP, no JSON and no
validation; also orders and lines alone, for scale. Needs SHOPSMART_TEST_DATABASE_URL
(``make bench`` starts PostgreSQL).
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
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from bench.common import machine, summary_ms

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 200
DB_ONLY = "DB only: every row a push writes, COPY + INSERT…SELECT"
ORDERS_AND_LINES = "DB only: orders + lines alone"


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
    from server.admin import service as admin
    from server.app import create_app
    from server.catalog.repository import ProductDocument
    from server.config import Config
    from server.db import unit_of_work, upgrade_database
    from server.terminals.auth import create_enroll_code

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


T = TypeVar("T")
C = TypeVar("C")


def in_threads(
    items: list[T],
    clients: int,
    open_context: Callable[[], AbstractContextManager[C]],
    handle: Callable[[C, T], None],
) -> tuple[float, list[float]]:
    """``clients`` threads share ``items``; each opens its context (a connection) once and
    handles items one at a time. Returns the wall time and every item's latency; an error
    in a thread is raised here, not lost."""
    queue = iter(items)
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with open_context() as context:
                while True:
                    with lock:
                        item = next(queue, None)
                    if item is None:
                        return
                    started = time.perf_counter()
                    handle(context, item)
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started_all = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return time.perf_counter() - started_all, latencies


def push_all(
    base: str, token: str, bodies: list[bytes], clients: int
) -> tuple[float, list[float], dict[str, int]]:
    """POST every body from ``clients`` connections. Returns wall time, latencies, counts."""
    import requests

    statuses: dict[str, int] = {}
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(session: requests.Session, body: bytes) -> None:
        response = session.post(f"{base}/api/v1/sync/push", data=body, headers=headers, timeout=120)
        response.raise_for_status()
        result = response.json()
        with lock:
            for key in ("accepted", "duplicates", "rejected", "conflicts"):
                statuses[key] = statuses.get(key, 0) + result[key]

    wall, latencies = in_threads(bodies, clients, requests.Session, post)
    return wall, latencies, statuses


ORDER_COLS = (
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
)
LINE_COLS = (
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
    "store_id",  # last: migration 0009 added it to the table (INSERT … SELECT * relies on it)
)
EVENT_COLS = (
    "event_id",
    "store_id",
    "terminal_id",
    "type",
    "content_hash",
    "raw_hash",
    "outcome",
    "received_at",
)
TENDER_COLS = (
    "order_id",
    "position",
    "kind",
    "amount",
    "tendered",
    "change",
    "reference",
    "store_id",  # last, as in the table since migration 0009
)
FLAG_COLS = ("store_id", "kind", "order_id", "detail", "created_at")


def _copy(conn: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _db_only_batch(
    conn: Any, store_id: str, terminal_id: Any, chunk: list[dict[str, Any]], every_row: bool
) -> None:
    """One batch in one transaction: COPY into temp tables, then INSERT … SELECT … ON
    CONFLICT DO NOTHING (stock: add to the stored level). ``every_row``: everything a push
    stores for these orders (events, orders, lines, tenders, stock, change log, flags), else
    orders and lines only."""
    digest = "x" * 64
    with conn.transaction():
        temp = ["t_orders (LIKE orders INCLUDING DEFAULTS)", "t_lines (LIKE order_lines)"]
        if every_row:
            temp += ["t_events (LIKE sync_events INCLUDING DEFAULTS)", "t_tenders (LIKE tenders)"]
        conn.execute(";".join(f"CREATE TEMP TABLE {t} ON COMMIT DROP" for t in temp))
        if every_row:
            _copy(
                conn,
                "t_events",
                EVENT_COLS,
                (
                    (
                        e["event_id"],
                        store_id,
                        terminal_id,
                        "order.paid",
                        digest,
                        digest,
                        "accepted",
                        e["payload"]["paid_at"],
                    )
                    for e in chunk
                ),
            )
        _copy(
            conn,
            "t_orders",
            ORDER_COLS,
            (
                (
                    *(e["payload"][c] for c in ORDER_COLS[:1]),
                    store_id,
                    terminal_id,
                    e["event_id"],
                    digest,
                    *(e["payload"][c] for c in ORDER_COLS[5:20]),
                    json.dumps(e["payload"]["tax"]),
                    e["payload"]["paid_at"],
                )
                for e in chunk
            ),
        )
        _copy(
            conn,
            "t_lines",
            LINE_COLS,
            (
                (e["payload"]["id"], *(line[c] for c in LINE_COLS[1:-1]), store_id)
                for e in chunk
                for line in e["payload"]["lines"]
            ),
        )
        if every_row:
            _copy(
                conn,
                "t_tenders",
                TENDER_COLS,
                (
                    (e["payload"]["id"], i, *(t[c] for c in TENDER_COLS[2:-1]), store_id)
                    for e in chunk
                    for i, t in enumerate(e["payload"]["tenders"], start=1)
                ),
            )
            conn.execute(
                "INSERT INTO sync_events SELECT * FROM t_events "
                "ORDER BY event_id ON CONFLICT DO NOTHING"
            )
        conn.execute("INSERT INTO orders SELECT * FROM t_orders ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO order_lines SELECT * FROM t_lines ON CONFLICT DO NOTHING")
        if not every_row:
            return
        conn.execute("INSERT INTO tenders SELECT * FROM t_tenders ON CONFLICT DO NOTHING")
        levels = conn.execute(
            "INSERT INTO stock_levels (store_id, product_id, quantity) "
            "SELECT %s, product_id, -sum(quantity) FROM t_lines GROUP BY product_id "
            "ORDER BY product_id ON CONFLICT (store_id, product_id) "
            "DO UPDATE SET quantity = stock_levels.quantity + excluded.quantity "
            "RETURNING product_id",
            (store_id,),
        ).fetchall()
        txid = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
        _copy(
            conn,
            "change_log",
            ("txid", "store_id", "kind", "entity_key"),
            ((txid, store_id, "stock", p) for (p,) in levels),
        )
        _copy(
            conn,
            "flags",
            FLAG_COLS,
            (
                (
                    store_id,
                    "card_payment_unverified",
                    e["payload"]["id"],
                    json.dumps(
                        {
                            "receipt_no": e["payload"]["receipt_no"],
                            "tender": 0,
                            "amount": e["payload"]["total"],
                        }
                    ),
                    e["payload"]["paid_at"],
                )
                for e in chunk
            ),
        )


def db_only(
    database_url: str,
    store_id: str,
    events: list[dict[str, Any]],
    batch: int,
    clients: int,
    every_row: bool,
) -> tuple[float, list[float]]:
    """The same rows straight into PostgreSQL from ``clients`` connections sharing the
    batches (as the push's client connections do), one transaction per batch."""
    import psycopg

    chunks = [events[i : i + batch] for i in range(0, len(events), batch)]
    with psycopg.connect(database_url) as conn:
        terminal_id = conn.execute("SELECT id FROM terminals LIMIT 1").fetchone()[0]  # type: ignore[index]
    return in_threads(
        chunks,
        clients,
        lambda: psycopg.connect(database_url, autocommit=True),
        lambda conn, chunk: _db_only_batch(conn, store_id, terminal_id, chunk, every_row),
    )


def fingerprint(database_url: str) -> tuple[Any, ...]:
    """What a replay must leave as it was: row counts of every table a push writes, the
    stock total and the newest change-log id."""
    import psycopg

    tables = ("orders", "order_lines", "tenders", "sync_events", "flags", "sync_conflicts")
    with psycopg.connect(database_url) as conn:
        counts = tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone() for t in tables)
        stock = conn.execute("SELECT sum(quantity) FROM stock_levels").fetchone()
        last_change = conn.execute("SELECT max(id) FROM change_log").fetchone()
    return (*counts, stock, last_change)


def verdicts(rows: list[tuple[str, int, int, float, float, float]]) -> list[str]:
    """Each figure of the 100-order batches beside its limit (issue "Sync server")."""
    by_name = {(name, batch): (orders / wall, p99) for name, batch, orders, wall, _, p99 in rows}
    push_rate, push_p99 = by_name[("push (new orders)", 100)]
    replay_rate, replay_p99 = by_name[("replay (all duplicates)", 100)]
    db_rate, _ = by_name[(DB_ONLY, 100)]
    share = push_rate / db_rate

    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    return [
        "| figure (100-order batches) | value | limit | met? |",
        "|---|---:|---|---|",
        f"| push rate | {push_rate:,.0f} orders/s | ≥ 3,000 | {met(push_rate >= 3000)} |",
        f"| push / DB only | {share:.0%} | ≥ 50 % | {met(share >= 0.5)} |",
        f"| push p99 | {push_p99:.1f} ms | ≤ 50 ms | {met(push_p99 <= 50)} |",
        f"| replay p99 | {replay_p99:.1f} ms | ≤ 15 ms | {met(replay_p99 <= 15)} |",
        f"| replay faster than the push | {replay_rate:,.0f} vs {push_rate:,.0f} orders/s | "
        f"faster | {met(replay_rate > push_rate)} |",
        "| replay changed nothing | row counts, stock total, change log | unchanged | yes |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_server")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--batches", default="100,500")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SHOPSMART_TEST_DATABASE_URL")
    if not admin_url:
        print("SHOPSMART_TEST_DATABASE_URL is not set: run `make bench`", file=sys.stderr)
        return 2
    import requests

    runs: defaultdict[tuple[str, int], list[tuple[float, list[float]]]] = defaultdict(list)
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
            batches = [int(b) for b in args.batches.split(",")]
            for _ in range(args.rounds):  # rounds interleave every scenario: noise hits all
                for batch in batches:
                    events = [
                        build_order("T01", clerk_id, sequence + i) for i in range(args.orders)
                    ]
                    sequence += args.orders
                    bodies = [
                        json.dumps(
                            {"protocol_version": 1, "events": events[i : i + batch]}
                        ).encode()
                        for i in range(0, len(events), batch)
                    ]
                    wall, latencies, counts = push_all(base, token, bodies, args.clients)
                    assert counts.get("accepted") == args.orders, counts
                    runs[("push (new orders)", batch)].append((wall, latencies))
                    if batch == 100:
                        before = fingerprint(database_url)
                        wall, latencies, counts = push_all(base, token, bodies, args.clients)
                        assert counts.get("duplicates") == args.orders, counts
                        assert fingerprint(database_url) == before, "a replay changed the database"
                        runs[("replay (all duplicates)", batch)].append((wall, latencies))
                for every_row, label in ((True, DB_ONLY), (False, ORDERS_AND_LINES)):
                    for batch in batches:
                        if not every_row and batch != 100:
                            continue
                        sequence += args.orders
                        events = [
                            build_order("T01", clerk_id, sequence + i) for i in range(args.orders)
                        ]
                        wall, latencies = db_only(
                            database_url, store_id, events, batch, args.clients, every_row
                        )
                        runs[(label, batch)].append((wall, latencies))
    rows: list[tuple[str, int, int, float, float, float]] = []
    spread: list[str] = []
    for (name, batch), measured in runs.items():
        measured.sort(key=lambda run: run[0])
        wall, latencies = measured[len(measured) // 2]  # the round with the median time
        p50, p99, _ = summary_ms(latencies)
        rows.append((name, batch, args.orders, wall, p50, p99))
        rates = [args.orders / w for w, _ in measured]
        p99s = [summary_ms(lat)[1] for _, lat in measured]
        spread.append(
            f"| {name} | {batch} | {min(rates):,.0f}–{max(rates):,.0f} | "
            f"{min(p99s):.1f}–{max(p99s):.1f} |"
        )
    print("## Sync server push\n")
    print(f"Machine: {machine()}\n")
    print(
        f"gunicorn {args.workers} sync workers on 127.0.0.1, {args.clients} client "
        "connections (the database-only rows from as many connections), PostgreSQL on the "
        f"same machine, orders of 5 lines. {args.rounds} rounds of every scenario, interleaved; "
        "each row is the round with the median time (the spread of all rounds follows).\n"
    )
    print("| scenario | orders/batch | orders | seconds | orders/s | p50 batch ms | p99 batch ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, batch, orders, wall, p50, p99 in rows:
        print(
            f"| {name} | {batch} | {orders} | {wall:.2f} | {orders / wall:,.0f} | "
            f"{p50:.1f} | {p99:.1f} |"
        )
    print("\n| scenario | orders/batch | orders/s, all rounds | p99 ms, all rounds |")
    print("|---|---:|---:|---:|")
    print("\n".join(spread))
    if "100" in args.batches.split(","):
        print()
        print("\n".join(verdicts(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
