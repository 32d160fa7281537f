"""Find a product without a barcode: live search (F2), department buttons and favourites."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPalette,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import format_minor
from app.domain.product import Product, format_weight, product_detail
from ui.style import MUTED
from ui.widgets import label, list_table

SEARCH_DEBOUNCE_MS = 150
DEPARTMENT_COLUMNS = 4
MAX_DEPARTMENT_BUTTONS = 19  # plus Favourites: at most five rows of four
FAVOURITES_KEY = "favourite_skus"


RESULT_ROW_PX = 48  # the name, and under it brand · size
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1
DEPARTMENT_SHARE = 0.4  # of the picker's height, at most, for department buttons
DETAIL_FONT_PX = 13
DEPARTMENT_FONT_PX = (15, 14, 13, 12, 11)  # the stylesheet's size first, then smaller
DEPARTMENT_LINES = 2


def wrap_words(text: str, fits: Callable[[str], bool]) -> list[str] | None:
    """Greedy word wrap: the lines of ``text`` each of which ``fits``; None when one word
    alone does not fit (the caller then needs a smaller font, never a cut word)."""
    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        elif fits(word):
            lines.append(word)
        else:
            return None
    return lines


class ProductCellDelegate(QStyledItemDelegate):
    """A search result's product cell: the name, and under it brand · size in grey, so two
    "Coffee beans 1 kg" of different brands can be told apart."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        name, item.text = item.text, ""
        widget = item.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)
        detail = str(index.data(DETAIL_ROLE) or "")
        room = item.rect.adjusted(8, 3, -8, -3)
        painter.save()
        painter.setFont(item.font)
        painter.setPen(item.palette.color(QPalette.ColorRole.Text))
        metrics = QFontMetrics(item.font)
        if not detail:
            flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, room.width())
            painter.drawText(room, flags, shown)
            painter.restore()
            return
        top = room.adjusted(0, 0, 0, -room.height() // 2)
        bottom = room.adjusted(0, room.height() // 2, 0, 0)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
        painter.drawText(
            top, flags, metrics.elidedText(name, Qt.TextElideMode.ElideRight, room.width())
        )
        small = QFont(item.font)
        small.setPixelSize(DETAIL_FONT_PX)
        painter.setFont(small)
        painter.setPen(QColor(MUTED))
        detail_flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        shown = QFontMetrics(small).elidedText(detail, Qt.TextElideMode.ElideRight, room.width())
        painter.drawText(bottom, detail_flags, shown)
        painter.restore()


class DepartmentButton(QPushButton):
    """A department's button. The whole name is shown: it wraps onto a second line, and only
    when it still does not fit does the font get smaller; the text is never cut or elided.
    The picker gives all its buttons one size (``font_cap``): a grid of mixed sizes looks
    broken."""

    resized = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(name.replace("&", "&&"), parent)  # && : not a keyboard mnemonic
        self.department = name
        self.setObjectName("Department")
        # The grid shares its width out evenly; the caption adapts to what it gets.
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setSizePolicy(policy)
        self._font_px = DEPARTMENT_FONT_PX[0]
        self.font_cap = DEPARTMENT_FONT_PX[0]

    def text_room(self) -> int:
        option = QStyleOptionButton()
        self.initStyleOption(option)
        contents = self.style().subElementRect(
            QStyle.SubElement.SE_PushButtonContents, option, self
        )
        return contents.width() - 2

    def _lines(self, size: int, room: int) -> list[str] | None:
        font = QFont(self.font())
        font.setPixelSize(size)
        advance = QFontMetrics(font).horizontalAdvance
        lines = wrap_words(self.department, lambda t: advance(t) <= room)
        return lines if lines is not None and len(lines) <= DEPARTMENT_LINES else None

    def best_font_px(self) -> int:
        """The largest size at which the name fits the button on at most two lines."""
        room = self.text_room()
        for size in DEPARTMENT_FONT_PX:
            if room > 0 and self._lines(size, room) is not None:
                return size
        return DEPARTMENT_FONT_PX[-1]

    def fit_caption(self) -> None:
        room = self.text_room()
        if room <= 0:
            return
        lines: list[str] | None = None
        size = DEPARTMENT_FONT_PX[-1]
        for size in (px for px in DEPARTMENT_FONT_PX if px <= self.font_cap):
            lines = self._lines(size, room)
            if lines is not None:
                break
        if lines is None:  # a window far below 1024 px: the smallest size, one word a line
            lines = self.department.split()
        text = "\n".join(lines).replace("&", "&&")
        if size != self._font_px:
            self._font_px = size
            self.setStyleSheet("" if size == DEPARTMENT_FONT_PX[0] else f"font-size: {size}px;")
        if text != self.text():
            self.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_caption()
        self.resized.emit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_caption()


class SearchField(QLineEdit):
    """Down/Enter move into the results; Esc clears and gives the focus back."""

    down = Signal()
    leave = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            self.leave.emit()
            return
        super().keyPressEvent(event)


class ProductPickerWidget(QWidget):
    product_chosen = Signal(object)  # Product
    leave = Signal()
    results_shown = Signal(int)

    def __init__(self, terminal, parent: QWidget | None = None):  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._terminal = terminal
        self._products: list[Product] = []
        self._favourites: list[Product] = []
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8)
        self.search_field = SearchField()
        self.search_field.setObjectName("SearchField")
        self.search_field.setPlaceholderText("Search products (F2)")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.textChanged.connect(self._on_text_changed)
        self.search_field.returnPressed.connect(self._choose_current)
        self.search_field.down.connect(self._focus_results)
        self.search_field.leave.connect(self.leave.emit)
        box.addWidget(self.search_field)
        self.caption = label("Favourites", "Muted")
        box.addWidget(self.caption)
        self.results = list_table(["Product", "Price", "Stock"], RESULT_ROW_PX)
        self.results.setObjectName("SearchResults")
        self.results.setItemDelegateForColumn(0, ProductCellDelegate(self.results))
        self.results.setShowGrid(False)
        self.results.setAlternatingRowColors(True)
        self.results.setWordWrap(False)
        header = self.results.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.results.clicked.connect(lambda index: self._choose_row(index.row()))
        self.results.activated.connect(lambda index: self._choose_row(index.row()))
        box.addWidget(self.results, 1)
        # Departments under the results, in a scroll area that never takes more than
        # DEPARTMENT_SHARE of the picker: the results keep the rows a search needs.
        self.department_area = QScrollArea()
        self.department_area.setObjectName("DepartmentArea")
        self.department_area.setFrameShape(QFrame.Shape.NoFrame)
        self.department_area.setWidgetResizable(True)
        self.department_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.department_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        grid_holder = QWidget()
        grid_holder.setObjectName("DepartmentGrid")
        self.departments = QGridLayout(grid_holder)
        self.departments.setContentsMargins(0, 0, 0, 0)
        self.departments.setSpacing(6)
        self.department_area.setWidget(grid_holder)
        box.addWidget(self.department_area)
        self.department_group = QButtonGroup(self)
        self.department_group.setExclusive(True)
        self._captions = QTimer(self)  # once the grid's buttons have their new sizes
        self._captions.setSingleShot(True)
        self._captions.setInterval(0)
        self._captions.timeout.connect(self._even_captions)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_search)

    # loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Departments and favourites (quick indexed reads)."""
        with self._terminal.read() as uow:
            departments = uow.products.departments()
            skus = [s for s in uow.settings.get(FAVOURITES_KEY, "").split(",") if s]
            favourites = [p for p in (uow.products.by_code(s) for s in skus[:40]) if p]
            if not favourites and departments:
                favourites = uow.products.in_department(departments[0], limit=20)
        self._favourites = favourites
        for old in self.department_group.buttons():
            self.department_group.removeButton(old)
            old.deleteLater()
        names = ["★ Favourites", *departments[:MAX_DEPARTMENT_BUTTONS]]
        for index, name in enumerate(names):
            widget = DepartmentButton(name)
            widget.setCheckable(True)
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            widget.setToolTip(name)
            self.department_group.addButton(widget, index)
            self.departments.addWidget(
                widget, index // DEPARTMENT_COLUMNS, index % DEPARTMENT_COLUMNS
            )
            widget.clicked.connect(lambda _c=False, n=name, i=index: self._on_department(i, n))
            widget.resized.connect(self._captions.start)
        self._fit_departments()
        self.show_favourites()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_departments()

    def _even_captions(self) -> None:
        """Every department button in the size the longest name needs."""
        buttons = [b for b in self.department_group.buttons() if isinstance(b, DepartmentButton)]
        if not buttons:
            return
        cap = min(b.best_font_px() for b in buttons)
        for widget in buttons:
            if widget.font_cap != cap:
                widget.font_cap = cap
                widget.fit_caption()

    def _fit_departments(self) -> None:
        """As many whole rows of department buttons as DEPARTMENT_SHARE of the height holds
        (at least two); the rest scroll."""
        grid = self.departments
        rows = grid.rowCount() if grid.count() else 0
        if not rows:
            self.department_area.setFixedHeight(0)
            return
        pitch = max(b.sizeHint().height() for b in self.department_group.buttons())
        pitch += grid.verticalSpacing()
        fit = max(2, int(self.height() * DEPARTMENT_SHARE) // pitch)
        shown = min(rows, fit)
        self.department_area.setFixedHeight(shown * pitch - grid.verticalSpacing())
        policy = (
            Qt.ScrollBarPolicy.ScrollBarAsNeeded
            if shown < rows
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        self.department_area.setVerticalScrollBarPolicy(policy)

    def set_favourites(self, favourites: list[Product]) -> None:
        """Favourites read elsewhere (in the DB worker), without the department buttons."""
        self._favourites = list(favourites)
        self.show_favourites()

    def show_favourites(self) -> None:
        button = self.department_group.button(0)
        if button is not None:
            button.setChecked(True)
        self._show(self._favourites, "Favourites")

    def _on_department(self, index: int, name: str) -> None:
        if index == 0:
            self.show_favourites()
            return
        with self._terminal.read() as uow:
            products = uow.products.in_department(name, limit=80)
        self._show(products, name)
        self.leave.emit()

    # search ------------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search_field.setFocus()
        self.search_field.selectAll()

    def _on_text_changed(self, _text: str) -> None:
        self._timer.start()

    def run_search(self) -> None:
        self._timer.stop()
        text = self.search_field.text().strip()
        if not text:
            self.show_favourites()
            return
        with self._terminal.read() as uow:
            products = uow.products.search(text, limit=30)
        checked = self.department_group.checkedButton()
        if checked is not None:
            self.department_group.setExclusive(False)
            checked.setChecked(False)
            self.department_group.setExclusive(True)
        caption = (
            f"{len(products)} found for “{text}”" if products else f"Nothing found for “{text}”"
        )
        self._show(products, caption)

    def _show(self, products: list[Product], caption: str) -> None:
        self._products = products
        self.caption.setText(caption)
        self.results.setRowCount(len(products))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        currency = self._terminal.store.currency
        for row, product in enumerate(products):
            price = format_minor(product.unit_price, currency) + (
                "/kg" if product.by_weight else ""
            )
            if product.stock is None:
                stock = "—"
            elif product.by_weight:
                stock = format_weight(product.stock)
            else:
                stock = str(product.stock)
            name = QTableWidgetItem(product.name)
            detail = product_detail(product)
            name.setData(DETAIL_ROLE, detail)
            name.setToolTip(" · ".join(t for t in (product.name, detail, product.sku) if t))
            self.results.setItem(row, 0, name)
            for column, text in ((1, price), (2, stock)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(right)
                self.results.setItem(row, column, item)
        if products:
            self.results.selectRow(0)
        self.results_shown.emit(len(products))

    def _focus_results(self) -> None:
        if self._products:
            self.results.setFocus()
            self.results.selectRow(0)

    def _choose_current(self) -> None:
        if self._timer.isActive():
            self.run_search()
        rows = self.results.selectionModel().selectedRows()
        self._choose_row(rows[0].row() if rows else 0)

    def _choose_row(self, row: int) -> None:
        if 0 <= row < len(self._products):
            self.product_chosen.emit(self._products[row])

    @property
    def shown_products(self) -> list[Product]:
        return list(self._products)
