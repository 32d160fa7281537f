"""Runs the sync engine in the background with APScheduler: an interval with jitter, plus kicks.

One job, at most one instance at a time, coalesced: a kick (after a sale, or "Sync now") moves
the next run to now instead of starting a second one.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from sync.engine import SyncEngine

log = logging.getLogger("shopsmart.sync")
INTERVAL_S = 20
JITTER_S = 10
JOB_ID = "shopsmart-sync"


BACKGROUND_NICENESS = 10


def background_priority() -> None:
    """Lower the calling thread's CPU priority (Linux: per-thread nice) so that on a busy
    till the register's UI thread is scheduled first. Elsewhere it does nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)
    except (AttributeError, OSError):
        pass


class SyncScheduler:
    def __init__(self, engine: SyncEngine, interval_s: int = INTERVAL_S, jitter_s: int = JITTER_S):
        self.engine = engine
        self._force_next = False
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=interval_s,
            jitter=jitter_s,
            id=JOB_ID,
            next_run_time=datetime.now(UTC),
        )

    def _tick(self) -> None:
        background_priority()
        force, self._force_next = self._force_next, False
        try:
            self.engine.run_once(force=force)
        except Exception:  # the scheduler thread must survive anything
            log.exception("sync run failed")

    def start(self) -> None:
        self._scheduler.start()

    def kick(self, *, force: bool = False) -> None:
        """Run as soon as possible (a sale was made, or a person pressed Sync now)."""
        self._force_next = self._force_next or force
        if self._scheduler.running:
            self._scheduler.modify_job(JOB_ID, next_run_time=datetime.now(UTC))

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
