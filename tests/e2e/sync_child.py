"""Child process for the SIGKILL tests: a till syncing in a loop until nothing is left.

``sync_child DATA_DIR BATCH PAGE [URL]`` syncs (through ``URL``, a fault proxy say, instead
of the server it enrolled with); ``sync_child --fork-server DATA_DIR BATCH PAGE`` forks a
fresh syncing till for each round the test asks for (tests/fork_server.py).
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from app.bootstrap import open_terminal
from local_db.sync_store import SqliteSyncStore
from sync.engine import ConnectionState, SyncEngine
from sync.enrollment import current_enrollment
from sync.http_transport import HttpSyncTransport
from tests.e2e.harness import keyring_for


def main(data_dir: Path, batch: int, page: int, via: str = "") -> int:
    terminal = open_terminal(data_dir)
    tokens = keyring_for(data_dir)
    url, terminal_id = current_enrollment(terminal.read)
    transport = HttpSyncTransport(via or url, lambda: tokens.load(terminal_id), timeout=(2.0, 10.0))
    engine = SyncEngine(
        SqliteSyncStore(terminal.database.sync_writer),
        lambda: transport,
        terminal.clock,
        rng=random.Random(),
        push_batch=batch,
        pull_page=page,
    )
    print("ready", flush=True)
    for _ in range(100):
        status = engine.run_once(force=True)
        if status.state is ConnectionState.ONLINE and status.waiting == 0:
            print("converged", flush=True)
            return 0
    return 1


def warm_up() -> None:
    """Open a throw-away till, so the modules a till opens with are imported before forking."""
    with tempfile.TemporaryDirectory() as scratch:
        open_terminal(Path(scratch)).close()


if __name__ == "__main__":
    if sys.argv[1] == "--fork-server":
        from tests.fork_server import serve

        warm_up()
        serve(lambda: main(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
    else:
        via = sys.argv[4] if len(sys.argv) > 4 else ""
        sys.exit(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), via))
