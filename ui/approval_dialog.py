"""The one dialog in which a manager approves something on the spot (app.services.approvals).

The screen's flow: a use case refuses with ``ApprovalNeeded`` (or the screen knows the
subject up front: ``refund_subject``, ``void_subject`` …); this dialog asks which manager
approves and their PIN; ``grant_approval`` checks them in the DB worker (a wrong PIN counts
toward that manager's lockout, a clerk cannot approve); ``then`` — the use case called again
with the approval — runs in the same task, and what it returns is ``outcome``. The dialog
decides nothing itself: the use case checks the approval is for exactly what it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from app.domain.approval import Approval, ApprovalAction, ApprovalNeeded
from app.domain.clerk import Clerk
from app.services.approvals import grant_approval
from app.services.clerks import approve_as_manager
from ui.tasks import TaskRunner
from ui.widgets import PinPadWidget, PosDialog, error_text, label, pin_field


def approver(terminal, approval: Approval) -> Clerk:  # type: ignore[no-untyped-def]
    """The manager who granted ``approval`` (for a use case that names who asked when no
    clerk is known to the screen); DB worker only."""
    with terminal.read() as uow:
        manager = uow.clerks.get(approval.approved_by)
    assert manager is not None
    return manager


class ApprovalDialog(PosDialog):
    """A manager chooses themselves and types their PIN.

    With ``action`` and ``subject``: an ``Approval`` of exactly that is granted, asked by
    ``asked_by`` (None: the approving manager), and ``then(approval)`` runs with it (without
    ``then`` the approval itself is the outcome). Without an action (resending refused sales):
    only that a manager is here, and the outcome is the manager."""

    approved = Signal(object)  # the outcome
    refused = Signal(str)

    def __init__(
        self,
        what: str,
        terminal,  # type: ignore[no-untyped-def]
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        action: ApprovalAction | None = None,
        subject: str = "",
        asked_by: Clerk | None = None,
        then: Callable[[Approval], Any] | None = None,
    ):
        super().__init__("Manager approval", parent)
        self._terminal = terminal
        self._runner = runner
        self._action = action
        self._subject = subject
        self._asked_by = asked_by
        self._then = then
        self.manager: Clerk | None = None
        self.approval: Approval | None = None
        self.outcome: Any = None
        self.body.addWidget(label(what, "Subtitle", wrap=True))
        self.manager_choice = QComboBox()
        self.manager_choice.setAccessibleName("Approving manager")
        self.manager_choice.setToolTip("The manager who approves")
        self.manager_choice.setEnabled(False)  # until the managers are read
        self.body.addWidget(self.manager_choice)
        self.body.addWidget(label("The manager enters their PIN:"))
        self.pin = pin_field()
        self.body.addWidget(self.pin)
        pad = PinPadWidget(self.pin)
        pad.submitted.connect(self._on_ok)
        self.body.addWidget(pad)
        self.finish_layout("Approve (Enter)")
        self.pin.setFocus()
        self._runner.run_db("managers", lambda _c: self._managers(), self._on_managers)

    @classmethod
    def for_needed(
        cls,
        needed: ApprovalNeeded,
        terminal,  # type: ignore[no-untyped-def]
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        asked_by: Clerk | None = None,
        then: Callable[[Approval], Any] | None = None,
    ) -> ApprovalDialog:
        """The dialog for what a use case said it needs approved."""
        return cls(
            needed.reason[:1].upper() + needed.reason[1:],
            terminal,
            runner,
            parent,
            action=needed.action,
            subject=needed.subject,
            asked_by=asked_by,
            then=then,
        )

    def _managers(self) -> list[tuple[str, str]]:
        with self._terminal.read() as uow:
            return [(c.id, c.name) for c in uow.clerks.all() if c.is_manager and c.active]

    def _on_managers(self, managers: list[tuple[str, str]]) -> None:
        self.manager_choice.clear()
        for clerk_id, name in managers:
            self.manager_choice.addItem(name, clerk_id)
        asked_by = self._asked_by
        if asked_by is not None and asked_by.is_manager:
            index = self.manager_choice.findData(asked_by.id)
            if index >= 0:
                self.manager_choice.setCurrentIndex(index)
        self.manager_choice.setEnabled(len(managers) > 1)

    def _on_ok(self) -> None:
        pin = self.pin.text()
        if not pin:
            self.show_error("Enter the manager's PIN.")
            return
        self.ok_button.setEnabled(False)
        manager_id = self.manager_choice.currentData()
        terminal = self._terminal
        action, subject, then = self._action, self._subject, self._then
        asked_by = self._asked_by

        def work(_control: Any) -> tuple[Any, Approval | None]:
            if action is None:
                return approve_as_manager(terminal.uow(), pin, terminal.clock), None
            approval = grant_approval(
                terminal.uow(),
                terminal.ids,
                terminal.clock,
                action,
                subject,
                asked_by.id if asked_by is not None else (manager_id or ""),
                manager_id,
                pin,
                store=terminal.store,
            )
            return (then(approval) if then is not None else approval), approval

        self._runner.run_db("approve", work, self._on_approved, self._on_refused)

    def _on_approved(self, result: tuple[Any, Approval | None]) -> None:
        self.outcome, self.approval = result
        if isinstance(self.outcome, Clerk):
            self.manager = self.outcome
        self.approved.emit(self.outcome)
        self.accept()

    def _on_refused(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        self.pin.clear()
        self.pin.setFocus()
        message = error_text(error)
        self.show_error(message)
        self.refused.emit(message)
