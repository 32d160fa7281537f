"""The worker process: runs the server's chores in one loop (``shopsmart-server worker``).

Its chores: the mail dispatcher (server/mail/dispatch.py) sends the mail outbox, and every
``HOUSEKEEPING_SECONDS`` the catalog writes to MongoDB that a crash left out of the change
log are announced (``admin.announce_leftover_catalog_writes``) and the cards of phone orders
cancelled while Stripe was away are settled (``payments.phone.settle_cancelled_cards``).
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from server.mail.dispatch import DispatchReport, MailDispatcher
from server.services import Services

log = logging.getLogger("shopsmart.server.mail")

HOUSEKEEPING_SECONDS = 30.0


def housekeeping(sessions: sessionmaker[Session], svc: Services | None = None) -> int:
    """Announce the catalog writes a crash left unannounced; how many were. With the
    server's services, also settle the cards of phone orders cancelled while Stripe was
    away (``settle_cancelled_cards``)."""
    from server.admin.service import announce_leftover_catalog_writes

    if svc is not None:
        from server.payments.phone import settle_cancelled_cards

        try:
            settle_cancelled_cards(svc)
        except Exception:  # a database outage must not end the worker
            log.exception("settling cancelled cards failed", extra={"event": "housekeeping_error"})
    try:
        with sessions() as session, session.begin():
            cleared = announce_leftover_catalog_writes(session)
    except Exception:  # a database outage must not end the worker
        log.exception("housekeeping failed", extra={"event": "housekeeping_error"})
        return 0
    if cleared:
        log.warning(
            "announced catalog writes left unannounced by a crash",
            extra={"event": "catalog_intents_announced", "count": cleared},
        )
    return cleared


def run_forever(
    dispatcher: MailDispatcher,
    stop: threading.Event,
    poll_seconds: float = 2.0,
    svc: Services | None = None,
) -> None:
    chores_due = 0.0
    while not stop.is_set():
        if time.monotonic() >= chores_due:
            housekeeping(dispatcher.sessions, svc)
            chores_due = time.monotonic() + HOUSEKEEPING_SECONDS
        try:
            busy = dispatcher.run_once()
        except Exception:  # a database outage must not end the worker
            log.exception("mail dispatch failed", extra={"event": "mail_dispatch_error"})
            busy = DispatchReport()
        if not busy:
            stop.wait(poll_seconds)


def start_in_thread(
    dispatcher: MailDispatcher, poll_seconds: float, svc: Services | None = None
) -> threading.Event:
    """The chores on a daemon thread (``shopsmart-server run`` with the worker on)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(dispatcher, stop, poll_seconds, svc), name="mail-dispatcher"
    )
    thread.daemon = True
    thread.start()
    return stop


def main_loop(
    dispatcher: MailDispatcher, once: bool, poll_seconds: float, svc: Services | None = None
) -> int:
    if once:
        housekeeping(dispatcher.sessions, svc)
        report = dispatcher.run_once()
        print(
            f"sent {report.sent}, retried {report.retried}, failed {report.failed}, "
            f"unknown {report.unknown}, requeued {report.requeued}",
            flush=True,
        )
        return 0
    stop = threading.Event()
    try:
        run_forever(dispatcher, stop, poll_seconds, svc)
    except KeyboardInterrupt:
        print("mail worker stopped", file=sys.stderr)
    return 0
