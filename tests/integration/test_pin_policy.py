"""The PIN policy on the till: managers' PINs of 6+ digits, hashes of the old cost upgraded,
old 4-digit manager PINs still working but due for a change, lockouts that survive a restart,
and the way out of a lockout: a new PIN set on the server and pulled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.bootstrap import Terminal, open_terminal
from app.data import DEMO_MANAGER_PIN
from app.domain.clerk import Clerk, Role, hash_pin, pin_hash_is_current, verify_pin
from app.domain.errors import AuthenticationFailed, ClerkLocked, InvalidInput
from app.domain.sync import ClerkRecord, PulledPage
from app.services.clerks import approve_as_manager, create_clerk, log_in
from local_db.sync_store import SqliteSyncStore
from tests.fakes import StepClock

OLD_COST = (16384, 8, 1)  # the hash cost before the policy


def lock_out(terminal: Terminal, clerk_id: str, clock: StepClock) -> ClerkLocked:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            log_in(terminal.uow(), clerk_id, "00000000", clock)
    with pytest.raises(ClerkLocked) as locked:
        log_in(terminal.uow(), clerk_id, "00000000", clock)
    return locked.value


def pull_clerk(terminal: Terminal, clerk: Clerk, pin_hash: str) -> None:
    record = ClerkRecord(clerk.id, clerk.name, clerk.role.value, pin_hash, True)
    SqliteSyncStore(terminal.database.writer).apply_pull(
        PulledPage(next_cursor="7", clerks=[record])
    )


def test_a_manager_pin_needs_6_digits_a_clerks_4(terminal: Terminal) -> None:
    with pytest.raises(InvalidInput, match="a manager's PIN is 6 to 8 digits"):
        create_clerk(terminal.uow(), "Sam", "9753", Role.MANAGER, terminal.ids)
    create_clerk(terminal.uow(), "Ana", "1357", Role.CLERK, terminal.ids)
    create_clerk(terminal.uow(), "Sam", DEMO_MANAGER_PIN, Role.MANAGER, terminal.ids)


def test_the_only_manager_locked_out_is_shown_the_way_out_and_a_pulled_new_pin_unlocks(
    terminal: Terminal, manager: Clerk
) -> None:
    clock = StepClock(terminal.clock.now())
    locked = lock_out(terminal, manager.id, clock)
    assert "locked for 5 minutes" in locked.message
    assert "shopsmart-server clerk set-pin" in locked.message
    assert "ask a manager" not in locked.message  # there is none to ask
    with pytest.raises(ClerkLocked, match=r"try again in 5 min.*clerk set-pin"):
        log_in(terminal.uow(), manager.id, DEMO_MANAGER_PIN, clock)

    pull_clerk(terminal, manager, manager.pin_hash)  # the same record again: still locked
    with pytest.raises(ClerkLocked):
        log_in(terminal.uow(), manager.id, DEMO_MANAGER_PIN, clock)

    pull_clerk(terminal, manager, hash_pin("13572468", role=Role.MANAGER))  # owner's new PIN
    assert log_in(terminal.uow(), manager.id, "13572468", clock).id == manager.id  # at once
    with pytest.raises(AuthenticationFailed, match="4 tries left"):  # and counting from zero
        log_in(terminal.uow(), manager.id, DEMO_MANAGER_PIN, clock)


def test_a_locked_clerk_may_ask_a_manager_or_the_owner(terminal: Terminal, clerk: Clerk) -> None:
    locked = lock_out(terminal, clerk.id, StepClock(terminal.clock.now()))
    assert "ask a manager, or the store owner can set a new PIN" in locked.message


def test_a_lockout_survives_a_restart_of_the_till(tmp_path: Path) -> None:
    terminal = open_terminal(tmp_path / "till")
    sam = create_clerk(terminal.uow(), "Sam", DEMO_MANAGER_PIN, Role.MANAGER, terminal.ids)
    clock = StepClock(terminal.clock.now())
    lock_out(terminal, sam.id, clock)
    terminal.close()
    again = open_terminal(tmp_path / "till")  # the counters are in SQLite, not in memory
    try:
        with pytest.raises(ClerkLocked):
            log_in(again.uow(), sam.id, DEMO_MANAGER_PIN, clock)
        clock.moment += timedelta(minutes=5, seconds=1)
        assert log_in(again.uow(), sam.id, DEMO_MANAGER_PIN, clock).id == sam.id
    finally:
        again.close()


def test_a_hash_of_the_old_cost_logs_in_and_is_made_again_with_todays(
    terminal: Terminal,
) -> None:
    old = Clerk("c-old", "Otto", Role.CLERK, hash_pin("4711", cost=OLD_COST))
    with terminal.uow() as uow:
        uow.clerks.save(old)
        uow.commit()
    log_in(terminal.uow(), old.id, "4711", terminal.clock)
    with terminal.read() as uow:
        upgraded = uow.clerks.get(old.id)
    assert upgraded is not None and upgraded.pin_hash != old.pin_hash
    assert pin_hash_is_current(upgraded.pin_hash) and verify_pin("4711", upgraded.pin_hash)


def test_a_4_digit_manager_pin_from_before_still_works_and_is_due_for_a_change(
    terminal: Terminal,
) -> None:
    # pulled from a server before the rule: it must not lock the store out
    max_ = Clerk("m-old", "Max", Role.MANAGER, hash_pin("9999", cost=OLD_COST))
    with terminal.uow() as uow:
        uow.clerks.save(max_)
        uow.commit()
    logged_in = log_in(terminal.uow(), max_.id, "9999", terminal.clock)
    assert logged_in.pin_change_due
    assert approve_as_manager(terminal.uow(), "9999", terminal.clock).id == max_.id
    sam = create_clerk(terminal.uow(), "Sam", DEMO_MANAGER_PIN, Role.MANAGER, terminal.ids)
    assert not log_in(terminal.uow(), sam.id, DEMO_MANAGER_PIN, terminal.clock).pin_change_due
