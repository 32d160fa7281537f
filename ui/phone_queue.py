"""The phone-order queue (Ctrl+Shift+P): every phone and delivery order of the store by slot,
with its state, its booking and its payment, and the legal next moves as buttons.

Every till of the store sees the same queue: moves are events that sync both ways. A move
this till may not make (delivered → picking) is refused here at once with the reason; one
another till overtook (the server had already moved the order on) comes back refused from
the server and the row says why, in red, with the word "refused".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QTableWidgetItem, QWidget

from app.domain.delivery import (
    TRANSITIONS,
    BookingStatus,
    FulfilmentState,
    PaymentMethod,
    PhoneOrder,
)
from app.domain.order import SyncState
from ui.dialogs import ReasonDialog
from ui.phone_order import DialogTasks
from ui.slot_picker import slot_text, start_text
from ui.tasks import TaskRunner
from ui.widgets import ChildDialogHost, button, error_text, label, list_table, money

REFRESH_MS = 5_000
QUEUE_LIMIT = 300
COLUMNS = ("Slot", "Order", "Customer", "State", "Booking", "Payment", "Total", "Sync")
OPEN_STATES = (
    FulfilmentState.RECEIVED,
    FulfilmentState.PICKING,
    FulfilmentState.READY,
    FulfilmentState.OUT_FOR_DELIVERY,
)
FILTERS: tuple[tuple[str, tuple[FulfilmentState, ...] | None], ...] = (
    ("Open orders", OPEN_STATES),
    *((state.label.capitalize(), (state,)) for state in FulfilmentState),
    ("All orders", None),
)
# The forward move of each state (Enter), then the others.
FORWARD = {
    FulfilmentState.RECEIVED: FulfilmentState.PICKING,
    FulfilmentState.PICKING: FulfilmentState.READY,
    FulfilmentState.READY: FulfilmentState.OUT_FOR_DELIVERY,
    FulfilmentState.OUT_FOR_DELIVERY: FulfilmentState.DELIVERED,
}
MOVE_WORDS = {
    FulfilmentState.PICKING: "Start picking",
    FulfilmentState.READY: "Ready",
    FulfilmentState.OUT_FOR_DELIVERY: "Out for delivery",
    FulfilmentState.DELIVERED: "Delivered",
    FulfilmentState.RECEIVED: "Back to received",
    FulfilmentState.CANCELLED: "Cancel order…",
}
BACK_WORDS = {
    FulfilmentState.PICKING: "Back to picking",
    FulfilmentState.READY: "Back to ready",
    FulfilmentState.RECEIVED: "Back to received",
}
CANCEL_REASONS = [
    "Customer cancelled",
    "Cannot deliver to the address",
    "Nothing of it in stock",
    "Duplicate order",
]
BOOKING_WORDS = {
    BookingStatus.FIRM: "firm",
    BookingStatus.PROVISIONAL: "provisional",
    BookingStatus.CONFIRMED: "confirmed",
    BookingStatus.MOVED: "moved",
    BookingStatus.UNPLACED: "no slot: call",
}
PAYMENT_SHORT = {
    PaymentMethod.DOOR_CASH: "cash at door",
    PaymentMethod.DOOR_CARD: "card at door",
    PaymentMethod.CARD_LINK: "card link",
}
BAD = QColor("#b42318")
WARN = QColor("#9a6700")


def move_text(current: FulfilmentState, target: FulfilmentState) -> str:
    """The button's words for ``current → target``."""
    if FORWARD.get(current) is target or target is FulfilmentState.CANCELLED:
        return MOVE_WORDS[target]
    return BACK_WORDS.get(target, MOVE_WORDS[target])


def legal_moves(state: FulfilmentState) -> list[FulfilmentState]:
    """The moves ``TRANSITIONS`` allows from ``state``: the forward one first, cancel last."""
    allowed = TRANSITIONS[state]
    ordered = [FORWARD[state]] if state in FORWARD else []
    ordered += sorted(
        (s for s in allowed if s not in ordered and s is not FulfilmentState.CANCELLED),
        key=lambda s: s.value,
    )
    if FulfilmentState.CANCELLED in allowed:
        ordered.append(FulfilmentState.CANCELLED)
    return ordered


