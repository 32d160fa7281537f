"""Refund a paid sale (manager): everything left or an amount, to the card and/or in cash.

What would happen is previewed first (``quote_refund``, nothing written). The refund runs in
the background after a manager's PIN: a card part goes through the store's server (it needs a
connection), a cash part is recorded on the till and synced like a sale.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QRadioButton

from app.domain.errors import PosError
from app.domain.money import parse_amount
from app.domain.order import Order
from app.domain.refund import Refund, RefundPlan
from app.services.refunds import quote_refund, refund_left, refund_order
from ui.dialogs import ManagerApprovalDialog
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import PosDialog, error_text, label, money

REFUND_REASONS = ["Damaged or faulty", "Customer returned item", "Wrong price charged", "Other"]


class RefundDialog(PosDialog):
    refunded = Signal(object)  # Refund

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        order: Order,
        gateway: Any,
        parent=None,  # type: ignore[no-untyped-def]
    ) -> None:
        super().__init__(f"Refund sale {order.receipt_no}", parent)
        self._terminal = terminal
        self._runner = runner
        self._order = order
        self._gateway = gateway
        self.plan: RefundPlan | None = None
        self.left_label = label("Reading what is left to refund…", "Subtitle", wrap=True)
        self.body.addWidget(self.left_label)
        self.everything = QRadioButton("Everything that is left")
        self.part = QRadioButton("Part of it:")
        self.everything.setChecked(True)
        self.amount_field = QLineEdit()
        self.amount_field.setObjectName("AmountField")
        self.amount_field.setPlaceholderText("amount, e.g. 2.50")
        row = QHBoxLayout()
        row.addWidget(self.everything)
        row.addWidget(self.part)
        row.addWidget(self.amount_field, 1)
        self.body.addLayout(row)
        self.all_cash = QCheckBox("Pay it all back in cash (not to the card)")
        self.body.addWidget(self.all_cash)
        self.reason = QComboBox()
        self.reason.addItems(REFUND_REASONS)
        self.body.addWidget(label("Why?"))
        self.body.addWidget(self.reason)
        self.preview = label("", "Subtitle", wrap=True)
        self.body.addWidget(self.preview)
        if gateway is None:
            self.body.addWidget(
                label(
                    "No connection to the store's server: only cash refunds are possible now.",
                    "Notice",
                    wrap=True,
                )
            )
        self.finish_layout("Refund (manager PIN)")
        for widget in (self.everything, self.part, self.all_cash):
            widget.toggled.connect(self._quote)
        self.amount_field.textChanged.connect(self._quote)
        runner.run_db(
            "refund left",
            lambda _c: refund_left(terminal.read(), order.id),
            self._on_left,
            lambda error: self.show_error(error_text(error)),
        )

    def _on_left(self, left: Any) -> None:
        card = sum(left.card_left.values())
        self.left_label.setText(
            f"Paid {money(self._order.total, self._order.currency)}; left to refund "
            f"{money(left.amount, self._order.currency)}"
            + (
                f", of which {money(card, self._order.currency)} can go back to the card."
                if card
                else "."
            )
        )
        self._quote()

    def _arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.part.isChecked():
            arguments["amount"] = parse_amount(self.amount_field.text(), field="refund amount")
        if self.all_cash.isChecked() or self._gateway is None:
            arguments["to_card"] = 0
        return arguments

    def _quote(self) -> None:
        try:
            arguments = self._arguments()
        except PosError as error:
            self.preview.setText(error_text(error))
            self.plan = None
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

    def _on_quote(self, plan: RefundPlan) -> None:
        self.plan = plan
        currency = self._order.currency
        parts = []
        if plan.card_amount:
            parts.append(f"{money(plan.card_amount, currency)} back to the card")
        if plan.cash_amount:
            parts.append(f"{money(plan.cash_amount, currency)} in cash from the drawer")
        self.preview.setText(
            f"Refund {money(plan.amount, currency)}: "
            + " and ".join(parts)
            + (". The sale will be fully refunded." if plan.completes_order else ".")
        )

    def _on_ok(self) -> None:
        if self.plan is None:
            self.show_error("Nothing to refund with these choices.")
            return
        approval = ManagerApprovalDialog(
            f"Refund {money(self.plan.amount, self._order.currency)} of sale "
            f"{self._order.receipt_no}",
            self._terminal,
            self._runner,
            self,
        )
        approval.approved.connect(self._refund)
        approval.open()

    def _refund(self, manager: Any) -> None:
        try:
            arguments = self._arguments()
        except PosError as error:
            self.show_error(error_text(error))
            return
        terminal, order, gateway = self._terminal, self._order, self._gateway
        reason = self.reason.currentText()
        self.ok_button.setEnabled(False)

        def work(_control: TaskControl) -> Refund:
            return refund_order(
                terminal.uow,
                gateway,
                order.id,
                reason,
                manager,
                terminal.clock,
                terminal.ids,
                **arguments,
            )

        self._runner.run_network("refund", work, self._on_refunded, self._on_failed)

    def _on_refunded(self, refund: Refund) -> None:
        self.refunded.emit(refund)
        self.accept()

    def _on_failed(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        self.show_error(error_text(error))
