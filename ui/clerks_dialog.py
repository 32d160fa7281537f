"""Manager → Clerks…: a manager adds clerks, resets a PIN, changes a role, deactivates or
reactivates a clerk, offline too (app.services.clerks; each change syncs as clerk.saved).
The dialog collects input; every rule (manager only, the role's PIN length, not the last
active manager) is the use case's, run in the DB worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QTableWidgetItem, QWidget

from app.domain.clerk import Clerk, Role
from app.services.clerks import (
    add_clerk,
    deactivate_clerk,
    reactivate_clerk,
    reset_pin,
    set_role,
)
from ui.tasks import TaskRunner
from ui.widgets import PosDialog, button, error_text, label, list_table, pin_field

COLUMNS = ["Name", "Role", "Status"]


class ClerkPinDialog(PosDialog):
    """A new clerk (name, role, PIN twice) or a new PIN for one (PIN twice)."""

    def __init__(self, title: str, parent: QWidget | None = None, *, new_clerk: bool) -> None:
        super().__init__(title, parent)
        self.name_field: QLineEdit | None = None
        self.role_choice: QComboBox | None = None
        if new_clerk:
            self.name_field = QLineEdit()
            self.name_field.setPlaceholderText("Name")
            self.name_field.setMaxLength(60)
            self.body.addWidget(self.name_field)
            self.role_choice = QComboBox()
            self.role_choice.addItem("Clerk (PIN 4–8 digits)", Role.CLERK.value)
            self.role_choice.addItem("Manager (PIN 6–8 digits)", Role.MANAGER.value)
            self.body.addWidget(self.role_choice)
        self.pin = pin_field()
        self.pin_again = pin_field()
        self.pin_again.setPlaceholderText("PIN again")
        self.body.addWidget(self.pin)
        self.body.addWidget(self.pin_again)
        self.finish_layout("Save (Enter)")

    @property
    def name(self) -> str:
        return self.name_field.text() if self.name_field is not None else ""

    @property
    def role(self) -> Role:
        return Role(self.role_choice.currentData()) if self.role_choice else Role.CLERK

    def _on_ok(self) -> None:
        if self.name_field is not None and not self.name_field.text().strip():
            self.show_error("Enter the clerk's name.")
            return
        if self.pin.text() != self.pin_again.text():
            self.show_error("The two PINs differ.")
            return
        self.accept()


class ClerksDialog(PosDialog):
    """The till's clerks for a manager, with what a manager may change."""

    changed = Signal(object)  # the clerk as saved

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        manager: Clerk,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Clerks", parent)
        self._terminal = terminal
        self._runner = runner
        self._manager = manager
        self._clerks: list[Clerk] = []
        self.child_dialog: PosDialog | None = None
        self.resize(640, 520)
        self.body.addWidget(
            label(
                "Changes are saved on this till at once and reach the other tills through "
                "the server (offline: once the till is back online).",
                "Muted",
                wrap=True,
            )
        )
        self.table = list_table(COLUMNS, 44)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.body.addWidget(self.table, 1)
        actions = QHBoxLayout()
        self.add_button = button("Add clerk…", self.ask_add)
        self.pin_button = button("Reset PIN…", self.ask_reset_pin)
        self.role_button = button("Make manager", self.toggle_role)
        self.active_button = button("Deactivate", self.toggle_active, "Danger")
        for widget in (self.add_button, self.pin_button, self.role_button, self.active_button):
            widget.setAutoDefault(False)
            actions.addWidget(widget)
        self.body.addLayout(actions)
        self.finish_layout("Close (Enter)", "Close (Esc)")
        self._on_selection()
        self.reload()

    def first_field(self) -> QWidget | None:
        return self.table

    # reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        terminal = self._terminal

        def read(_control: Any) -> list[Clerk]:
            with terminal.read() as uow:
                return uow.clerks.all()

        self._runner.run_db("clerks", read, self._on_loaded, self._on_failed)

    def _on_loaded(self, clerks: list[Clerk]) -> None:
        selected = self.selected()
        self._clerks = clerks
        self.table.setRowCount(len(clerks))
        for row, clerk in enumerate(clerks):
            status = "active" if clerk.active else "deactivated"
            if clerk.locked_until is not None:
                status += " · locked"
            for column, text in enumerate((clerk.name, clerk.role.value, status)):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if selected is not None and clerk.id == selected.id:
                self.table.selectRow(row)
        if self.table.currentRow() < 0 and clerks:
            self.table.selectRow(0)
        self._on_selection()

    def selected(self) -> Clerk | None:
        row = self.table.currentRow()
        return self._clerks[row] if 0 <= row < len(self._clerks) else None

    def _on_selection(self) -> None:
        clerk = self.selected()
        for widget in (self.pin_button, self.role_button, self.active_button):
            widget.setEnabled(clerk is not None)
        if clerk is not None:
            self.role_button.setText("Make clerk" if clerk.is_manager else "Make manager")
            self.active_button.setText("Deactivate" if clerk.active else "Reactivate")

    # changing --------------------------------------------------------------------------

    def _run(self, name: str, work: Callable[[], Clerk]) -> None:
        self.error.hide()
        self._runner.run_db(name, lambda _c: work(), self._on_saved, self._on_failed)

    def _on_saved(self, clerk: Clerk) -> None:
        self.changed.emit(clerk)
        self.reload()

    def _on_failed(self, error: Exception) -> None:
        self.show_error(error_text(error))

    def ask_add(self) -> None:
        dialog = ClerkPinDialog("Add a clerk", self, new_clerk=True)
        self.child_dialog = dialog
        dialog.accepted.connect(lambda: self._add(dialog.name, dialog.pin.text(), dialog.role))
        dialog.open()

    def _add(self, name: str, pin: str, role: Role) -> None:
        t, manager = self._terminal, self._manager
        self._run("add clerk", lambda: add_clerk(t.uow(), t.ids, t.clock, manager, name, pin, role))

    def ask_reset_pin(self) -> None:
        clerk = self.selected()
        if clerk is None:
            return
        dialog = ClerkPinDialog(f"New PIN for {clerk.name}", self, new_clerk=False)
        self.child_dialog = dialog
        dialog.accepted.connect(lambda: self._reset_pin(clerk, dialog.pin.text()))
        dialog.open()

    def _reset_pin(self, clerk: Clerk, pin: str) -> None:
        t, manager = self._terminal, self._manager
        self._run("reset pin", lambda: reset_pin(t.uow(), t.ids, t.clock, manager, clerk.id, pin))

    def toggle_role(self) -> None:
        clerk = self.selected()
        if clerk is None:
            return
        role = Role.CLERK if clerk.is_manager else Role.MANAGER
        t, manager = self._terminal, self._manager
        self._run("set role", lambda: set_role(t.uow(), t.ids, t.clock, manager, clerk.id, role))

    def toggle_active(self) -> None:
        clerk = self.selected()
        if clerk is None:
            return
        t, manager = self._terminal, self._manager
        change = deactivate_clerk if clerk.active else reactivate_clerk
        self._run("clerk active", lambda: change(t.uow(), t.ids, t.clock, manager, clerk.id))
