"""Clerk log-in with PIN, lockout after repeated failures, and manager approval."""

from __future__ import annotations

from dataclasses import replace

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
        if any(c.name.lower() == name.lower() for c in uow.clerks.all()):
            raise InvalidInput(f"there is already a clerk called {name}", field="name")
        uow.clerks.save(clerk)
        uow.commit()
    return clerk


def needs_first_manager(uow: UnitOfWork) -> bool:
    with uow:
        return not any(c.is_manager and c.active for c in uow.clerks.all())
