"""Clerk log-in: pick yourself from big buttons, type the PIN on the keypad or the keyboard.

The services count wrong PINs and lock a clerk out; this screen only shows what they say.
In the embedded demo (`make run` sets ``SHOPSMART_DEMO=1``) it names the demo clerks and their
PINs, read from the one place that defines them (``app.data.DEMO_CLERKS``); a real store's
till never shows a PIN.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.data import DEMO_CLERKS
from app.domain.clerk import Clerk
from app.services.clerks import log_in
from ui.tasks import TaskRunner
from ui.widgets import PinPadWidget, button, error_text, label, panel, pin_field

CLERK_COLUMNS = 3
DEMO_ENV = "SHOPSMART_DEMO"  # "1": the embedded demo of `make run`


def demo_hint(clerks: list[Clerk]) -> str:
    """The demo clerks on this screen with their PINs; "" when none of them is there."""
    names = {c.name for c in clerks}
    shown = [
        f"{c.name}{' (manager)' if c.role == 'manager' else ''}: PIN {c.pin}"
        for c in DEMO_CLERKS
        if c.name in names
    ]
    return "Demo store — " + " · ".join(shown) if shown else ""


class LoginWidget(QWidget):
    logged_in = Signal(object)  # Clerk
    login_failed = Signal(str)  # the message shown
    add_manager_requested = Signal()

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        demo: bool = False,
    ) -> None:
        super().__init__(parent)
        self.demo = demo
        self.setObjectName("Page")
        self._terminal = terminal
        self._runner = runner
        self._clerks: list[Clerk] = []
        self.busy = False

        outer = QHBoxLayout(self)
        outer.setContentsMargins(40, 32, 40, 32)
        outer.setSpacing(32)

        left = panel()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(24, 20, 24, 20)
        left_box.addWidget(label("Who is at the till?", "Title"))
        left_box.addWidget(label("Tap your name, then type your PIN.", "Subtitle"))
        self.clerk_grid = QGridLayout()
        self.clerk_grid.setSpacing(12)
        left_box.addLayout(self.clerk_grid)
        self.demo_hint = label("", "Notice", wrap=True)
        self.demo_hint.hide()
        left_box.addWidget(self.demo_hint)
        left_box.addStretch(1)
        self.first_run_button = button("Create the first manager…", self.add_manager_requested.emit)
        self.first_run_button.hide()
        left_box.addWidget(self.first_run_button)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.group.idClicked.connect(self._on_clerk_picked)
        outer.addWidget(left, 3)

        right = panel()
        right.setMaximumWidth(420)
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(24, 20, 24, 20)
        right_box.setSpacing(12)
        self.who = label("PIN", "Subtitle")
        right_box.addWidget(self.who)
        self.pin = pin_field()
        self.pin.returnPressed.connect(self.submit)
        right_box.addWidget(self.pin)
        pad = PinPadWidget(self.pin)
        pad.submitted.connect(self.submit)
        right_box.addWidget(pad)
        self.message = label("", "Error", wrap=True)
        self.message.setMinimumHeight(48)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        right_box.addWidget(self.message)
        right_box.addStretch(1)
        outer.addWidget(right, 2)

    # clerks ------------------------------------------------------------------------------

    def set_clerks(self, clerks: list[Clerk]) -> None:
        self._clerks = [c for c in clerks if c.active]
        for old in self.group.buttons():
            self.group.removeButton(old)
            old.deleteLater()
        for index, clerk in enumerate(self._clerks):
            role = "Manager" if clerk.is_manager else "Clerk"
            widget = QPushButton(f"{clerk.name}\n{role}")
            widget.setObjectName("ClerkButton")
            widget.setCheckable(True)
            widget.setCursor(Qt.CursorShape.PointingHandCursor)
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.group.addButton(widget, index)
            self.clerk_grid.addWidget(widget, index // CLERK_COLUMNS, index % CLERK_COLUMNS)
        self.first_run_button.setVisible(not any(c.is_manager for c in self._clerks))
        hint = demo_hint(self._clerks) if self.demo else ""
        self.demo_hint.setText(hint)
        self.demo_hint.setVisible(bool(hint))
        if len(self._clerks) == 1:
            self.select_clerk(self._clerks[0].id)
        else:
            self.who.setText("PIN")
        self.message.clear()

    def refresh(self) -> None:
        """Reload the clerk list (a quick indexed read)."""
        with self._terminal.read() as uow:
            clerks = uow.clerks.all()
        self.set_clerks(clerks)

    def select_clerk(self, clerk_id: str) -> None:
        for index, clerk in enumerate(self._clerks):
            if clerk.id == clerk_id:
                widget = self.group.button(index)
                widget.setChecked(True)
                self._on_clerk_picked(index)
                return

    @property
    def selected(self) -> Clerk | None:
        index = self.group.checkedId()
        return self._clerks[index] if 0 <= index < len(self._clerks) else None

    def _on_clerk_picked(self, index: int) -> None:
        clerk = self._clerks[index]
        self.who.setText(f"PIN for {clerk.name}")
        self.message.clear()
        self.pin.clear()
        self.pin.setFocus()

    # log in ------------------------------------------------------------------------------

    def submit(self) -> None:
        clerk = self.selected
        if clerk is None:
            self._fail("Tap your name first.")
            return
        pin = self.pin.text()
        if not pin:
            self._fail("Type your PIN.")
            return
        if self.busy:
            return
        self.busy = True
        self.pin.clear()
        self.message.setText("Checking…")
        terminal = self._terminal
        self._runner.run_db(
            "log in",
            lambda _c: log_in(terminal.uow(), clerk.id, pin, terminal.clock),
            self._on_logged_in,
            self._on_failed,
        )

    def _on_logged_in(self, clerk: Clerk) -> None:
        self.busy = False
        self.message.clear()
        self.logged_in.emit(clerk)

    def _on_failed(self, error: Exception) -> None:
        self.busy = False
        self._fail(error_text(error))

    def _fail(self, text: str) -> None:
        self.message.setText(text)
        self.pin.setFocus()
        self.login_failed.emit(text)

    def reset(self) -> None:
        self.pin.clear()
        self.message.clear()
        self.pin.setFocus()
