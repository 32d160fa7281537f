"""The composition root of the terminal: the one place real adapters are built and wired.

Tests wire fakes or a temporary data directory instead. Heavy imports (SQLAlchemy, Alembic)
happen inside ``open_terminal`` so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.ids import new_id
from app.domain.store import StoreProfile
from app.ports import UnitOfWork


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Uuid7Factory:
    def new_id(self) -> str:
        return new_id()


@dataclass
class Terminal:
    """Everything a screen or a CLI command needs to run use cases on this till."""

    data_dir: Path
    store: StoreProfile
    uow_factory: Callable[[], UnitOfWork]
    read_uow_factory: Callable[[], UnitOfWork]
    clock: SystemClock = field(default_factory=SystemClock)
    ids: Uuid7Factory = field(default_factory=Uuid7Factory)
    database: Any = None

    def uow(self) -> UnitOfWork:
        return self.uow_factory()

    def read(self) -> UnitOfWork:
        return self.read_uow_factory()

    def checkpoint(self) -> None:
        if self.database is not None:
            self.database.checkpoint()

    def close(self) -> None:
        if self.database is not None:
            self.database.dispose()


STORE_SETTING_KEYS = ("store_name", "store_address", "store_code", "terminal_code", "currency")


def open_terminal(data_dir: Path) -> Terminal:
    """Open (create and migrate if needed) the terminal's store in ``data_dir``."""
    from local_db.engine import DB_FILENAME, open_database
    from local_db.uow import SqliteUnitOfWork

    database = open_database(data_dir / DB_FILENAME)
    defaults = StoreProfile()
    with SqliteUnitOfWork(database.reader) as uow:
        values: dict[str, Any] = {
            key: uow.settings.get(key, getattr(defaults, key)) for key in STORE_SETTING_KEYS
        }
    store = replace(defaults, **values)
    return Terminal(
        data_dir=data_dir,
        store=store,
        uow_factory=lambda: SqliteUnitOfWork(database.writer, store.taxes),
        read_uow_factory=lambda: SqliteUnitOfWork(database.reader, store.taxes),
        database=database,
    )


def open_sync(terminal: Terminal, tokens: Any = None) -> Any:
    """Build the sync engine and its scheduler for this till (not started)."""
    from local_db.sync_store import SqliteSyncStore
    from sync.credentials import TokenStore
    from sync.engine import SyncEngine
    from sync.enrollment import current_enrollment
    from sync.http_transport import HttpSyncTransport
    from sync.scheduler import SyncScheduler

    token_store = tokens or TokenStore()
    transports: dict[tuple[str, str], HttpSyncTransport] = {}

    def transport() -> HttpSyncTransport | None:
        url, terminal_id = current_enrollment(terminal.read)  # a read: no write lock
        if not url or not terminal_id:
            return None
        key = (url, terminal_id)
        if key not in transports:
            transports.clear()
            transports[key] = HttpSyncTransport(url, lambda: token_store.load(terminal_id))
        return transports[key]

    engine = SyncEngine(SqliteSyncStore(terminal.database.sync_writer), transport, terminal.clock)
    return SyncScheduler(engine)


def open_payments(terminal: Terminal, tokens: Any = None) -> Any:
    """The server's payment API for this till, or None while it is not enrolled."""
    from sync.credentials import TokenStore
    from sync.enrollment import current_enrollment
    from sync.http_transport import HttpSyncTransport
    from sync.payments import HttpPaymentGateway

    url, terminal_id = current_enrollment(terminal.read)
    if not url or not terminal_id:
        return None
    token_store = tokens or TokenStore()
    return HttpPaymentGateway(HttpSyncTransport(url, lambda: token_store.load(terminal_id)))
