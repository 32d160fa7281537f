"""The offline-first sync engine: push the outbox, pull server changes, never lose or double.

Plain Python, no Qt: it runs on a background thread (``sync.scheduler``) and reports its
``SyncStatus`` to listeners; the UI turns that into a Qt signal.

Push: events leave in outbox order in bounded batches; an event is done only after the
server's per-event answer (accepted or duplicate). Rejected events stay, with the server's
reason, for a manager; they never block the events behind them. A batch the server refuses as
a whole is split in halves until the bad event is alone, and that one is marked rejected.
Pull: page by page, each page applied with its cursor in one local transaction.
Failures back off exponentially with full jitter and a cap, so a fleet of tills coming back
at once does not storm the server.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from app.domain.clerk import Role
from app.domain.errors import PosError
from app.domain.product import Product, SoldBy
from app.domain.sync import (
    ClerkRecord,
    CustomerRecord,
    DeliverySlotRecord,
    OutboxEvent,
    PulledPage,
    PushOutcome,
    ResultStatus,
)
from sync import protocol as p
from sync.errors import (
    AuthFailed,
    BatchRefused,
    IncompatibleServer,
    ServerTrouble,
    ServerUnreachable,
    SyncError,
)

log = logging.getLogger("shopsmart.sync")
T = TypeVar("T")

PUSH_BATCH = 200
PULL_PAGE = 500
MAX_PAGES_PER_RUN = 200
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
SLOW_ANSWER_S = 5.0  # an answer slower than this marks the connection degraded


class ConnectionState(enum.StrEnum):
    NOT_ENROLLED = "not enrolled"
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"
    DEGRADED = "degraded"
    AUTH_FAILED = "auth failed"
    INCOMPATIBLE = "server version mismatch"


@dataclass(frozen=True, slots=True)
class SyncStatus:
    state: ConnectionState
    waiting: int = 0
    rejected: int = 0
    last_success_at: datetime | None = None
    reason: str = ""
    next_attempt_at: datetime | None = None
    running: bool = False

    @property
    def card_available(self) -> bool:
        return self.state is ConnectionState.ONLINE


class SyncStore(Protocol):
    def pending_events(self, limit: int, after_seq: int = 0) -> list[OutboxEvent]: ...
    def mark_sent(self, event_ids: list[str]) -> None: ...
    def record_results(self, outcomes: list[PushOutcome]) -> None: ...
    def record_transport_error(self, event_ids: list[str], message: str) -> None: ...
    def counts(self) -> tuple[int, int]: ...
    def cursor(self) -> str: ...
    def apply_pull(self, page: PulledPage) -> None: ...
    def last_success(self) -> datetime | None: ...
    def note_success(self, at: datetime) -> None: ...


class SyncTransport(Protocol):
    last_duration_s: float

    def push(self, events: Sequence[str]) -> p.PushResponse:
        """Send events, each the JSON text of one event as it was queued."""
        ...

    def pull(self, cursor: str, limit: int = ...) -> p.PullResponse: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


def backoff_delay(failures: int, rng: random.Random, retry_after: float | None = None) -> float:
    """Full-jitter exponential backoff: uniform(0, min(cap, base × 2^(n−1))), at least Retry-After."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** max(0, failures - 1)))
    delay = rng.uniform(ceiling / 2, ceiling) if failures else 0.0
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


