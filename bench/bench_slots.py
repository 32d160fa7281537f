"""Delivery slot booking race on PostgreSQL: many clients, never one place too many.

50 concurrent clients send 5,000 bookings (``POST /api/v1/delivery-slots/{id}/bookings``,
one place each, a slot chosen at random) to gunicorn into 10 slots of 100 places (1,000 in
all). Every answer is 201 (booked) or 409 ``slot_full``; afterwards the places booked, the
booking rows and the 201s must all equal the capacity exactly. Beside it, the limit: the
same clients send the same number of raw ``UPDATE delivery_slots SET booked = booked + 1
WHERE id = … AND booked + 1 <= capacity`` statements straight to PostgreSQL (no HTTP, no
JSON, no booking row). Both on the throw-away cluster of ``make bench`` (fsync,
synchronous_commit and full_page_writes off), then again on a cluster with PostgreSQL's own
durable settings. Needs SHOPSMART_TEST_DATABASE_URL (``make bench`` starts PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_server import bench_database, gunicorn, in_threads
from bench.common import machine, summary_ms

SLOTS = 10


@dataclass(frozen=True)
class Race:
    label: str
    attempts: int
    booked: int
    refused: int
    in_database: int
    wall: float
    latencies: list[float]


def prepare(database_url: str, clients: int, places: int) -> tuple[list[str], list[str], list[str]]:
    """Migrate, a store with two sets of slots (HTTP, raw), and an enroll code per client."""
    from server.admin import service as admin
    from server.app import create_app
    from server.config import Config
    from server.db import unit_of_work, upgrade_database
    from server.terminals.auth import create_enroll_code

    config = Config(database_url=database_url, log_level="WARNING")
    upgrade_database(config.sqlalchemy_url)
    app = create_app(config)
    svc = app.extensions["shopsmart"]
    starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    with unit_of_work(svc.sessions) as session:
        store = admin.create_store(session, "B1", "Bench store")
        sets = [
            [
                str(
                    admin.add_delivery_slot(
                        session,
                        store,
                        starts + timedelta(hours=2 * i, days=day),
                        timedelta(hours=2),
                        places // SLOTS,
                    ).id
                )
                for i in range(SLOTS)
            ]
            for day in (0, 1)
        ]
        codes = [create_enroll_code(session, store.id, timedelta(hours=1)) for _ in range(clients)]
    svc.close()
    return sets[0], sets[1], codes


def http_race(base: str, tokens: list[str], slots: list[str], attempts: int) -> Race:
    import requests

    rng = random.Random(13)
    items = [(rng.choice(slots), str(uuid.uuid4())) for _ in range(attempts)]
    free_tokens = iter(tokens)  # next() of one iterator: each client its own token
    counts: Counter[int] = Counter()
    lock = threading.Lock()

    @contextmanager
    def client() -> Iterator[requests.Session]:
        with requests.Session() as session:
            session.headers.update(
                {"Authorization": f"Bearer {next(free_tokens)}", "X-Shopsmart-Protocol": "1"}
            )
            yield session

    def book(session: requests.Session, item: tuple[str, str]) -> None:
        slot_id, booking_id = item
        answer = session.post(
            f"{base}/api/v1/delivery-slots/{slot_id}/bookings",
            json={"booking_id": booking_id, "units": 1},
            timeout=60,
        )
        if answer.status_code not in (201, 409) or (
            answer.status_code == 409 and answer.json().get("error") != "slot_full"
        ):
            raise RuntimeError(f"booking answered {answer.status_code}: {answer.text[:300]}")
        with lock:
            counts[answer.status_code] += 1

    wall, latencies = in_threads(items, len(tokens), client, book)
    return Race(
        "HTTP booking (gunicorn)",
        attempts,
        counts[201],
        counts[409],
        0,
        wall,
        latencies,
    )


def raw_race(database_url: str, clients: int, slots: list[str], attempts: int) -> Race:
    import psycopg

    rng = random.Random(17)
    items = [rng.choice(slots) for _ in range(attempts)]
    booked = Counter[bool]()
    lock = threading.Lock()

    @contextmanager
    def connection() -> Iterator[Any]:
        with psycopg.connect(database_url, autocommit=True) as conn:
            yield conn

    def book(conn: Any, slot_id: str) -> None:
        done = conn.execute(
            "UPDATE delivery_slots SET booked = booked + 1 WHERE id = %s AND booked + 1 <= capacity",
            (uuid.UUID(slot_id),),
        )
        with lock:
            booked[done.rowcount == 1] += 1

    wall, latencies = in_threads(items, clients, connection, book)
    return Race(
        "raw UPDATE … WHERE booked < capacity",
        attempts,
        booked[True],
        booked[False],
        0,
        wall,
        latencies,
    )


def in_database(database_url: str, slots: list[str], with_rows: bool) -> tuple[int, int, int]:
    """Places booked, capacity, and (for HTTP) the booking rows still holding a place."""
    import psycopg

    ids = [uuid.UUID(s) for s in slots]
    with psycopg.connect(database_url) as conn:
        booked, capacity = conn.execute(
            "SELECT sum(booked), sum(capacity) FROM delivery_slots WHERE id = ANY(%s)", (ids,)
        ).fetchone()
        rows = (
            conn.execute(
                "SELECT count(*) FROM slot_bookings WHERE slot_id = ANY(%s) AND released_at IS NULL",
                (ids,),
            ).fetchone()[0]
            if with_rows
            else booked
        )
    return int(booked), int(capacity), int(rows)


def run(admin_url: str, args: argparse.Namespace) -> list[Race]:
    import requests

    races = []
    with bench_database(admin_url) as database_url:
        http_slots, raw_slots, codes = prepare(database_url, args.clients, args.places)
        with gunicorn(database_url, args.workers) as base:
            tokens = [
                requests.post(
                    f"{base}/api/v1/terminals/enroll",
                    json={"protocol_version": 1, "code": code, "terminal_code": f"W{i:02d}"},
                    timeout=30,
                ).json()["token"]
                for i, code in enumerate(codes)
            ]
            race = http_race(base, tokens, http_slots, args.attempts)
        booked, capacity, rows = in_database(database_url, http_slots, with_rows=True)
        assert booked == capacity == rows == race.booked, (booked, capacity, rows, race)
        assert race.booked + race.refused == args.attempts
        races.append(Race(**{**race.__dict__, "in_database": booked}))
        race = raw_race(database_url, args.clients, raw_slots, args.attempts)
        booked, capacity, _ = in_database(database_url, raw_slots, with_rows=False)
        assert booked == capacity == race.booked, (booked, capacity, race)
        races.append(Race(**{**race.__dict__, "in_database": booked}))
    return races


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_slots")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--attempts", type=int, default=5000)
    parser.add_argument("--places", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-durable", action="store_true", help="skip the fsync-on cluster")
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SHOPSMART_TEST_DATABASE_URL")
    if not admin_url:
        print("SHOPSMART_TEST_DATABASE_URL is not set: run `make bench`", file=sys.stderr)
        return 2
    # one enrollment per client from one address: past the open routes' per-address limit
    os.environ.setdefault("SHOPSMART_OPEN_RATE_LIMIT_PER_MINUTE", "1000000")
    os.environ.setdefault("SHOPSMART_OPEN_RATE_LIMIT_BURST", "1000000")
    results = [("fsync off", race) for race in run(admin_url, args)]
    if not args.no_durable:
        from scripts.with_postgres import cluster

        with cluster(durable=True) as durable_url:
            results += [("fsync on", race) for race in run(durable_url, args)]
    print("## Delivery slot booking race\n")
    print(f"Machine: {machine()}\n")
    print(
        f"{args.clients} concurrent clients, {args.attempts:,} bookings of one place each into "
        f"{SLOTS} slots of {args.places // SLOTS} places ({args.places:,} in all), a slot chosen "
        f"at random; gunicorn {args.workers} sync workers and PostgreSQL on the same machine. "
        '"booked" counts the 201 answers (or updated rows), "in the database" the places '
        "the slots hold afterwards (for HTTP also equal to the booking rows): both must be the "
        "capacity exactly. The raw UPDATE loop is the limit: the same clients, one conditional "
        "UPDATE per booking straight to PostgreSQL. fsync off: the `make bench` cluster "
        "(fsync, synchronous_commit, full_page_writes off); fsync on: PostgreSQL's own "
        "settings.\n"
    )
    print(
        "| cluster | scenario | attempts | booked | refused | in the database | seconds | "
        "attempts/s | p50 ms | p99 ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cluster_name, race in results:
        p50, p99, _ = summary_ms(race.latencies)
        print(
            f"| {cluster_name} | {race.label} | {race.attempts:,} | {race.booked:,} | "
            f"{race.refused:,} | {race.in_database:,} | {race.wall:.2f} | "
            f"{race.attempts / race.wall:,.0f} | {p50:.1f} | {p99:.1f} |"
        )
    for cluster_name in ("fsync off", "fsync on"):
        pair = [race for name, race in results if name == cluster_name]
        if len(pair) == 2:
            share = (pair[0].attempts / pair[0].wall) / (pair[1].attempts / pair[1].wall)
            print(f"\n{cluster_name}: HTTP bookings at {share:.0%} of the raw UPDATE loop's rate.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
