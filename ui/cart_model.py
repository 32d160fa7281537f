"""The cart as a Qt table model: one row per line, plus a row under each discounted line."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.domain.cart import Cart, CartLine, CartTotals, DiscountKind, LineTotal, percent_text
from app.domain.money import format_minor
from app.domain.product import SoldBy, format_weight

COLUMNS = ("#", "Item", "Qty", "Price", "Total")
HIGHLIGHT = QColor("#e3f1f5")
FLASH = QColor("#fff1c2")
MUTED = QColor("#52606d")
DISCOUNT = QColor("#1a7f37")

Index = QModelIndex | QPersistentModelIndex


class CartTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[bool, CartLine, LineTotal, int]] = []  # discount row?, line, …
        self._clerk = ""
        self._currency = Cart().currency
        self.highlight_line: int | None = None
        self.flash_line: int | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    def set_cart(self, cart: Cart, totals: CartTotals, clerk_name: str = "") -> None:
        by_id = {lt.line_id: lt for lt in totals.lines}
        rows: list[tuple[bool, CartLine, LineTotal, int]] = []
        for number, line in enumerate(cart.lines, start=1):
            rows.append((False, line, by_id[line.line_id], number))
            if line.discount is not None:
                rows.append((True, line, by_id[line.line_id], number))
        self.beginResetModel()
        self._rows = rows
        self._clerk = clerk_name
        self._currency = cart.currency
        self.endResetModel()

    def discount_rows(self) -> list[int]:
        """The rows that describe a line's discount (the register spans their text wide)."""
        return [row for row, (is_discount, *_rest) in enumerate(self._rows) if is_discount]

    def row_of_line(self, line_id: int) -> int:
        for row, (is_discount, line, _lt, _n) in enumerate(self._rows):
            if line.line_id == line_id and not is_discount:
                return row
        return -1

    def line_at(self, row: int) -> CartLine | None:
        if 0 <= row < len(self._rows):
            return self._rows[row][1]
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _align(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        is_discount, line, line_total, number = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                _discount_cell(line, line_total, column, self._currency)
                if is_discount
                else _cell(line, line_total, number, column, self._currency)
            )
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _align(column)
        if role == Qt.ItemDataRole.ForegroundRole and is_discount:
            return QBrush(DISCOUNT)
        if role == Qt.ItemDataRole.BackgroundRole:
            if line.line_id == self.flash_line:
                return QBrush(FLASH)
            if line.line_id == self.highlight_line:
                return QBrush(HIGHLIGHT)
        if role == Qt.ItemDataRole.FontRole and column == 4 and not is_discount:
            return self._bold
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"line {number}: {line.name}"
        return None

    def set_marks(self, highlight: int | None, flash: int | None) -> None:
        self.highlight_line = highlight
        self.flash_line = flash
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(len(self._rows) - 1, len(COLUMNS) - 1),
                [Qt.ItemDataRole.BackgroundRole],
            )


def _align(column: int) -> Qt.AlignmentFlag:
    if column in (2, 3, 4):
        return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    if column == 0:
        return Qt.AlignmentFlag.AlignCenter
    return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def _cell(line: CartLine, line_total: LineTotal, number: int, column: int, currency: str) -> str:
    if column == 0:
        return str(number)
    if column == 1:
        return line.name
    if column == 2:
        return (
            format_weight(line.quantity) if line.sold_by is SoldBy.WEIGHT else f"{line.quantity} ×"
        )
    if column == 3:
        suffix = "/kg" if line.sold_by is SoldBy.WEIGHT else ""
        return f"{format_minor(line.unit_price, currency)}{suffix}"
    return format_minor(line_total.gross, currency)


def _discount_cell(line: CartLine, line_total: LineTotal, column: int, currency: str) -> str:
    discount = line.discount
    assert discount is not None
    if column == 1:
        what = (
            f"{percent_text(discount.value)} line discount"
            if discount.kind is DiscountKind.PERCENT
            else "line discount"
        )
        return f"   − {what}" + (f" ({discount.reason})" if discount.reason else "")
    if column == 4:
        return format_minor(-line_total.line_discount, currency)
    return ""
