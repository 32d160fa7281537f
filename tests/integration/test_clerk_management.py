"""A manager manages clerks at the till (offline too): each change is stored with its
clerk.saved event in one transaction; a clerk cannot; the last active manager stays one."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.data import DEMO_MANAGER_PIN
from app.domain.clerk import Role, verify_pin
from app.domain.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from app.services.clerks import (
    add_clerk,
    create_first_manager,
    deactivate_clerk,
    log_in,
    reactivate_clerk,
    reset_pin,
    set_role,
)
from local_db.engine import DB_FILENAME
from sync.protocol import ClerkSavedEvent


def saved_events(terminal) -> list[ClerkSavedEvent]:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        rows = db.execute(
            "SELECT payload FROM outbox WHERE event_type = 'clerk.saved' ORDER BY seq"
        ).fetchall()
    return [ClerkSavedEvent.model_validate(json.loads(row[0])) for row in rows]


def test_a_manager_adds_resets_promotes_and_deactivates_a_clerk(terminal, manager):
    t = terminal
    nina = add_clerk(t.uow(), t.ids, t.clock, manager, "  Nina ", "4321")
    assert (nina.name, nina.role, nina.active) == ("Nina", Role.CLERK, True)
    assert log_in(t.uow(), nina.id, "4321", t.clock).id == nina.id
    nina = reset_pin(t.uow(), t.ids, t.clock, manager, nina.id, "8765")
    with pytest.raises(AuthenticationFailed):
        log_in(t.uow(), nina.id, "4321", t.clock)
    nina = set_role(t.uow(), t.ids, t.clock, manager, nina.id, Role.MANAGER)
    assert log_in(t.uow(), nina.id, "8765", t.clock).pin_change_due  # 4 digits: change it
    nina = deactivate_clerk(t.uow(), t.ids, t.clock, manager, nina.id)
    with t.read() as uow:
        assert uow.clerks.get(nina.id).active is False
    events = saved_events(t)
    assert [(e.payload.role, e.payload.active) for e in events] == [
        ("clerk", True),
        ("clerk", True),
        ("manager", True),
        ("manager", False),
    ]
    assert {str(e.payload.clerk_id) for e in events} == {nina.id}
    assert {e.payload.by_clerk_id for e in events} == {manager.id}
    assert verify_pin("8765", events[1].payload.pin_hash)  # the server gets the new hash
    with t.read() as uow:
        assert [e.action.value for e in uow.audit.recent(4)] == ["clerk_saved"] * 4
    assert reactivate_clerk(t.uow(), t.ids, t.clock, manager, nina.id).active


def test_a_clerk_cannot_manage_clerks(terminal, clerk, manager):
    t = terminal
    with pytest.raises(PermissionDenied, match="only a manager may add clerks; Maria"):
        add_clerk(t.uow(), t.ids, t.clock, clerk, "Nina", "4321")
    with pytest.raises(PermissionDenied):
        set_role(t.uow(), t.ids, t.clock, clerk, clerk.id, Role.MANAGER)
    with pytest.raises(PermissionDenied):
        reset_pin(t.uow(), t.ids, t.clock, clerk, manager.id, "999999")
    assert saved_events(t) == []


def test_the_last_active_manager_stays_a_manager(terminal, manager):
    t = terminal
    with pytest.raises(InvalidInput, match="Sam is the last active manager"):
        deactivate_clerk(t.uow(), t.ids, t.clock, manager, manager.id)
    with pytest.raises(InvalidInput, match="last active manager"):
        set_role(t.uow(), t.ids, t.clock, manager, manager.id, Role.CLERK)
    other = add_clerk(t.uow(), t.ids, t.clock, manager, "Ana", "135790", Role.MANAGER)
    assert set_role(t.uow(), t.ids, t.clock, manager, manager.id, Role.CLERK).role is Role.CLERK
    with pytest.raises(PermissionDenied):  # no longer a manager: cannot manage any more
        deactivate_clerk(t.uow(), t.ids, t.clock, manager, other.id)


def test_a_managers_pin_must_be_long_and_names_are_unique(terminal, manager):
    t = terminal
    with pytest.raises(InvalidInput, match="6 to 8 digits"):
        add_clerk(t.uow(), t.ids, t.clock, manager, "Ana", "1234", Role.MANAGER)
    with pytest.raises(InvalidInput, match="already a clerk called sam"):
        add_clerk(t.uow(), t.ids, t.clock, manager, "sam", "1234")
    assert saved_events(t) == []


def test_the_first_start_manager_is_saved_with_a_clerk_saved_by_themselves(terminal):
    """So the server learns the till's first manager once it is connected (it takes them
    as the store's first manager when the store has none: tests/server/test_clerks_push.py)."""
    t = terminal
    maria = create_first_manager(t.uow(), t.ids, t.clock, " Maria ", DEMO_MANAGER_PIN)
    assert (maria.name, maria.role) == ("Maria", Role.MANAGER)
    assert log_in(t.uow(), maria.id, DEMO_MANAGER_PIN, t.clock).id == maria.id
    [event] = saved_events(t)
    p = event.payload
    assert (str(p.clerk_id), p.by_clerk_id, p.role, p.active) == (
        maria.id,
        maria.id,
        "manager",
        True,
    )
    assert verify_pin(DEMO_MANAGER_PIN, p.pin_hash)
    # a second "first" manager: the till has one, who adds clerks in Manager → Clerks…
    with pytest.raises(PermissionDenied, match="has a manager already"):
        create_first_manager(t.uow(), t.ids, t.clock, "Max", "135790")
    assert len(saved_events(t)) == 1


def test_a_first_manager_needs_a_managers_pin(terminal):
    t = terminal
    with pytest.raises(InvalidInput):  # a manager's PIN is 6-8 digits
        create_first_manager(t.uow(), t.ids, t.clock, "Max", "1234")
    assert saved_events(t) == []
