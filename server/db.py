"""Engine, sessions and migrations. Nothing here runs at import time."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

log = logging.getLogger("shopsmart.server.db")
T = TypeVar("T")

# PostgreSQL: deadlock_detected, serialization_failure. SQLite: the database is busy or locked.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRYABLE_SQLITE_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
TRANSACTION_ATTEMPTS = 4

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """The engine; a database error's text never carries the statement's parameters (a
    customer's name, phone or address would otherwise reach the error log)."""
    if url.startswith("sqlite"):
        _make_sqlite_directory(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        insertmanyvalues_page_size=1000,
        hide_parameters=True,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends cleanly, else rolled back."""
    with factory() as session, session.begin():
        yield session


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether the database gave up on the transaction because of another one (a deadlock,
    a serialization failure, a busy or locked SQLite file): running it again may succeed.
    Told by the driver's error code, never by the wording of the message."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg
    if sqlstate is not None:
        return sqlstate in RETRYABLE_SQLSTATES
    code = getattr(exc.orig, "sqlite_errorcode", None)  # sqlite3 (extended code)
    return code is not None and code & 0xFF in RETRYABLE_SQLITE_CODES


def in_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = TRANSACTION_ATTEMPTS,
    what: str = "transaction",
) -> T:
    """``work(session)`` in one transaction, committed if it returns; run again from the
    start (a fresh session) after a transient conflict, at most ``attempts`` times."""

    def once() -> T:
        with factory() as session, session.begin():
            return work(session)

    def say_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        orig = getattr(exc, "orig", None)
        log.warning(
            f"{what} retried",
            extra={
                "event": "transaction_retry",
                "what": what,
                "sqlstate": getattr(orig, "sqlstate", None),
                "sqlite_errorcode": getattr(orig, "sqlite_errorcode", None),
            },
        )

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        retry=retry_if_exception(is_transient_conflict),
        before_sleep=say_retry,
        reraise=True,
    )
    return retrying(once)


def alembic_config(url: str) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def schema_revision(url: str) -> str | None:
    """The Alembic revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    _make_sqlite_directory(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision
    finally:
        engine.dispose()


def upgrade_database(url: str, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (programmatically, no alembic.ini)."""
    from alembic import command

    _make_sqlite_directory(url)
    command.upgrade(alembic_config(url), revision)


def _make_sqlite_directory(url: str) -> None:
    """An SQLite database's directory, made if missing (the first `make run`)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
