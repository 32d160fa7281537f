"""The delivery slot picker: the store's open windows as a day × window grid.

Each cell is one slot this till may offer (``app.services.phone_orders.offer_slots``: only
slots before their cut-off and lead time, serving the customer's address). It shows the
places still free and whether the booking would be **firm** (within this till's allotment:
never moved) or **provisional** (past the allotment: the server confirms it on sync, or
moves the order and the till lists it for a phone call). A full slot is greyed and cannot
be chosen. The arrow keys move between cells; the cell with the focus is the one chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.widgets import label


def local(moment: datetime) -> datetime:
    """A slot's time as the store's staff read it (the till's own time zone)."""
    return moment.astimezone()


def window_text(starts_at: datetime, ends_at: datetime) -> str:
    return f"{local(starts_at):%H:%M}–{local(ends_at):%H:%M}"


def day_text(day: date) -> str:
    return f"{day:%a %d %b}"


def slot_text(starts_at: datetime, ends_at: datetime) -> str:
    """``Tue 02 Dec 10:00–12:00``: a slot as the read-back and the queue name it."""
    return f"{day_text(local(starts_at).date())} {window_text(starts_at, ends_at)}"


def start_text(starts_at: datetime) -> str:
    """``Tue 02 Dec 10:00``: when a slot starts."""
    return f"{day_text(local(starts_at).date())} {local(starts_at):%H:%M}"


def places_text(offer: Any) -> str:
    """What a cell says: the places left (items when the slot counts items), then firm or
    provisional; or full."""
    unit = getattr(offer.slot.unit, "value", offer.slot.unit)
    if offer.free <= 0 and not offer.firm:
        return "full"
    noun = " items" if unit == "items" else ""
    return f"{max(offer.free, 0)}{noun} free\n{'firm' if offer.firm else 'provisional'}"


def offer_bookable(offer: Any) -> bool:
    """A slot can be chosen while it has room, or this till's allotment still covers it."""
    return bool(offer.firm or offer.free > 0)


class SlotPickerWidget(QWidget):
    """The grid of slot offers; ``slot_chosen`` carries the ``SlotOffer`` picked."""

    slot_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offers: list[Any] = []
        self.selected: Any = None
        self._buttons: dict[str, QPushButton] = {}
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        self.caption = label("Choose the customer and the address to see the slots.", "Muted")
        self.caption.setWordWrap(True)
        box.addWidget(self.caption)
        self.grid_holder = QWidget()
        self.grid = QGridLayout(self.grid_holder)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(4)
        self.grid.setVerticalSpacing(4)
        box.addWidget(self.grid_holder)
        self.grid_holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.legend = label(
            "Firm: this till's share, never moved. Provisional: the server confirms it or "
            "moves it on sync.",
            "SlotLegend",
            wrap=True,
        )
        box.addWidget(self.legend)
        box.addStretch(1)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)

    def set_offers(self, offers: Sequence[Any], caption: str = "") -> None:
        """Show ``offers`` (keeps the chosen slot when it is still offered)."""
        previous = self.selected.slot.id if self.selected is not None else None
        self.offers = list(offers)
        for old in self.group.buttons():
            self.group.removeButton(old)
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._buttons = {}
        self.selected = None
        days = sorted({local(o.slot.starts_at).date() for o in self.offers})
        windows = sorted(
            {(local(o.slot.starts_at).time(), local(o.slot.ends_at).time()) for o in self.offers}
        )
        if not self.offers:
            self.caption.setText(caption or "No open delivery slot in the next 7 days.")
        else:
            self.caption.setText(caption or "Delivery slot: places free (F8, then the arrow keys)")
        for column, (start, end) in enumerate(windows, start=1):
            head = label(f"{start:%H:%M}–{end:%H:%M}", "Muted")
            head.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(head, 0, column)
        for row, day in enumerate(days, start=1):
            self.grid.addWidget(label(day_text(day), "Muted"), row, 0)
        positions: dict[tuple[date, tuple[time, time]], Any] = {}
        for offer in self.offers:
            start = local(offer.slot.starts_at)
            key = (start.date(), (start.time(), local(offer.slot.ends_at).time()))
            positions.setdefault(key, offer)
        for (day, window), offer in positions.items():
            cell = QPushButton(places_text(offer))
            cell.setCheckable(True)
            cell.setAutoDefault(False)
            cell.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            bookable = offer_bookable(offer)
            if not bookable:
                cell.setObjectName("SlotFull")
                cell.setEnabled(False)
            else:
                cell.setObjectName("Slot" if offer.firm else "SlotProvisional")
            cell.setToolTip(
                f"{slot_text(offer.slot.starts_at, offer.slot.ends_at)}: "
                + places_text(offer).replace("\n", ", ")
            )
            self.group.addButton(cell)
            cell.toggled.connect(lambda on, o=offer: on and self._choose(o))
            self.grid.addWidget(cell, days.index(day) + 1, windows.index(window) + 1)
            self._buttons[offer.slot.id] = cell
        for column in range(1, len(windows) + 1):
            self.grid.setColumnStretch(column, 1)
        if previous in self._buttons and self._buttons[previous].isEnabled():
            self._buttons[previous].setChecked(True)

    def _choose(self, offer: Any) -> None:
        self.selected = offer
        self.slot_chosen.emit(offer)

    def choose(self, slot_id: str) -> bool:
        """Pick the slot ``slot_id`` (False when it is not offered or full)."""
        cell = self._buttons.get(slot_id)
        if cell is None or not cell.isEnabled():
            return False
        cell.setChecked(True)
        return True

    def cell(self, slot_id: str) -> QPushButton | None:
        return self._buttons.get(slot_id)

    def focus_slots(self) -> None:
        """F8: into the grid, on the chosen slot, or choosing the first that can be booked;
        the arrow keys then move the choice (an exclusive group moves its check along)."""
        target = self._buttons.get(self.selected.slot.id) if self.selected else None
        if target is None:
            target = next((b for b in self._buttons.values() if b.isEnabled()), None)
            if target is not None:
                target.setChecked(True)
        if target is not None:
            target.setFocus(Qt.FocusReason.ShortcutFocusReason)


def booking_words(status: Any) -> str:
    """How a booking stands, in the words staff read after saving and in the queue."""
    words = {
        "firm": "slot booked firm",
        "provisional": "slot booked provisionally: the server confirms it or moves it",
        "confirmed": "slot confirmed by the server",
        "moved": "moved to another slot by the server: call the customer",
        "unplaced": "no slot could take it: call the customer",
    }
    return words.get(str(getattr(status, "value", status)), str(status))
