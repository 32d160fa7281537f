"""Per-terminal rate limit: a token bucket per terminal, kept in the database.

Every gunicorn worker (and every server host) spends from the same bucket, so the limit is
what it says: requests per terminal. One statement per request, in the transaction that
authenticates it: an upsert that refills the bucket for the time elapsed, spends a token if
there is one, and returns whether it did. Concurrent requests of one terminal queue on its
row for that statement only. Time is the wall clock of the server hosts (a clock stepping
back refills nothing and takes nothing away).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.orm import Session

_REFILL = (
    "{least}(:burst, rate_buckets.tokens + {greatest}(:now - rate_buckets.updated_at, 0) * :rate)"
)
_UPSERT = (
    "INSERT INTO rate_buckets (terminal_id, tokens, updated_at, allowed)"
    " VALUES (:terminal_id, :burst - 1, :now, true)"
    " ON CONFLICT (terminal_id) DO UPDATE SET"
    " tokens = {refill} - CASE WHEN {refill} >= 1 THEN 1 ELSE 0 END,"
    " allowed = {refill} >= 1,"
    " updated_at = {greatest}(:now, rate_buckets.updated_at)"
    " RETURNING allowed, tokens"
)


def _upsert(least: str, greatest: str) -> str:
    refill = _REFILL.format(least=least, greatest=greatest)
    return _UPSERT.format(refill=refill, greatest=greatest)


_TERMINAL = bindparam("terminal_id", type_=Uuid())
_SQL = {
    "postgresql": text(_upsert("least", "greatest")).bindparams(_TERMINAL),
    "sqlite": text(_upsert("min", "max")).bindparams(_TERMINAL),  # scalar min/max there
}


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.time) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock

    def take(self, session: Session, terminal_id: uuid.UUID) -> float:
        """Spend one of the terminal's tokens in ``session``'s transaction: 0 when allowed,
        else the seconds until one is available."""
        dialect = session.get_bind().dialect.name
        allowed, tokens = session.execute(
            _SQL[dialect],
            {
                "terminal_id": terminal_id,
                "burst": self.burst,
                "now": self.clock(),
                "rate": self.rate,
            },
        ).one()
        if allowed:
            return 0.0
        if self.rate <= 0:
            return 60.0
        return max((1 - float(tokens)) / self.rate, 0.001)

    @staticmethod
    def retry_after_header(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
