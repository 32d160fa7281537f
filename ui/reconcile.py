"""The reconcile list: phone orders whose provisional booking the server could not keep.

On sync the server confirms provisional bookings while the slot has room and moves the rest
to the nearest slot the address can take (or, when none can, leaves them unplaced). Each
such order is listed here with the customer's phone number and a short script; staff call,
tell the customer, and mark it "customer told" (Enter). The customer is e-mailed the change
too (the server's outbox), but a phone call is what staff owe them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem, QWidget

from app.domain.delivery import BookingStatus, PhoneOrder
from ui.phone_order import DialogTasks
from ui.phone_queue import slot_names
from ui.tasks import TaskRunner
from ui.widgets import PosDialog, error_text, label, list_table

COLUMNS = ("Order", "Customer", "Phone", "Booked for", "Now", "What happened")
REFRESH_MS = 10_000


def call_script(order: PhoneOrder, slots: dict[str, str], store_name: str) -> str:
    """What staff say on the phone."""
    name = order.customer.name.split()[0] if order.customer.name.split() else "there"
    was = booked_for(order, slots)
    chosen = f"The slot you chose, {was}," if was else "The slot you chose"
    greeting = f"Hello {name}, this is {store_name} about your delivery order {order.order_no}."
    if order.booking_status is BookingStatus.UNPLACED:
        return (
            f"{greeting} {chosen} filled up before your order reached us, and no other "
            "slot this week can deliver to your address. When would suit you instead? "
            "(Take the order again for the time agreed, Ctrl+P, then cancel this one in the "
            "queue.)"
        )
    now = slots.get(order.slot_id, "another slot")
    return (
        f"{greeting} {chosen} filled up before your order reached us, so we have "
        f"booked it for {now}, the nearest we could find. Does that suit you? You will get "
        "an e-mail of the change as well."
    )


def booked_for(order: PhoneOrder, slots: dict[str, str]) -> str:
    """The slot the customer chose: the one moved from, or an unplaced order's own."""
    if order.moved_from_slot_id:
        return slots.get(order.moved_from_slot_id, "")
    if order.booking_status is BookingStatus.UNPLACED:
        return slots.get(order.slot_id, "")
    return ""


class ReconcileDialog(PosDialog):
    """Moved and unplaced bookings to phone about; Enter marks the selected one told."""

    loaded = Signal(int)
    told = Signal(str)  # order id

    def __init__(self, terminal: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__("Reconcile: call these customers", parent)
        self._terminal = terminal
        self._runner = DialogTasks(self, runner)
        self.orders: list[PhoneOrder] = []
        self.slots: dict[str, str] = {}
        self.resize(1100, 620)
        self.intro = label(
            "The server moved these bookings (their slot was full) or found no slot for them. "
            "Call the customer, read the script, then mark it told.",
            "Muted",
            wrap=True,
        )
        self.body.addWidget(self.intro)
        self.table = list_table(list(COLUMNS), 40)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.body.addWidget(self.table, 1)
        self.body.addWidget(label("Say:", "Muted"))
        self.script = label("", "Subtitle", wrap=True)
        self.script.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.script)
        self.finish_layout("Customer told (Enter)", "Close (Esc)", stretch=False)
        self.ok_button.setEnabled(False)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.reload)
        self._timer.start()
        self.reload()

    def first_field(self) -> QWidget | None:
        return self.table

    def reload(self) -> None:
        from app.services import phone_orders

        terminal = self._terminal

        def work(_control: Any) -> tuple[list[PhoneOrder], dict[str, str]]:
            orders = list(phone_orders.reconcile_list(terminal.read()))
            return orders, slot_names(orders)

        self._runner.run_db("reconcile list", work, self._show, self._on_failed)

    def _show(self, loaded: tuple[list[PhoneOrder], dict[str, str]]) -> None:
        orders, slots = loaded
        keep = self.selected().id if self.selected() else ""
        self.orders, self.slots = orders, slots
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(orders))
        for row, order in enumerate(orders):
            unplaced = order.booking_status is BookingStatus.UNPLACED
            cells = (
                order.order_no,
                order.customer.name,
                order.customer.phone,
                booked_for(order, slots) or "—",
                "no slot" if unplaced else slots.get(order.slot_id, "—"),
                "no slot could take it: agree a time" if unplaced else "moved: slot was full",
            )
            for column, text in enumerate(cells):
                table.setItem(row, column, QTableWidgetItem(text))
        ids = [o.id for o in orders]
        if orders:
            table.selectRow(ids.index(keep) if keep in ids else 0)
        table.blockSignals(False)
        if not orders:
            self.intro.setText("Nobody to call: every booking is where the customer chose it.")
        self._on_selection()
        self.loaded.emit(len(orders))

    def selected(self) -> PhoneOrder | None:
        rows = self.table.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self.orders):
            return self.orders[rows[0].row()]
        return None

    def _on_selection(self) -> None:
        order = self.selected()
        self.ok_button.setEnabled(order is not None)
        if order is None:
            self.script.setText("")
            return
        self.script.setText(call_script(order, self.slots, self._terminal.store.store_name))

    def _on_ok(self) -> None:
        """Mark the selected order told; the list stays open for the next call."""
        from app.services import phone_orders

        order = self.selected()
        if order is None:
            return
        terminal, order_id = self._terminal, order.id
        self.ok_button.setEnabled(False)
        self._runner.run_db(
            "customer told",
            lambda _c: phone_orders.mark_customer_told(terminal.uow(), order_id),
            lambda _r: self._on_told(order_id),
            self._on_failed,
        )

    def _on_told(self, order_id: str) -> None:
        self.told.emit(order_id)
        self.reload()

    def _on_failed(self, error: Exception) -> None:
        self.ok_button.setEnabled(self.selected() is not None)
        self.show_error(error_text(error))

    def done(self, result: int) -> None:
        self._timer.stop()
        super().done(result)
