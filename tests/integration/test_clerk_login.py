"""PIN log-in with lockout, manager approval and the first-manager path."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from app.data import DEMO_MANAGER_PIN
from app.domain.clerk import SCRYPT_N, SCRYPT_P, SCRYPT_R, Role, verify_pin
from app.domain.errors import AuthenticationFailed, ClerkLocked, InvalidInput, PermissionDenied
from app.services.clerks import approve_as_manager, create_clerk, log_in, needs_first_manager
from local_db.engine import DB_FILENAME
from tests.fakes import StepClock


def test_first_run_needs_a_manager_until_one_exists(terminal):
    assert needs_first_manager(terminal.uow())
    create_clerk(terminal.uow(), "Ana", "1357", Role.CLERK, terminal.ids)
    assert needs_first_manager(terminal.uow())
    create_clerk(terminal.uow(), "Sam", DEMO_MANAGER_PIN, Role.MANAGER, terminal.ids)
    assert not needs_first_manager(terminal.uow())


def test_pin_is_stored_only_as_a_salted_scrypt_hash(terminal, clerk):
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        (stored,) = db.execute("SELECT pin_hash FROM clerks").fetchone()
    assert "2468" not in stored
    assert stored.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")
    assert verify_pin("2468", stored) and not verify_pin("2469", stored)


def test_five_wrong_pins_lock_the_clerk_for_a_few_minutes(terminal, clerk):
    clock = StepClock(terminal.clock.now())
    for left in (4, 3, 2, 1):
        with pytest.raises(AuthenticationFailed, match=f"{left} tr"):
            log_in(terminal.uow(), clerk.id, "0000", clock)
    with pytest.raises(ClerkLocked, match="locked for 5 minutes"):
        log_in(terminal.uow(), clerk.id, "0000", clock)
    with pytest.raises(ClerkLocked, match="try again in 5 min"):
        log_in(terminal.uow(), clerk.id, "2468", clock)  # the right PIN is refused too
    clock.moment += timedelta(minutes=5, seconds=1)
    assert log_in(terminal.uow(), clerk.id, "2468", clock).failed_attempts == 0


def test_a_good_pin_resets_the_count(terminal, clerk):
    clock = StepClock(terminal.clock.now())
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            log_in(terminal.uow(), clerk.id, "1111", clock)
    log_in(terminal.uow(), clerk.id, "2468", clock)
    with pytest.raises(AuthenticationFailed, match="4 tries left"):
        log_in(terminal.uow(), clerk.id, "1111", clock)


def test_only_a_managers_pin_approves(terminal, clerk, manager):
    assert approve_as_manager(terminal.uow(), DEMO_MANAGER_PIN, terminal.clock).id == manager.id
    with pytest.raises(PermissionDenied):
        approve_as_manager(terminal.uow(), "2468", terminal.clock)


@pytest.mark.parametrize("pin", ["12", "abcd", "123456789", "12 34"])
def test_bad_pins_are_refused_at_creation(terminal, pin):
    with pytest.raises(InvalidInput, match="4 to 8 digits"):
        create_clerk(terminal.uow(), "Lee", pin, Role.CLERK, terminal.ids)
