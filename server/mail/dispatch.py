"""The mail dispatcher: sends the outbox, each row at most once, even across crashes.

A row moves ``queued → claimed → sending → sent``; each arrow is its own committed
transaction, so after a crash the row's status tells exactly how far it got:

1. **claim** — ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has one writer)
   picks due ``queued`` rows and marks them ``claimed`` with a lease and this worker's id.
   Several dispatchers never pick the same row.
2. **sending** — committed right before SES is called. Until then nothing left the
   server, so a ``claimed`` row whose lease ran out (its worker died) goes back to
   ``queued`` and is sent by the next dispatcher: no mail is lost.
3. **sent** — the SES MessageId is recorded after SES accepted the message.

A ``sending`` row whose lease ran out *may* have been sent (the worker died during or just
after the SES call). SES offers no way to ask, so it is never re-sent on its own: it becomes
``unknown``, shown by ``shopsmart-server mail list --failed``, and a manager re-queues it
(``mail retry ID``) after checking with the customer. The window is one SES call wide.

Throttling and connection failures put the row back to ``queued`` with exponential backoff;
permanent errors (rejected address, unverified sender) and rows out of attempts are
``failed`` with the error recorded.

The worker process (server/worker.py) runs ``MailDispatcher.run_once`` in its loop, next to
the server's other chores.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, wait_exponential

from server.mail.mailer import Mailer, MailPermanent, MailTransient, MailUnclear, OutgoingMail
from server.models import MailOutbox, utcnow

log = logging.getLogger("shopsmart.server.mail")

PAUSE_ENV = "SHOPSMART_MAIL_PAUSE_AT"  # fault injection for tests: "claimed" or "sent"
PAUSE_SECONDS_ENV = "SHOPSMART_MAIL_PAUSE_SECONDS"
MAX_RETRY_SECONDS = 3600.0


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    requeued: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.failed or self.unknown or self.requeued)


class MailDispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailer: Mailer,
        *,
        lease_seconds: float = 60,
        max_attempts: int = 8,
        retry_base_seconds: float = 5.0,
        batch_size: int = 20,
        clock: Callable[[], datetime] = utcnow,
        pause_hook: Callable[[str, int], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.mailer = mailer
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.wait = wait_exponential(multiplier=retry_base_seconds, max=MAX_RETRY_SECONDS)
        self.batch_size = batch_size
        self.clock = clock
        self.pause_hook = pause_hook
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    # ------------------------------------------------------------------ one pass

    def run_once(self) -> DispatchReport:
        report = DispatchReport()
        self.recover_expired(report)
        for mail in self.claim():
            self._deliver(mail, report)
        return report

    def recover_expired(self, report: DispatchReport | None = None) -> None:
        """Rows whose worker died: ``claimed`` → ``queued`` (never reached SES);
        ``sending`` → ``unknown`` (may have been sent: a person decides)."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            requeued = session.execute(
                update(MailOutbox)
                .where(MailOutbox.status == "claimed", MailOutbox.lease_until < now)
                .values(status="queued", lease_until=None, claimed_by=None)
                .returning(MailOutbox.id)
            ).all()
            unknown = session.execute(
                update(MailOutbox)
                .where(MailOutbox.status == "sending", MailOutbox.lease_until < now)
                .values(
                    status="unknown",
                    lease_until=None,
                    last_error="the dispatcher stopped while SES had this message; it may "
                    "or may not have been sent — check before re-queueing it",
                )
                .returning(MailOutbox.id)
            ).all()
        for (row_id,) in unknown:
            log.warning("mail outcome unknown", extra={"event": "mail_unknown", "mail_id": row_id})
        if report is not None:
            report.requeued += len(requeued)
            report.unknown += len(unknown)

    def claim(self) -> list[OutgoingMail]:
        now = self.clock()
        with self.sessions() as session, session.begin():
            rows = session.scalars(
                select(MailOutbox)
                .where(MailOutbox.status == "queued", MailOutbox.next_attempt_at <= now)
                .order_by(MailOutbox.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.status = "claimed"
                row.claimed_by = self.worker_id
                row.lease_until = now + self.lease
                row.attempts += 1
            return [
                OutgoingMail(r.id, r.to_address, r.subject, r.text_body, r.html_body) for r in rows
            ]

    def _deliver(self, mail: OutgoingMail, report: DispatchReport) -> None:
        self._pause("claimed", mail.outbox_id)
        with self.sessions() as session, session.begin():
            mine = session.execute(
                update(MailOutbox)
                .where(
                    MailOutbox.id == mail.outbox_id,
                    MailOutbox.status == "claimed",
                    MailOutbox.claimed_by == self.worker_id,
                )
                .values(status="sending", lease_until=self.clock() + self.lease)
                .returning(MailOutbox.id)
            ).first()
        if mine is None:  # our lease ran out and another dispatcher took the row
            return
        try:
            message_id = self.mailer.send(mail)
        except MailTransient as exc:
            self._retry_later(mail.outbox_id, str(exc), report)
            return
        except MailPermanent as exc:
            self._finish(mail.outbox_id, "failed", error=str(exc))
            report.failed += 1
            log.warning("mail refused", extra={"event": "mail_failed", "mail_id": mail.outbox_id})
            return
        except MailUnclear as exc:
            self._finish(mail.outbox_id, "unknown", error=str(exc))
            report.unknown += 1
            return
        self._pause("sent", mail.outbox_id)
        self._finish(mail.outbox_id, "sent", message_id=message_id)
        report.sent += 1
        log.info("mail sent", extra={"event": "mail_sent", "mail_id": mail.outbox_id})

    def _retry_later(self, row_id: int, error: str, report: DispatchReport) -> None:
        with self.sessions() as session, session.begin():
            row = session.get(MailOutbox, row_id, with_for_update=True)
            if row is None or row.status != "sending":
                return
            row.last_error = error[:1000]
            row.lease_until = None
            row.claimed_by = None
            if row.attempts >= self.max_attempts:
                row.status = "failed"
                report.failed += 1
                return
            row.status = "queued"
            row.next_attempt_at = self.clock() + timedelta(seconds=self.backoff(row.attempts))
            report.retried += 1

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try of a mail tried ``attempts`` times: the base, doubling
        with each try, at most an hour (tenacity's exponential wait, computed for a row
        instead of slept)."""
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempts
        return float(self.wait(state))

    def _finish(
        self, row_id: int, status: str, *, message_id: str | None = None, error: str | None = None
    ) -> None:
        values: dict[str, object] = {"status": status, "lease_until": None}
        if message_id is not None:
            values.update(message_id=message_id, sent_at=self.clock(), last_error=None)
        if error is not None:
            values["last_error"] = error[:1000]
        with self.sessions() as session, session.begin():
            # "unknown" too: another dispatcher may have judged our slow send as crashed
            session.execute(
                update(MailOutbox)
                .where(MailOutbox.id == row_id, MailOutbox.status.in_(("sending", "unknown")))
                .values(**values)
            )

    def _pause(self, stage: str, row_id: int) -> None:
        if self.pause_hook is not None:
            self.pause_hook(stage, row_id)


def env_pause_hook() -> Callable[[str, int], None] | None:
    """Fault injection for the crash tests: pause at a stage (and say so on stdout)."""
    stage = os.environ.get(PAUSE_ENV, "").strip()
    if not stage:
        return None
    seconds = float(os.environ.get(PAUSE_SECONDS_ENV, "30") or 30)

    def pause(at: str, row_id: int) -> None:
        if at == stage:
            print(f"mail-worker paused at {at} {row_id}", flush=True)
            time.sleep(seconds)

    return pause


def describe(row: MailOutbox) -> str:
    when = row.sent_at or row.created_at
    error = f"  {row.last_error}" if row.last_error else ""
    return (
        f"{row.id}\t{row.status}\t{row.kind}\t{row.to_address}\t{row.attempts}\t"
        f"{when:%Y-%m-%d %H:%M:%S}{error}"
    )
