"""Find a product without a barcode: live search (F2), department buttons and favourites."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import format_minor
from app.domain.product import Product, format_weight
from ui.widgets import label, list_table

SEARCH_DEBOUNCE_MS = 150
DEPARTMENT_COLUMNS = 4
MAX_DEPARTMENT_BUTTONS = 19  # plus Favourites: at most five rows of four
FAVOURITES_KEY = "favourite_skus"


def department_caption(name: str) -> str:
    """A button caption: long names keep their first part ("Fruit & Vegetables" → "Fruit");
    ``&`` is doubled so Qt does not read it as a keyboard mnemonic."""
    if len(name) > 13 and " & " in name:
        name = name.split(" & ")[0]
    return name.replace("&", "&&")


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
        self.results = list_table(["Product", "Price", "Stock"], 44)
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
        self.departments = QGridLayout()
        self.departments.setSpacing(6)
        box.addLayout(self.departments)
        self.department_group = QButtonGroup(self)
        self.department_group.setExclusive(True)
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
            widget = QPushButton(department_caption(name))
            widget.setObjectName("Department")
            widget.setCheckable(True)
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            widget.setToolTip(name)
            self.department_group.addButton(widget, index)
            self.departments.addWidget(
                widget, index // DEPARTMENT_COLUMNS, index % DEPARTMENT_COLUMNS
            )
            widget.clicked.connect(lambda _c=False, n=name, i=index: self._on_department(i, n))
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
        for row, product in enumerate(products):
            price = format_minor(product.unit_price) + ("/kg" if product.by_weight else "")
            if product.stock is None:
                stock = "—"
            elif product.by_weight:
                stock = format_weight(product.stock)
            else:
                stock = str(product.stock)
            name = QTableWidgetItem(product.name)
            name.setToolTip(f"{product.name} · {product.sku}")
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