def payment_text(order: PhoneOrder) -> str:
    status = order.payment_status.replace("_", " ")
    if status in ("", "none"):
        return PAYMENT_SHORT[order.payment_method]
    return f"{PAYMENT_SHORT[order.payment_method]} · {status}"


def sync_text(order: PhoneOrder) -> str:
    if order.sync_state is SyncState.REJECTED:
        return f"● refused: {order.sync_error}" if order.sync_error else "● refused"
    return f"● {order.sync_state.shown}"


class PhoneQueueDialog(ChildDialogHost):
    """The queue; Enter makes the selected order's forward move (the button says which)."""

    loaded = Signal(int)
    moved = Signal(object)  # PhoneOrder after a move
    refused = Signal(str)

    def __init__(
        self, terminal: Any, runner: TaskRunner, clerk: Any, parent: QWidget | None = None
    ) -> None:
        super().__init__("Phone orders (Ctrl+Shift+P)", parent)
        self._terminal = terminal
        self._runner = DialogTasks(self, runner)
        self.clerk = clerk
        self.orders: list[PhoneOrder] = []
        self.slots: dict[str, str] = {}
        self._selected_id = ""
        # The server's card links (None offline); the main window sets it.
        self.phone_gateway: Callable[[], Any] = lambda: None
        self.decision: tuple[PhoneOrder, Any] | None = None  # a card link above its hold
        self.resize(1240, 720)
        # The list first in the focus chain (↑/↓ and Enter), the filter above it after.
        self.table = list_table(list(COLUMNS), 40)
        self.table.setParent(self)  # joins the focus chain now, before the filter
        top = QHBoxLayout()
        self.filter_box = QComboBox()
        for text, _states in FILTERS:
            self.filter_box.addItem(text)
        self.filter_box.currentIndexChanged.connect(lambda _i: self.reload())
        top.addWidget(label("Show"))
        top.addWidget(self.filter_box)
        top.addStretch(1)
        self.count_label = label("", "Muted")
        top.addWidget(self.count_label)
        self.body.addLayout(top)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _i: self._on_ok())
        self.body.addWidget(self.table, 1)
        self.detail = label("", "Subtitle", wrap=True)
        self.body.addWidget(self.detail)
        self.move_row = QHBoxLayout()
        self.move_row.setSpacing(8)
        self.body.addLayout(self.move_row)
        self.move_buttons: dict[FulfilmentState, Any] = {}
        self.finish_layout("Enter: next step", "Close (Esc)", stretch=False)
        self.pick_button = button("F5 Picking", self.open_picking)
        self.list_button = button("F6 Pick list of the slot", self.show_pick_list)
        self.note_button = button("F7 Delivery note", self.show_delivery_note)
        for index, extra in enumerate((self.pick_button, self.list_button, self.note_button)):
            extra.setAutoDefault(False)
            self.buttons.insertWidget(index, extra)
        for key, slot in (
            ("F5", self.open_picking),
            ("F6", self.show_pick_list),
            ("F7", self.show_delivery_note),
            ("F8", lambda: self.request_move(FulfilmentState.CANCELLED)),
            ("Ctrl+B", self._back),
            ("Alt+1", lambda: self.decide(_choice("capture_authorised"))),
            ("Alt+2", lambda: self.decide(_choice("top_up"))),
        ):
            QShortcut(QKeySequence(key), self, slot)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.reload)
        self._timer.start()
        self._render_moves()
        self.reload()

    def first_field(self) -> QWidget | None:
        return self.table

    # loading -----------------------------------------------------------------------------

    def states(self) -> tuple[FulfilmentState, ...] | None:
        return FILTERS[max(0, self.filter_box.currentIndex())][1]

    def reload(self) -> None:
        from app.services import phone_orders

        terminal, states = self._terminal, self.states()

        def work(_control: Any) -> tuple[list[PhoneOrder], dict[str, str]]:
            orders = list(phone_orders.phone_queue(terminal.read(), states=states))
            orders = orders[:QUEUE_LIMIT]
            return orders, slot_names(orders)

        self._runner.run_db("phone queue", work, self._show, self._on_refused)

    def _show(self, loaded: tuple[list[PhoneOrder], dict[str, str]]) -> None:
        orders, names = loaded
        self.orders, self.slots = orders, names
        keep = self._selected_id
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(orders))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        previous_slot: str | None = None
        for row, order in enumerate(orders):
            booking = BOOKING_WORDS[order.booking_status]
            total = order.actual_total or order.estimated_total
            slot = names.get(order.slot_id, "—")
            cells = (
                slot if slot != previous_slot else "",  # the slot once, over its orders
                order.order_no,
                order.customer.name,
                order.state.label,
                booking,
                payment_text(order),
                money(total, order.currency) + ("" if order.actual_total else " est."),
                sync_text(order),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 6:
                    item.setTextAlignment(right)
                if column == 7 and order.sync_state is SyncState.REJECTED:
                    item.setForeground(QBrush(BAD))
                if column == 4 and order.booking_status in (
                    BookingStatus.PROVISIONAL,
                    BookingStatus.MOVED,
                    BookingStatus.UNPLACED,
                ):
                    item.setForeground(QBrush(WARN))
                table.setItem(row, column, item)
            previous_slot = slot
        ids = [o.id for o in orders]
        if orders:
            table.selectRow(ids.index(keep) if keep in ids else 0)
        table.blockSignals(False)
        self.count_label.setText(f"{len(orders)} order{'s' if len(orders) != 1 else ''}")
        self._on_selection()
        self.loaded.emit(len(orders))

    # selection and moves -----------------------------------------------------------------

    def selected(self) -> PhoneOrder | None:
        rows = self.table.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self.orders):
            return self.orders[rows[0].row()]
        return None

    def _on_selection(self) -> None:
        order = self.selected()
        self._selected_id = order.id if order else ""
        if order is None:
            self.detail.setText("No phone orders to show." if not self.orders else "")
        else:
            where = order.address.one_line
            text = f"{order.order_no}: {order.customer.name} · {order.customer.phone} · {where}"
            if order.note:
                text += f" · note: {order.note}"
            if order.sync_state is SyncState.REJECTED and order.sync_error:
                text += f"\nRefused by the server: {order.sync_error}"
            self.detail.setText(text)
        self._render_moves()

    def _render_moves(self) -> None:
        while self.move_row.count():
            item = self.move_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.move_buttons = {}
        order = self.selected()
        moves = legal_moves(order.state) if order else []
        forward = FORWARD.get(order.state) if order else None
        for target in moves:
            if target is forward:
                continue  # the default button (Enter) makes it
            text = move_text(order.state, target)  # type: ignore[union-attr]
            if target is FulfilmentState.CANCELLED:
                text = f"F8 {text}"
            elif target in BACK_WORDS and target is not forward:
                text = f"Ctrl+B {text}"
            move = button(text, lambda t=target: self.request_move(t))
            move.setAutoDefault(False)
            if target is FulfilmentState.CANCELLED:
                move.setObjectName("Danger")
            self.move_buttons[target] = move
            self.move_row.addWidget(move)
        if self.decision is not None and order is not None and self.decision[0].id == order.id:
            from app.domain.card import CaptureChoice

            state = self.decision[1]
            for text, choice in (
                (
                    f"Alt+1 Charge {money(state.authorised_amount, order.currency)} "
                    "(the rest not charged)",
                    CaptureChoice.CAPTURE_AUTHORISED,
                ),
                (
                    f"Alt+2 Top-up link for {money(state.shortfall, order.currency)}",
                    CaptureChoice.TOP_UP,
                ),
            ):
                decide = button(text, lambda c=choice: self.decide(c), "Primary")
                decide.setAutoDefault(False)
                self.move_row.addWidget(decide)
        self.move_row.addStretch(1)
        if order is not None and order.state is FulfilmentState.PICKING and not order.picked:
            self.ok_button.setText("Enter: Picking screen")
            self.ok_button.setEnabled(True)
        elif forward is not None and order is not None:
            self.ok_button.setText(f"Enter: {move_text(order.state, forward)}")
            self.ok_button.setEnabled(True)
        else:
            self.ok_button.setText("Enter: next step")
            self.ok_button.setEnabled(False)
        self.pick_button.setEnabled(order is not None and order.state is FulfilmentState.PICKING)
        self.note_button.setEnabled(order is not None)
        self.list_button.setEnabled(order is not None)

    def _on_ok(self) -> None:
        order = self.selected()
        if order is None or order.state not in FORWARD:
            return
        if order.state is FulfilmentState.PICKING and not order.picked:
            self.pick(order)  # picked first: then Enter makes it ready
            return
        self.request_move(FORWARD[order.state])

    def _back(self) -> None:
        order = self.selected()
        if order is None:
            return
        back = [
            t for t in legal_moves(order.state) if t in BACK_WORDS and t != FORWARD.get(order.state)
        ]
        if back:
            self.request_move(back[0])

    def request_move(self, target: FulfilmentState) -> None:
        """Move the selected order to ``target``; cancelling asks for the reason first."""
        order = self.selected()
        if order is None or self.child_dialog is not None:
            return
        if target is FulfilmentState.READY and not order.picked:
            self.show_error(
                f"{order.order_no} has not been picked yet: F5 opens the picking screen, "
                "save the picking, then it can be ready."
            )
            return
        if target is FulfilmentState.CANCELLED:
            dialog = ReasonDialog(
                f"Cancel {order.order_no}",
                f"Why is {order.customer.name}'s order cancelled? A card authorisation is "
                "released, a captured payment refunded.",
                CANCEL_REASONS,
                self,
            )
            dialog.accepted.connect(lambda: self.move(order, target, dialog.reason))
            self.open_child(dialog)
            return
        self.move(order, target)

    def move(self, order: PhoneOrder, target: FulfilmentState, reason: str = "") -> None:
        from app.domain.card import CaptureChoice
        from app.services import phone_orders

        if target is FulfilmentState.DELIVERED and order.payment_method is PaymentMethod.CARD_LINK:
            self.charge_card_link(order, CaptureChoice.CAPTURE)
            return
        terminal, clerk = self._terminal, self.clerk

        def work(_control: Any) -> PhoneOrder:
            if target is FulfilmentState.DELIVERED:
                phone_orders.complete_delivery(
                    terminal.uow(),
                    terminal.ids,
                    terminal.clock,
                    terminal.store,
                    clerk,
                    order.id,
                    door_tenders(order),
                )
                with terminal.read() as uow:
                    done = uow.phone_orders.get(order.id)
                return done if done is not None else order
            return phone_orders.transition_phone_order(
                terminal.uow(), terminal.ids, terminal.clock, clerk, order.id, target, reason
            )

        self._runner.run_db("move phone order", work, self._on_moved, self._on_refused)

    # card links -------------------------------------------------------------------------

    def charge_card_link(self, order: PhoneOrder, choice: Any) -> None:
        """Delivered, paid by card link: the server captures the picked total (or, when it
        is more than the card authorised, what staff choose), then the sale is completed
        with the card charges as its tenders (app.services.card_payments)."""
        from app.domain.card import CaptureChoice, PhoneCardStatus
        from app.services import phone_orders
        from app.services.card_payments import capture_phone_payment, card_link_tenders

        gateway = self.phone_gateway()
        if gateway is None:
            self.show_error(
                f"{order.order_no} is paid by card link: the store's server charges it, so "
                "mark it delivered once this till is online."
            )
            return
        terminal, clerk = self._terminal, self.clerk
        self.decision = None
        self._render_moves()

        def work(_control: Any) -> Any:
            state = capture_phone_payment(gateway, order.id, choice)
            if state.status is PhoneCardStatus.CAPTURED:
                absorbed = state.shortfall if choice is CaptureChoice.CAPTURE_AUTHORISED else 0
                phone_orders.complete_delivery(
                    terminal.uow(),
                    terminal.ids,
                    terminal.clock,
                    terminal.store,
                    clerk,
                    order.id,
                    card_link_tenders(state),
                    absorbed_shortfall=absorbed,
                )
            return state

        self._runner.run_network(
            "charge card link", work, lambda state: self._on_charged(order, state), self._on_refused
        )

    def _on_charged(self, order: PhoneOrder, state: Any) -> None:
        from app.domain.card import PhoneCardStatus

        currency = order.currency
        if state.status is PhoneCardStatus.CAPTURED:
            self.error.hide()
            self.detail.setText(
                f"{order.order_no}: {money(state.captured_amount, currency)} charged to the "
                "card; delivered."
            )
            self.moved.emit(order)
            self.reload()
        elif state.status is PhoneCardStatus.NEEDS_DECISION:
            self.decision = (order, state)
            self.show_error(
                f"{order.order_no} came to {money(state.actual_total or 0, currency)}, "
                f"{money(state.shortfall, currency)} more than the card authorised "
                f"({money(state.authorised_amount, currency)}): charge what was authorised "
                "(Alt+1) or send a top-up link for the rest (Alt+2)."
            )
            self._render_moves()
        elif state.status is PhoneCardStatus.TOP_UP_SENT:
            self.error.hide()
            self.detail.setText(
                f"{order.order_no}: a link for the remaining "
                f"{money(state.top_up_amount or state.shortfall, currency)} was e-mailed; mark "
                "it delivered once the customer has paid."
            )
        else:
            status = state.status.value.replace("_", " ")
            self.show_error(
                state.message
                or f"The card payment of {order.order_no} is {status}: it cannot be charged now."
            )

    def decide(self, choice: Any) -> None:
        """Alt+1 / Alt+2 after "more than the card authorised"."""
        if self.decision is not None:
            order, _state = self.decision
            self.charge_card_link(order, choice)

    def _on_moved(self, order: PhoneOrder) -> None:
        self.error.hide()
        self.moved.emit(order)
        self._selected_id = order.id
        self.reload()
        if order.state is FulfilmentState.PICKING and not order.picked:
            self.pick(order)  # "Start picking" opens the picking screen

    def _on_refused(self, error: Exception) -> None:
        message = error_text(error)
        self.show_error(message)
        self.refused.emit(message)
        self.reload()

    # picking and documents ---------------------------------------------------------------

    def open_picking(self) -> None:
        """F5: the picking screen of the selected order (while it is being picked)."""
        order = self.selected()
        if order is not None and order.state is FulfilmentState.PICKING:
            self.pick(order)

    def pick(self, order: PhoneOrder) -> None:
        from ui.picking import PickingDialog

        if self.child_dialog is not None:
            return
        dialog = PickingDialog(self._terminal, self._runner, self.clerk, order, self)
        dialog.saved.connect(lambda picked: (self.moved.emit(picked), self.reload()))
        self.open_child(dialog)

    def show_pick_list(self) -> None:
        from ui.picking import open_pick_list

        order = self.selected()
        if order is not None:
            open_pick_list(self._terminal, self._runner, order.slot_id, self.open_child, self)

    def show_delivery_note(self) -> None:
        from ui.picking import open_delivery_note

        order = self.selected()
        if order is not None:
            open_delivery_note(self._terminal, self._runner, order.id, self.open_child, self)

    def focus_after_child(self) -> None:
        self.table.setFocus()

    def done(self, result: int) -> None:
        self._timer.stop()
        super().done(result)


def _choice(value: str) -> Any:
    from app.domain.card import CaptureChoice

    return CaptureChoice(value)


def door_tenders(order: PhoneOrder) -> list[Any]:
    """What was taken at the door: the picked total in cash or by card (a card link's
    tenders are its card charges: ``charge_card_link``)."""
    from app.domain.order import TenderInput, TenderKind

    amount = order.actual_total or order.estimated_total
    if order.payment_method is PaymentMethod.DOOR_CASH:
        return [TenderInput(TenderKind.CASH, amount)]
    return [TenderInput(TenderKind.CARD, amount)]


def slot_names(orders: list[PhoneOrder]) -> dict[str, str]:
    """``Tue 02 Dec 10:00–12:00`` by slot id, for the slots ``orders`` are booked in, and
    ``Tue 02 Dec 10:00`` for the slots they were moved from (as the server last said)."""
    names: dict[str, str] = {}
    for order in orders:
        if order.slot_starts_at is not None and order.slot_ends_at is not None:
            names[order.slot_id] = slot_text(order.slot_starts_at, order.slot_ends_at)
        if order.moved_from_slot_id and order.moved_from_starts_at is not None:
            names.setdefault(order.moved_from_slot_id, start_text(order.moved_from_starts_at))
    return names
