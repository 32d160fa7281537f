"""Rate limits: a token bucket per terminal, and per client address on the open routes
(enroll, the pay page, the Stripe webhook), kept in the database.

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
from typing import Any

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


# -- the routes anyone may call: a bucket per client address --------------------------------

# (name, path prefix or exact path): enrollment codes are guessed there, pay tokens probed,
# and the webhook's signature check costs a body read and an HMAC per request.
OPEN_ROUTES: tuple[tuple[str, str], ...] = (
    ("enroll", "/api/v1/terminals/enroll"),
    ("pay", "/pay/"),
    ("webhook", "/stripe/webhook"),
)
_ADDRESS_BUCKETS = uuid.UUID("6f1c2f55-3b8e-4d0a-9a51-2b7d3c1e9f40")


def open_route_of(path: str) -> str | None:
    """The name of the open route ``path`` belongs to, or None for every other route."""
    for name, prefix in OPEN_ROUTES:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return name
    return None


def address_bucket(route: str, address: str) -> uuid.UUID:
    """The bucket of one client address on one open route, in the same ``rate_buckets``
    table as the terminals' (a name-based UUID cannot be a terminal's random one)."""
    return uuid.uuid5(_ADDRESS_BUCKETS, f"{route}|{address}")


def install_open_route_throttle(app: Any, limiter: RateLimiter, sessions: Any) -> None:
    """Before each request to an open route, spend from the client address's bucket; over the
    limit → ``429 rate_limited`` (JSON, ``Retry-After``) before any work is done.

    The address is ``request.remote_addr``: the peer, or with ``SHOPSMART_TRUSTED_PROXIES=N``
    the address the N proxies in front (deploy/nginx.conf: one) put in ``X-Forwarded-For``
    (werkzeug's ProxyFix, installed by create_app), so a client cannot choose its own bucket
    by sending the header itself."""
    from flask import request

    from server.errors import RateLimited

    @app.before_request
    def throttle() -> None:
        route = open_route_of(request.path)
        if route is None:
            return
        address = request.remote_addr or "unknown"
        with sessions() as session, session.begin():
            wait = limiter.take(session, address_bucket(route, address))
        if wait:
            raise RateLimited(
                f"too many requests to this page from {address}; retry later",
                headers={"Retry-After": RateLimiter.retry_after_header(wait)},
            )
