"""The one task runner: background work off the GUI thread, results back through signals.

- ``run_db``: a single worker thread (SQLite has one writer). Every task opens its own unit of
  work inside the work function; sessions never cross threads.
- ``run_network``: a separate small pool for network work (the card gateway, enrollment).
- One writer: a unit of work a network task (or any thread but the DB worker) opens on the
  till's writer runs on the DB worker too. ``route_writes`` makes ``terminal.uow()`` hand
  such a unit of work a *turn* of the DB worker: the worker waits, between two of its own
  tasks, and runs that unit of work's statements one by one until it closes; the network
  task keeps its thread for the network. So the app's writes never contend with each other
  for SQLite's one write lock. The sync engine is the only other writer (its own thread, one
  run at a time; docs/sync.md).

Work functions receive a ``TaskControl`` (report progress, see whether Cancel was pressed) and
return plain frozen data. They never touch a widget. The ``Task`` object's signals are emitted
from the worker and delivered on the GUI thread (queued connection), where slots render them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)
T = TypeVar("T")
_here = threading.local()  # .on_db_worker: this thread is the DB worker; .turn: a turn held


class TaskCancelled(Exception):
    """Raised inside a work function when the clerk pressed Cancel."""


class TaskControl:
    """What a running work function may do: report progress and notice a Cancel."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise TaskCancelled("cancelled")

    def report(self, done: int, total: int) -> None:
        self._task.progress.emit(done, total)

    def cancel(self) -> None:
        self._cancel.set()


class Task(QObject):
    """One piece of background work. Exactly one of ``done`` / ``failed`` is emitted."""

    done = Signal(object)  # the work function's result
    failed = Signal(object)  # the exception it raised (PosError for what a clerk can fix)
    progress = Signal(int, int)  # done, total
    cancelled = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.control = TaskControl(self)

    def cancel(self) -> None:
        self.control.cancel()


