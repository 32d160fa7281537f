"""The composition root of the terminal: the one place real adapters are built and wired.

``open_terminal`` returns a ``Terminal``: every service a screen or a CLI command needs, typed
(units of work, clock, ids, and the factories of the sync engine, the payment gateway and an
enrollment). Screens call these; they never build an adapter themselves, and ``ui`` imports
nothing from ``local_db``. Tests wire fakes or a temporary data directory instead.

Heavy imports (SQLAlchemy, Alembic, requests) happen inside the functions, so importing this
module costs nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.domain.ids import new_id
from app.domain.store import StoreProfile
from app.ports import Clock, IdFactory, PaymentGateway, PhonePaymentGateway, UnitOfWork
from app.services.reports import LocalReportQueries

if TYPE_CHECKING:
    from local_db.engine import Database
    from local_db.sync_store import SqliteSyncStore
    from sync.credentials import TokenStore
    from sync.engine import SyncEngine, SyncTransport
    from sync.enrollment import Enrollment
    from sync.payments import HttpPaymentGateway
    from sync.reports import HttpReportClient
    from sync.scheduler import SyncScheduler

log = logging.getLogger(__name__)


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
    clock: Clock = field(default_factory=SystemClock)
    ids: IdFactory = field(default_factory=Uuid7Factory)
    database: Database | None = None

    def uow(self) -> UnitOfWork:
        """A unit of work on the writer (``BEGIN IMMEDIATE``): run it in the DB worker."""
        return self.uow_factory()

    def read(self) -> UnitOfWork:
        """A read-only unit of work (deferred transaction), from any thread."""
        return self.read_uow_factory()

    def _database(self) -> Database:
        if self.database is None:
            raise RuntimeError("this terminal has no database")
        return self.database

    def checkpoint(self) -> None:
        if self.database is not None:
            self.database.checkpoint()

    def close(self) -> None:
        if self.database is not None:
            self.database.dispose()

    def sync_store(self) -> SqliteSyncStore:
        """The outbox and refused sales as the sync side sees them (the refused-sales
        dialog writes through it, in the DB worker)."""
        from local_db.sync_store import SqliteSyncStore

        return SqliteSyncStore(self._database().writer)

    def sync_engine(
        self, transport: Callable[[], SyncTransport | None] | None = None
    ) -> SyncEngine:
        """A sync engine for this till; without ``transport`` it never reaches a server
        (screenshots, tests)."""
        from local_db.sync_store import SqliteSyncStore
        from sync.engine import SyncEngine

        return SyncEngine(
            SqliteSyncStore(self._database().sync_writer),
            transport or (lambda: None),
            self.clock,
            after_push=self.finalise_shifts,
        )

    def finalise_shifts(self) -> list[Any]:
        """After each push: a Z closed during an outage becomes final once its shift has
        reached the server. The writer is taken only when a provisional Z exists (a read
        says so first), so a sync run costs no write transaction on an ordinary day."""
        from app.services.shifts import finalise_ready_shifts

        with self.read() as uow:
            if not uow.shifts.provisional():
                return []
        return finalise_ready_shifts(self.uow(), self.clock, self.ids)

    def token_file_chosen(self) -> bool:
        """A manager chose an encrypted token file (no OS keyring): its passphrase is asked
        for at start-up, before sync can use the token."""
        from sync.credentials import KEYRING_CHOICE

        with self.read() as uow:
            return uow.settings.get(KEYRING_CHOICE) == "encrypted-file"

    def unlock_token_file(self, passphrase: str) -> None:
        """Make the till's encrypted token file this process's keyring; a wrong passphrase
        raises (and changes nothing)."""
        from sync.credentials import use_encrypted_file

        use_encrypted_file(self.data_dir, passphrase)

    def reload_store(self) -> StoreProfile:
        """Read the store's settings again (an enrollment just brought the server's store)."""
        with self.read() as uow:
            values: dict[str, Any] = {
                key: uow.settings.get(key, getattr(self.store, key)) for key in STORE_SETTING_KEYS
            }
        self.store = replace(self.store, **values)
        return self.store

    def prepare_keyring(self) -> bool:
        """Make the keyring this till chose this process's one where no person is needed:
        the embedded demo's token file (for a loopback server only), or the encrypted token
        file whose passphrase the OS keyring remembers. False when a person must type that
        passphrase."""
        import keyring.errors

        from sync import credentials
        from sync.enrollment import current_enrollment

        with self.read() as uow:
            choice = uow.settings.get(credentials.KEYRING_CHOICE)
        if choice == credentials.KEYRING_DEMO_FILE:
            url = current_enrollment(self.read)[0]
            if url and credentials.is_loopback_url(url):
                credentials.use_demo_file(self.data_dir, url)
            return True
        if choice != credentials.KEYRING_ENCRYPTED_FILE:
            return True
        passphrase = credentials.remembered_passphrase(self.data_dir)
        if passphrase is None:
            return False
        try:
            credentials.use_encrypted_file(self.data_dir, passphrase)
        except (ValueError, keyring.errors.KeyringError) as error:  # changed since
            log.info("the remembered passphrase does not open the token file: %s", error)
            return False
        return True

    def open_sync(self, tokens: TokenStore | None = None) -> SyncScheduler:
        return open_sync(self, tokens)

    def payments(self, tokens: TokenStore | None = None) -> PaymentGateway | None:
        return open_payments(self, tokens)

    def phone_payments(self, tokens: TokenStore | None = None) -> PhonePaymentGateway | None:
        """The card links of phone orders (capture after picking): the same server API."""
        return _http_payments(self, tokens)

    def auto_enrollment(
        self, offer: str, tokens: TokenStore | None = None
    ) -> Callable[[], Enrollment] | None:
        return auto_enrollment(self, offer, tokens)

    def local_reports(self) -> LocalReportQueries:
        """The manager's reports over this till's own data (offline), on the reader."""
        from local_db.reports import SqliteReportQueries

        return SqliteReportQueries(self._database().reader)

    def report_server(self, tokens: TokenStore | None = None) -> HttpReportClient | None:
        """The server's reports for this till, or None while it is not enrolled."""
        from sync.credentials import TokenStore
        from sync.enrollment import current_enrollment
        from sync.http_transport import HttpSyncTransport
        from sync.reports import HttpReportClient

        url, terminal_id = current_enrollment(self.read)
        if not url or not terminal_id:
            return None
        token_store = tokens or TokenStore()
        return HttpReportClient(HttpSyncTransport(url, lambda: token_store.load(terminal_id)))


