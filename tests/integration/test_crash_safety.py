"""A till killed at any instant keeps every sale whole and never repeats a receipt number."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from pathlib import Path

from local_db.engine import DB_FILENAME
from tests.fork_server import ForkServer

KILLS = 50


def check_store(path: Path, acknowledged: set[str]) -> int:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        orders = db.execute("SELECT id, receipt_no, sequence, total FROM orders").fetchall()
        receipts = [row[1] for row in orders]
        assert len(receipts) == len(set(receipts)), "a receipt number repeats"
        sequences = sorted(row[2] for row in orders)
        assert sequences == list(range(1, len(orders) + 1)), "a committed number was skipped"
        for order_id, receipt_no, _seq, total in orders:
            lines = db.execute(
                "SELECT count(*), coalesce(sum(net), 0) FROM order_lines WHERE order_id = ?",
                (order_id,),
            ).fetchone()
            tenders = db.execute(
                "SELECT count(*), coalesce(sum(amount), 0) FROM tenders WHERE order_id = ?",
                (order_id,),
            ).fetchone()
            outbox = db.execute(
                "SELECT payload FROM outbox WHERE event_id = ?", (order_id,)
            ).fetchall()
            assert lines == (3, total), f"{receipt_no} has partial lines"
            assert tenders == (1, total), f"{receipt_no} has no whole tender"
            assert len(outbox) == 1 and json.loads(outbox[0][0])["payload"]["total"] == total
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == len(orders)
    missing = acknowledged - set(receipts)
    assert not missing, f"sales reported durable were lost: {sorted(missing)[:5]}"
    return len(orders)


def test_sigkill_at_random_points_leaves_every_order_whole(tmp_path):
    rng = random.Random(20261125)
    data_dir = tmp_path / "till"
    acknowledged: set[str] = set()
    stored = 0
    # Each writer is a process of its own, forked from one that imported the code once.
    with ForkServer("tests.integration.crash_writer", "--fork-server", str(data_dir)) as writers:
        for _ in range(KILLS):
            assert writers.fork() == []
            time.sleep(rng.uniform(0.0, 0.08))
            killed, output = writers.kill()
            assert killed
            acknowledged.update(line for line in output if line.startswith("T01-"))
            now_stored = check_store(data_dir / DB_FILENAME, acknowledged)
            assert now_stored >= stored
            stored = now_stored
    assert stored > KILLS  # the writer really was writing when it was killed
