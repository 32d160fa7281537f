"""A till killed with SIGKILL in the middle of a push or a pull, 20 times, still converges."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import pytest

from sync.engine import ConnectionState
from tests.fork_server import ForkServer

from .harness import ROOT, server_cli
from .test_offline_sync import sell

KILLS = 20
SALES = 3000


@pytest.fixture
def server_env_extra() -> dict[str, str]:
    """The children resend in quick succession: this test is about SIGKILL, not about the
    per-terminal rate limit (tests/server/test_auth.py covers that)."""
    return {"SHOPSMART_RATE_LIMIT_PER_MINUTE": "1000000", "SHOPSMART_RATE_LIMIT_BURST": "100000"}


def kill_children(data_dir, batch: int, page: int, rng: random.Random, window: float) -> int:
    """Start the syncing child again and again, killing it at a random moment; returns kills."""
    kills = 0
    # Each child is a till process of its own, forked from one that imported the code once.
    args = (str(data_dir), str(batch), str(page))
    with ForkServer("tests.e2e.sync_child", "--fork-server", *args) as children:
        for _ in range(KILLS):
            children.fork()
            time.sleep(rng.uniform(0.0, window))
            killed, _ = children.kill()
            kills += killed
    return kills


def finish(data_dir, batch: int, page: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.sync_child", str(data_dir), str(batch), str(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "converged" in done.stdout, done.stderr[-2000:]


def test_killed_during_push_20_times_every_sale_arrives_once(backend, make_till, tmp_path):
    till = make_till("T01")
    assert till.engine.run_once().state is ConnectionState.ONLINE
    backend.server.stop()
    sold = sell(till, random.Random(5), SALES)
    backend.server.start()
    data_dir = till.terminal.data_dir
    till.close()
    # Small batches and short lives: the drain takes over a second, each child lives
    # at most 50 ms after it is ready, so the kills land mid-push.
    kills = kill_children(data_dir, 10, 500, random.Random(6), window=0.05)
    assert kills >= 10  # most runs were really interrupted
    finish(data_dir, 10, 500)
    on_server = backend.sql("SELECT id::text, total FROM orders")
    assert len(on_server) == len(set(on_server)) == SALES
    assert sorted(on_server) == sorted(sold)
    assert backend.sql("SELECT count(*) FROM sync_conflicts") == [(0,)]


def test_killed_during_pull_20_times_the_catalog_converges(backend, make_till, tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps(
            [
                {
                    "id": f"bulk-{i:05d}",
                    "sku": f"BULK-{i:05d}",
                    "name": f"Bulk item {i}",
                    "unit_price": 100 + i,
                    "tax_class": "food",
                    "department": "pantry",
                }
                for i in range(10_000)
            ]
        )
    )
    server_cli(backend.env, "product", "import", str(catalog))
    till = make_till("T01")
    data_dir = till.terminal.data_dir
    till.close()
    kills = kill_children(data_dir, 200, 25, random.Random(8), window=0.3)
    assert kills >= 10
    finish(data_dir, 200, 500)
    from app.bootstrap import open_terminal

    terminal = open_terminal(data_dir)
    try:
        with terminal.read() as uow:
            assert uow.products.count() == backend.sql("SELECT count(*) FROM products")[0][0]
            assert uow.products.by_code("BULK-09999").unit_price == 10_099
    finally:
        terminal.close()
