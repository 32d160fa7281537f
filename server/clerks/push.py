"""The push handlers of ``clerk.saved`` and ``approval.used``.

``clerk.saved``: a manager added or changed a clerk at a till, maybe offline; or the manager
made at a till's first start (saved by themselves), who becomes the store's first manager when
the store has no active manager yet, and is refused when it has one. The server's
row takes the change only when it is newer than what it holds (``updated_at``: the last change
wins, whichever till it came from), and writes the change log so every till pulls the result;
an older change is accepted and changes nothing. Refused: a clerk id another store holds, a
change saved by someone who is not a manager of the store here, and a change that would leave
the store without an active manager (two tills each demoting a different manager offline).

``approval.used``: kept as it is in the store's audit log (actor: the approving manager), with
the terminal that pushed it; an approval by someone the server does not know as a manager of
the store is kept all the same (it happened at the till) and marked so a person can look.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import AuditEntry, Clerk
from server.orders.service import OrderOutcome
from server.sync.changes import record_changes
from server.terminals.auth import Caller
from sync.protocol import ApprovalUsedEvent, ClerkSavedEvent

CLERK_EVENT_TYPES = (ApprovalUsedEvent, ClerkSavedEvent)
ClerkEvent = ApprovalUsedEvent | ClerkSavedEvent


@dataclass(frozen=True, slots=True)
class ClerkCommand:
    key: int  # the event's index in the push
    event: ClerkEvent


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _manager_of(session: Session, store_id: uuid.UUID, clerk_id: str) -> Clerk | None:
    try:
        key = uuid.UUID(clerk_id)
    except ValueError:
        return None
    clerk = session.get(Clerk, key)
    if clerk is None or clerk.store_id != store_id or clerk.deleted:
        return None
    return clerk if clerk.role == "manager" and clerk.active else None


def _active_managers(session: Session, store_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Clerk)
            .where(
                Clerk.store_id == store_id,
                Clerk.role == "manager",
                Clerk.active.is_(True),
                Clerk.deleted.is_(False),
            )
        )
        or 0
    )


def _order(command: ClerkCommand) -> tuple[int, datetime, int]:
    """Clerks first, oldest change first (a manager added offline approves after it)."""
    event = command.event
    if isinstance(event, ClerkSavedEvent):
        return (0, event.payload.updated_at, command.key)
    return (1, event.payload.used_at, command.key)


def apply_clerk_events(
    session: Session, who: Caller, commands: Sequence[ClerkCommand], now: datetime
) -> list[OrderOutcome]:
    """Apply the batch's new clerk and approval events; one outcome per command."""
    outcomes = []
    for command in sorted(commands, key=_order):
        event = command.event
        if isinstance(event, ClerkSavedEvent):
            outcomes.append(_save_clerk(session, who, command.key, event, now))
        else:
            outcomes.append(_record_approval(session, who, command.key, event, now))
    return outcomes


def _save_clerk(
    session: Session, who: Caller, key: int, event: ClerkSavedEvent, now: datetime
) -> OrderOutcome:
    p = event.payload
    clerk = session.get(Clerk, p.clerk_id)
    self_added = p.by_clerk_id == str(p.clerk_id) and p.role == "manager" and p.active
    first_manager = self_added and clerk is None and _active_managers(session, who.store_id) == 0
    if not first_manager and _manager_of(session, who.store_id, p.by_clerk_id) is None:
        message = "only a manager of this store may add or change clerks"
        if self_added and clerk is None:
            message = (
                f"{p.name} was made a manager at the till's first start, but the store "
                "already has a manager: ask them to add you (Manager → Clerks…)"
            )
        return OrderOutcome(key, "rejected", "not_a_manager", message, "payload.by_clerk_id")
    if clerk is not None and clerk.store_id != who.store_id:
        return OrderOutcome(
            key, "rejected", "clerk_id_taken", "that clerk id is in use", "payload.clerk_id"
        )
    if clerk is not None and _aware(clerk.updated_at) >= p.updated_at:
        return OrderOutcome(key, "accepted")  # a newer change is already here: it wins
    was_active_manager = clerk is not None and clerk.role == "manager" and clerk.active
    stays_active_manager = p.role == "manager" and p.active
    if (
        was_active_manager
        and not stays_active_manager
        and _active_managers(session, who.store_id) <= 1
    ):
        return OrderOutcome(
            key,
            "rejected",
            "last_manager",
            f"{clerk.name if clerk else p.name} is the store's last active manager",
            "payload.role",
        )
    if clerk is None:
        clerk = Clerk(id=p.clerk_id, store_id=who.store_id, deleted=False)
        session.add(clerk)
    clerk.name = p.name
    clerk.role = p.role
    clerk.active = p.active
    clerk.pin_hash = p.pin_hash
    clerk.updated_at = p.updated_at
    session.flush()
    record_changes(session, "clerk", [str(clerk.id)], who.store_id)
    session.add(
        AuditEntry(
            at=now,
            actor=p.by_clerk_id,
            action="clerk.saved",
            store_id=who.store_id,
            detail={
                "clerk_id": str(p.clerk_id),
                "name": p.name,
                "role": p.role,
                "active": p.active,
                "updated_at": p.updated_at.isoformat(),
                "terminal_code": who.terminal_code,
            },
        )
    )
    return OrderOutcome(key, "accepted")


def _record_approval(
    session: Session, who: Caller, key: int, event: ApprovalUsedEvent, now: datetime
) -> OrderOutcome:
    p = event.payload
    session.add(
        AuditEntry(
            at=now,
            actor=p.approved_by,
            action="approval.used",
            store_id=who.store_id,
            detail={
                "approval_id": str(p.approval_id),
                "action": p.action,
                "subject": p.subject,
                "asked_by": p.asked_by,
                "approved_by": p.approved_by,
                "terminal_code": p.terminal_code,
                "pushed_by": who.terminal_code,
                "at": p.at.isoformat(),
                "used_at": p.used_at.isoformat(),
                "approver_is_manager": _manager_of(session, who.store_id, p.approved_by)
                is not None,
            },
        )
    )
    return OrderOutcome(key, "accepted")
