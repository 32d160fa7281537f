"""The pay dialog: amount due, cash with quick amounts and change, card (online only), pay later,
split tender. It only collects tenders; the register completes the sale in the DB worker.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import PosError
from app.domain.money import parse_amount
from app.domain.order import TenderInput, TenderKind, settle_tenders
from ui.widgets import PosDialog, button, error_text, label, money, panel

NOTES = {
    "EUR": (500, 1000, 2000, 5000, 10000, 20000, 50000),
    "USD": (100, 500, 1000, 2000, 5000, 10000),
    "GBP": (500, 1000, 2000, 5000),
}
CARD_OFFLINE_REASON = (
    "No connection — card payments resume automatically when the store is back online"
)
TENDER_NAMES = {TenderKind.CASH: "Cash", TenderKind.CARD: "Card", TenderKind.PAY_LATER: "Pay later"}


def quick_cash_amounts(due: int, currency: str = "EUR") -> list[int]:
    """Exact, then the next two amounts a customer would hand over in notes (6.46 → 10, 20)."""
    notes = NOTES.get(currency, NOTES["EUR"])
    rounded = sorted({-(-due // note) * note for note in notes} - {due})
    return [due, *[amount for amount in rounded if amount > due][:2]]


class PayDialog(PosDialog):
    tender_added = Signal(object)  # TenderInput
    confirmed = Signal(object)  # list[TenderInput]

    def __init__(
        self,
        total: int,
        currency: str,
        *,
        card_available: bool = False,
        card_reason: str = CARD_OFFLINE_REASON,
        card_handler: Callable[[int], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Payment (F12)", parent)
        self.total = total
        self.currency = currency
        self.tenders: list[TenderInput] = []
        # Card opens the card-payment flow for this amount; it calls add_tender when paid.
        self._card_handler = card_handler
        self.resize(920, 700)

        amounts = QHBoxLayout()
        due_box = QVBoxLayout()
        self.due_caption = label("Amount due", "TotalCaption")
        self.due_label = label(money(total, currency), "BigAmount")
        due_box.addWidget(self.due_caption)
        due_box.addWidget(self.due_label)
        change_box = QVBoxLayout()
        self.change_caption = label("Change due", "TotalCaption")
        self.change_label = label(money(0, currency), "ChangeAmount")
        self.change_caption.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.change_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        change_box.addWidget(self.change_caption)
        change_box.addWidget(self.change_label)
        amounts.addLayout(due_box, 1)
        amounts.addLayout(change_box, 1)
        self.body.addLayout(amounts)

        columns = QHBoxLayout()
        columns.setSpacing(16)
        cash = panel()
        cash_box = QVBoxLayout(cash)
        cash_box.setContentsMargins(16, 12, 16, 12)
        cash_box.addWidget(label("Cash", "Subtitle"))
        self.quick_grid = QGridLayout()
        self.quick_grid.setSpacing(8)
        self.quick_buttons = []
        for index in range(3):
            quick = button("", lambda i=index: self._on_quick(i), "QuickCash")
            quick.setAutoDefault(False)
            self.quick_buttons.append(quick)
            self.quick_grid.addWidget(quick, 0, index)
        self._quick_amounts: list[int] = []
        cash_box.addLayout(self.quick_grid)
        self.paid_note = label("", "Subtitle", wrap=True)
        self.paid_note.hide()
        cash_box.addWidget(self.paid_note)
        cash_box.addSpacing(8)
        cash_box.addWidget(
            label("Or type what the customer hands over (Enter alone: exact cash):", "Muted")
        )
        typed = QHBoxLayout()
        self.amount_field = QLineEdit()
        self.amount_field.setObjectName("AmountField")
        self.amount_field.setPlaceholderText("amount handed over, e.g. 20")
        typed.addWidget(self.amount_field, 1)
        self.add_cash_button = button("Add cash", self._add_typed_cash)
        self.add_cash_button.setAutoDefault(False)
        typed.addWidget(self.add_cash_button)
        cash_box.addLayout(typed)
        cash_box.addStretch(1)
        columns.addWidget(cash, 3)

        other = panel()
        other_box = QVBoxLayout(other)
        other_box.setContentsMargins(16, 12, 16, 12)
        other_box.addWidget(label("Other tenders", "Subtitle"))
        self.card_button = button("Card", self._add_card, "Tender")
        self.card_button.setEnabled(card_available)
        self.card_button.setAutoDefault(False)
        other_box.addWidget(self.card_button)
        self.card_reason = label("" if card_available else card_reason, "Muted", wrap=True)
        self.card_reason.setVisible(not card_available)
        other_box.addWidget(self.card_reason)
        self.later_button = button("Pay later (remaining)", self._add_pay_later, "Tender")
        self.later_button.setAutoDefault(False)
        other_box.addWidget(self.later_button)
        other_box.addWidget(label("Tenders taken", "Muted"))
        self.tender_list = QListWidget()
        self.tender_list.setMinimumHeight(100)
        other_box.addWidget(self.tender_list, 1)
        self.remaining_label = label("", "Muted")
        other_box.addWidget(self.remaining_label)
        self.undo_button = button("Remove last tender", self._remove_last)
        self.undo_button.setAutoDefault(False)
        other_box.addWidget(self.undo_button)
        columns.addWidget(other, 2)
        self.body.addLayout(columns, 1)
        self.finish_layout("Complete sale (Enter)", "Back to sale (Esc)", stretch=False)
        self.ok_button.setMinimumHeight(56)
        self.ok_button.setStyleSheet("font-size: 20px; padding: 8px 28px;")
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self._on_ok)
        self._refresh()
        self.amount_field.setFocus()

    # state -------------------------------------------------------------------------------

    @property
    def tendered(self) -> int:
        return sum(t.amount for t in self.tenders)

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.tendered)

    @property
    def change(self) -> int:
        return max(0, self.tendered - self.total)

    def add_tender(self, tender: TenderInput) -> None:
        self.tenders.append(tender)
        self.error.hide()
        self._refresh()
        self.tender_added.emit(tender)

    def _refresh(self) -> None:
        remaining = self.remaining
        self._quick_amounts = quick_cash_amounts(remaining, self.currency) if remaining else []
        for index, quick in enumerate(self.quick_buttons):
            if index < len(self._quick_amounts):
                amount = money(self._quick_amounts[index], self.currency)
                quick.setText(f"Exact {amount}" if index == 0 else amount)
                quick.setVisible(True)
            else:
                quick.setVisible(False)
        self.paid_note.setVisible(not remaining)
        if not remaining:
            change = money(self.change, self.currency)
            self.paid_note.setText(
                f"Paid in full. Hand back {change} change, then press Enter."
                if self.change
                else "Paid in full. Press Enter to complete the sale."
            )
        self.tender_list.clear()
        for tender in self.tenders:
            self.tender_list.addItem(
                f"{TENDER_NAMES[tender.kind]}   {money(tender.amount, self.currency)}"
            )
        self.due_caption.setText("Amount due" if not self.tenders else "Still due")
        self.due_label.setText(money(remaining, self.currency))
        self.change_label.setText(money(self.change, self.currency))
        if self.tenders:
            self.remaining_label.setText(
                f"Taken {money(self.tendered, self.currency)} of {money(self.total, self.currency)}"
            )
        else:
            self.remaining_label.setText("")
        self.undo_button.setEnabled(bool(self.tenders))
        self.later_button.setEnabled(remaining > 0)
        self.ok_button.setEnabled(True)

    # actions -----------------------------------------------------------------------------

    def _on_quick(self, index: int) -> None:
        if index < len(self._quick_amounts):
            self.add_cash(self._quick_amounts[index])

    def add_cash(self, amount: int) -> None:
        self.add_tender(TenderInput(TenderKind.CASH, amount))
        self.ok_button.setFocus()

    def _add_typed_cash(self) -> bool:
        text = self.amount_field.text().strip()
        if not text:
            return False
        try:
            amount = parse_amount(text, field="cash")
        except PosError as error:
            self.show_error(error_text(error))
            return True
        if amount == 0:
            self.show_error("Cash handed over must be more than 0.")
            return True
        self.amount_field.clear()
        self.add_cash(amount)
        return True

    def _add_card(self) -> None:
        amount = self.remaining
        typed = self.amount_field.text().strip()
        if typed:
            try:
                amount = min(self.remaining, parse_amount(typed, field="card amount"))
            except PosError as error:
                self.show_error(error_text(error))
                return
            self.amount_field.clear()
        if not amount:
            return
        if self._card_handler is not None:
            self._card_handler(amount)
            return
        self.add_tender(TenderInput(TenderKind.CARD, amount))

    def finish_if_paid(self) -> None:
        """A card payment the server confirmed: when nothing is left to pay, the sale
        completes by itself (no second Enter)."""
        if self.tenders and not self.remaining and self.isVisible():
            self._on_ok()

    def _add_pay_later(self) -> None:
        if self.remaining:
            self.add_tender(TenderInput(TenderKind.PAY_LATER, self.remaining))

    def _remove_last(self) -> None:
        if self.tenders:
            self.tenders.pop()
            self._refresh()

    def _on_ok(self) -> None:
        """Enter: a typed amount is taken as cash; with nothing typed, what is still due is
        taken as exact cash (change 0), as Square and Odoo do, and the sale completes."""
        if self.amount_field.text().strip():
            self._add_typed_cash()
            return
        if self.remaining:
            self.add_cash(self.remaining)
        try:
            settle_tenders(self.total, self.tenders, currency=self.currency)
        except PosError as error:
            self.show_error(error_text(error))
            return
        self.confirmed.emit(list(self.tenders))
        self.accept()
