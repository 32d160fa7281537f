"""The one task runner: background work off the GUI thread, results back through signals.

- ``run_db``: a single worker thread (SQLite has one writer). Every task opens its own unit of
  work inside the work function; sessions never cross threads.
- ``run_network``: a separate small pool for the sync engine and card gateway later.

Work functions receive a ``TaskControl`` (report progress, see whether Cancel was pressed) and
return plain frozen data. They never touch a widget. The ``Task`` object's signals are emitted
from the worker and delivered on the GUI thread (queued connection), where slots render them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


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
    def __init__(self, task: Task, work: Callable[[TaskControl], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._work = work

    def run(self) -> None:
        task = self._task
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
        return self._start(self._db, name, work, on_done, on_failed)

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

    def _start(
        self,
        pool: QThreadPool,
        name: str,
        work: Callable[[TaskControl], Any],
        on_done: Callable[[Any], None] | None,
        on_failed: Callable[[Exception], None] | None,
    ) -> Task:
        task = Task(name)
        if on_done is not None:
            task.done.connect(on_done)
        if on_failed is not None:
            task.failed.connect(on_failed)
        for signal in (task.done, task.failed, task.cancelled):
            signal.connect(lambda *_args, t=task: self._finished(t))
        self._running.add(task)
        self.busy_changed.emit(len(self._running))
        pool.start(_Runnable(task, work))
        return task

    def _finished(self, task: Task) -> None:
        self._running.discard(task)
        self.busy_changed.emit(len(self._running))

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        for task in list(self._running):
            task.cancel()
        self._db.waitForDone(timeout_ms)
        self._network.waitForDone(timeout_ms)