class SyncEngine:
    def __init__(
        self,
        store: SyncStore,
        transport_factory: Callable[[], SyncTransport | None],
        clock: Clock,
        *,
        rng: random.Random | None = None,
        push_batch: int = PUSH_BATCH,
        pull_page: int = PULL_PAGE,
    ) -> None:
        self._store = store
        self._transport_factory = transport_factory
        self._clock = clock
        self._rng = rng or random.Random()
        self._push_batch = push_batch
        self._pull_page = pull_page
        self._lock = threading.Lock()  # one run at a time
        self._publish_lock = threading.RLock()  # counts read and published together
        self._again = False  # a kick arrived during a run: run once more right after it
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._failures = 0
        self._status = SyncStatus(ConnectionState.CONNECTING)

    # ------------------------------------------------------------------ status

    @property
    def status(self) -> SyncStatus:
        return self._status

    def subscribe(self, listener: Callable[[SyncStatus], None]) -> None:
        self._listeners.append(listener)

    def _publish(self, status: SyncStatus) -> None:
        self._status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # a broken listener must not stop sync
                log.exception("sync status listener failed")

    def _publish_counted(self, make: Callable[[int, int], SyncStatus]) -> SyncStatus:
        """Read the outbox counts and publish under one lock, so a slower reader can never
        publish older counts over newer ones."""
        with self._publish_lock:
            waiting, rejected = self._store.counts()
            status = make(waiting, rejected)
            self._publish(status)
            return status

    def refresh_counts(self) -> SyncStatus:
        last = self._store.last_success()
        return self._publish_counted(
            lambda waiting, rejected: replace(
                self._status, waiting=waiting, rejected=rejected, last_success_at=last
            )
        )

    # ------------------------------------------------------------------ one run

    def run_once(self, *, force: bool = False) -> SyncStatus:
        """Push everything waiting, then pull every change. Never runs twice at once: a call
        during a run makes that run go round once more, so a sale made meanwhile is not left
        waiting for the next interval."""
        if not self._lock.acquire(blocking=False):
            self._again = True
            return self._status
        try:
            status = self._run(force)
            while self._again and status.state is ConnectionState.ONLINE:
                self._again = False
                status = self._run(True)
            self._again = False
            return status
        finally:
            self._lock.release()

    def _run(self, force: bool) -> SyncStatus:
        now = self._clock.now()
        status = self._status
        if not force and status.next_attempt_at is not None and now < status.next_attempt_at:
            return status
        # auth-failed / incompatible need a person; _fail() set a slow retry (or Sync now).
        transport = self._transport_factory()
        if transport is None:
            return self._set(ConnectionState.NOT_ENROLLED, "set up the server in Settings")
        self._publish_counted(
            lambda waiting, rejected: replace(
                status, running=True, waiting=waiting, rejected=rejected
            )
        )
        slow = False
        try:
            self._push_all(transport)
            slow |= transport.last_duration_s > SLOW_ANSWER_S
            self._pull_all(transport)
            slow |= transport.last_duration_s > SLOW_ANSWER_S
        except ServerUnreachable as error:
            return self._fail(ConnectionState.OFFLINE, error)
        except ServerTrouble as error:
            return self._fail(ConnectionState.DEGRADED, error)
        except AuthFailed as error:
            return self._fail(ConnectionState.AUTH_FAILED, error, floor=BACKOFF_CAP_S)
        except IncompatibleServer as error:
            return self._fail(ConnectionState.INCOMPATIBLE, error, floor=BACKOFF_CAP_S)
        except SyncError as error:
            return self._fail(ConnectionState.DEGRADED, error)
        self._failures = 0
        finished = self._clock.now()
        self._store.note_success(finished)
        state = ConnectionState.DEGRADED if slow else ConnectionState.ONLINE
        reason = "the server is answering slowly" if slow else ""
        return self._publish_counted(
            lambda waiting, rejected: SyncStatus(
                state, waiting, rejected, finished, reason, None, False
            )
        )

    def _set(self, state: ConnectionState, reason: str) -> SyncStatus:
        last = self._store.last_success()
        return self._publish_counted(
            lambda waiting, rejected: SyncStatus(state, waiting, rejected, last, reason)
        )

    def _fail(self, state: ConnectionState, error: SyncError, floor: float = 0.0) -> SyncStatus:
        self._failures += 1
        delay = max(floor, backoff_delay(self._failures, self._rng, error.retry_after))
        last = self._store.last_success()
        retry_at = self._clock.now() + timedelta(seconds=delay)
        log.info("sync %s: %s (next try in %.1f s)", state.value, error.message, delay)
        return self._publish_counted(
            lambda waiting, rejected: SyncStatus(
                state, waiting, rejected, last, error.message, retry_at, False
            )
        )

    # ------------------------------------------------------------------ push

    def _push_all(self, transport: SyncTransport) -> None:
        """Batches go out one after another in outbox order. The till's own bookkeeping —
        reading the next batch, marking it sent, recording the answers to the last one —
        runs on one helper thread, first in first out, while the next batch is on the wire:
        a batch is always marked sent before its answers are recorded, and the network, not
        SQLite, sets the pace. Whatever needs that bookkeeping settled (a batch refused
        whole, a failure, the end of the run) waits for the helper first."""
        batch = self._store.pending_events(self._push_batch)
        if not batch:
            return
        books = _Bookkeeping()
        try:
            books.submit(self._store.mark_sent, [event.event_id for event in batch])
            while batch:
                upcoming = books.submit(self._store.pending_events, self._push_batch, batch[-1].seq)
                try:
                    response = transport.push([event.payload_json for event in batch])
                except BatchRefused as error:
                    books.settle()
                    self._split_refused(transport, batch, error)
                except SyncError as error:
                    books.settle()
                    self._store.record_transport_error(
                        [event.event_id for event in batch], error.message
                    )
                    raise
                else:
                    books.submit(self._store.record_results, _outcomes(batch, response))
                batch = upcoming.result()
                if batch:
                    books.submit(self._store.mark_sent, [event.event_id for event in batch])
                books.submit(self._publish_progress)
        except BaseException:
            books.close(quietly=True)  # the first error is the one to report
            raise
        books.close()

    def _publish_progress(self) -> None:
        self._publish_counted(
            lambda waiting, rejected: replace(
                self._status, waiting=waiting, rejected=rejected, running=True
            )
        )

    def _split_refused(
        self, transport: SyncTransport, batch: Sequence[OutboxEvent], error: BatchRefused
    ) -> None:
        """``batch`` was refused whole: halve it until the bad event is alone, and mark that
        one rejected (synchronously: this is the rare path)."""
        if len(batch) == 1:
            self._store.record_results(
                [PushOutcome(batch[0].event_id, ResultStatus.REJECTED, "refused", error.message)]
            )
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            ids = [event.event_id for event in half]
            self._store.mark_sent(ids)
            try:
                response = transport.push([event.payload_json for event in half])
            except BatchRefused as refused:
                self._split_refused(transport, half, refused)
                continue
            except SyncError as failure:
                self._store.record_transport_error(ids, failure.message)
                raise
            self._store.record_results(_outcomes(half, response))

    # ------------------------------------------------------------------ pull

    def _pull_all(self, transport: SyncTransport) -> None:
        cursor = self._store.cursor()
        for _ in range(MAX_PAGES_PER_RUN):
            response = transport.pull(cursor, self._pull_page)
            page = page_from_response(response)
            self._store.apply_pull(page)
            cursor = page.next_cursor
            if not response.has_more:
                return


