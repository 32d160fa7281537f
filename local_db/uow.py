"""Unit of work over the terminal's SQLite store: one connection, one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, Transaction

from app.domain.cart import Cart
from app.domain.tax import TaxTable
from app.ports import EventEncoder
from local_db.phone_orders import (
    SqliteCustomerRepository,
    SqlitePhoneOrderRepository,
    SqliteSlotRepository,
)
from local_db.repositories import (
    SqliteApprovalRepository,
    SqliteAuditRepository,
    SqliteCardAttemptRepository,
    SqliteClerkRepository,
    SqliteOrderRepository,
    SqliteOutboxRepository,
    SqliteParkedSaleRepository,
    SqliteProductRepository,
    SqliteRefundRepository,
    SqliteSequenceRepository,
    SqliteSettingsRepository,
)
from local_db.shift_store import SqliteShiftRepository


class SqliteUnitOfWork:
    """``with uow: …; uow.commit()`` — anything not committed is rolled back on exit.

    Opened on the writer engine every transaction starts with ``BEGIN IMMEDIATE``; opened on
    the reader engine (``read_only=True``) it is a deferred read transaction.
    """

    products: SqliteProductRepository
    orders: SqliteOrderRepository
    outbox: SqliteOutboxRepository
    sequences: SqliteSequenceRepository
    parked: SqliteParkedSaleRepository
    clerks: SqliteClerkRepository
    settings: SqliteSettingsRepository
    audit: SqliteAuditRepository
    approvals: SqliteApprovalRepository
    card_attempts: SqliteCardAttemptRepository
    refunds: SqliteRefundRepository
    customers: SqliteCustomerRepository
    slots: SqliteSlotRepository
    phone_orders: SqlitePhoneOrderRepository
    shifts: SqliteShiftRepository

    def __init__(
        self, engine: Engine, taxes: TaxTable | None = None, encode: EventEncoder | None = None
    ) -> None:
        """``encode`` turns the outbox's domain events into their wire form; a unit of work
        opened without one cannot queue events (reads, the sync engine's bookkeeping)."""
        self._engine = engine
        self._taxes = taxes
        self._encode = encode
        self._connection: Connection | None = None
        self._transaction: Transaction | None = None

    def _total_of(self, cart: Cart) -> int:
        return cart.totals(self._taxes).total if self._taxes else 0

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already open")
        self._connection = self._engine.connect()
        self._transaction = self._connection.begin()
        c = self._connection
        self.products = SqliteProductRepository(c)
        self.orders = SqliteOrderRepository(c)
        self.outbox = SqliteOutboxRepository(c, self._encode)
        self.sequences = SqliteSequenceRepository(c)
        self.parked = SqliteParkedSaleRepository(c, self._total_of)
        self.clerks = SqliteClerkRepository(c)
        self.settings = SqliteSettingsRepository(c)
        self.audit = SqliteAuditRepository(c)
        self.approvals = SqliteApprovalRepository(c)
        self.card_attempts = SqliteCardAttemptRepository(c)
        self.refunds = SqliteRefundRepository(c)
        self.customers = SqliteCustomerRepository(c)
        self.slots = SqliteSlotRepository(c)
        self.phone_orders = SqlitePhoneOrderRepository(c)
        self.shifts = SqliteShiftRepository(c)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._transaction = None

    def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("commit() outside `with uow:`")
        self._transaction.commit()

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
