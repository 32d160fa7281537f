"""This till's sales: find one by its receipt's number, by what was bought or by day; see what
was refunded and what reached the server; reprint a copy, refund (with its refund receipt),
void."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidgetItem,
    QWidget,
)

from app.domain.approval import ApprovalAction
from app.domain.errors import NotFound
from app.domain.order import Order, OrderStatus, SyncState
from app.domain.refund import Refund
from app.services.checkout import void_order, void_subject
from app.services.receipt import RefundReceipt, build_refund_receipt, refunded_to
from ui.approval_dialog import ApprovalDialog, approver
from ui.dialogs import ReasonDialog
from ui.receipt_view import ReceiptDialog, RefundReceiptDialog
from ui.tasks import TaskRunner
from ui.widgets import PosDialog, button, error_text, label, list_table, money

HISTORY_LIMIT = 200
COLUMNS = ("Receipt", "Time", "Clerk", "Items", "Total", "Status", "Sync")
SYNC_COLOURS = {
    SyncState.QUEUED: "#9a6700",
    SyncState.SENT: "#0f6e8c",
    SyncState.ACKNOWLEDGED: "#1a7f37",
    SyncState.REJECTED: "#b42318",
}
VOID_REASONS = ["Wrong items rung up", "Customer returned at once", "Duplicate sale", "Training"]


def status_text(order: Order) -> str:
    """The sale's state as the history row says it: "paid", "paid · refunded € 5.00",
    "refunded in full", "voided"."""
    if order.status is OrderStatus.REFUNDED:
        return "refunded in full"
    if order.status is OrderStatus.PAID and order.refunded_total:
        return f"paid · refunded {money(order.refunded_total, order.currency)}"
    return order.status.value


def sync_text(order: Order) -> str:
    """waiting / sent / received / refused (the words of ``SyncState.shown``)."""
    return f"● {order.sync_state.shown}"


def load_orders(terminal, query: str, day: date | None) -> list[Order]:  # type: ignore[no-untyped-def]
    """The sales, each with the sync state of its refunds and void too (a refund still
    waiting makes its sale "waiting"; a refused one, "refused" with the reason)."""
    with terminal.read() as uow:
        orders = list(uow.orders.recent(HISTORY_LIMIT, query, day.isoformat() if day else None))
        later = uow.outbox.unacknowledged_follow_ups([o.id for o in orders])
    return [o.with_later_events(later.get(o.id, ())) for o in orders]


def found_by_receipt(search: str, order: Order) -> bool:
    """Whether the sale was found by its receipt's number (typed or scanned into the search:
    at least its six digits), not picked from a list: then the customer has the receipt."""
    typed = search.strip().upper()
    return len(typed) >= 6 and typed in order.receipt_no.upper()


def load_sale(terminal, order_id: str) -> tuple[Order, list[Refund]]:  # type: ignore[no-untyped-def]
    """The sale as it is now and its refunds (for a reprint or a refund receipt)."""
    with terminal.read() as uow:
        order = uow.orders.get(order_id)
        if order is None:
            raise NotFound(f"no sale {order_id} on this till", field="order_id")
        return order, list(uow.refunds.for_order(order_id))


EMAIL_NOTE = (
    "If the customer gave an e-mail address for this sale (a phone order, a payment link), "
    "the store's server e-mails them this refund receipt once it has the refund."
)


def refund_confirmation(order: Order, refund: Refund, slip: RefundReceipt) -> str:
    """What the manager reads when a refund is done."""
    words = [f"Refunded {money(refund.amount, order.currency)} of sale {order.receipt_no}"]
    if refund.card_amount and refund.cash_amount:
        words.append(
            f": {money(refund.card_amount, order.currency)} back to the card and "
            f"{money(refund.cash_amount, order.currency)} in cash from the drawer."
        )
    elif refund.card_amount:
        words.append(": back to the card.")
    else:
        words.append(": give it from the drawer in cash.")
    items = sum(1 for line in slip.lines if line.detail)
    if items:
        words.append(f" {items} item line{'s' if items != 1 else ''} back in stock.")
    if slip.refunded_total >= slip.order_total:
        words.append(" The sale is now refunded in full.")
    words.append(f" {EMAIL_NOTE}")
    return "".join(words)


class HistoryDialog(PosDialog):
    loaded = Signal(int)
    order_voided = Signal(object)
    refund_receipt_shown = Signal(object)  # RefundReceiptDialog

    def __init__(self, terminal, runner: TaskRunner, parent: QWidget | None = None):  # type: ignore[no-untyped-def]
        super().__init__("Sales history (F3)", parent)
        self._terminal = terminal
        self._runner = runner
        self.orders: list[Order] = []
        self.child_dialog: PosDialog | None = None
        # The server's payment API (card refunds), or None offline; set by the main window.
        self.payment_gateway: Any = lambda: None
        self.clerk: Any = None  # who is logged in (asks for approvals); set by the window
        self.resize(1100, 680)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Receipt number (000042) or an item bought")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        # A scanner types the receipt's number and Enter: search at once, keep the dialog
        # open (Enter would otherwise press Close), and select the sale found.
        self.search.installEventFilter(self)
        filters.addWidget(self.search, 2)
        self.day_filter = QCheckBox("Only on")
        self.day_filter.toggled.connect(lambda _on: self.reload())
        filters.addWidget(self.day_filter)
        self.day = QDateEdit(QDate.currentDate())
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.dateChanged.connect(
            lambda _d: self.reload() if self.day_filter.isChecked() else None
        )
        filters.addWidget(self.day)
        filters.addStretch(1)
        self.body.addLayout(filters)
        self.table = list_table(list(COLUMNS), 40)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The status ("paid · refunded €5.00") is the longest text: it takes the room left.
        header.setSectionResizeMode(COLUMNS.index("Status"), QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.reprint())
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.body.addWidget(self.table, 1)
        self.summary = label("Loading…", "Muted", wrap=True)
        self.body.addWidget(self.summary)
        # The selected sale in words: its refunds, or why the server refused it.
        self.detail = label("", "Subtitle", wrap=True)
        self.body.addWidget(self.detail)
        self.body.addWidget(
            label(
                "Sync: waiting = kept on this till until the store's server can be reached; "
                "sent = on its way, no answer yet; received = the server has it; refused = the "
                "server gave a reason (shown below) and a manager decides (Till → Refused "
                "sales).",
                "Muted",
                wrap=True,
            )
        )
        self.reprint_button = button("Reprint receipt", self.reprint)
        self.void_button = button("Void sale (manager)…", self.ask_void, "Danger")
        self.refund_button = button("Refund (manager)…", self.ask_refund)
        for extra in (self.reprint_button, self.refund_button, self.void_button):
            extra.setAutoDefault(False)
            self.buttons.addWidget(extra)
        self.finish_layout("Close (Enter)", stretch=False)
        self.cancel_button.hide()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.reload)
        self.reload()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._debounce.stop()
            self.reload()
            return True
        return super().eventFilter(watched, event)

    def reload(self) -> None:
        query = self.search.text().strip()
        day = self.day.date().toPython() if self.day_filter.isChecked() else None
        terminal = self._terminal
        self._runner.run_db(
            "history",
            lambda _c: load_orders(terminal, query, day),
            self._show,
            lambda error: self.summary.setText(error_text(error)),
        )

    def _show(self, orders: list[Order]) -> None:
        self.orders = orders
        self.table.setRowCount(len(orders))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, order in enumerate(orders):
            moment = (order.paid_at or order.created_at).astimezone()
            cells = [
                order.receipt_no,
                moment.strftime("%Y-%m-%d %H:%M"),
                order.clerk_name,
                str(len(order.lines)),
                money(order.total, order.currency),
                status_text(order),
                sync_text(order),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (3, 4):
                    item.setTextAlignment(right)
                if column == 6:
                    from PySide6.QtGui import QColor

                    item.setForeground(QColor(SYNC_COLOURS.get(order.sync_state, "#1f2933")))
                    if order.sync_error:
                        item.setToolTip(order.sync_error)
                self.table.setItem(row, column, item)
        if orders:
            self.table.selectRow(0)
        more = " (newest shown)" if len(orders) == HISTORY_LIMIT else ""
        self.summary.setText(f"{len(orders)} sale{'s' if len(orders) != 1 else ''}{more}")
        self.loaded.emit(len(orders))

    def _on_selection(self) -> None:
        order = self.selected_order()
        if order is None:
            self.detail.setText("")
            return
        words = [f"Sale {order.receipt_no}: {status_text(order)}"]
        if order.sync_state is SyncState.REJECTED:
            words.append(
                f"refused by the server: {order.sync_error or 'no reason given'} "
                "(a manager resends or voids it: Till → Refused sales…)"
            )
        else:
            words.append(order.sync_state.shown)
        self.detail.setText("; ".join(words) + ".")

    def selected_order(self) -> Order | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.orders[rows[0].row()]

    def reprint(self) -> None:
        """A copy of the receipt, with the refunds made since (read in the DB worker)."""
        order = self.selected_order()
        if order is None:
            return
        terminal = self._terminal
        self._runner.run_db(
            "reprint",
            lambda _c: load_sale(terminal, order.id),
            self._open_copy,
            lambda error: self.show_error(error_text(error)),
        )

    def _open_copy(self, sale: tuple[Order, list[Refund]]) -> None:
        order, refunds = sale
        dialog = ReceiptDialog(
            order,
            self._terminal.store,
            self._runner,
            title=f"Receipt {order.receipt_no} (copy)",
            copy=True,
            refunds=tuple(refunds),
            parent=self,
        )
        self.child_dialog = dialog
        dialog.open()

    def ask_refund(self) -> None:
        from ui.refund_dialog import RefundDialog

        order = self.selected_order()
        if order is None:
            return
        if order.status is not OrderStatus.PAID:
            self.show_error(f"Sale {order.receipt_no} is {order.status.value}: nothing to refund.")
            return
        dialog = RefundDialog(
            self._terminal,
            self._runner,
            order,
            self.payment_gateway(),
            self,
            with_receipt=found_by_receipt(self.search.text(), order),
            clerk=self.clerk,
        )
        self.child_dialog = dialog
        dialog.refunded.connect(
            lambda refund: self._on_refunded(refund, dialog.receipt_shown.isChecked())
        )
        dialog.open()

    def _on_refunded(self, refund: Refund, with_receipt: bool = True) -> None:
        """The refund is done: say so, and show its receipt (print, PDF)."""
        self.error.hide()
        store = self._terminal.store
        amount = money(refund.amount, store.currency, store.locale)
        self.summary.setText(
            f"Refunded {amount} {refunded_to(refund, store.currency, store.locale)}."
        )
        self.order_voided.emit(refund)
        self.reload()
        terminal = self._terminal
        self._runner.run_db(
            "refund receipt",
            lambda _c: load_sale(terminal, refund.order_id),
            lambda sale: self._open_refund_receipt(refund, sale, with_receipt),
            lambda error: self.show_error(error_text(error)),
        )

    def _open_refund_receipt(
        self, refund: Refund, sale: tuple[Order, list[Refund]], with_receipt: bool
    ) -> None:
        order, refunds = sale
        slip = build_refund_receipt(
            order, refund, self._terminal.store, refunds, with_receipt=with_receipt
        )
        dialog = RefundReceiptDialog(
            slip,
            self._runner,
            confirmation=refund_confirmation(order, refund, slip),
            parent=self,
        )
        self.child_dialog = dialog
        self.refund_receipt_shown.emit(dialog)
        dialog.open()

    def ask_void(self) -> None:
        order = self.selected_order()
        if order is None:
            return
        if order.status is not OrderStatus.PAID:
            self.show_error(
                f"Sale {order.receipt_no} is {order.status.value}; only paid sales can be voided."
            )
            return
        reason = ReasonDialog(
            "Void sale",
            f"Why is sale {order.receipt_no} ({money(order.total, order.currency)}) voided?",
            VOID_REASONS,
            self,
        )
        self.child_dialog = reason
        reason.accepted.connect(lambda: self._approve_void(order, reason.reason))
        reason.open()

    def _approve_void(self, order: Order, reason: str) -> None:
        """A manager approves exactly this void; void_order runs with the approval in the
        same task (and checks it is one of this order's void)."""
        terminal, clerk = self._terminal, self.clerk
        approval = ApprovalDialog(
            f"Void sale {order.receipt_no}: {reason}",
            terminal,
            self._runner,
            self,
            action=ApprovalAction.VOID_AFTER_PAYMENT,
            subject=void_subject(order.id),
            asked_by=clerk,
            then=lambda granted: void_order(
                terminal.uow(),
                order.id,
                reason,
                clerk or approver(terminal, granted),
                terminal.clock,
                terminal.ids,
                approval=granted,
            ),
        )
        self.child_dialog = approval
        approval.approved.connect(self._on_voided)
        approval.open()

    def _on_voided(self, order: Order) -> None:
        self.error.hide()
        self.summary.setText(f"Sale {order.receipt_no} voided.")
        self.order_voided.emit(order)
        self.reload()
