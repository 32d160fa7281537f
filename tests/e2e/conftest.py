"""End-to-end fixtures: the real server (gunicorn) in a subprocess on the real PostgreSQL of
`make test`, real tills (SQLite files, the real sync engine over HTTP), an isolated keyring."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from app.bootstrap import Terminal, open_terminal
from app.domain.clerk import Clerk, Role
from local_db.sync_store import SqliteSyncStore
from sync.credentials import EncryptedFileKeyring, TokenStore
from sync.engine import SyncEngine
from sync.enrollment import current_enrollment, enroll
from sync.http_transport import HttpSyncTransport

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """gunicorn running the sync server; stop() and start() again on the same port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**self.env, "SHOPSMART_BIND": f"127.0.0.1:{self.port}", "SHOPSMART_WORKERS": "2"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy in 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


def server_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "shopsmart-server"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"shopsmart-server {' '.join(args)} failed: {done.stderr}")
    return done.stdout


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
def backend(pg_url: str, tmp_path: Path) -> Iterator[Backend]:
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "SHOPSMART_DATA_DIR": str(tmp_path / "srv"),
        "SHOPSMART_LOG_LEVEL": "WARNING",
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


def keyring_for(path: Path) -> TokenStore:
    return TokenStore(EncryptedFileKeyring(path / "tokens.json", "e2e passphrase"))


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
        store = SqliteSyncStore(terminal.database.writer)
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
