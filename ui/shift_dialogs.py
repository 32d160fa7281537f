"""The shift's dialogs (menu Shift, docs/manager.md): open with a float counted per
denomination, paid in / paid out / no-sale with a reason, and close with the drawer counted.

The count grid is typed from the keyboard: a count per note or coin, Enter or Tab moves down
(notes, then coins), the total is live. The close shows expected, counted and difference
before the clerk confirms, then hands the Z report to the report view (ui/z_report_view.py).
Every service call runs in the DB worker; a manager's approval (no-sale, paid out over the
store's limit) is asked for when the use case says it is needed, and the call is made again
with it.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QIntValidator, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QGridLayout, QLineEdit, QWidget

from app.domain.approval import Approval, ApprovalNeeded
from app.domain.clerk import Clerk
from app.domain.errors import PosError
from app.domain.money import parse_amount
from app.domain.shift import (
    MAX_PIECES,
    CashCount,
    CashMovement,
    CashMovementKind,
    Shift,
    ZFigures,
    ZReport,
    denominations,
)
from app.services.shifts import close_shift, open_shift, record_cash_movement, x_report
from ui.tasks import TaskRunner
from ui.widgets import PosDialog, error_text, label, money

NOTE_FROM = 500  # minor units: 5.00 and up are notes, in the grid's left column


class CashCountWidget(QWidget):
    """A count per denomination of ``currency``: notes on the left, coins on the right, the
    total below. Enter moves down like Tab; ``finished`` is Enter in the last field."""

    changed = Signal(int)  # the total of what is typed so far (minor units)
    finished = Signal()

    def __init__(self, currency: str, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currency, self.money_locale = currency, locale
        self.fields: dict[int, QLineEdit] = {}
        self._row_totals: dict[int, Any] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        values = denominations(currency)
        notes = [v for v in values if v >= NOTE_FROM]
        coins = [v for v in values if v < NOTE_FROM]
        for column, group in enumerate((notes, coins)):
            for row, value in enumerate(group):
                field = QLineEdit()
                field.setObjectName("CountField")
                field.setValidator(QIntValidator(0, MAX_PIECES, field))
                field.setPlaceholderText("0")
                field.setAlignment(Qt.AlignmentFlag.AlignRight)
                field.setMaximumWidth(90)
                field.setAccessibleName(f"count of {money(value, currency, locale)}")
                field.textChanged.connect(self._on_changed)
                field.installEventFilter(self)
                name = label(money(value, currency, locale))
                name.setBuddy(field)
                row_total = label("", "Subtitle")
                row_total.setMinimumWidth(90)
                grid.addWidget(name, row, column * 3)
                grid.addWidget(field, row, column * 3 + 1)
                grid.addWidget(row_total, row, column * 3 + 2)
                self.fields[value] = field
                self._row_totals[value] = row_total
        ordered = list(self.fields.values())
        for before, after in itertools.pairwise(ordered):
            QWidget.setTabOrder(before, after)
        self.total_label = label("", "Total")
        grid.addWidget(self.total_label, max(len(notes), len(coins)), 0, 1, 6)
        self._on_changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in a count moves to the next one (the dialog's default button does not fire
        until the last count)."""
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
            and watched in self.fields.values()
        ):
            ordered = list(self.fields.values())
            index = ordered.index(watched)  # type: ignore[arg-type]
            if index + 1 < len(ordered):
                ordered[index + 1].setFocus(Qt.FocusReason.TabFocusReason)
                ordered[index + 1].selectAll()
            else:
                self.finished.emit()
            return True
        return super().eventFilter(watched, event)

    def pieces(self) -> dict[int, int]:
        return {value: int(f.text()) for value, f in self.fields.items() if f.text().strip()}

    @property
    def total(self) -> int:
        return sum(value * n for value, n in self.pieces().items())

    def count(self) -> CashCount:
        """The count, checked by the shop's rule (``InvalidInput`` names what is wrong)."""
        return CashCount.from_counts(self.currency, self.pieces())

    def set_counts(self, counts: dict[int, int]) -> None:
        for value, pieces in counts.items():
            self.fields[value].setText(str(pieces))

    def first(self) -> QLineEdit:
        return next(iter(self.fields.values()))

    def _on_changed(self) -> None:
        for value, field in self.fields.items():
            text = field.text().strip()
            self._row_totals[value].setText(
                money(value * int(text), self.currency, self.money_locale) if text else ""
            )
        total = self.total
        self.total_label.setText(f"Counted: {money(total, self.currency, self.money_locale)}")
        self.changed.emit(total)


