"""Manager sessions: a manager of the terminal's store signs in with a PIN for reports.

``POST /api/v1/manager-sessions {clerk_id, pin}`` checks the PIN against the server's copy
of the clerk's hash (app.domain.clerk, the till's own rule), refuses a clerk who is not an
active manager (403 ``manager_required``), and after ``MAX_FAILED_ATTEMPTS`` wrong PINs in a
row locks the clerk out of the sign-in for ``LOCKOUT`` (403 ``pin_locked``), as the till
does. A session lasts ``SESSION_TTL``; only its token's hash is stored. Report calls send
it as ``X-Shopsmart-Manager`` beside the terminal's bearer token, and ``require_manager``
accepts it only for the store (and terminal) it was opened from, while the clerk is still an
active manager.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from app.domain.clerk import LOCKOUT, MAX_FAILED_ATTEMPTS, verify_pin
from server.errors import Forbidden
from server.models import AuditEntry, Clerk, ManagerPinFailure, ManagerSession
from server.sql import dialect_insert
from server.terminals.auth import Caller, hash_secret, new_token

SESSION_TTL = timedelta(minutes=15)


class ManagerRequired(Forbidden):
    code = "manager_required"


class PinLocked(Forbidden):
    code = "pin_locked"


class WrongPin(Forbidden):
    code = "invalid_pin"


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str
    expires_at: datetime
    clerk_id: uuid.UUID
    clerk_name: str


def _clerk_uuid(clerk_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(clerk_id)
    except ValueError:
        return None


def open_manager_session(
    factory: sessionmaker[Session], who: Caller, clerk_id: str, pin: str
) -> OpenedSession:
    """A new session for a manager of ``who``'s store, or 403 (see the module docstring).
    A wrong PIN is counted in a transaction of its own, committed before the 403."""
    terminal_id = who.terminal()
    now = datetime.now(UTC)
    key = _clerk_uuid(clerk_id)
    with factory() as session, session.begin():
        clerk = (
            session.scalars(
                select(Clerk).where(Clerk.id == key, Clerk.store_id == who.store_id)
            ).first()
            if key is not None
            else None
        )
        if clerk is None or clerk.deleted or not clerk.active:
            raise WrongPin("unknown clerk or wrong PIN", field="pin")
        failure = session.get(ManagerPinFailure, {"store_id": who.store_id, "clerk_id": clerk.id})
        if failure is not None and failure.locked_until and failure.locked_until > now:
            raise PinLocked(
                f"too many wrong PINs: try again after {failure.locked_until:%H:%M} UTC",
                field="pin",
            )
        right = verify_pin(pin, clerk.pin_hash)
        found_id, role, name = clerk.id, clerk.role, clerk.name
        if not right:
            failures = (failure.failures if failure is not None else 0) + 1
            locked = now + LOCKOUT if failures >= MAX_FAILED_ATTEMPTS else None
            stmt = dialect_insert(session, ManagerPinFailure.__table__)
            session.execute(
                stmt.values(
                    store_id=who.store_id,
                    clerk_id=clerk.id,
                    failures=0 if locked else failures,
                    locked_until=locked,
                ).on_conflict_do_update(
                    index_elements=["store_id", "clerk_id"],
                    set_={"failures": 0 if locked else failures, "locked_until": locked},
                )
            )
            session.add(
                AuditEntry(
                    actor=f"terminal:{terminal_id}",
                    action="manager_session.wrong_pin",
                    store_id=who.store_id,
                    detail={"clerk_id": str(clerk.id), "locked": locked is not None},
                )
            )
        elif failure is not None:
            session.delete(failure)
    if not right:  # committed above
        raise WrongPin("unknown clerk or wrong PIN", field="pin")
    if role != "manager":
        raise ManagerRequired("reports are for managers: this clerk is not one")
    token = new_token()
    expires = now + SESSION_TTL
    with factory() as session, session.begin():
        session.execute(delete(ManagerSession).where(ManagerSession.expires_at < now))
        session.add(
            ManagerSession(
                token_hash=hash_secret(token),
                store_id=who.store_id,
                terminal_id=terminal_id,
                clerk_id=found_id,
                created_at=now,
                expires_at=expires,
            )
        )
        session.add(
            AuditEntry(
                actor=f"terminal:{terminal_id}",
                action="manager_session.open",
                store_id=who.store_id,
                detail={"clerk_id": str(found_id)},
            )
        )
    return OpenedSession(token, expires, found_id, name)


def require_manager(session: Session, who: Caller, token: str | None) -> uuid.UUID:
    """The manager clerk of a live session opened by ``who``'s terminal, else 403."""
    if not token:
        raise ManagerRequired(
            "reports need a manager: sign in with POST /api/v1/manager-sessions and send "
            "the token as X-Shopsmart-Manager"
        )
    now = datetime.now(UTC)
    found = session.execute(
        select(ManagerSession.clerk_id)
        .join(
            Clerk,
            (Clerk.id == ManagerSession.clerk_id) & (Clerk.store_id == ManagerSession.store_id),
        )
        .where(
            ManagerSession.token_hash == hash_secret(token.strip()),
            ManagerSession.store_id == who.store_id,
            ManagerSession.terminal_id == who.terminal(),
            ManagerSession.expires_at > now,
            Clerk.role == "manager",
            Clerk.active.is_(True),
            Clerk.deleted.is_(False),
        )
    ).first()
    if found is None:
        raise ManagerRequired("the manager session is unknown or has expired: sign in again")
    return found[0]