STORE_SETTING_KEYS = (
    "store_name",
    "store_address",
    "store_code",
    "terminal_code",
    "currency",
    "locale",
    "country",
)


def open_terminal(data_dir: Path) -> Terminal:
    """Open (create and migrate if needed) the terminal's store in ``data_dir``."""
    from local_db.engine import DB_FILENAME, open_database
    from local_db.uow import SqliteUnitOfWork
    from sync.wire import encode_event

    # Every file this till process writes is its own account's only (0600, directories 0700):
    # the token file, its temporary twin, exports. The database is made private explicitly.
    os.umask(0o077)
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
        uow_factory=lambda: SqliteUnitOfWork(database.writer, store.taxes, encode_event),
        read_uow_factory=lambda: SqliteUnitOfWork(database.reader, store.taxes),
        database=database,
    )


def default_data_dir() -> Path:
    """``SHOPSMART_DATA_DIR``, else the platform's user data directory."""
    from local_db.engine import default_data_dir as platform_data_dir

    return platform_data_dir()


def open_sync(terminal: Terminal, tokens: TokenStore | None = None) -> SyncScheduler:
    """Build the sync engine and its scheduler for this till (not started)."""
    from sync.credentials import TokenStore
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

    return SyncScheduler(terminal.sync_engine(transport))


def open_payments(terminal: Terminal, tokens: TokenStore | None = None) -> PaymentGateway | None:
    """The server's payment API for this till, or None while it is not enrolled."""
    return _http_payments(terminal, tokens)


def _http_payments(
    terminal: Terminal, tokens: TokenStore | None = None
) -> HttpPaymentGateway | None:
    from sync.credentials import TokenStore
    from sync.enrollment import current_enrollment
    from sync.http_transport import HttpSyncTransport
    from sync.payments import HttpPaymentGateway

    url, terminal_id = current_enrollment(terminal.read)
    if not url or not terminal_id:
        return None
    token_store = tokens or TokenStore()
    return HttpPaymentGateway(HttpSyncTransport(url, lambda: token_store.load(terminal_id)))


def auto_enrollment(
    terminal: Terminal, offer: str, tokens: TokenStore | None = None
) -> Callable[[], Enrollment] | None:
    """``make run`` hands the till its local server's code (``offer`` = "url code"): the
    enrollment to run on the network pool, or None when there is nothing to do — no offer,
    or the till is enrolled already. Without a secure keyring only a server on this computer
    (the embedded demo) is enrolled with: its token goes to the demo's 0600 file."""
    from sync import credentials
    from sync.enrollment import current_enrollment, enroll

    parts = offer.split()
    if len(parts) != 2 or current_enrollment(terminal.read)[0]:
        return None
    token_store = tokens or credentials.TokenStore()
    url, code = parts
    terminal_code = terminal.store.terminal_code
    if credentials.backend_is_safe(token_store.backend):
        return lambda: enroll(terminal.uow, token_store, url, code, terminal_code)
    if not credentials.is_loopback_url(url):
        log.info("not enrolling automatically: no secure keyring (Till → Server connection…)")
        return None

    def enroll_demo() -> Enrollment:
        demo = credentials.DemoFileKeyring(terminal.data_dir / credentials.DEMO_TOKEN_FILE)
        with terminal.uow() as uow:
            uow.settings.put(credentials.KEYRING_CHOICE, credentials.KEYRING_DEMO_FILE)
            uow.commit()
        enrollment = enroll(terminal.uow, credentials.TokenStore(demo), url, code, terminal_code)
        credentials.use_demo_file(terminal.data_dir, url)
        return enrollment

    return enroll_demo
