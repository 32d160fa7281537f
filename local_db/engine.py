"""SQLite engines for the terminal's local store.

Every connection gets: ``journal_mode=WAL`` (readers never wait for the writer),
``synchronous=FULL`` (see below), ``foreign_keys=ON``, and a busy timeout.

Why ``synchronous=FULL``: in WAL mode ``NORMAL`` skips the fsync of the WAL at each commit,
so a power cut or OS crash can lose the last committed sales even though the clerk saw
"paid" and handed over the goods. ``FULL`` fsyncs the WAL on every commit, so a sale is on
disk the moment Pay returns. It costs ~0.3 ms per commit here (docs/benchmarks.md), which a
counter never notices.

Two engines share one file: the *writer* starts every transaction with ``BEGIN IMMEDIATE``
so read-then-write transactions (the receipt sequence) can never deadlock on a lock upgrade;
the *reader* uses plain deferred transactions for quick indexed reads from any thread.

A third, the *sync writer*, is the writer with ``synchronous=NORMAL``: the sync engine's
bookkeeping (an event sent, acknowledged; a pulled page and its cursor) needs no fsync of
its own. A power cut may roll back its last commits, never tear one (WAL keeps NORMAL free
of corruption), and what rolls back is harmless by design: an event marked done goes again
and the server answers ``duplicate``; a pulled page comes again with its cursor. The next
sale's FULL commit fsyncs the WAL, and with it every frame written before. This halves the
fsyncs of a drain (docs/sync.md).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 5000
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
)
DB_FILENAME = "shopsmart.sqlite3"


def apply_pragmas(dbapi_connection: sqlite3.Connection, synchronous: str = "FULL") -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        if synchronous != "FULL":
            cursor.execute(f"PRAGMA synchronous={synchronous}")
    finally:
        cursor.close()


def _make_engine(
    path: Path, *, immediate: bool, synchronous: str = "FULL", pool_size: int | None = None
) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=QueuePool,
        pool_size=pool_size or (2 if immediate else 4),
        max_overflow=4,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        apply_pragmas(dbapi_connection, synchronous)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass
class Database:
    path: Path
    writer: Engine
    reader: Engine
    sync_writer: Engine  # the writer without an fsync per commit: sync bookkeeping only

    def checkpoint(self) -> None:
        """Copy the WAL back into the database file now (PASSIVE: never waits for readers).

        The app runs this in the DB worker right after each sale, off the clerk's path, so
        the commit of the next sale rarely pays for SQLite's automatic checkpoint.
        """
        raw = self.writer.raw_connection()  # outside any transaction, as a checkpoint must be
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        finally:
            raw.close()

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()
        self.sync_writer.dispose()


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private(path: Path) -> None:
    """The till's data directory 0700 and its SQLite file (with ``-wal``/``-shm``) 0600.

    The file holds PIN hashes, customers' names and addresses and every sale: no other
    account of the computer reads it. A missing file is created empty (SQLite takes an empty
    file as a new database) with mode 0600, so it is never readable by others, not even for
    a moment; SQLite creates its ``-wal`` and ``-shm`` files with the database file's mode.
    A till installed before this rule is tightened at its next start.
    """
    directory = path.parent
    directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(directory, PRIVATE_DIR_MODE)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        if (directory / name).exists():
            os.chmod(directory / name, PRIVATE_FILE_MODE)


def open_database(path: Path, *, migrate: bool = True) -> Database:
    """Open (and by default migrate to head) the terminal database at ``path``."""
    make_private(path)
    if migrate:
        from local_db.migrate import upgrade_to_head

        upgrade_to_head(path)
    return Database(
        path=path,
        writer=_make_engine(path, immediate=True),
        reader=_make_engine(path, immediate=False),
        sync_writer=_make_engine(path, immediate=True, synchronous="NORMAL", pool_size=1),
    )


def default_data_dir() -> Path:
    """``--data-dir`` wins, then ``SHOPSMART_DATA_DIR``, then the platform's user data dir."""
    override = os.environ.get("SHOPSMART_DATA_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("ShopSmart", "ShopSmart"))
