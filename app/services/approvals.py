"""Granting and using a manager's approval (app.domain.approval): the one way every use case
that needs a manager gets one.

The flow: a use case called without an approval raises ``ApprovalNeeded`` (with the action,
the subject and why); the screen asks a manager for their PIN (one ``ApprovalDialog``);
``grant_approval`` checks it — a wrong PIN counts toward that manager's lockout exactly as at
log-in — and stores the approval; the use case is called again with it and ``use_approval``,
inside the use case's own transaction, checks it is for this action and this subject, unused,
fresh and by an active manager, marks it used, writes the audit entry and queues
``approval.used``. Since it is all one transaction, a sale that fails leaves its approval
unused, and an approval used once can never approve anything again.
"""

from __future__ import annotations

from app.domain.approval import Approval, ApprovalAction, ApprovalNeeded, ApprovalRefused
from app.domain.audit import AuditAction, AuditEntry
from app.domain.clerk import Clerk, verify_pin
from app.domain.errors import AuthenticationFailed, NotFound, PermissionDenied
from app.domain.events import ApprovalUsed
from app.domain.store import StoreProfile
from app.ports import Clock, IdFactory, UnitOfWork
from app.services.clerks import log_in


def _name(uow: UnitOfWork, clerk_id: str) -> str:
    clerk = uow.clerks.get(clerk_id)
    return clerk.name if clerk else clerk_id


def grant_approval(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    action: ApprovalAction,
    subject: str,
    asked_by: str,
    manager_id: str | None,
    pin: str,
    *,
    store: StoreProfile,
) -> Approval:
    """A manager approves ``action`` on ``subject`` (spelled by ``approval_subject``) with their
    PIN. A clerk cannot approve (``ApprovalRefused``, their PIN is not even checked); a wrong
    PIN raises ``AuthenticationFailed`` and counts toward the manager's lockout
    (``ClerkLocked`` after five); with ``store.approver_must_differ`` a manager cannot approve
    what they asked for. The approval is stored unused, for this terminal.

    ``manager_id`` None (the dialog had no manager chosen): the active manager whose PIN it
    is; a PIN of none of them counts against the one manager the till has, or against the
    asking clerk when they are a manager."""
    action = ApprovalAction(action)
    if not subject.startswith(f"{action.value}:"):
        raise ApprovalRefused(f"that subject does not name a {action.text}")
    if manager_id is None:
        manager_id = _whose_pin(uow, pin, asked_by)
    asked_by = asked_by or manager_id  # nobody else asked: the manager did
    with uow:
        manager = uow.clerks.get(manager_id)
        if manager is None or not manager.active:
            raise NotFound("unknown manager", field="manager")
        if not manager.is_manager:
            raise ApprovalRefused(
                f"{manager.name} is not a manager and cannot approve a {action.text}"
            )
        if store.approver_must_differ and manager_id == asked_by:
            raise ApprovalRefused(
                f"this store needs a second person: {manager.name} cannot approve their own "
                f"{action.text}"
            )
    log_in(uow, manager_id, pin, clock)  # wrong PIN: raises, and the failure is counted
    approval = Approval(
        id=ids.new_id(),
        action=action,
        subject=subject,
        asked_by=asked_by,
        approved_by=manager_id,
        terminal_code=store.terminal_code,
        at=clock.now(),
    )
    with uow:
        uow.approvals.add(approval)
        uow.commit()
    return approval


def _whose_pin(uow: UnitOfWork, pin: str, asked_by: str) -> str:
    with uow:
        managers = [c for c in uow.clerks.all() if c.is_manager and c.active]
    for manager in managers:
        if verify_pin(pin, manager.pin_hash):
            return manager.id
    for manager in managers:
        if manager.id == asked_by:
            return manager.id
    if len(managers) == 1:
        return managers[0].id
    raise AuthenticationFailed("that is not a manager's PIN", field="pin")


def use_approval(
    uow: UnitOfWork,
    clock: Clock,
    approval: Approval | None,
    action: ApprovalAction,
    subject: str,
    needed_because: str,
    *,
    amount: int = 0,
) -> Approval:
    """Inside the use case's open transaction (``uow`` is entered): check ``approval`` is for
    exactly this ``action`` and ``subject``, unused, fresh, and granted on this till by a
    manager who still is one; mark it used, write the audit entry and queue ``approval.used``
    — all committed, or rolled back, with the use case. ``None`` raises ``ApprovalNeeded``
    with ``needed_because`` for the dialog; anything else wrong raises ``ApprovalRefused``.
    ``amount`` (minor units) is what the audit entry shows the approval was for."""
    action = ApprovalAction(action)
    if approval is None:
        raise ApprovalNeeded(
            f"{needed_because}: a manager must approve it",
            action=action,
            subject=subject,
            reason=needed_because,
        )
    stored = uow.approvals.get(approval.id)
    if stored is None:
        raise ApprovalRefused("that approval was not granted on this till")
    if stored.action is not action:
        raise ApprovalRefused(
            f"that approval is for a {stored.action.text}, not a {action.text}: ask again"
        )
    if stored.subject != subject:
        raise ApprovalRefused(
            f"that approval is for another {action.text} ({stored.subject}): ask again"
        )
    if stored.used_at is not None:
        raise ApprovalRefused(f"that approval was used already (for a {action.text}): ask again")
    now = clock.now()
    if stored.expired(now):
        raise ApprovalRefused("that approval is too old: ask the manager again")
    manager = uow.clerks.get(stored.approved_by)
    if manager is None or not manager.active or not manager.is_manager:
        raise ApprovalRefused("the manager who approved it no longer may: ask again")
    uow.approvals.mark_used(stored.id, now)
    used = Approval(
        id=stored.id,
        action=stored.action,
        subject=stored.subject,
        asked_by=stored.asked_by,
        approved_by=stored.approved_by,
        terminal_code=stored.terminal_code,
        at=stored.at,
        used_at=now,
    )
    asked_by_name = _name(uow, used.asked_by)
    uow.audit.add(
        AuditEntry(
            now,
            manager.id,
            manager.name,
            AuditAction.APPROVAL_USED,
            needed_because[:500],
            amount,
            f"{action.text} approved by {manager.name}, asked by {asked_by_name}, on "
            f"{used.terminal_code}: {used.subject}",
        )
    )
    uow.outbox.add(ApprovalUsed(used, asked_by_name, manager.name))
    return used


def require_manager_role(clerk: Clerk | None, what: str) -> Clerk:
    """The role check of every manager-only screen and use case (Reports, Clerks, closing
    another clerk's shift): ``clerk`` is an active manager, or ``PermissionDenied`` says
    ``what`` they may not do."""
    if clerk is None or not clerk.active:
        raise PermissionDenied(f"log in as a manager to {what}", field="clerk")
    if not clerk.is_manager:
        raise PermissionDenied(f"only a manager may {what}; {clerk.name} is a clerk", field="clerk")
    return clerk
