"""approval.used and clerk.saved on the wire: what the till queues is what the server's
models accept, and a pin hash the tills could not check is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.domain.approval import Approval, ApprovalAction, approval_subject
from app.domain.clerk import Clerk, Role
from app.domain.events import ApprovalUsed, ClerkSaved
from sync import protocol as p
from sync.wire import encode_event, wire_event

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
APPROVAL = Approval(
    "0190f1c2-0000-7000-8000-000000000001",
    ApprovalAction.REFUND,
    approval_subject(
        ApprovalAction.REFUND, order="0190f1c2-0000-7000-8000-00000000000a", amount=1250
    ),
    "0190f1c2-0000-7000-8000-0000000000c1",
    "0190f1c2-0000-7000-8000-0000000000a1",
    "T01",
    AT,
    AT + timedelta(seconds=20),
)
CLERK = Clerk(
    "0190f1c2-0000-7000-8000-0000000000c1", "Maria", Role.CLERK, "scrypt$32768$8$1$c2FsdA$aGFzaA"
)


def test_approval_used_speaks_the_protocol():
    event = wire_event(ApprovalUsed(APPROVAL, "Maria", "Sam"))
    assert isinstance(event, p.ApprovalUsedEvent)
    assert str(event.event_id) == APPROVAL.id
    payload = event.payload
    assert (payload.action, payload.subject) == ("refund", APPROVAL.subject)
    assert (payload.asked_by, payload.approved_by) == (APPROVAL.asked_by, APPROVAL.approved_by)
    assert (payload.at, payload.used_at, payload.terminal_code) == (AT, APPROVAL.used_at, "T01")


def test_clerk_saved_speaks_the_protocol():
    saved = ClerkSaved("0190f1c2-0000-7000-8000-000000000009", CLERK, AT, APPROVAL.approved_by)
    event = wire_event(saved)
    assert isinstance(event, p.ClerkSavedEvent)
    payload = event.payload
    assert (str(payload.clerk_id), payload.name, payload.role, payload.active) == (
        CLERK.id,
        "Maria",
        "clerk",
        True,
    )
    assert (payload.pin_hash, payload.updated_at, payload.by_clerk_id) == (
        CLERK.pin_hash,
        AT,
        APPROVAL.approved_by,
    )


def test_clerk_saved_with_a_hash_no_till_can_check_is_refused():
    body = json.loads(
        encode_event(ClerkSaved("0190f1c2-0000-7000-8000-000000000009", CLERK, AT, "m")).body
    )
    body["payload"]["pin_hash"] = "1234"
    with pytest.raises(ValidationError, match="pin_hash"):
        p.ClerkSavedEvent.model_validate(body)
