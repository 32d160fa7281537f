"""End-to-end fixtures: the real server (gunicorn) in a subprocess on the real PostgreSQL of
`make test`, real tills (SQLite files, the real sync engine over HTTP), an isolated keyring."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from app.bootstrap import Terminal, open_terminal
from app.domain.clerk import Clerk, Role
from local_db.sync_store import SqliteSyncStore
from sync.credentials import TokenStore
from sync.engine import SyncEngine
from sync.enrollment import current_enrollment, enroll
from sync.http_transport import HttpSyncTransport
from tests.server.conftest import localstripe_url, stripe_client

from .harness import ServerProcess, keyring_for, server_cli

__all__ = ["localstripe_url", "stripe_client"]  # fixtures shared with tests/server


@dataclass
class Backend:
    server: ServerProcess
    env: dict[str, str]
    pg_url: str

    def enroll_code(self, store: str = "DEMO") -> str:
        return server_cli(self.env, "terminal", "enroll-code", "--store", store).strip().split()[-1]

    def sql(self, query: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.pg_url) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture
def server_env_extra() -> dict[str, str]:
    """More environment for the server process (a test module may override this)."""
    return {}


@pytest.fixture
def backend(pg_url: str, tmp_path: Path, server_env_extra: dict[str, str]) -> Iterator[Backend]:
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "SHOPSMART_DATA_DIR": str(tmp_path / "srv"),
        "SHOPSMART_LOG_LEVEL": "WARNING",
        **server_env_extra,
    }
    server_cli(env, "db", "upgrade")
    out = server_cli(env, "demo")
    assert re.search(r"enrollment code: \S+", out)
    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    try:
        yield Backend(server, env, pg_url)
    finally:
        server.stop()


@dataclass
class Till:
    terminal: Terminal
    tokens: TokenStore
    store: SqliteSyncStore
    engine: SyncEngine
    clerk: Clerk
    base_url: str

    def transport(self) -> HttpSyncTransport | None:
        url, terminal_id = current_enrollment(self.terminal.uow)
        if not url:
            return None
        return HttpSyncTransport(
            self.base_url or url, lambda: self.tokens.load(terminal_id), timeout=(2.0, 10.0)
        )

    def close(self) -> None:
        self.terminal.close()


@pytest.fixture
def make_till(backend: Backend, tmp_path: Path):
    tills: list[Till] = []

    def make(name: str = "T01", *, via: str | None = None) -> Till:
        terminal = open_terminal(tmp_path / name)
        tokens = keyring_for(tmp_path / name)
        enroll(terminal.uow, tokens, backend.server.url, backend.enroll_code(), name)
        terminal.close()
        terminal = open_terminal(tmp_path / name)  # the store profile now says who we are
        till_ref: dict[str, Till] = {}
        store = SqliteSyncStore(terminal.database.sync_writer)
        engine = SyncEngine(
            store, lambda: till_ref["till"].transport(), terminal.clock, rng=random.Random(7)
        )
        clerk = Clerk(id="e2e-clerk", name="Maria", role=Role.CLERK, pin_hash="x")
        till = Till(terminal, tokens, store, engine, clerk, via or "")
        till_ref["till"] = till
        tills.append(till)
        return till

    yield make
    for till in tills:
        till.close()
