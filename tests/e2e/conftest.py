"""End-to-end fixtures: the real server in a subprocess — every test runs twice, against the
embedded server as `make run` starts it (SQLite, scripts/run_embedded.py) and against
gunicorn on the real PostgreSQL of `make test` —, real tills (SQLite files, the real sync
engine over HTTP), an isolated keyring."""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from app.bootstrap import Terminal, open_terminal
from app.domain.clerk import Clerk, Role
from local_db.sync_store import SqliteSyncStore
from scripts import run_embedded
from server.admin import service as admin
from server.app import create_app
from server.cli import load_demo
from server.config import TestConfig
from server.db import make_engine, make_session_factory, unit_of_work, upgrade_database
from server.terminals.auth import create_enroll_code
from sync.credentials import TokenStore
from sync.engine import SyncEngine
from sync.enrollment import current_enrollment, enroll
from sync.http_transport import HttpSyncTransport
from tests.conftest import create_database, database_url, drop_database
from tests.server.conftest import localstripe_url, stripe_client

from .harness import EmbeddedServer, ServerProcess, keyring_for

__all__ = ["localstripe_url", "stripe_client"]  # fixtures shared with tests/server


SQLITE, POSTGRESQL = "sqlite-embedded", "postgresql-gunicorn"
UUID_TEXT = re.compile(r"\b(\w+)::text\b")


@dataclass
class Backend:
    kind: str  # SQLITE or POSTGRESQL
    server: ServerProcess | EmbeddedServer
    env: dict[str, str]
    database: str  # the PostgreSQL URL, or the path of the embedded server's SQLite file

    def enroll_code(self, store: str = "DEMO") -> str:
        """A one-time code, made by the server's own function in this process (what
        `shopsmart-server terminal enroll-code` runs, tests/server/test_cli.py; a CLI process
        per till would cost two seconds of CPU each)."""
        url = self.database if self.kind == POSTGRESQL else f"sqlite:///{self.database}"
        engine = make_engine(TestConfig(database_url=url).sqlalchemy_url, pool_size=1)
        try:
            with unit_of_work(make_session_factory(engine)) as session:
                store_id = admin.store_by_code(session, store).id
                return create_enroll_code(session, store_id, timedelta(hours=1))
        finally:
            engine.dispose()

    def sql(self, query: str, *params: object) -> list[tuple]:
        """``query`` (PostgreSQL's SQL, ``%s`` parameters) on the server's database. On SQLite
        ``%s`` becomes ``?`` and ``<uuid column>::text`` gives PostgreSQL's text of the uuid
        (SQLAlchemy keeps a uuid there as 32 hex digits)."""
        if self.kind == POSTGRESQL:
            with psycopg.connect(self.database) as conn:
                cursor = conn.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        query = UUID_TEXT.sub(r"uuid_text(\1)", query).replace("%s", "?")
        with closing(sqlite3.connect(self.database, timeout=30)) as conn, conn:
            conn.create_function("uuid_text", 1, _uuid_text, deterministic=True)
            return conn.execute(query, params).fetchall()


def _uuid_text(value: str | None) -> str | None:
    return None if value is None else str(uuid.UUID(value))


@pytest.fixture
def server_env_extra() -> dict[str, str]:
    """More environment for the server process (a test module may override this)."""
    return {}


@pytest.fixture(params=[SQLITE, POSTGRESQL])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, server_env_extra: dict[str, str]
) -> Iterator[Backend]:
    if request.param == SQLITE:
        template = request.getfixturevalue("sqlite_demo_template")
        yield from _embedded_backend(tmp_path, server_env_extra, template)
    else:
        url = request.getfixturevalue("pg_demo_url")
        yield from _gunicorn_backend(url, tmp_path, server_env_extra)


def _embedded_backend(tmp_path: Path, extra: dict[str, str], template: Path) -> Iterator[Backend]:
    """As `make run` does it: ``shopsmart-server run`` on its SQLite data directory, which
    here starts as a copy of the demo store's (``sqlite_demo_template``; tests/e2e/test_make_run.py
    runs `make run`'s own path whole, demo loading included)."""
    server_dir = tmp_path / "var" / "server"
    shutil.copytree(template, server_dir)
    env = {
        **run_embedded.server_environment(server_dir, os.environ),
        "SHOPSMART_LOG_LEVEL": "WARNING",
        **extra,
    }
    server = EmbeddedServer(env, tmp_path / "server.log")
    server.start()
    try:
        yield Backend(SQLITE, server, env, str(server_dir / "server.sqlite3"))
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded server's data directory migrated and loaded with the demo store once per
    worker: each SQLite backend starts from a copy (a `shopsmart-server demo` process per test
    cost ~3 s of CPU)."""
    server_dir = tmp_path_factory.mktemp("sqlite-demo") / "server"
    server_dir.mkdir()
    url = f"sqlite:///{server_dir / 'server.sqlite3'}"
    upgrade_database(TestConfig(database_url=url, data_dir=server_dir).sqlalchemy_url)
    _load_demo(url, server_dir)
    return server_dir


def _gunicorn_backend(pg_url: str, tmp_path: Path, extra: dict[str, str]) -> Iterator[Backend]:
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "SHOPSMART_DATA_DIR": str(tmp_path / "srv"),
        "SHOPSMART_LOG_LEVEL": "WARNING",
        **extra,
    }
    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    try:
        yield Backend(POSTGRESQL, server, env, pg_url)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_demo_template(
    pg_admin_url: str, pg_migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database with the demo store, made once per worker: the PostgreSQL backend's
    database is a copy of it (a copy costs a tenth of migrating and loading again)."""
    name = create_database(pg_admin_url, "demo", template=pg_migrated_template)
    try:
        _load_demo(database_url(pg_admin_url, name), tmp_path_factory.mktemp("demo-srv"))
        yield name
    finally:
        drop_database(pg_admin_url, name)


@pytest.fixture
def pg_demo_url(pg_admin_url: str, pg_demo_template: str) -> Iterator[str]:
    """A fresh copy of the demo database for one test, dropped afterwards."""
    name = create_database(pg_admin_url, template=pg_demo_template)
    try:
        yield database_url(pg_admin_url, name)
    finally:
        drop_database(pg_admin_url, name)


def _load_demo(url: str, data_dir: Path) -> None:
    """What `shopsmart-server demo` does (tests/server/test_cli.py runs that command) on a
    migrated database, done in this process: a CLI process costs ~2 s of CPU."""
    config = TestConfig(database_url=url, data_dir=data_dir)
    app = create_app(config)
    svc = app.extensions["shopsmart"]
    try:
        with unit_of_work(svc.sessions) as session:
            assert re.search(r"enrollment code: \S+", load_demo(session, svc, config))
    finally:
        svc.close()


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
        engine = SyncEngine(  # wired as the app wires it (app.bootstrap): Z reports finalise
            store,
            lambda: till_ref["till"].transport(),
            terminal.clock,
            rng=random.Random(7),
            after_push=terminal.finalise_shifts,
        )
        clerk = Clerk(id="e2e-clerk", name="Maria", role=Role.CLERK, pin_hash="x")
        till = Till(terminal, tokens, store, engine, clerk, via or "")
        till_ref["till"] = till
        tills.append(till)
        return till

    yield make
    for till in tills:
        till.close()