class _CountDialog(PosDialog):
    """A dialog around a count grid, confirmed by Enter in the last count or Ctrl+Enter."""

    def __init__(
        self, title: str, terminal: Any, runner: TaskRunner, clerk: Clerk, parent: QWidget | None
    ) -> None:
        super().__init__(title, parent)
        self._terminal, self._runner, self._clerk = terminal, runner, clerk
        store = terminal.store
        self.grid = CashCountWidget(store.currency, store.locale, self)
        self.grid.finished.connect(self._on_ok)

    def _finish(self, ok_text: str) -> None:
        self.finish_layout(ok_text)
        self.ok_button.setAutoDefault(False)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._on_ok)

    def first_field(self) -> QWidget | None:
        return self.grid.first()

    def _checked_count(self) -> CashCount | None:
        try:
            return self.grid.count()
        except PosError as error:
            self.show_error(error_text(error))
            return None

    def _on_failed(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        self.show_error(error_text(error))


class OpenShiftDialog(_CountDialog):
    """Count the float into the drawer and open the shift."""

    shift_opened = Signal(object)  # the Shift

    def __init__(
        self, terminal: Any, runner: TaskRunner, clerk: Clerk, parent: QWidget | None = None
    ) -> None:
        super().__init__("Open shift", terminal, runner, clerk, parent)
        self.shift: Shift | None = None
        self.body.addWidget(
            label(
                f"{clerk.name}, count the float into the drawer: how many of each note and "
                "coin (Enter moves down).",
                wrap=True,
            )
        )
        self.body.addWidget(self.grid)
        self._finish("Open shift (Ctrl+Enter)")

    def _on_ok(self) -> None:
        count = self._checked_count()
        if count is None:
            return
        self.ok_button.setEnabled(False)
        t, clerk = self._terminal, self._clerk
        self._runner.run_db(
            "open shift",
            lambda _c: open_shift(t.uow(), t.ids, t.clock, t.store, clerk, count),
            self._on_opened,
            self._on_failed,
        )

    def _on_opened(self, shift: Shift) -> None:
        self.shift = shift
        self.shift_opened.emit(shift)
        self.accept()


MOVEMENT_TITLES = {
    CashMovementKind.PAID_IN: "Paid in",
    CashMovementKind.PAID_OUT: "Paid out",
    CashMovementKind.NO_SALE: "No sale (open the drawer)",
}
MOVEMENT_PROMPTS = {
    CashMovementKind.PAID_IN: "Cash put into the drawer, and why:",
    CashMovementKind.PAID_OUT: "Cash taken out of the drawer, and why:",
    CashMovementKind.NO_SALE: "Why the drawer opens without a sale (a manager approves it):",
}


class CashMovementDialog(PosDialog):
    """Paid in, paid out or a no-sale, with its reason; a manager approves a no-sale and a
    paid out above the store's limit when the use case asks for it."""

    recorded = Signal(object)  # the CashMovement

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        clerk: Clerk,
        kind: CashMovementKind,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(MOVEMENT_TITLES[kind], parent)
        self._terminal, self._runner, self._clerk, self.kind = terminal, runner, clerk, kind
        self.movement: CashMovement | None = None
        self._amount, self._reason = 0, ""
        self.approval_dialog: PosDialog | None = None
        self.body.addWidget(label(MOVEMENT_PROMPTS[kind], wrap=True))
        self.amount_field = QLineEdit()
        self.amount_field.setObjectName("AmountField")
        self.amount_field.setPlaceholderText(f"amount in {terminal.store.currency}")
        self.reason_field = QLineEdit()
        self.reason_field.setPlaceholderText("reason, e.g. window cleaner, change from the bank")
        self.reason_field.setMaxLength(200)
        if kind is not CashMovementKind.NO_SALE:
            self.body.addWidget(self.amount_field)
        else:
            self.amount_field.hide()
        self.body.addWidget(self.reason_field)
        self.finish_layout("Record (Enter)")

    def _on_ok(self) -> None:
        try:
            amount = (
                0
                if self.kind is CashMovementKind.NO_SALE
                else parse_amount(self.amount_field.text() or "0", field="amount")
            )
        except PosError as error:
            self.show_error(error_text(error))
            return
        self._amount, self._reason = amount, self.reason_field.text()
        self.ok_button.setEnabled(False)
        self._runner.run_db(
            "cash movement", lambda _c: self._record(None), self._on_recorded, self._on_failed
        )

    def _record(self, approval: Approval | None) -> CashMovement:
        """The use case (DB worker): with ``approval`` once a manager approved it."""
        t = self._terminal
        return record_cash_movement(
            t.uow(),
            t.ids,
            t.clock,
            t.store,
            self._clerk,
            self.kind,
            self._amount,
            self._reason,
            approval,
        )

    def _on_recorded(self, movement: CashMovement) -> None:
        self.movement = movement
        self.recorded.emit(movement)
        self.accept()

    def _on_failed(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        if isinstance(error, ApprovalNeeded):
            # a manager approves exactly this; the movement is recorded with it at once
            from ui.approval_dialog import ApprovalDialog

            dialog = ApprovalDialog.for_needed(
                error,
                self._terminal,
                self._runner,
                self,
                asked_by=self._clerk,
                then=lambda approval: self._record(approval),
            )
            dialog.approved.connect(self._on_recorded)
            self.approval_dialog = dialog
            dialog.open()
            return
        self.show_error(error_text(error))


class CloseShiftDialog(_CountDialog):
    """Count the drawer (blind: the expected cash is not shown yet); "Check count" shows
    expected, counted and difference, and the second confirmation closes the shift into its
    Z report (``closed`` carries it)."""

    closed = Signal(object)  # the ZReport

    def __init__(
        self, terminal: Any, runner: TaskRunner, clerk: Clerk, parent: QWidget | None = None
    ) -> None:
        super().__init__("Close shift", terminal, runner, clerk, parent)
        self.report: ZReport | None = None
        self.expected: int | None = None
        self.checked_total: int | None = None
        self.body.addWidget(
            label("Count the drawer: how many of each note and coin (Enter moves down).", wrap=True)
        )
        self.body.addWidget(self.grid)
        self.summary = label("", "Subtitle", wrap=True)
        self.body.addWidget(self.summary)
        self._finish("Check count (Ctrl+Enter)")
        self.grid.changed.connect(self._on_count_changed)
        t = terminal
        runner.run_db(
            "x report", lambda _c: x_report(t.read(), t.store), self._on_figures, self._on_failed
        )

    def _on_figures(self, figures: ZFigures) -> None:
        """The expected cash is kept back until the count is checked (a blind count)."""
        self.expected = figures.expected_cash
        self._ask_to_count()

    def _ask_to_count(self) -> None:
        self.summary.setText(
            "Count first, then Check count: expected, counted and difference are shown "
            "before anything is closed."
        )

    def _money(self, minor: int) -> str:
        store = self._terminal.store
        return money(minor, store.currency, store.locale)

    def _on_count_changed(self, _total: int) -> None:
        if self.checked_total is not None:  # the count changed after the check: check again
            self.checked_total = None
            self.ok_button.setText("Check count (Ctrl+Enter)")
            self._ask_to_count()

    def _on_ok(self) -> None:
        count = self._checked_count()
        if count is None:
            return
        if self.expected is None:
            self.show_error("The shift's figures are still loading; try again in a moment.")
            return
        if self.checked_total != count.total:
            difference = count.total - self.expected
            word = "over" if difference > 0 else "short" if difference < 0 else "exact"
            self.summary.setText(
                f"Expected {self._money(self.expected)} · counted {self._money(count.total)} · "
                f"difference {self._money(difference)} ({word}). Confirm to close the shift."
            )
            self.checked_total = count.total
            self.ok_button.setText("Close shift (Ctrl+Enter)")
            self.ok_button.setFocus()
            return
        self.ok_button.setEnabled(False)
        t, clerk = self._terminal, self._clerk
        self._runner.run_db(
            "close shift",
            lambda _c: close_shift(t.uow(), t.ids, t.clock, t.store, clerk, count),
            self._on_closed,
            self._on_failed,
        )

    def _on_closed(self, report: ZReport) -> None:
        self.report = report
        self.closed.emit(report)
        self.accept()
