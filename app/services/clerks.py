"""Clerk log-in with PIN, lockout after repeated failures, and a manager's management of
clerks (add, deactivate, reset PIN, role) that syncs as ``clerk.saved``."""

from __future__ import annotations

from dataclasses import replace

from app.domain.audit import AuditAction, AuditEntry
from app.domain.clerk import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    Clerk,
    Role,
    check_pin_format,
    hash_pin,
    pin_change_due,
    pin_hash_is_current,
    verify_pin,
)
from app.domain.errors import (
    AuthenticationFailed,
    ClerkLocked,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from app.domain.events import ClerkSaved
from app.ports import Clock, IdFactory, UnitOfWork

# What unlocks a clerk before the lock runs out: a new PIN set on the server, which every till
# pulls (a changed PIN hash clears the till's lock and count: local_db.sync_store).
SET_PIN_COMMAND = "shopsmart-server clerk set-pin"
WAY_OUT = f"the store owner can set a new PIN with `{SET_PIN_COMMAND}`"


def way_out(clerk: Clerk) -> str:
    """What a locked clerk can do besides waiting (the only manager has no manager to ask)."""
    ask = "" if clerk.is_manager else "ask a manager, or "
    return f"{ask}{WAY_OUT}, which unlocks {clerk.name} once this till has synced"


def pin_change_text(clerk: Clerk) -> str:
    """What the register says after a log-in with a PIN shorter than the role now asks."""
    return (
        f"{clerk.name}: a manager's PIN now has 6 to 8 digits and yours has fewer. It still "
        f"works; ask the store owner for a new one (`{SET_PIN_COMMAND}`)."
    )


def log_in(uow: UnitOfWork, clerk_id: str, pin: str, clock: Clock) -> Clerk:
    """Check a clerk's PIN. Five wrong tries lock the clerk for a few minutes.

    A good PIN whose hash was made with an older, cheaper cost is hashed again with today's.
    The clerk returned says ``pin_change_due`` when the PIN is shorter than the role now asks
    (a 4-digit manager PIN): it logs in, and the screen asks for it to be changed."""
    now = clock.now()
    with uow:
        clerk = uow.clerks.get(clerk_id)
        if clerk is None or not clerk.active:
            raise NotFound("unknown clerk", field="clerk")
        if clerk.is_locked(now):
            assert clerk.locked_until is not None
            minutes = max(1, int((clerk.locked_until - now).total_seconds() + 59) // 60)
            raise ClerkLocked(
                f"{clerk.name} is locked after {MAX_FAILED_ATTEMPTS} wrong PINs; "
                f"try again in {minutes} min; {way_out(clerk)}",
                field="pin",
            )
        if verify_pin(pin, clerk.pin_hash):
            pin_hash = clerk.pin_hash if pin_hash_is_current(clerk.pin_hash) else hash_pin(pin)
            clerk = replace(clerk, failed_attempts=0, locked_until=None, pin_hash=pin_hash)
            uow.clerks.save(clerk)
            uow.commit()
            return replace(clerk, pin_change_due=pin_change_due(clerk.role, pin))
        failed = clerk.failed_attempts + 1
        if failed >= MAX_FAILED_ATTEMPTS:
            uow.clerks.save(replace(clerk, failed_attempts=0, locked_until=now + LOCKOUT))
            uow.commit()
            raise ClerkLocked(
                f"wrong PIN {MAX_FAILED_ATTEMPTS} times: {clerk.name} is locked for "
                f"{int(LOCKOUT.total_seconds() // 60)} minutes; {way_out(clerk)}",
                field="pin",
            )
        uow.clerks.save(replace(clerk, failed_attempts=failed))
        uow.commit()
        left = MAX_FAILED_ATTEMPTS - failed
        raise AuthenticationFailed(
            f"wrong PIN for {clerk.name}; {left} {'try' if left == 1 else 'tries'} left",
            field="pin",
        )


def approve_as_manager(uow: UnitOfWork, pin: str, clock: Clock) -> Clerk:
    """A manager approves on the spot by entering their PIN; any active manager's PIN works."""
    with uow:
        managers = [c for c in uow.clerks.all() if c.is_manager and c.active]
    for manager in managers:
        if verify_pin(pin, manager.pin_hash):
            return log_in(uow, manager.id, pin, clock)
    raise PermissionDenied("that is not a manager's PIN", field="pin")


def require_manager(clerk: Clerk) -> None:
    if not clerk.is_manager:
        raise PermissionDenied(f"{clerk.name} is not a manager", field="approver")


def create_clerk(uow: UnitOfWork, name: str, pin: str, role: Role, ids: IdFactory) -> Clerk:
    name = name.strip()
    if not name or len(name) > 60:
        raise InvalidInput("a clerk's name is 1–60 characters", field="name")
    check_pin_format(pin, role)
    clerk = Clerk(id=ids.new_id(), name=name, role=role, pin_hash=hash_pin(pin, role=role))
    with uow:
        _refuse_taken_name(uow, name)
        uow.clerks.save(clerk)
        uow.commit()
    return clerk


def create_first_manager(
    uow: UnitOfWork, ids: IdFactory, clock: Clock, name: str, pin: str
) -> Clerk:
    """The manager made at the till's first start, when no active manager exists yet. Saved
    with its ``clerk.saved`` (by themselves), so the server takes them as the store's first
    manager once the till is connected (refused, and shown so, if the store has one)."""
    name = _check_name(name)
    check_pin_format(pin, Role.MANAGER)
    pin_hash = hash_pin(pin, role=Role.MANAGER)  # slow on purpose: before the transaction
    with uow:
        if _has_active_manager(uow):
            raise PermissionDenied(
                "this till has a manager already: a manager adds clerks in Manager → Clerks…",
                field="name",
            )
        _refuse_taken_name(uow, name)
        clerk = Clerk(id=ids.new_id(), name=name, role=Role.MANAGER, pin_hash=pin_hash)
        _save(uow, ids, clock, clerk, clerk, "made the first manager at the till's first start")
        uow.commit()
    return clerk


def needs_first_manager(uow: UnitOfWork) -> bool:
    with uow:
        return not _has_active_manager(uow)


def _has_active_manager(uow: UnitOfWork) -> bool:
    return any(c.is_manager and c.active for c in uow.clerks.all())


def _refuse_taken_name(uow: UnitOfWork, name: str) -> None:
    """Two clerks of a till never share a name (case aside): the login shows names."""
    if any(c.name.lower() == name.lower() for c in uow.clerks.all()):
        raise InvalidInput(f"there is already a clerk called {name}", field="name")


# --------------------------------------------------------------------------- clerk management
# A manager adds and changes clerks at the till, offline too; each change is saved with its
# ``clerk.saved`` event in one transaction, the server keeps the newest change of a clerk and
# every till pulls it (docs/manager.md, "Clerks").


def _manager_doing_it(uow: UnitOfWork, by: Clerk, what: str) -> Clerk:
    """``by`` as this till knows them now: an active manager, or ``PermissionDenied``."""
    current = uow.clerks.get(by.id)
    if current is None or not current.active or not current.is_manager:
        raise PermissionDenied(f"only a manager may {what}; {by.name} is not one", field="clerk")
    return current


def _clerk(uow: UnitOfWork, clerk_id: str) -> Clerk:
    clerk = uow.clerks.get(clerk_id)
    if clerk is None:
        raise NotFound("unknown clerk", field="clerk")
    return clerk


def _keeps_a_manager(uow: UnitOfWork, changed: Clerk) -> None:
    """Refuse a change that leaves the till's store without an active manager."""
    others = [c for c in uow.clerks.all() if c.id != changed.id and c.is_manager and c.active]
    if not others and not (changed.is_manager and changed.active):
        raise InvalidInput(
            f"{changed.name} is the last active manager: make another clerk a manager first",
            field="clerk",
        )


def _save(
    uow: UnitOfWork, ids: IdFactory, clock: Clock, clerk: Clerk, by: Clerk, what: str
) -> Clerk:
    """Store the clerk, queue ``clerk.saved`` and audit it, in the caller's transaction."""
    now = clock.now()
    uow.clerks.save(clerk)
    uow.outbox.add(ClerkSaved(ids.new_id(), clerk, now, by.id))
    uow.audit.add(
        AuditEntry(now, by.id, by.name, AuditAction.CLERK_SAVED, what, 0, f"{clerk.name}: {what}")
    )
    return clerk


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 60:
        raise InvalidInput("a clerk's name is 1–60 characters", field="name")
    return name


def add_clerk(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    by: Clerk,
    name: str,
    pin: str,
    role: Role = Role.CLERK,
) -> Clerk:
    """A manager adds a clerk (or a manager): name, role and PIN (the role's length rule)."""
    name = _check_name(name)
    role = Role(role)
    pin_hash = hash_pin(pin, role=role)  # slow on purpose: before the transaction
    with uow:
        _manager_doing_it(uow, by, "add clerks")
        _refuse_taken_name(uow, name)
        clerk = Clerk(id=ids.new_id(), name=name, role=role, pin_hash=pin_hash)
        _save(uow, ids, clock, clerk, by, f"added as {role.value}")
        uow.commit()
    return clerk


def deactivate_clerk(
    uow: UnitOfWork, ids: IdFactory, clock: Clock, by: Clerk, clerk_id: str
) -> Clerk:
    """A manager deactivates a clerk (they can no longer log in or approve); not the last
    active manager."""
    with uow:
        _manager_doing_it(uow, by, "deactivate clerks")
        clerk = replace(_clerk(uow, clerk_id), active=False)
        _keeps_a_manager(uow, clerk)
        _save(uow, ids, clock, clerk, by, "deactivated")
        uow.commit()
    return clerk


def reactivate_clerk(
    uow: UnitOfWork, ids: IdFactory, clock: Clock, by: Clerk, clerk_id: str
) -> Clerk:
    with uow:
        _manager_doing_it(uow, by, "reactivate clerks")
        clerk = replace(_clerk(uow, clerk_id), active=True)
        _save(uow, ids, clock, clerk, by, "reactivated")
        uow.commit()
    return clerk


def reset_pin(
    uow: UnitOfWork, ids: IdFactory, clock: Clock, by: Clerk, clerk_id: str, pin: str
) -> Clerk:
    """A manager sets a clerk's new PIN (the role's length rule); it also lifts a lockout."""
    with uow:
        role = _clerk(uow, clerk_id).role
    pin_hash = hash_pin(pin, role=role)  # slow on purpose: before the transaction
    with uow:
        _manager_doing_it(uow, by, "reset PINs")
        clerk = replace(
            _clerk(uow, clerk_id), pin_hash=pin_hash, failed_attempts=0, locked_until=None
        )
        _save(uow, ids, clock, clerk, by, "PIN reset")
        uow.commit()
    return clerk


def set_role(
    uow: UnitOfWork, ids: IdFactory, clock: Clock, by: Clerk, clerk_id: str, role: Role
) -> Clerk:
    """A manager makes a clerk a manager or a clerk; not the last active manager a clerk. A
    new manager whose PIN is shorter than a manager's must be is told to change it at log-in
    (``pin_change_due``)."""
    role = Role(role)
    with uow:
        _manager_doing_it(uow, by, "change roles")
        clerk = replace(_clerk(uow, clerk_id), role=role)
        _keeps_a_manager(uow, clerk)
        _save(uow, ids, clock, clerk, by, f"role set to {role.value}")
        uow.commit()
    return clerk
