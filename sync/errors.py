"""How a sync attempt can fail, sorted by what the engine does about it."""

from __future__ import annotations


class SyncError(Exception):
    """Base of every sync failure."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class ServerUnreachable(SyncError):
    """No connection, DNS failure, connection reset, timeout: retry with backoff (offline)."""


class ServerTrouble(SyncError):
    """5xx, 429 or a garbled answer: retry with backoff (degraded)."""


class AuthFailed(SyncError):
    """401/403: the token is missing, wrong or revoked. Stop until re-enrolled."""


class IncompatibleServer(SyncError):
    """The server does not speak our protocol version (too old or too new)."""


class BatchRefused(SyncError):
    """The server itself refused the batch as a whole (its JSON error with its protocol
    header: 400, 413, 422…): split it to find the bad item."""


class BatchTooLarge(BatchRefused):
    """A 413: the batch is too large for the server, or for a proxy in between. Either way
    it is halved. A single event the *server* refuses as too large is rejected with the
    reason; one a proxy refuses stays waiting (``from_server`` tells them apart)."""

    def __init__(self, message: str, *, from_server: bool) -> None:
        super().__init__(message)
        self.from_server = from_server


class AnswerMismatch(ServerTrouble):
    """A push answer that does not name exactly the events sent (a proxy replaying an
    earlier answer): not an answer. Nothing is marked; retry with backoff (degraded)."""
