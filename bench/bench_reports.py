"""Manager reports over 1,000,000 order lines on PostgreSQL: p99 of each report endpoint.

A store of 4 tills and 10 clerks gets a month of orders (200,000 orders of 5 lines from a
catalog of 2,000 products in 20 departments; 1 % voided, 2 % refunded in part), a Z report
per till and day, flags and stock — all loaded with set-based ``INSERT … SELECT`` straight
into the tables, not through the push — and the report summaries the push would have kept,
summed in SQL by the rules of server/reports/summaries.py. Then each of the twelve reports of
``GET /api/v1/reports/{name}`` over the whole month is asked of gunicorn (2 sync workers,
one client connection, a manager signed in) ``--runs`` times, and beside it the very same
SQL the endpoint ran (captured from SQLAlchemy) run straight on the database through
psycopg, in the same run; for scale, what the sales by day and the products cost summed from
the base rows (orders, order lines) instead of the summaries. Needs
SHOPSMART_TEST_DATABASE_URL (``make bench`` starts PostgreSQL, fsync off).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import date, timedelta
from typing import Any

from bench.bench_server import bench_database, gunicorn
from bench.common import summary_ms

REPORTS = (
    "sales-by-day",
    "sales-by-hour",
    "departments",
    "products",
    "clerks",
    "terminals",
    "tenders",
    "adjustments",
    "shifts",
    "low-stock",
    "flags",
    "terminal-health",
)
TILL_FILTERED = ("departments", "products")  # also asked with &terminal=T01 (per-till summary)
LIMIT_MS = 300.0
FIRST = date(2026, 11, 1)
DAYS = 30
TERMINALS = 4
CLERKS = 10
PRODUCTS = 2000
DEPARTMENTS = 20
ZONE = "Europe/Dublin"


def prepare(database_url: str) -> tuple[str, str, str]:
    """Migrate; a store, its manager, the catalog, stock; an enroll code for the till that
    asks (the others are plain rows)."""
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
        manager = admin.add_clerk(session, store, "Max", "manager", "246813")
        products = [
            ProductDocument(
                id=f"bp-{i}",
                sku=f"B-{i}",
                name=f"Bench product {i}",
                unit_price=100 + i,
                tax_class="food",
                department=f"Department {i % DEPARTMENTS}",
            )
            for i in range(PRODUCTS)
        ]
        admin.save_products(session, svc.catalog(session), products)
        admin.set_stock(session, store, {p.id: (i % 400) - 5 for i, p in enumerate(products)})
        code = create_enroll_code(session, store.id, timedelta(hours=1))
        manager_id, store_id = str(manager.id), str(store.id)
    svc.close()
    return code, manager_id, store_id


def load(database_url: str, store_id: str, orders: int) -> dict[str, float]:
    """The month's rows, set-based; returns seconds per step."""
    import psycopg

    timings: dict[str, float] = {}
    with psycopg.connect(database_url) as conn:

        def step(name: str, sql: str, **params: Any) -> None:
            started = time.perf_counter()
            for statement in sql.split(";\n"):  # one statement per execute with parameters
                if statement.strip():
                    conn.execute(statement, {"store": store_id, **params})
            timings[name] = time.perf_counter() - started

        for n in range(2, TERMINALS + 1):
            conn.execute(
                "INSERT INTO terminals (id, store_id, code, name, token_hash, enrolled_at)"
                " VALUES (%s, %s, %s, '', %s, now())",
                (uuid.uuid4(), store_id, f"T{n:02d}", uuid.uuid4().hex),
            )
        step(
            "orders (temp)",
            """
            CREATE TEMP TABLE gen AS
            SELECT g, gen_random_uuid() AS id, t.id AS terminal_id, t.code AS terminal_code,
                   'clerk-' || (abs(hashtext('c' || g)) %% %(clerks)s) AS clerk_id,
                   (%(first)s::timestamp + make_interval(days => abs(hashtext('d' || g))
                        %% %(days)s, hours => 8, secs => abs(hashtext('s' || g)) %% 43200))
                        AT TIME ZONE %(zone)s AS paid_at,
                   (SELECT sum((1 + (g + l) %% 3)
                        * (100 + abs(hashtext(g || '-' || l)) %% %(products)s))
                    FROM generate_series(1, 5) l) AS total,
                   g %% 100 = 7 AS voided
            FROM generate_series(1, %(orders)s) g
            JOIN (SELECT id, code, row_number() OVER (ORDER BY code) - 1 AS n
                  FROM terminals WHERE store_id = %(store)s) t
                ON t.n = abs(hashtext('t' || g)) %% %(terminals)s
            """.replace("%(clerks)s", str(CLERKS)),
            first=FIRST.isoformat(),
            days=DAYS,
            zone=ZONE,
            products=PRODUCTS,
            orders=orders,
            terminals=TERMINALS,
        )
        step(
            "orders",
            """
            INSERT INTO orders (id, store_id, terminal_id, event_id, content_hash, receipt_no,
                terminal_code, sequence, clerk_id, clerk_name, currency, status, kind,
                created_at, paid_at, subtotal, discount_total, tax_total, total,
                prices_include_tax, tax, voided_at, void_reason, refunded_total, received_at)
            SELECT id, %(store)s, terminal_id, gen_random_uuid(), md5(id::text),
                terminal_code || '-' || g, terminal_code, g, clerk_id, 'Clerk ' || clerk_id,
                'EUR', CASE WHEN voided THEN 'voided' ELSE 'paid' END, 'counter', paid_at,
                paid_at, total, 0, (total * 700 + 5350) / 10700, total, true, '[]'::jsonb,
                CASE WHEN voided THEN paid_at + interval '10 minutes' END,
                CASE WHEN voided THEN 'bench' END, 0, paid_at
            FROM gen
            """,
        )
        step(
            "order lines",
            """
            INSERT INTO order_lines (store_id, order_id, line_no, product_id, sku, name,
                sold_by, quantity, unit_price, gross, line_discount, order_discount_share, net,
                tax_class, tax_rate_bp, discount_reason)
            SELECT %(store)s, gen.id, l, 'bp-' || p, 'B-' || p, 'Bench product ' || p, 'each',
                q, 100 + p, q * (100 + p), 0, 0, q * (100 + p), 'food', 700, ''
            FROM gen, generate_series(1, 5) l,
                LATERAL (SELECT abs(hashtext(g || '-' || l)) %% %(products)s AS p,
                    1 + (g + l) %% 3 AS q) x
            """,
            products=PRODUCTS,
        )
        step(
            "tenders",
            """
            INSERT INTO tenders (store_id, order_id, position, kind, amount, tendered, change,
                reference)
            SELECT %(store)s, id, 1, CASE WHEN g %% 3 = 1 THEN 'card' ELSE 'cash' END, total,
                total, 0, ''
            FROM gen
            """,
        )
        step(
            "refunds",
            """
            INSERT INTO order_refunds (id, order_id, store_id, terminal_id, event_id, amount,
                cash_amount, card_amount, reason, clerk_id, lines, refunded_at, received_at)
            SELECT gen_random_uuid(), id, %(store)s, terminal_id, gen_random_uuid(),
                total / 4 + 1, total / 4 + 1, 0, 'bench', clerk_id, '[]'::jsonb,
                paid_at + interval '1 day', paid_at + interval '1 day'
            FROM gen WHERE g %% 50 = 3 AND NOT voided
            """,
        )
        step(
            "summaries",
            """
            INSERT INTO report_sales (store_id, local_date, local_hour, terminal_code, clerk_id,
                clerk_name, orders, gross, discounts, sales, tax, discounted_orders,
                refunds_count, refunds, voids_count, voids)
            SELECT %(store)s, d, h, terminal_code, clerk_id, max(name), sum(o), sum(s), 0,
                sum(s), sum(t), 0, sum(rc), sum(r), sum(vc), sum(v)
            FROM (
                SELECT (paid_at AT TIME ZONE %(zone)s)::date d,
                    extract(hour FROM paid_at AT TIME ZONE %(zone)s)::int h, terminal_code,
                    clerk_id, 'Clerk ' || clerk_id name, 1 o, total s,
                    (total * 700 + 5350) / 10700 t, 0 rc, 0 r, 0 vc, 0 v
                FROM gen WHERE NOT voided
                UNION ALL
                SELECT (paid_at AT TIME ZONE %(zone)s + interval '10 minutes')::date,
                    extract(hour FROM paid_at AT TIME ZONE %(zone)s + interval '10 minutes')::int,
                    terminal_code, clerk_id, '', 0, 0, 0, 0, 0, 1, total
                FROM gen WHERE voided
                UNION ALL
                SELECT (r.refunded_at AT TIME ZONE %(zone)s)::date,
                    extract(hour FROM r.refunded_at AT TIME ZONE %(zone)s)::int,
                    gen.terminal_code, r.clerk_id, '', 0, 0, 0, 1, r.amount, 0, 0
                FROM order_refunds r JOIN gen ON gen.id = r.order_id
                WHERE r.store_id = %(store)s
            ) x
            GROUP BY d, h, terminal_code, clerk_id;

            INSERT INTO report_tenders (store_id, local_date, terminal_code, kind, count, amount,
                refunds)
            SELECT %(store)s, d, terminal_code, kind, sum(c), sum(a), sum(r)
            FROM (
                SELECT (gen.paid_at AT TIME ZONE %(zone)s)::date d, gen.terminal_code, t.kind,
                    1 c, t.amount a, 0 r
                FROM gen JOIN tenders t ON t.store_id = %(store)s AND t.order_id = gen.id
                WHERE NOT gen.voided
                UNION ALL
                SELECT (r.refunded_at AT TIME ZONE %(zone)s)::date, gen.terminal_code, 'cash',
                    0, 0, r.cash_amount
                FROM order_refunds r JOIN gen ON gen.id = r.order_id
                WHERE r.store_id = %(store)s
            ) x
            GROUP BY d, terminal_code, kind;

            INSERT INTO report_products (store_id, local_date, terminal_code, product_key, sku,
                name, department, lines, quantity, net)
            SELECT %(store)s, (gen.paid_at AT TIME ZONE %(zone)s)::date, gen.terminal_code,
                l.product_id, max(l.sku), max(l.name),
                'Department ' || (substr(l.product_id, 4)::int %% %(departments)s),
                count(*), sum(l.quantity), sum(l.net)
            FROM gen JOIN order_lines l ON l.store_id = %(store)s AND l.order_id = gen.id
            WHERE NOT gen.voided
            GROUP BY 2, 3, 4;

            INSERT INTO report_product_days (store_id, local_date, product_key, sku, name,
                department, lines, quantity, net)
            SELECT store_id, local_date, product_key, max(sku), max(name), max(department),
                sum(lines), sum(quantity), sum(net)
            FROM report_products WHERE store_id = %(store)s
            GROUP BY store_id, local_date, product_key
            """,
            zone=ZONE,
            departments=DEPARTMENTS,
        )
        step(
            "shifts, Z reports, flags",
            """
            INSERT INTO shifts (store_id, id, terminal_id, terminal_code, opened_at, opened_by,
                float_amount, float_count, closed_at, closed_by, event_id, received_at)
            SELECT %(store)s, gen_random_uuid(), t.id, t.code, d + interval '7 hours',
                'clerk-1', 10000, '{"5000": 2}'::jsonb, d + interval '21 hours', 'clerk-1',
                gen_random_uuid(), now()
            FROM terminals t,
                generate_series(%(first)s::timestamptz, %(first)s::timestamptz
                    + (%(days)s - 1) * interval '1 day', interval '1 day') d
            WHERE t.store_id = %(store)s;

            INSERT INTO z_reports (store_id, terminal_code, z_number, shift_id, terminal_id,
                status, closed_at, closed_by, counted, counted_total, expected_cash, difference,
                net_sales, figures, waiting, synced_after_close, finalised_at, content_hash,
                event_id, received_at, updated_at)
            SELECT %(store)s, terminal_code, row_number() OVER (PARTITION BY terminal_code
                ORDER BY opened_at), id, terminal_id, 'final', closed_at, closed_by,
                '{"5000": 2}'::jsonb, 10000, 10050, -50, 123456, '{}'::jsonb, '[]'::jsonb,
                '[]'::jsonb, closed_at, md5(id::text), gen_random_uuid(), now(), now()
            FROM shifts WHERE store_id = %(store)s;

            INSERT INTO flags (store_id, kind, order_id, product_id, detail, created_at)
            SELECT %(store)s, CASE WHEN g %% 2 = 0 THEN 'price_mismatch' ELSE 'oversold' END,
                id, 'bp-1', '{"line_no": 1, "paid_unit_price": 100, "catalog_unit_price": 101}',
                paid_at
            FROM gen WHERE g %% 40 = 0
            """,
            first=FIRST.isoformat(),
            days=DAYS,
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return timings


def capture_sql(
    database_url: str, store_id: str, name: str, terminal: str | None = None
) -> list[tuple[str, Any]]:
    """The statements (and parameters) the endpoint runs for report ``name``."""
    from sqlalchemy import event

    from app.domain.report import ReportName
    from server.app import create_app
    from server.config import Config
    from server.reports.service import ReportRequest, run_report

    app = create_app(Config(database_url=database_url, log_level="WARNING"))
    svc = app.extensions["shopsmart"]
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(svc.engine, "before_cursor_execute", keep)
    with svc.sessions() as session:
        run_report(
            session,
            svc.catalog(session),
            ReportName(name),
            ReportRequest(
                uuid.UUID(store_id), FIRST, FIRST + timedelta(days=DAYS - 1), terminal=terminal
            ),
        )
    svc.close()
    return statements


def time_sql(database_url: str, statements: list[tuple[str, Any]], runs: int) -> list[float]:
    import psycopg

    samples = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for i in range(runs + 5):
            started = time.perf_counter()
            for statement, parameters in statements:
                conn.execute(statement, parameters).fetchall()
            if i >= 5:
                samples.append(time.perf_counter() - started)
    return samples


BASE_SQL = {
    "sales-by-day (from orders)": """
        SELECT (paid_at AT TIME ZONE %(zone)s)::date, count(*), sum(total), sum(tax_total)
        FROM orders WHERE store_id = %(store)s AND status <> 'voided'
            AND paid_at >= %(start)s AND paid_at < %(end)s
        GROUP BY 1 ORDER BY 1""",
    "products (from order lines)": """
        SELECT l.product_id, count(*), sum(l.quantity), sum(l.net)
        FROM order_lines l JOIN orders o ON o.store_id = l.store_id AND o.id = l.order_id
        WHERE o.store_id = %(store)s AND o.status <> 'voided'
            AND o.paid_at >= %(start)s AND o.paid_at < %(end)s
        GROUP BY 1 ORDER BY 4 DESC LIMIT 50""",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_reports")
    parser.add_argument("--orders", type=int, default=200_000, help="5 lines each")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SHOPSMART_TEST_DATABASE_URL")
    if not admin_url:
        print("SHOPSMART_TEST_DATABASE_URL is not set: run `make bench`", file=sys.stderr)
        return 2
    import psycopg
    import requests

    from app.domain.report import local_days_utc, store_zone

    with bench_database(admin_url) as database_url:
        code, manager_id, store_id = prepare(database_url)
        with psycopg.connect(database_url) as conn:
            fsync = conn.execute("SHOW fsync").fetchone()[0]  # type: ignore[index]
        with gunicorn(database_url, 2) as base:
            enrolled = requests.post(
                f"{base}/api/v1/terminals/enroll",
                json={"protocol_version": 1, "code": code, "terminal_code": "T01"},
                timeout=10,
            ).json()
            headers = {"Authorization": f"Bearer {enrolled['token']}", "X-Shopsmart-Protocol": "1"}
            loaded = load(database_url, store_id, args.orders)
            signed_in = requests.post(
                f"{base}/api/v1/manager-sessions",
                json={"protocol_version": 1, "clerk_id": manager_id, "pin": "246813"},
                headers=headers,
                timeout=10,
            ).json()
            headers["X-Shopsmart-Manager"] = signed_in["token"]
            query = {
                "from": FIRST.isoformat(),
                "to": (FIRST + timedelta(days=DAYS - 1)).isoformat(),
            }
            session = requests.Session()
            rows = []
            asked = [(name, None) for name in REPORTS] + [(name, "T01") for name in TILL_FILTERED]
            for name, terminal in asked:
                params = query | ({"terminal": terminal} if terminal else {})
                samples = []
                for i in range(args.runs + 5):
                    started = time.perf_counter()
                    answer = session.get(
                        f"{base}/api/v1/reports/{name}", params=params, headers=headers, timeout=30
                    )
                    elapsed = time.perf_counter() - started
                    assert answer.status_code == 200, answer.text
                    if i >= 5:
                        samples.append(elapsed)
                found = len(answer.json()["rows"])
                captured = capture_sql(database_url, store_id, name, terminal)
                same_sql = time_sql(database_url, captured, args.runs)
                label = f"{name} (terminal={terminal})" if terminal else name
                rows.append((label, found, summary_ms(samples), summary_ms(same_sql)))
        start, end = local_days_utc(FIRST, FIRST + timedelta(days=DAYS - 1), store_zone(ZONE))
        base_rows = []
        with psycopg.connect(database_url, autocommit=True) as conn:
            lines = conn.execute("SELECT count(*) FROM order_lines").fetchone()[0]  # type: ignore[index]
            summary_rows = conn.execute(
                "SELECT (SELECT count(*) FROM report_sales), (SELECT count(*) FROM report_products),"
                " (SELECT count(*) FROM report_product_days)"
            ).fetchone()
            for label, sql in BASE_SQL.items():
                samples = []
                for i in range(8):
                    started = time.perf_counter()
                    conn.execute(
                        sql, {"zone": ZONE, "store": store_id, "start": start, "end": end}
                    ).fetchall()
                    if i >= 2:
                        samples.append(time.perf_counter() - started)
                base_rows.append((label, summary_ms(samples)))
    print("## Manager reports on the server\n")
    print(
        f"{lines:,} order lines ({args.orders:,} orders, {TERMINALS} tills, {CLERKS} clerks, "
        f"{PRODUCTS:,} products, {DAYS} days, 1 % voided, 2 % refunded) loaded set-based "
        f"(INSERT … SELECT, not the push) in "
        f"{sum(loaded.values()):.1f} s; summaries: {summary_rows[0]:,} sales rows, "  # type: ignore[index]
        f"{summary_rows[1]:,} product rows per till, {summary_rows[2]:,} per store and day. "  # type: ignore[index]
        f"PostgreSQL fsync={fsync}. gunicorn 2 sync workers "
        f"on 127.0.0.1, one client connection, {args.runs} requests per report over the whole "
        "month (after 5 warm-ups); beside each, the same SQL the endpoint ran, straight "
        "through psycopg.\n"
    )
    print(
        "| report | rows | endpoint p50 ms | endpoint p99 ms | same SQL p50 ms | same SQL p99 ms | p99 ≤ 300 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, found, (p50, p99, _), (s50, s99, _) in rows:
        verdict = "yes" if p99 <= LIMIT_MS else "**no**"
        print(f"| {name} | {found} | {p50:.1f} | {p99:.1f} | {s50:.1f} | {s99:.1f} | {verdict} |")
    print("\nFor scale, the same figures summed from the base rows instead of the summaries:\n")
    print("| query | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    for label, (p50, p99, _) in base_rows:
        print(f"| {label} | {p50:.1f} | {p99:.1f} |")
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
