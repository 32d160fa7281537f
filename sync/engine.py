"""The offline-first sync engine: push the outbox, pull server changes, never lose or double.

Plain Python, no Qt: it runs on a background thread (``sync.scheduler``) and reports its
``SyncStatus`` to listeners; the UI turns that into a Qt signal.

Push: events leave in outbox order in bounded batches; an event is done only after the
server's per-event answer (accepted or duplicate), matched by event id: an answer that does
not name exactly the events sent (a proxy replaying an old answer) marks nothing and the run
ends degraded. Rejected events stay, with the server's reason, for a manager; they never block
the events behind them. A batch the server refuses as a whole is split in halves until the bad
event is alone, and that one is marked rejected; a 413 from a proxy in between halves too, but
the one event it still refuses stays waiting (the transport tells the server's own refusal
from anything else, ``sync.http_transport``).
Pull: page by page, each page applied with its cursor in one local transaction. A pulled row
the till cannot use (a barcode with a wrong check digit, a barcode another product holds, a
timestamp without a zone...) is kept aside with the reason for a manager and counted in the
status; the rest of the page is applied and the cursor moves on. A corrected version of the
row applies it later.
Failures back off exponentially with "equal jitter" and a cap (tenacity's exponential wait
gives the ceiling c, the delay is drawn uniformly from [c/2, c]), so a fleet of tills coming
back at once does not storm the server, and none waits less than half its window.

One writer: every write this engine makes to the till's SQLite (marking events sent,
recording answers, applying pulled pages, the last success) runs on the thread that runs
``run_once``, and runs never overlap. Only the HTTP push of the next batch is handed to a
helper thread, which never touches SQLite.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from tenacity import RetryCallState, Retrying
from tenacity.wait import wait_exponential

from app.domain.barcode import BarcodeClaim
from app.domain.delivery import (
    Address,
    BookingStatus,
    CapacityUnit,
    Customer,
    FulfilmentState,
    PaymentMethod,
    PhoneOrder,
    PhoneOrderLine,
    PickedLine,
    PickStatus,
    Substitution,
)
from app.domain.errors import PosError
from app.domain.product import SoldBy
from app.domain.sync import (
    ClerkRecord,
    CustomerRecord,
    DeliverySlotRecord,
    OutboxEvent,
    PulledPage,
    PushOutcome,
    ResultStatus,
    SlotAllotmentRecord,
    SyncCounts,
    UnusableRow,
    product_from_wire,
)
from sync import protocol as p
from sync.errors import (
    AnswerMismatch,
    AuthFailed,
    BatchRefused,
    BatchTooLarge,
    IncompatibleServer,
    ServerTrouble,
    ServerUnreachable,
    SyncError,
)

log = logging.getLogger("shopsmart.sync")

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
    unusable: int = 0  # pulled rows kept aside (a manager sees them), see ``UnusableRow``

    def counted(self, counts: SyncCounts) -> SyncStatus:
        return replace(
            self, waiting=counts.waiting, rejected=counts.rejected, unusable=counts.unusable
        )

    @property
    def card_available(self) -> bool:
        return self.state is ConnectionState.ONLINE


class SyncStore(Protocol):
    def pending_events(self, limit: int, after_seq: int = 0) -> list[OutboxEvent]: ...
    def mark_sent(self, event_ids: list[str]) -> None: ...
    def record_results(self, outcomes: list[PushOutcome]) -> None: ...
    def record_transport_error(self, event_ids: list[str], message: str) -> None: ...
    def counts(self) -> SyncCounts: ...
    def cursor(self) -> str: ...
    def apply_pull(self, page: PulledPage) -> None: ...
    def last_success(self) -> datetime | None: ...
    def note_success(self, at: datetime) -> None: ...
    def bookings_pending(self) -> bool: ...


class SyncTransport(Protocol):
    last_duration_s: float

    def push(self, events: Sequence[str]) -> p.PushResponse:
        """Send events, each the JSON text of one event as it was queued."""
        ...

    def pull(
        self, cursor: str, limit: int = ..., *, bookings_pending: bool = ...
    ) -> p.PullResponse | PullAnswer:
        """``bookings_pending``: the till's outbox still holds phone_order.placed events
        (sent only when true, so transports that predate it keep working)."""
        ...


@dataclass(frozen=True, slots=True)
class PullAnswer:
    """A pull page as the transport read it: the changes it could read, and the rows it could
    not (kept aside like any other unusable row, so one bad row never fails its page)."""

    changes: Sequence[p.Change]
    next_cursor: str
    has_more: bool
    unreadable: Sequence[UnusableRow] = ()


class Clock(Protocol):
    def now(self) -> datetime: ...


class wait_equal_jitter(wait_exponential):
    """tenacity's exponential wait, c = min(cap, base × 2^(n−1)), with the delay drawn
    uniformly from [c/2, c] by ``rng`` (seedable, so tests and benchmarks repeat)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(multiplier=BACKOFF_BASE_S, max=BACKOFF_CAP_S)
        self._rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        ceiling = super().__call__(retry_state)
        return self._rng.uniform(ceiling / 2, ceiling)


