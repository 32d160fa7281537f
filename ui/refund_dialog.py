"""Refund a paid sale (manager): everything left, chosen items and quantities, or an amount;
to the card and/or in cash.

What would happen is previewed first (``quote_refund``, nothing written). Each line shows
what is left of it to refund (the rule of ``app.domain.refund``: never more of a line than
was sold less what earlier refunds took back); the quantity boxes stop there. The refund runs
in the background after a manager's PIN: a card part goes through the store's server (it
needs a connection), a cash part is recorded on the till and synced like a sale. Returned
items go back into stock.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.domain.approval import Approval
from app.domain.errors import InvalidInput, PosError
from app.domain.money import parse_amount
from app.domain.order import Order
from app.domain.product import SoldBy, format_weight
from app.domain.refund import Refund, Refundable, RefundLine, RefundPlan
from app.services.refunds import quote_refund, refund_left, refund_order, refund_subject
from ui.approval_dialog import ApprovalDialog, approver
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import PosDialog, button, error_text, label, money

REFUND_REASONS = ["Damaged or faulty", "Customer returned item", "Wrong price charged", "Other"]
LINE_COLUMNS = ("Item", "Sold", "Left", "Back")
QUANTITY_STYLE = (
    "QSpinBox { padding-left: 10px; }"
    " QSpinBox::up-button, QSpinBox::down-button { width: 0px; border: none; }"
)


def quantity_words(sold_by: SoldBy, quantity: int) -> str:
    return format_weight(quantity) if sold_by is SoldBy.WEIGHT else str(quantity)


def _stepper(box: QSpinBox) -> QWidget:
    """A quantity box between touch-sized − and + buttons (typing and ↑/↓ work too)."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(2, 2, 2, 2)
    row.setSpacing(4)
    less, more = button("−", box.stepDown), button("+", box.stepUp)
    for step in (less, more):
        step.setAutoDefault(False)
        step.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    row.addWidget(less)
    row.addWidget(box, 1)
    row.addWidget(more)
    return holder


