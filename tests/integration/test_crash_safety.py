"""A till killed at any instant keeps every sale whole and never repeats a receipt number."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from local_db.engine import DB_FILENAME

KILLS = 50
ROOT = Path(__file__).resolve().parents[2]


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
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.crash_writer", str(data_dir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.08))
        child.send_signal(signal.SIGKILL)
        output, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        acknowledged.update(line for line in output.split() if line.startswith("T01-"))
        now_stored = check_store(data_dir / DB_FILENAME, acknowledged)
        assert now_stored >= stored
        stored = now_stored
    assert stored > KILLS  # the writer really was writing when it was killed