def backoff_delay(failures: int, rng: random.Random, retry_after: float | None = None) -> float:
    """Seconds to wait after ``failures`` failed runs in a row: uniform(c/2, c) with
    c = min(300 s, 2 s × 2^(n−1)) (``wait_equal_jitter``), never less than Retry-After;
    0 after no failure."""
    delay = 0.0
    if failures > 0:
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = failures
        delay = wait_equal_jitter(rng)(state)
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
        after_push: Callable[[], object] | None = None,
    ) -> None:
        """``after_push`` runs after each push (the till's ``finalise_ready_shifts``); when it
        answers something true it queued events, and they are pushed in the same run."""
        self._store = store
        self._after_push = after_push
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

    def _publish_counted(self, make: Callable[[SyncCounts], SyncStatus]) -> SyncStatus:
        """Read the counts and publish under one lock, so a slower reader can never publish
        older counts over newer ones."""
        with self._publish_lock:
            status = make(self._store.counts())
            self._publish(status)
            return status

    def refresh_counts(self) -> SyncStatus:
        last = self._store.last_success()
        return self._publish_counted(
            lambda counts: replace(self._status.counted(counts), last_success_at=last)
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
            return self._set(
                ConnectionState.NOT_ENROLLED, "a manager connects it in Till → Server connection…"
            )
        self._publish_counted(lambda counts: replace(status.counted(counts), running=True))
        slow = False
        try:
            self._push_all(transport)
            if self._queued_after_push():
                self._push_all(transport)
            slow |= transport.last_duration_s > SLOW_ANSWER_S
            self._pull_all(transport)
            slow |= transport.last_duration_s > SLOW_ANSWER_S
        except SyncError as error:
            state = state_of(error)
            needs_a_person = state in (ConnectionState.AUTH_FAILED, ConnectionState.INCOMPATIBLE)
            return self._fail(state, error, floor=BACKOFF_CAP_S if needs_a_person else 0.0)
        self._failures = 0
        finished = self._clock.now()
        self._store.note_success(finished)
        state = ConnectionState.DEGRADED if slow else ConnectionState.ONLINE
        reason = "the server is answering slowly" if slow else ""
        return self._publish_counted(
            SyncStatus(state, last_success_at=finished, reason=reason).counted
        )

    def probe(self) -> SyncStatus:
        """Ask the server once and change nothing: a pull of one change at the current
        cursor, not applied (``shopsmart status``). The status says what a run would meet
        now — online, offline, degraded, auth failed, version mismatch, not enrolled — with
        the till's counts; the backoff of a failed run is left as it is."""
        if not self._lock.acquire(blocking=False):
            return self._status  # a run is going: its status is the fresher word
        try:
            transport = self._transport_factory()
            if transport is None:
                return self._set(
                    ConnectionState.NOT_ENROLLED,
                    "a manager connects it in Till → Server connection…",
                )
            try:
                transport.pull(self._store.cursor(), 1)
            except SyncError as error:
                return self._set(state_of(error), error.message)
            return self._set(ConnectionState.ONLINE, "")
        finally:
            self._lock.release()

    def _set(self, state: ConnectionState, reason: str) -> SyncStatus:
        last = self._store.last_success()
        return self._publish_counted(SyncStatus(state, last_success_at=last, reason=reason).counted)

    def _fail(self, state: ConnectionState, error: SyncError, floor: float = 0.0) -> SyncStatus:
        self._failures += 1
        delay = max(floor, backoff_delay(self._failures, self._rng, error.retry_after))
        last = self._store.last_success()
        retry_at = self._clock.now() + timedelta(seconds=delay)
        log.info("sync %s: %s (next try in %.1f s)", state.value, error.message, delay)
        return self._publish_counted(
            SyncStatus(
                state, last_success_at=last, reason=error.message, next_attempt_at=retry_at
            ).counted
        )

    # ------------------------------------------------------------------ push

    def _push_all(self, transport: SyncTransport) -> None:
        """Batches go out one after another in outbox order. While one batch is on the wire
        (a helper thread that only does the HTTP request), this thread does the till's
        bookkeeping: marking that batch sent, reading the next one, recording the answers to
        the last one. A batch is always marked sent before its answers are recorded, and the
        network, not SQLite, sets the pace."""
        batch = self._store.pending_events(self._push_batch)
        if not batch:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-wire") as wire:
            answer = wire.submit(transport.push, [event.payload_json for event in batch])
            self._store.mark_sent([event.event_id for event in batch])
            while batch:
                upcoming = self._store.pending_events(self._push_batch, batch[-1].seq)
                outcomes: list[PushOutcome] | None = None
                try:
                    outcomes = _outcomes(batch, answer.result())
                except BatchRefused as error:
                    self._split_refused(transport, batch, error)
                except SyncError as error:
                    self._store.record_transport_error(
                        [event.event_id for event in batch], error.message
                    )
                    raise
                if upcoming:
                    answer = wire.submit(transport.push, [event.payload_json for event in upcoming])
                if outcomes is not None:
                    self._store.record_results(outcomes)
                if upcoming:
                    self._store.mark_sent([event.event_id for event in upcoming])
                self._publish_progress()
                batch = upcoming

    def _queued_after_push(self) -> bool:
        if self._after_push is None:
            return False
        try:
            return bool(self._after_push())
        except Exception:  # the till's own bookkeeping must not stop sync
            log.exception("after-push step failed")
            return False

    def _publish_progress(self) -> None:
        self._publish_counted(lambda counts: replace(self._status.counted(counts), running=True))

    def _split_refused(
        self, transport: SyncTransport, batch: Sequence[OutboxEvent], error: BatchRefused
    ) -> None:
        """``batch`` was refused whole: halve it until the bad event is alone, and mark that
        one rejected (synchronously: this is the rare path). A 413 from a proxy in between
        halves the batch too, but the one event it still refuses is not the server's refusal:
        it stays waiting, and the run ends degraded saying why (later events wait behind it,
        so a refund never overtakes its sale)."""
        if len(batch) == 1:
            if isinstance(error, BatchTooLarge) and not error.from_server:
                self._store.record_transport_error([batch[0].event_id], error.message)
                raise ServerTrouble(f"a sale stays waiting: {error.message}")
            self._store.record_results(
                [PushOutcome(batch[0].event_id, ResultStatus.REJECTED, "refused", error.message)]
            )
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            ids = [event.event_id for event in half]
            self._store.mark_sent(ids)
            try:
                outcomes = _outcomes(half, transport.push([event.payload_json for event in half]))
            except BatchRefused as refused:
                self._split_refused(transport, half, refused)
                continue
            except SyncError as failure:
                self._store.record_transport_error(ids, failure.message)
                raise
            self._store.record_results(outcomes)

    # ------------------------------------------------------------------ pull

    def _pull_all(self, transport: SyncTransport) -> None:
        cursor = self._store.cursor()
        for _ in range(MAX_PAGES_PER_RUN):
            # Bookings still on the way: the server must not lower this till's allotments.
            if self._store.bookings_pending():
                response = transport.pull(cursor, self._pull_page, bookings_pending=True)
            else:
                response = transport.pull(cursor, self._pull_page)
            page = page_from_response(response)
            self._store.apply_pull(page)
            cursor = page.next_cursor
            if not response.has_more:
                return


def state_of(error: SyncError) -> ConnectionState:
    """The connection state a sync failure puts the till in."""
    if isinstance(error, ServerUnreachable):
        return ConnectionState.OFFLINE
    if isinstance(error, AuthFailed):
        return ConnectionState.AUTH_FAILED
    if isinstance(error, IncompatibleServer):
        return ConnectionState.INCOMPATIBLE
    return ConnectionState.DEGRADED  # ServerTrouble, an unexpected answer


def _outcomes(batch: Sequence[OutboxEvent], response: p.PushResponse) -> list[PushOutcome]:
    """The server's answer per event of ``batch``, matched by event id, never by position.
    An answer that does not name exactly the events sent, each once (a caching proxy
    replaying an earlier answer, a truncated list), is no answer: ``AnswerMismatch``, and
    nothing of the batch is marked."""
    sent = {_canonical_id(event.event_id) for event in batch}
    by_id: dict[str, p.EventResult] = {}
    for result in response.results:
        named = _canonical_id(str(result.event_id)) if result.event_id is not None else ""
        if named not in sent or named in by_id:
            break
        by_id[named] = result
    if len(by_id) != len(sent) or len(response.results) != len(sent):
        raise AnswerMismatch(
            f"the answer to a push of {len(batch)} sales did not name exactly those sales "
            "(a proxy in between replaying an old answer?); they stay waiting"
        )
    outcomes = []
    for event in batch:
        result = by_id[_canonical_id(event.event_id)]
        outcomes.append(
            PushOutcome(
                event.event_id,
                ResultStatus(result.status),
                result.reason or "",
                result.message or "",
            )
        )
    return outcomes


def _canonical_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def page_from_response(response: p.PullResponse | PullAnswer) -> PulledPage:
    """Turn protocol changes into the shop's records, checked with the shop's rules. A row
    that breaks one is kept aside in ``page.unusable`` with the reason (it must neither stall
    the whole pull nor vanish)."""
    page = PulledPage(next_cursor=response.next_cursor)
    for change in response.changes:
        try:
            _add_change(page, change)
        except (PosError, ValueError) as error:
            page.unusable.append(unusable_change(change, _reason(error)))
    if isinstance(response, PullAnswer):
        page.unusable.extend(response.unreadable)
    return page


def _reason(error: Exception) -> str:
    if isinstance(error, PosError):
        return error.message
    return str(error)


def unusable_change(change: Any, reason: str) -> UnusableRow:
    """A readable change the till cannot use, named in the shop's words."""
    data = change.data
    if change.kind == "stock":
        key, name = data.product_id, f"stock of product {data.product_id}"
    elif change.kind == "product":
        key, name = data.id, str(BarcodeClaim(data.id, data.name, data.sku))
    elif change.kind == "delivery_slot":
        key, name = data.id, f"slot {data.starts_at.isoformat()}"
    elif change.kind == "slot_allotment":
        key, name = data.slot_id, f"allotment of slot {data.slot_id}"
    elif change.kind == "phone_order":
        key, name = data.id, f"phone order {data.order_no}"
    else:
        key, name = data.id, data.name
    return UnusableRow(change.kind, key, name, reason, data.model_dump_json())


def _add_change(page: PulledPage, change: Any) -> None:
    data = change.data
    if change.kind == "product":
        if data.deleted:
            page.deleted_product_ids.append(data.id)
            return
        page.products.append(product_from_wire(dict(data)))
    elif change.kind == "stock":
        page.stock.append((data.product_id, data.quantity))
    elif change.kind == "clerk":
        if data.deleted:
            page.deleted_clerk_ids.append(data.id)
            return
        page.clerks.append(ClerkRecord(data.id, data.name, data.role, data.pin_hash, data.active))
    elif change.kind == "customer":
        page.customers.append(
            CustomerRecord(
                data.id,
                data.name,
                data.phone,
                data.email,
                data.deleted,
                addresses=tuple(_address(a) for a in data.addresses),
                notes=data.notes,
                updated_at=data.updated_at,
            )
        )
    elif change.kind == "slot_allotment":
        page.allotments.append(
            SlotAllotmentRecord(data.slot_id, data.allotted_total, data.used, data.terminal_id)
        )
    elif change.kind == "phone_order":
        page.phone_orders.append(phone_order_from_wire(data))
    elif change.kind == "delivery_slot":
        if data.deleted:
            page.deleted_slot_ids.append(data.id)
            return
        page.slots.append(
            DeliverySlotRecord(
                data.id,
                data.starts_at,
                data.ends_at,
                data.capacity,
                data.booked,
                data.active,
                unit=CapacityUnit(data.unit),
                max_weight_g=data.max_weight_g,
                cutoff_minutes=data.cutoff_minutes,
                lead_time_minutes=data.lead_time_minutes,
                postcode_prefixes=tuple(data.postcode_prefixes),
                free=data.free,
            )
        )


def _address(data: p.AddressData) -> Address:
    return Address(
        data.id,
        data.label,
        data.line1,
        data.line2,
        data.postcode,
        data.city,
        data.country,
        data.notes,
    )


def phone_order_from_wire(data: p.PhoneOrderData) -> PhoneOrder:
    """A pulled phone order in the shop's terms (its checks run: a broken row raises)."""
    address = _address(data.address)
    snapshot = data.customer
    return PhoneOrder(
        id=data.id,
        order_no=data.order_no,
        terminal_code=data.terminal_code,
        clerk_id=data.clerk_id,
        clerk_name=data.clerk_name,
        customer=Customer(
            snapshot.id,
            snapshot.name,
            snapshot.phone,
            snapshot.email,
            (address,),
            snapshot.notes,
            data.created_at,
        ),
        address=address,
        lines=tuple(
            PhoneOrderLine(
                line.line_no,
                line.product_id,
                line.sku,
                line.name,
                SoldBy(line.sold_by),
                line.quantity,
                line.unit_price,
                line.tax_class,
                line.tax_rate_bp,
                line.net,
                Substitution(line.substitution),
                line.substitute_product_id,
                line.note,
            )
            for line in data.lines
        ),
        picked=tuple(
            PickedLine(
                line.line_no,
                PickStatus(line.status),
                line.product_id,
                line.sku,
                line.name,
                SoldBy(line.sold_by),
                line.quantity,
                line.unit_price,
                line.tax_class,
                line.tax_rate_bp,
                line.net,
            )
            for line in data.picked
        ),
        note=data.note,
        slot_id=data.slot_id or "",
        booking_id=data.booking_id,
        booking_status=BookingStatus(data.booking_status),
        moved_from_slot_id=data.moved_from_slot_id or "",
        state=FulfilmentState(data.state),
        version=data.version,
        payment_method=PaymentMethod(data.payment_method),
        payment_status=data.payment_status,
        authorised_amount=data.authorised_amount,
        captured_amount=data.captured_amount,
        estimated_total=data.estimated_total,
        actual_total=data.actual_total,
        currency=data.currency,
        created_at=data.created_at,
        updated_at=data.updated_at,
        slot_starts_at=data.slot_starts_at,
        slot_ends_at=data.slot_ends_at,
        moved_from_starts_at=data.moved_from_starts_at,
        shortfall=data.shortfall,
        pay_url=data.pay_url or "",
        cancel_reason=data.cancel_reason,
    )