class _Runnable(QRunnable):
    def __init__(
        self, task: Task, work: Callable[[TaskControl], Any], *, db_worker: bool = False
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._work = work
        self._db_worker = db_worker

    def run(self) -> None:
        task = self._task
        _here.on_db_worker = self._db_worker
        try:
            result = self._work(task.control)
        except TaskCancelled:
            task.cancelled.emit()
        except Exception as error:  # the boundary of an operation: report, never crash
            if not _is_expected(error):
                log.exception("background task %s failed", task.name)
            task.failed.emit(error)
        else:
            task.done.emit(result)


class _WriterTurn:
    """The DB worker lent to another thread: between two of its own tasks it runs the jobs
    that thread sends, in order, until the turn ends."""

    def __init__(self, pool: QThreadPool) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        pool.start(self.serve)

    def serve(self) -> None:
        """On the DB worker."""
        _here.on_db_worker = True
        while (job := self._jobs.get()) is not None:
            job()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the DB worker and return (or raise) what it did."""
        future: Future[T] = Future()

        def job() -> None:
            try:
                future.set_result(fn())
            except BaseException as error:  # handed back to the caller, who raises it
                future.set_exception(error)

        self._jobs.put(job)
        return future.result()

    def end(self) -> None:
        self._jobs.put(None)


class _OnDbWorker:
    """A repository whose method calls run on the DB worker, within a turn."""

    def __init__(self, target: Any, turn: _WriterTurn) -> None:
        self._target = target
        self._turn = turn

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        turn = self._turn
        return lambda *args, **kwargs: turn.call(lambda: value(*args, **kwargs))


class _UnitOfWorkOnDbWorker:
    """A unit of work opened outside the DB worker: it takes a turn of the worker when it
    opens (waiting for the task in progress, if any), every statement runs there, and the
    turn ends when it closes. One opened inside another's turn shares that turn."""

    def __init__(self, make: Callable[[], Any], pool: QThreadPool) -> None:
        self._make = make
        self._pool = pool
        self._inner: Any = None
        self._turn: _WriterTurn | None = None
        self._own_turn = False

    def __enter__(self) -> _UnitOfWorkOnDbWorker:
        held: _WriterTurn | None = getattr(_here, "turn", None)
        self._own_turn = held is None
        turn = self._turn = held or _WriterTurn(self._pool)
        _here.turn = turn
        try:
            self._inner = turn.call(lambda: self._make().__enter__())
        except BaseException:
            self._end_turn()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        inner, turn = self._inner, self._turn
        self._inner = None
        try:
            if turn is not None and inner is not None:
                turn.call(lambda: inner.__exit__(exc_type, exc, tb))
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if self._turn is not None and self._own_turn:
            self._turn.end()
            _here.turn = None
        self._turn = None

    def __getattr__(self, name: str) -> Any:
        inner = self.__dict__.get("_inner")
        turn = self.__dict__.get("_turn")
        if inner is None or turn is None:
            raise AttributeError(f"{name}: the unit of work is not open")
        value = getattr(inner, name)
        if callable(value):
            return lambda *args, **kwargs: turn.call(lambda: value(*args, **kwargs))
        return _OnDbWorker(value, turn)


class _RoutedToDbWorker:
    """A unit-of-work factory on the writer whose units of work run on the DB worker:
    directly when opened there, by a turn from any other thread."""

    def __init__(self, make: Callable[[], Any], pool: QThreadPool) -> None:
        self.make = make
        self._pool = pool

    def __call__(self) -> Any:
        if getattr(_here, "on_db_worker", False):
            return self.make()
        return _UnitOfWorkOnDbWorker(self.make, self._pool)


def _is_expected(error: Exception) -> bool:
    from app.domain.errors import PosError

    return isinstance(error, PosError)


class TaskRunner(QObject):
    """Owns the DB worker and the network pool; keeps running tasks alive until they finish."""

    busy_changed = Signal(int)  # number of tasks still running

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = QThreadPool(self)
        self._db.setMaxThreadCount(1)
        self._db.setExpiryTimeout(-1)  # keep the one DB thread for the whole session
        self._network = QThreadPool(self)
        self._network.setMaxThreadCount(2)
        self._running: set[Task] = set()
        self._closed = False  # after shutdown() no task starts (a dialog's timer may still fire)

    @property
    def pending(self) -> int:
        return len(self._running)

    def run_db(
        self,
        name: str,
        work: Callable[[TaskControl], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[Exception], None] | None = None,
    ) -> Task:
        return self._start(self._db, name, work, on_done, on_failed, db_worker=True)

    def run_network(
        self,
        name: str,
        work: Callable[[TaskControl], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[Exception], None] | None = None,
    ) -> Task:
        return self._start(self._network, name, work, on_done, on_failed)

    # File work that is not the database (PDFs, reading an import file) shares the small pool.
    run_io = run_network

    def route_writes(self, terminal: Any) -> None:
        """Every unit of work ``terminal.uow()`` opens from now on runs on this runner's DB
        worker (a terminal routed by an earlier runner is routed to this one instead)."""
        factory = terminal.uow_factory
        make = factory.make if isinstance(factory, _RoutedToDbWorker) else factory
        terminal.uow_factory = _RoutedToDbWorker(make, self._db)

    def _start(
        self,
        pool: QThreadPool,
        name: str,
        work: Callable[[TaskControl], Any],
        on_done: Callable[[Any], None] | None,
        on_failed: Callable[[Exception], None] | None,
        *,
        db_worker: bool = False,
    ) -> Task:
        task = Task(name)
        if self._closed:
            log.info("not starting %s: the till is closing", name)
            return task
        if on_done is not None:
            task.done.connect(on_done)
        if on_failed is not None:
            task.failed.connect(on_failed)
        for signal in (task.done, task.failed, task.cancelled):
            signal.connect(lambda *_args, t=task: self._finished(t))
        self._running.add(task)
        self.busy_changed.emit(len(self._running))
        pool.start(_Runnable(task, work, db_worker=db_worker))
        return task

    def _finished(self, task: Task) -> None:
        self._running.discard(task)
        if shiboken6.isValid(self):  # a task may outlive its window (and so this runner)
            self.busy_changed.emit(len(self._running))

    @property
    def closed(self) -> bool:
        """shutdown() was called: no task starts any more."""
        return self._closed

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        self._closed = True
        for task in list(self._running):
            task.cancel()
        self._db.waitForDone(timeout_ms)
        self._network.waitForDone(timeout_ms)