def _outcomes(batch: Sequence[OutboxEvent], response: p.PushResponse) -> list[PushOutcome]:
    """The server's answer per event of ``batch`` (by event id, else by position); an event
    it says nothing about stays 'sent' and goes again next time."""
    by_id = {str(result.event_id): result for result in response.results if result.event_id}
    by_index = {result.index: result for result in response.results}
    outcomes = []
    for index, event in enumerate(batch):
        result = by_id.get(event.event_id) or by_index.get(index)
        if result is not None:
            outcomes.append(
                PushOutcome(
                    event.event_id,
                    ResultStatus(result.status),
                    result.reason or "",
                    result.message or "",
                )
            )
    return outcomes


class _Bookkeeping:
    """One helper thread that runs the till's sync bookkeeping in submission order."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-bookkeeping")
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        future = self._pool.submit(fn, *args)
        self._futures.append(future)
        return future

    def settle(self) -> None:
        """Wait for everything submitted so far; raise the first failure."""
        futures, self._futures = self._futures, []
        for future in futures:
            future.result()

    def close(self, *, quietly: bool = False) -> None:
        """Settle and stop the thread; ``quietly``: another error is already on its way."""
        try:
            if quietly:
                wait(self._futures)
            else:
                self.settle()
        finally:
            self._pool.shutdown(wait=True)


def page_from_response(response: p.PullResponse) -> PulledPage:
    """Turn protocol changes into the shop's records; an unusable row is logged and skipped
    (it must not stall the whole pull)."""
    page = PulledPage(next_cursor=response.next_cursor)
    for change in response.changes:
        try:
            _add_change(page, change)
        except (PosError, ValueError) as error:
            log.warning("skipped %s change at cursor %s: %s", change.kind, change.cursor, error)
    return page


def _add_change(page: PulledPage, change: Any) -> None:
    data = change.data
    if change.kind == "product":
        if data.deleted:
            page.deleted_product_ids.append(data.id)
            return
        page.products.append(
            Product(
                id=data.id,
                sku=data.sku,
                name=data.name,
                brand=data.brand,
                department=data.department,
                unit_price=data.unit_price,
                tax_class=data.tax_class,
                sold_by=SoldBy(data.sold_by),
                barcodes=tuple(data.barcodes),
                active=data.active,
                attributes={k: str(v) for k, v in data.attributes.items()},
            )
        )
    elif change.kind == "stock":
        page.stock.append((data.product_id, data.quantity))
    elif change.kind == "clerk":
        if data.deleted:
            page.deleted_clerk_ids.append(data.id)
            return
        page.clerks.append(
            ClerkRecord(data.id, data.name, Role(data.role).value, data.pin_hash, data.active)
        )
    elif change.kind == "customer":
        page.customers.append(
            CustomerRecord(data.id, data.name, data.phone, data.email, data.deleted)
        )
    elif change.kind == "delivery_slot":
        if data.deleted:
            page.deleted_slot_ids.append(data.id)
            return
        page.slots.append(
            DeliverySlotRecord(
                data.id, data.starts_at, data.ends_at, data.capacity, data.booked, data.active
            )
        )