class RefundDialog(PosDialog):
    refunded = Signal(object)  # Refund

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        order: Order,
        gateway: Any,
        parent=None,  # type: ignore[no-untyped-def]
        *,
        with_receipt: bool = True,
        clerk: Any = None,
    ) -> None:
        super().__init__(f"Refund sale {order.receipt_no}", parent)
        self._clerk = clerk  # who asks for the refund (None: the approving manager)
        self._terminal = terminal
        self._runner = runner
        self._order = order
        self._gateway = gateway
        self.plan: RefundPlan | None = None
        self.resize(880, 680)
        self.left_label = label("Reading what is left to refund…", "Subtitle", wrap=True)
        self.body.addWidget(self.left_label)
        choice = QHBoxLayout()
        self.everything = QRadioButton("Everything that is left")
        self.by_items = QRadioButton("These items:")
        self.part = QRadioButton("An amount only:")
        self.everything.setChecked(True)
        self.amount_field = QLineEdit()
        self.amount_field.setObjectName("AmountField")
        self.amount_field.setPlaceholderText("e.g. 2.50")
        for widget in (self.everything, self.by_items, self.part):
            choice.addWidget(widget)
        choice.addWidget(self.amount_field, 1)
        self.body.addLayout(choice)
        # One row per sold line: what was sold, what is left, and how many come back.
        self.lines = QTableWidget(len(order.lines), len(LINE_COLUMNS))
        self.lines.setHorizontalHeaderLabels(list(LINE_COLUMNS))
        self.lines.verticalHeader().setVisible(False)
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.quantity_boxes: dict[int, QSpinBox] = {}
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, line in enumerate(order.lines):
            self.lines.setItem(row, 0, QTableWidgetItem(line.name))
            sold = QTableWidgetItem(quantity_words(line.sold_by, line.quantity))
            sold.setTextAlignment(right)
            self.lines.setItem(row, 1, sold)
            self.lines.setItem(row, 2, QTableWidgetItem("…"))
            box = QSpinBox()
            box.setRange(0, 0)  # until what is left is known
            # − and + buttons beside it instead of the small arrows. (With NoButtons the app
            # stylesheet's padding hides the number: Qt 6.11; zero-width arrows keep it.)
            box.setStyleSheet(QUANTITY_STYLE)
            if line.sold_by is SoldBy.WEIGHT:
                box.setSuffix(" g")
                box.setSingleStep(50)
            box.setMinimumWidth(90)
            box.valueChanged.connect(self._on_quantity)
            self.quantity_boxes[line.line_no] = box
            self.lines.setCellWidget(row, 3, _stepper(box))
            self.lines.setRowHeight(row, 56)
        self.body.addWidget(self.lines, 1)
        options = QHBoxLayout()
        self.all_cash = QCheckBox("Pay it all back in cash (not to the card)")
        options.addWidget(self.all_cash)
        # Checked when the sale was found by the receipt's number; a return without a receipt
        # is approved and audited as such (refund_order checks it needs a manager).
        self.receipt_shown = QCheckBox("The customer has the receipt")
        self.receipt_shown.setChecked(with_receipt)
        options.addWidget(self.receipt_shown)
        options.addStretch(1)
        self.body.addLayout(options)
        reason_row = QHBoxLayout()
        reason_row.addWidget(label("Why?"))
        self.reason = QComboBox()
        self.reason.addItems(REFUND_REASONS)
        reason_row.addWidget(self.reason, 1)
        self.body.addLayout(reason_row)
        self.preview = label("", "Subtitle", wrap=True)
        self.body.addWidget(self.preview)
        self.offline_notice = label(
            "No connection to the store's server: only cash refunds are possible now.",
            "Notice",
            wrap=True,
        )
        self.offline_notice.setVisible(gateway is None)
        self.body.addWidget(self.offline_notice)
        self.finish_layout("Refund (manager PIN)", stretch=False)
        for widget in (self.everything, self.by_items, self.part, self.all_cash):
            widget.toggled.connect(self._quote)
        self.amount_field.textChanged.connect(self._on_amount_typed)
        runner.run_db(
            "refund left",
            lambda _c: refund_left(terminal.read(), order.id),
            self._on_left,
            lambda error: self.show_error(error_text(error)),
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A wrapped text keeps the height of all its lines: the layout's minimum ignores
        word wrap, so squeezed (a small screen) the no-connection warning was cut in half."""
        super().resizeEvent(event)
        self._keep_texts_whole()

    def _keep_texts_whole(self) -> None:
        for text in (self.left_label, self.preview, self.offline_notice, self.error):
            need = text.heightForWidth(text.width()) if text.text() else 0
            if need > 0 and text.minimumHeight() != need:
                text.setMinimumHeight(need)

    def _on_left(self, left: Refundable) -> None:
        card = sum(left.card_left.values())
        currency = self._order.currency
        self.left_label.setText(
            f"Paid {money(self._order.total, currency)}; left to refund "
            f"{money(left.amount, currency)}"
            + (f", of which {money(card, currency)} can go back to the card." if card else ".")
        )
        for row, line in enumerate(self._order.lines):
            remaining = max(left.lines.get(line.line_no, 0), 0)
            cell = QTableWidgetItem(quantity_words(line.sold_by, remaining))
            cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.lines.setItem(row, 2, cell)
            box = self.quantity_boxes[line.line_no]
            box.setRange(0, remaining)  # never more than is left of the line
            box.setEnabled(remaining > 0)
        self._keep_texts_whole()
        self._quote()

    def _on_quantity(self, _value: int) -> None:
        if any(box.value() for box in self.quantity_boxes.values()):
            self.by_items.setChecked(True)  # toggling quotes
        self._quote()

    def _on_amount_typed(self, _text: str) -> None:
        self.part.setChecked(True)
        self._quote()

    def set_quantity(self, line_no: int, quantity: int) -> None:
        self.quantity_boxes[line_no].setValue(quantity)

    def chosen_lines(self) -> list[RefundLine]:
        return [RefundLine(n, box.value()) for n, box in self.quantity_boxes.items() if box.value()]

    def _arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.by_items.isChecked():
            chosen = self.chosen_lines()
            if not chosen:
                raise InvalidInput("choose how many of which items come back", field="lines")
            arguments["lines"] = chosen
        elif self.part.isChecked():
            arguments["amount"] = parse_amount(self.amount_field.text(), field="refund amount")
        if self.all_cash.isChecked() or self._gateway is None:
            arguments["to_card"] = 0
        return arguments

    def _quote(self) -> None:
        try:
            arguments = self._arguments()
        except PosError as error:
            self._no_plan(error_text(error))
            return
        terminal, order = self._terminal, self._order
        self._runner.run_db(
            "quote refund",
            lambda _c: quote_refund(terminal.read(), order.id, **arguments),
            self._on_quote,
            lambda error: self._no_plan(error_text(error)),
        )

    def _no_plan(self, text: str) -> None:
        self.plan = None
        self.preview.setText(text)
        self._keep_texts_whole()

    def show_error(self, text: str) -> None:
        super().show_error(text)
        self._keep_texts_whole()

    def _on_quote(self, plan: RefundPlan) -> None:
        self.plan = plan
        currency = self._order.currency
        parts = []
        if plan.card_amount:
            parts.append(f"{money(plan.card_amount, currency)} back to the card")
        if plan.cash_amount:
            parts.append(f"{money(plan.cash_amount, currency)} in cash from the drawer")
        back = len(plan.lines)
        self.preview.setText(
            f"Refund {money(plan.amount, currency)}: "
            + " and ".join(parts)
            + (f"; {back} item line{'s' if back != 1 else ''} back to stock" if back else "")
            + (". The sale will be fully refunded." if plan.completes_order else ".")
        )
        self._keep_texts_whole()

    def _on_ok(self) -> None:
        if self.plan is None:
            self.show_error("Nothing to refund with these choices.")
            return
        with_receipt = self.receipt_shown.isChecked()
        action, subject = refund_subject(
            self._order.id, self.plan.amount, with_receipt=with_receipt
        )
        approval = ApprovalDialog(
            ("" if with_receipt else "Return without receipt: ")
            + f"Refund {money(self.plan.amount, self._order.currency)} of sale "
            f"{self._order.receipt_no}",
            self._terminal,
            self._runner,
            self,
            action=action,
            subject=subject,
            asked_by=self._clerk,
        )
        approval.approved.connect(self._refund)
        approval.open()

    def _refund(self, approval: Approval) -> None:
        """The refund with the manager's approval of exactly it (refund_order checks the
        order and the amount are those approved)."""
        try:
            arguments = self._arguments()
        except PosError as error:
            self.show_error(error_text(error))
            return
        terminal, order, gateway = self._terminal, self._order, self._gateway
        reason = self.reason.currentText()
        with_receipt = self.receipt_shown.isChecked()
        self.ok_button.setEnabled(False)

        clerk = self._clerk

        def work(_control: TaskControl) -> Refund:
            return refund_order(
                terminal.uow,
                gateway,
                order.id,
                reason,
                clerk or approver(terminal, approval),
                terminal.clock,
                terminal.ids,
                with_receipt=with_receipt,
                approval=approval,
                **arguments,
            )

        self._runner.run_network("refund", work, self._on_refunded, self._on_failed)

    def _on_refunded(self, refund: Refund) -> None:
        self.refunded.emit(refund)
        self.accept()

    def _on_failed(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        self.show_error(error_text(error))
