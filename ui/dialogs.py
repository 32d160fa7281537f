"""The register's small dialogs: quantity, weight, discount, reason, first manager, parked
sales (a manager's approval is ui/approval_dialog.py). Each collects input and either returns it or runs one service call in the DB
worker and reports the result through a signal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QWidget,
)

from app.domain.cart import (
    MAX_EACH_QUANTITY,
    MAX_GRAMS,
    Discount,
    DiscountKind,
    check_open_price,
)
from app.domain.clerk import Clerk
from app.domain.errors import InvalidDiscount, PosError
from app.domain.money import format_minor, parse_amount
from app.services.clerks import create_first_manager
from ui.tasks import TaskRunner
from ui.widgets import (
    PosDialog,
    button,
    error_text,
    label,
    list_table,
    money,
    pin_field,
)


def _big_field(placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setObjectName("AmountField")
    field.setPlaceholderText(placeholder)
    return field


class QuantityDialog(PosDialog):
    """A new quantity for a line: units, or grams for a weighed item."""

    def __init__(
        self,
        item: str,
        current: int,
        by_weight: bool,
        parent: QWidget | None = None,
        title: str = "Change quantity (F4)",
    ) -> None:
        super().__init__(title, parent)
        self.by_weight = by_weight
        self.value = current
        self.body.addWidget(label(item, "Subtitle", wrap=True))
        unit = "grams (or kg with a decimal point, e.g. 0.742)" if by_weight else "units"
        self.body.addWidget(label(f"New quantity in {unit}:"))
        self.field = _big_field()
        self.field.setText(str(current))
        self.field.selectAll()
        self.body.addWidget(self.field)
        self.finish_layout("Set quantity (Enter)")

    def _on_ok(self) -> None:
        try:
            value = parse_quantity(self.field.text(), self.by_weight)
        except PosError as error:
            self.show_error(error_text(error))
            return
        self.value = value
        self.accept()


def parse_quantity(text: str, by_weight: bool) -> int:
    """Units as a whole number; weight as grams (``742``) or kilograms (``0.742`` / ``0,742``)."""
    from app.domain.errors import InvalidQuantity

    cleaned = text.strip().lower().replace("kg", "").replace("g", "").strip()
    if by_weight and ("." in cleaned or "," in cleaned):
        try:
            grams = Decimal(cleaned.replace(",", ".")) * 1000
        except InvalidOperation:
            raise InvalidQuantity(f"{text!r} is not a weight", field="quantity") from None
        if grams != grams.to_integral_value():
            raise InvalidQuantity("weigh to the gram: at most 3 decimals in kg", field="quantity")
        value = int(grams)
    else:
        if not cleaned.isdigit():
            raise InvalidQuantity(f"{text!r} is not a whole number", field="quantity")
        value = int(cleaned)
    limit = MAX_GRAMS if by_weight else MAX_EACH_QUANTITY
    if not 0 < value <= limit:
        unit = "g" if by_weight else "units"
        raise InvalidQuantity(f"enter between 1 and {limit} {unit}", field="quantity")
    return value


class WeightDialog(QuantityDialog):
    """Weight of a loose item scanned or picked without a scale label."""

    def __init__(
        self, item: str, price_per_kg: int, currency: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(item, 0, True, parent, title="Weight of a loose item")
        self.field.clear()
        self.field.setPlaceholderText("grams, e.g. 742")
        self.body.insertWidget(2, label(f"{format_minor(price_per_kg, currency)} per kg", "Muted"))
        self.ok_button.setText("Add (Enter)")


class ReasonDialog(PosDialog):
    """Why a sale is cancelled, a line voided or a paid order voided — a reason is required."""

    def __init__(
        self, title: str, prompt: str, reasons: list[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(title, parent)
        self.reason = ""
        self.body.addWidget(label(prompt, wrap=True))
        grid = QGridLayout()
        grid.setSpacing(8)
        for index, text in enumerate(reasons):
            quick = button(text, lambda t=text: self._pick(t))
            quick.setAutoDefault(False)
            grid.addWidget(quick, index // 2, index % 2)
        self.body.addLayout(grid)
        self.field = QLineEdit()
        self.field.setPlaceholderText("or type a reason")
        self.body.addWidget(self.field)
        self.finish_layout("Confirm (Enter)", "Back (Esc)")
        self.ok_button.setObjectName("Danger")

    def _pick(self, text: str) -> None:
        self.field.setText(text)
        self._on_ok()

    def _on_ok(self) -> None:
        reason = self.field.text().strip()
        if not reason:
            self.show_error("Please give a reason.")
            return
        self.reason = reason
        self.accept()


class TextPromptDialog(PosDialog):
    def __init__(
        self, title: str, prompt: str, initial: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(title, parent)
        self.text = initial
        self.body.addWidget(label(prompt, wrap=True))
        self.field = QLineEdit(initial)
        self.field.selectAll()
        self.body.addWidget(self.field)
        self.finish_layout("OK (Enter)")

    def _on_ok(self) -> None:
        self.text = self.field.text().strip()
        self.accept()


class DiscountDialog(PosDialog):
    """A discount on the selected line or on the whole sale, as a percent or an amount."""

    def __init__(
        self,
        line_name: str | None,
        line_base: int,
        sale_base: int,
        currency: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Discount (F6)", parent)
        self.discount: Discount | None = None
        self.whole_sale = line_name is None
        self._bases = (line_base, sale_base)
        self._currency = currency
        self.line_button = button(f"This line: {line_name}" if line_name else "This line")
        self.sale_button = button(f"Whole sale ({money(sale_base, currency)})")
        self.scope = self._choice_row(self.line_button, self.sale_button)
        self.line_button.setEnabled(line_name is not None)
        (self.sale_button if line_name is None else self.line_button).setChecked(True)
        self.percent_button = button("Percent %")
        self.amount_button = button(f"Amount {currency}")
        self.kind = self._choice_row(self.percent_button, self.amount_button)
        self.percent_button.setChecked(True)
        self.value_field = _big_field("e.g. 10 for 10 %, or 1.50")
        self.body.addWidget(self.value_field)
        self.reason_field = QLineEdit()
        self.reason_field.setPlaceholderText("reason (printed on the receipt), e.g. damaged box")
        self.body.addWidget(self.reason_field)
        self.body.addWidget(
            label("Large discounts need a manager's PIN.", "Muted", wrap=True),
        )
        self.finish_layout("Apply discount (Enter)")

    def _choice_row(self, *choices: QPushButton) -> QButtonGroup:
        """A row of toggle buttons of which exactly one is checked."""
        row = QHBoxLayout()
        group = QButtonGroup(self)
        for index, widget in enumerate(choices):
            widget.setCheckable(True)
            widget.setObjectName("Department")
            widget.setAutoDefault(False)
            group.addButton(widget, index)
            row.addWidget(widget)
        self.body.addLayout(row)
        return group

    def base(self) -> int:
        return self._bases[1] if self.sale_button.isChecked() else self._bases[0]

    def _on_ok(self) -> None:
        try:
            self.discount = self._parse()
        except PosError as error:
            self.show_error(error_text(error))
            return
        self.whole_sale = self.sale_button.isChecked()
        self.accept()

    def _parse(self) -> Discount:
        text = self.value_field.text().strip().rstrip("%").strip()
        reason = self.reason_field.text().strip()
        if self.percent_button.isChecked():
            try:
                value = Decimal(text.replace(",", "."))
            except InvalidOperation:
                raise InvalidDiscount(f"{text!r} is not a percentage", field="discount") from None
            basis_points = value * 100
            if basis_points != basis_points.to_integral_value():
                raise InvalidDiscount("at most two decimals in a percentage", field="discount")
            return Discount(DiscountKind.PERCENT, int(basis_points), reason)
        amount = parse_amount(text, field="discount")
        if amount > self.base():
            raise InvalidDiscount(
                f"a discount of {format_minor(amount, self._currency)} is more than "
                f"{format_minor(self.base(), self._currency)}",
                field="discount",
            )
        return Discount(DiscountKind.AMOUNT, amount, reason)


class FirstManagerDialog(PosDialog):
    """First run: nobody can log in yet, so the first manager is created here."""

    created = Signal(object)  # Clerk

    def __init__(self, terminal, runner: TaskRunner, parent: QWidget | None = None):  # type: ignore[no-untyped-def]
        super().__init__("Welcome — create the first manager", parent)
        self._terminal = terminal
        self._runner = runner
        self.body.addWidget(
            label(
                "This till has no manager yet. The manager approves large discounts and voids, "
                "and can add clerks.",
                "Muted",
                wrap=True,
            )
        )
        self.name_field = QLineEdit()
        self.name_field.setPlaceholderText("Manager's name")
        self.pin = pin_field()
        self.pin.setPlaceholderText("Manager's PIN (6–8 digits)")
        self.pin_again = pin_field()
        self.pin_again.setPlaceholderText("PIN again")
        for widget in (self.name_field, self.pin, self.pin_again):
            self.body.addWidget(widget)
        self.finish_layout("Create manager (Enter)", "Later (Esc)")

    def _on_ok(self) -> None:
        if self.pin.text() != self.pin_again.text():
            self.show_error("The two PINs differ; type the same PIN twice.")
            return
        name, pin = self.name_field.text(), self.pin.text()
        self.ok_button.setEnabled(False)
        terminal = self._terminal
        self._runner.run_db(
            "create manager",
            lambda _c: create_first_manager(
                terminal.uow(), terminal.ids, terminal.clock, name, pin
            ),
            self._on_created,
            self._on_failed,
        )

    def _on_created(self, clerk: Clerk) -> None:
        self.created.emit(clerk)
        self.accept()

    def _on_failed(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        self.show_error(error_text(error))


class ParkedSalesDialog(PosDialog):
    """Parked sales of this till (label, time, total); resume one with Enter."""

    chosen = Signal(str)  # sale id

    def __init__(
        self,
        parked: list[tuple[str, str, str, datetime, int]],
        clerk_names: dict[str, str],
        currency: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Parked sales (F9)", parent)
        self.sale_id = ""
        self.resize(720, 480)
        self.table = list_table(["Label", "Parked at", "By", "Total"], 44, len(parked))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._ids = []
        for row, (sale_id, text, clerk_id, at, total) in enumerate(parked):
            self._ids.append(sale_id)
            cells = [
                text,
                at.astimezone().strftime("%H:%M  %d %b"),
                clerk_names.get(clerk_id, "—"),
                money(total, currency),
            ]
            for column, cell in enumerate(cells):
                item = QTableWidgetItem(cell)
                if column == 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        if parked:
            self.table.selectRow(0)
        else:
            self.body.addWidget(label("No parked sales.", "Muted"))
        self.table.doubleClicked.connect(lambda _index: self._on_ok())
        self.body.addWidget(self.table, 1)
        self.finish_layout("Resume (Enter)", stretch=False)
        self.ok_button.setEnabled(bool(parked))

    def _on_ok(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.show_error("Pick a parked sale.")
            return
        self.sale_id = self._ids[rows[0].row()]
        self.chosen.emit(self.sale_id)
        self.accept()


class OpenPriceDialog(PosDialog):
    """Goods without a barcode: the price typed, the department chosen (its usual tax class
    preselected). Above the store's limit the register asks a manager's PIN next."""

    def __init__(
        self,
        departments: list[str],
        rates: list[tuple[str, str]],  # (tax class, label) of the store's rates
        tax_of: Callable[[str], str],  # a department's usual tax class
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Open price (F7)", parent)
        self.unit_price = 0
        self.department = ""
        self.tax_class = ""
        self._tax_of = tax_of
        self.body.addWidget(label("Price of one item:"))
        self.price_field = _big_field("e.g. 3.50")
        self.body.addWidget(self.price_field)
        self.body.addWidget(label("Department:"))
        self.department_box = QComboBox()
        self.department_box.addItems(departments or ["Other"])
        self.body.addWidget(self.department_box)
        self.body.addWidget(label("VAT:"))
        self.tax_box = QComboBox()
        for tax_class, text in rates:
            self.tax_box.addItem(text, tax_class)
        self.body.addWidget(self.tax_box)
        self.department_box.currentTextChanged.connect(self._on_department)
        self._on_department(self.department_box.currentText())
        self.body.addWidget(
            label("High prices need a manager's PIN.", "Muted", wrap=True),
        )
        self.finish_layout("Add item (Enter)")

    def _on_department(self, department: str) -> None:
        index = self.tax_box.findData(self._tax_of(department))
        if index >= 0:
            self.tax_box.setCurrentIndex(index)

    def _on_ok(self) -> None:
        department = self.department_box.currentText()
        try:
            price = parse_amount(self.price_field.text(), field="price")
            check_open_price(department, price)
        except PosError as error:
            self.show_error(error_text(error))
            return
        self.unit_price, self.department = price, department
        self.tax_class = str(self.tax_box.currentData())
        self.accept()


class CloseWithSaleDialog(PosDialog):
    """Ctrl+Q or the window's close button with a sale open: park it and close (Enter, the
    default), or go back to the sale (Esc). The sale is never dropped without a word."""

    def __init__(self, total: str, lines: int, parent: QWidget | None = None) -> None:
        super().__init__("Close the till?", parent)
        self.body.addWidget(
            label(
                f"A sale of {total} ({lines} line{'s' if lines != 1 else ''}) is open. It is "
                "parked, with its discounts, and resumed with F9 after the next start.",
                "Subtitle",
                wrap=True,
            )
        )
        self.finish_layout("Park the sale and close (Enter)", "Back to the sale (Esc)")


__all__ = [
    "CloseWithSaleDialog",
    "DiscountDialog",
    "FirstManagerDialog",
    "OpenPriceDialog",
    "ParkedSalesDialog",
    "QuantityDialog",
    "ReasonDialog",
    "TextPromptDialog",
    "WeightDialog",
    "parse_quantity",
]
