"""Role checks on the till, in the use cases (whatever a screen does): a clerk cannot approve
any action, cannot open the reports, cannot manage clerks; an approval is good for its own
action only and once."""

from __future__ import annotations

import pytest

from app.domain.approval import (
    SUBJECT_PARTS,
    ApprovalAction,
    ApprovalRefused,
    approval_subject,
)
from app.domain.errors import PermissionDenied
from app.services.approvals import grant_approval, use_approval
from app.services.clerks import add_clerk


def subject_of(action: ApprovalAction) -> str:
    return approval_subject(action, **{part: "1" for part in SUBJECT_PARTS[action]})


def test_a_clerk_cannot_approve_anything(terminal, clerk):
    for action in ApprovalAction:
        with pytest.raises(ApprovalRefused, match="Maria is not a manager and cannot approve"):
            grant_approval(
                terminal.uow(),
                terminal.ids,
                terminal.clock,
                action,
                subject_of(action),
                clerk.id,
                clerk.id,
                "2468",
                store=terminal.store,
            )
    with terminal.read() as uow:
        assert uow.clerks.get(clerk.id).failed_attempts == 0  # refused before any PIN check
        assert [c.id for c in uow.clerks.all()] == [clerk.id]


def test_an_approval_is_not_reused_for_another_action(terminal, clerk, approve):
    no_sale = approve(ApprovalAction.NO_SALE, subject_of(ApprovalAction.NO_SALE), clerk)
    others = [a for a in ApprovalAction if a is not ApprovalAction.NO_SALE]
    for action in others:
        with terminal.uow() as uow, pytest.raises(ApprovalRefused, match="is for a no-sale"):
            use_approval(uow, terminal.clock, no_sale, action, subject_of(action), "test")
    with terminal.uow() as uow:
        subject = subject_of(ApprovalAction.NO_SALE)
        use_approval(uow, terminal.clock, no_sale, ApprovalAction.NO_SALE, subject, "drawer")
        uow.commit()
    with terminal.uow() as uow, pytest.raises(ApprovalRefused, match="used already"):
        use_approval(uow, terminal.clock, no_sale, ApprovalAction.NO_SALE, subject, "again")
    with terminal.read() as uow:
        assert [e.action.value for e in uow.audit.recent()] == ["approval_used"]


def test_a_clerk_cannot_open_the_reports_or_manage_clerks(terminal, clerk):
    from app.services.reports import local_report

    with pytest.raises(PermissionDenied, match="only a manager may open the reports; Maria"):
        local_report(None, clerk, None)  # refused before anything is read
    with pytest.raises(PermissionDenied, match="only a manager may add clerks"):
        add_clerk(terminal.uow(), terminal.ids, terminal.clock, clerk, "Nina", "4321")
