"""The register: scan or find items, adjust the cart, park/resume, pay.

Scans are handled on the GUI thread (one indexed read per scan, well under a frame); anything
that writes (park, resume, pay, manager approval) runs in the DB worker and comes back as a
signal. The scan field has the focus whenever nothing else needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.approval import ApprovalAction
from app.domain.barcode import parse_scan
from app.domain.cart import Cart, CartTotals
from app.domain.clerk import Clerk
from app.domain.errors import InvalidBarcode, PosError
from app.domain.money import format_minor
from app.domain.order import Order, TenderInput
from app.domain.product import Product, SoldBy
from app.services.checkout import (
    add_open_price_item,
    approve_open_price_item,
    cancel_sale,
    complete_sale,
    open_price_needs_manager,
    open_price_subject,
    park_sale,
    park_sale_on_close,
    remove_line,
    resume_sale,
)
from app.services.discounts import (
    approve_discount,
    check_discount,
    discount_subject,
    give_discount,
)
from ui.approval_dialog import ApprovalDialog
from ui.cart_model import CartTableModel
from ui.dialogs import (
    DiscountDialog,
    OpenPriceDialog,
    ParkedSalesDialog,
    QuantityDialog,
    ReasonDialog,
    TextPromptDialog,
    WeightDialog,
)
from ui.pay import CARD_OFFLINE_REASON, PayDialog
from ui.picker import ProductPickerWidget
from ui.receipt_view import ReceiptDialog
from ui.tasks import TaskRunner
from ui.widgets import NoticeWidget, button, error_text, label, money, panel

log = logging.getLogger(__name__)

FLASH_MS = 700
VOID_LINE_REASONS = ["Customer changed mind", "Scanned twice", "Wrong item", "Price query"]
CANCEL_SALE_REASONS = ["Customer left", "Customer changed mind", "Payment failed", "Training"]


def breakdown_html(rows: list[tuple[str, str]]) -> str:
    """Subtotal, discounts and the per-class tax, two rows per column, always visible."""
    columns = [rows[i : i + 2] for i in range(0, len(rows), 2)]
    cells = []
    for line in range(2):
        tds = []
        for column in columns:
            if line < len(column):
                caption, amount = column[line]
                tds.append(
                    f"<td style='padding-right:8px'>{escape(caption)}</td>"
                    f"<td align='right' style='padding-right:28px'><b>{amount}</b></td>"
                )
        cells.append("<tr>" + "".join(tds) + "</tr>")
    return "<table cellspacing='0' cellpadding='2'>" + "".join(cells) + "</table>"


class ScanField(QLineEdit):
    """The barcode/SKU field. A keyboard-wedge scanner types digits + Enter into it.

    With the field empty, a few keys act on the cart: ↑/↓ move the selection, + / − change
    the quantity, Del voids the selected line.
    """

    cart_key = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            self.cart_key.emit(key)
            return
        if not self.text() and key in (Qt.Key.Key_Plus, Qt.Key.Key_Minus, Qt.Key.Key_Delete):
            self.cart_key.emit(key)
            return
        super().keyPressEvent(event)


class RegisterWidget(QWidget):
    sale_completed = Signal(object)  # Order
    cart_changed = Signal()
    sale_parked = Signal(str)
    sale_resumed = Signal()
    switch_clerk_requested = Signal()
    history_requested = Signal()
    phone_order_requested = Signal()
    dialog_opened = Signal(object)  # the dialog, for tests and screenshots
    sale_failed = Signal(str)
    shift_needed = Signal()  # Pay with no shift open on a till that has had shifts

    def __init__(self, terminal, runner: TaskRunner, parent: QWidget | None = None):  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setObjectName("Page")
        self._terminal = terminal
        self._runner = runner
        self.store = terminal.store
        self.clerk: Clerk | None = None
        self.cart = Cart(currency=self.store.currency)
        self.totals: CartTotals = self.cart.totals(self.store.taxes)
        self.active_dialog: QDialog | None = None
        # (available, reason) for the Card button; the main window sets it from sync status.
        self.card_state: Callable[[], tuple[bool, str]] = lambda: (False, CARD_OFFLINE_REASON)
        self.payment_gateway: Callable[[], Any] = lambda: None
        self.busy = False
        self.shift_required = False  # a till that has had shifts, none open: no sale
        self._pending_scans: list[str] = []
        self._last_line: int | None = None
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(self._end_flash)
        self._build()
        self._shortcuts()
        self._render()

    # layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(10)
        top = QHBoxLayout()
        top.setSpacing(16)

        left = QVBoxLayout()
        left.setSpacing(8)
        self.scan_field = ScanField()
        self.scan_field.setObjectName("ScanField")
        self.scan_field.setPlaceholderText("Scan or type barcode / SKU, then Enter")
        self.scan_field.returnPressed.connect(self._on_scan_entered)
        self.scan_field.cart_key.connect(self._on_cart_key)
        left.addWidget(self.scan_field)
        self.notice = NoticeWidget()
        left.addWidget(self.notice)
        self.model = CartTableModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(40)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 44), (2, 110), (3, 110), (4, 110)):
            self.view.setColumnWidth(column, width)
        self.view.clicked.connect(self._on_row_clicked)
        left.addWidget(self.view, 1)
        top.addLayout(left, 3)

        self.picker = ProductPickerWidget(self._terminal)
        self.picker.product_chosen.connect(self._on_product_chosen)
        self.picker.leave.connect(self.focus_scan)
        top.addWidget(self.picker, 2)
        outer.addLayout(top, 1)

        actions = QHBoxLayout()
        actions.setSpacing(4)
        self.minus_button = button("−", lambda: self.change_quantity_by(-1))
        self.plus_button = button("+", lambda: self.change_quantity_by(1))
        self.qty_button = button("F4 Qty", self.ask_quantity)
        self.remove_button = button("Del Remove", self.ask_void_line)
        self.discount_button = button("F6 Discount", self.ask_discount)
        self.park_button = button("F8 Park", self.ask_park)
        self.resume_button = button("F9 Resume", self.show_parked)
        self.cancel_button = button("Esc Cancel sale", self.ask_cancel_sale, "Danger")
        self.open_price_button = button("F7 Open price", self.ask_open_price)
        self.phone_button = button("Ctrl+P Phone", self.phone_order_requested.emit)
        self.phone_button.setToolTip("Take a phone order (Ctrl+P)")
        for glyph in (self.minus_button, self.plus_button):  # one glyph: no 80 px text width
            glyph.setFixedWidth(44)
        self.action_buttons = [
            self.minus_button,
            self.plus_button,
            self.qty_button,
            self.remove_button,
            self.discount_button,
            self.park_button,
            self.resume_button,
            self.cancel_button,
        ]
        for widget in self.action_buttons:
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            actions.addWidget(widget)
        self.open_price_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # after F6, in key order
        actions.insertWidget(actions.indexOf(self.discount_button) + 1, self.open_price_button)
        actions.addStretch(1)
        self.phone_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the phone is not the sale
        actions.addWidget(self.phone_button)
        for index in range(actions.count()):  # narrow side padding: all fit at 1024 px
            item = actions.itemAt(index).widget()
            if item is not None:
                item.setProperty("compact", True)
        outer.addLayout(actions)

        bottom = panel()
        totals = QHBoxLayout(bottom)
        totals.setContentsMargins(16, 10, 16, 10)
        totals.setSpacing(20)
        self.breakdown = label("", "TaxLine")
        self.breakdown.setTextFormat(Qt.TextFormat.RichText)
        totals.addWidget(self.breakdown)
        totals.addStretch(1)
        total_box = QVBoxLayout()
        total_box.setSpacing(0)
        self.items_label = label("", "Muted")
        self.items_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        total_row = QHBoxLayout()
        total_row.addWidget(label("TOTAL", "TotalCaption"), 0, Qt.AlignmentFlag.AlignBottom)
        self.total_label = label("", "TotalLabel")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.total_label.setMinimumWidth(220)
        total_row.addWidget(self.total_label)
        total_box.addWidget(self.items_label)
        total_box.addLayout(total_row)
        totals.addLayout(total_box)
        self.pay_button = button("F12  PAY", self.ask_pay, "PayButton")
        self.pay_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        totals.addWidget(self.pay_button)
        outer.addWidget(bottom)

    def _shortcuts(self) -> None:
        bindings = {
            "F2": self.picker.focus_search,
            "F4": self.ask_quantity,
            "F6": self.ask_discount,
            "F7": self.ask_open_price,
            "F8": self.ask_park,
            "F9": self.show_parked,
            "F10": self.switch_clerk_requested.emit,
            "F12": self.ask_pay,
            "Esc": self.ask_cancel_sale,
            "Del": self.ask_void_line,
            "F3": self.history_requested.emit,
        }
        for key, slot in bindings.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # session -----------------------------------------------------------------------------

    def start_session(self, clerk: Clerk) -> None:
        self.clerk = clerk
        self.refresh_shift_required()
        self.picker.reload()
        self._render()
        self.focus_scan()

    def focus_scan(self) -> None:
        if self.active_dialog is None:
            if self.isVisible() and not self.isActiveWindow():
                self.window().activateWindow()
            self.scan_field.setFocus()

    def set_cart(self, cart: Cart, last_line: int | None = None, *, flash: bool = False) -> None:
        self.cart = cart
        self._last_line = last_line
        self._render(flash=flash)
        self.cart_changed.emit()

    def _render(self, *, flash: bool = False) -> None:
        self.totals = self.cart.totals(self.store.taxes)
        clerk_name = self.clerk.name if self.clerk else ""
        self.model.set_cart(self.cart, self.totals, clerk_name)
        self.view.clearSpans()  # a discount's words run under Qty and Price, never cut
        for row in self.model.discount_rows():
            self.view.setSpan(row, 1, 1, 3)
        line = self._last_line
        if line is not None and self.model.row_of_line(line) < 0:
            line = self._last_line = None
        if line is None and self.cart.lines:
            line = self._last_line = self.cart.lines[-1].line_id
        self.model.set_marks(line, line if flash else None)
        if flash:
            self._flash_timer.start(FLASH_MS)
        if line is not None:
            row = self.model.row_of_line(line)
            self.view.selectRow(row)
            self.view.scrollTo(self.model.index(row, 0))
        self._render_totals()

    def _end_flash(self) -> None:
        self.model.set_marks(self._last_line, None)

    def _render_totals(self) -> None:
        currency = self.store.currency
        totals = self.totals
        rows: list[tuple[str, str]] = [("Subtotal", format_minor(totals.subtotal, currency))]
        if totals.line_discount_total:
            rows.append(("Line discounts", format_minor(-totals.line_discount_total, currency)))
        if totals.order_discount:
            rows.append(("Sale discount", format_minor(-totals.order_discount, currency)))
        wording = "incl." if self.store.taxes.prices_include_tax else "plus"
        entries = {entry.tax_class: entry for entry in totals.tax}
        for rate in self.store.taxes.rates:
            entry = entries.get(rate.tax_class)
            if entry is None and rate.rate_bp == 0:
                continue
            rows.append(
                (f"{wording} {rate.label}", format_minor(entry.tax if entry else 0, currency))
            )
        self.breakdown.setText(breakdown_html(rows))
        count = len(self.cart.lines)
        self.items_label.setText(f"{count} line{'s' if count != 1 else ''}" if count else "")
        self.total_label.setText(money(totals.total, currency))
        has_lines = bool(self.cart.lines)
        self.pay_button.setEnabled(has_lines and not self.busy)
        for widget in self.action_buttons:
            widget.setEnabled(has_lines and not self.busy)
        self.resume_button.setEnabled(not self.busy)
        self.open_price_button.setEnabled(not self.busy)
        self.phone_button.setEnabled(not self.busy)

    # scanning ----------------------------------------------------------------------------

    def _on_scan_entered(self) -> None:
        code = self.scan_field.text().strip()
        self.scan_field.clear()
        if not code:
            return
        if self.busy:
            self._pending_scans.append(code)  # the sale is being saved: ring it up right after
            return
        self.scan(code)

    def scan(self, code: str) -> None:
        weight: int | None = None
        if code.isdigit():
            try:
                parsed = parse_scan(code)
            except InvalidBarcode as error:
                self.notice.show_error(
                    f"Not a valid barcode: {error_text(error)}. Nothing was added."
                )
                return
            lookup, weight = parsed.lookup_code, parsed.weight_grams
        else:
            lookup = code
        with self._terminal.read() as uow:
            product = uow.products.by_code(lookup)
        if product is None:
            self.notice.show_error(
                f"Unknown barcode {code} — not in the catalog. Nothing was added; try search (F2)."
            )
            return
        self.add_product(product, weight)

    def _on_product_chosen(self, product: Product) -> None:
        self.add_product(product, None)
        self.focus_scan()

    def add_product(self, product: Product, grams: int | None = None) -> None:
        if not product.active:
            self.notice.show_error(f"{product.name} is no longer sold (inactive).")
            return
        if product.sold_by is SoldBy.WEIGHT:
            if grams is None:
                self.ask_weight(product)
                return
            quantity: int | None = grams
        else:
            quantity = None
        self._add(product, quantity)

    def _add(self, product: Product, quantity: int | None) -> None:
        try:
            cart = self.cart.add(product, quantity)
        except PosError as error:
            self.notice.show_error(error_text(error))
            return
        if len(cart.lines) > len(self.cart.lines):
            line_id = cart.lines[-1].line_id
            flash = False
        else:
            line_id = next(
                new.line_id
                for new, old in zip(cart.lines, self.cart.lines, strict=True)
                if new != old
            )
            flash = True
        self.set_cart(cart, line_id, flash=flash)

    def ask_weight(self, product: Product) -> None:
        dialog = WeightDialog(product.name, product.unit_price, self.store.currency, self)
        self._open(dialog, lambda: self._add(product, dialog.value))

    # cart actions ------------------------------------------------------------------------

    def selected_line_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        if rows:
            line = self.model.line_at(rows[0].row())
            if line is not None:
                return line.line_id
        return self._last_line

    def _on_row_clicked(self, index) -> None:  # type: ignore[no-untyped-def]
        line = self.model.line_at(index.row())
        if line is not None:
            self._last_line = line.line_id
            self.model.set_marks(line.line_id, None)
        self.focus_scan()

    def _on_cart_key(self, key: int) -> None:
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            ids = [line.line_id for line in self.cart.lines]
            if not ids:
                return
            current = self.selected_line_id()
            position = ids.index(current) if current in ids else len(ids) - 1
            step = -1 if key in (Qt.Key.Key_Up, Qt.Key.Key_PageUp) else 1
            position = max(0, min(len(ids) - 1, position + step))
            self._last_line = ids[position]
            self._render()
        elif key == Qt.Key.Key_Plus:
            self.change_quantity_by(1)
        elif key == Qt.Key.Key_Minus:
            self.change_quantity_by(-1)
        elif key == Qt.Key.Key_Delete:
            self.ask_void_line()

    def change_quantity_by(self, delta: int) -> None:
        line_id = self.selected_line_id()
        if line_id is None:
            return
        line = self.cart.line(line_id)
        if line.sold_by is SoldBy.WEIGHT:
            self.ask_quantity()
            return
        if line.quantity + delta <= 0:
            self.ask_void_line()
            return
        self.set_quantity(line_id, line.quantity + delta)

    def set_quantity(self, line_id: int, quantity: int) -> None:
        try:
            cart = self.cart.set_quantity(line_id, quantity)
        except PosError as error:
            self.notice.show_error(error_text(error))
            return
        self.set_cart(cart, line_id, flash=True)

    def ask_quantity(self) -> None:
        line_id = self.selected_line_id()
        if line_id is None or self.busy:
            return
        line = self.cart.line(line_id)
        dialog = QuantityDialog(line.name, line.quantity, line.sold_by is SoldBy.WEIGHT, self)
        self._open(dialog, lambda: self.set_quantity(line_id, dialog.value))

    def ask_void_line(self) -> None:
        line_id = self.selected_line_id()
        if line_id is None or self.busy:
            return
        line = self.cart.line(line_id)
        dialog = ReasonDialog(
            "Remove line", f"Why is “{line.name}” removed from the sale?", VOID_LINE_REASONS, self
        )
        self._open(dialog, lambda: self._void_line(line_id, dialog.reason))

    def _void_line(self, line_id: int, reason: str) -> None:
        """Remove the line at once; the audit entry is written in the DB worker."""
        if self.clerk is None:
            return
        cart, clerk, terminal = self.cart, self.clerk, self._terminal
        self.set_cart(cart.remove(line_id))
        self._runner.run_db(
            "audit removed line",
            lambda _c: remove_line(terminal.uow(), cart, line_id, reason, clerk, terminal.clock),
            None,
            self._on_task_failed,
        )

    def ask_discount(self) -> None:
        if self.cart.is_empty or self.busy:
            return
        line_id = self.selected_line_id()
        line_base = 0
        line_name = None
        if line_id is not None:
            line = self.cart.line(line_id)
            line_name, line_base = line.name, line.gross
        sale_base = self.cart.subtotal_after_line_discounts
        dialog = DiscountDialog(line_name, line_base, sale_base, self.store.currency, self)
        self._open(dialog, lambda: self._on_discount_chosen(dialog, line_id))

    def _on_discount_chosen(self, dialog: DiscountDialog, line_id: int | None) -> None:
        """Within the clerk's limit the discount applies at once; above it a manager enters
        their PIN and the use case approves it (the dialog only collects the PIN)."""
        discount = dialog.discount
        assert discount is not None
        target = None if dialog.whole_sale or line_id is None else line_id
        request = check_discount(self.cart, discount, target, self.store)
        if request.needs_manager:
            cart, terminal, store = self.cart, self._terminal, self.store
            approval = ApprovalDialog(
                request.explanation,
                terminal,
                self._runner,
                self,
                action=ApprovalAction.DISCOUNT,
                subject=discount_subject(cart, discount, target),
                asked_by=self.clerk,
                then=lambda granted: approve_discount(
                    terminal.uow(), cart, discount, target, granted, terminal.clock, store=store
                ),
            )
            self._open(approval, lambda: self.set_cart(approval.outcome, line_id, flash=True))
            return
        try:
            cart = give_discount(self.cart, discount, target, self.store)
        except PosError as error:
            self.notice.show_error(error_text(error))
            return
        self.set_cart(cart, line_id, flash=True)

    def ask_open_price(self) -> None:
        """F7: goods without a barcode, at a typed price in a chosen department."""
        if self.busy or self.clerk is None:
            return
        with self._terminal.read() as uow:
            departments = uow.products.departments()
        rates = [(rate.tax_class, rate.label) for rate in self.store.taxes.rates]
        dialog = OpenPriceDialog(departments, rates, self._usual_tax_class, self)
        self._open(dialog, lambda: self._on_open_price_chosen(dialog))

    def _usual_tax_class(self, department: str) -> str:
        """The tax class most of the department's products carry (the store's first rate
        when it has none)."""
        with self._terminal.read() as uow:
            classes = [p.tax_class for p in uow.products.in_department(department)]
        if classes:
            return max(set(classes), key=classes.count)
        return self.store.taxes.rates[0].tax_class

    def _on_open_price_chosen(self, dialog: OpenPriceDialog) -> None:
        """Within the store's limit the item is added at once; above it a manager enters
        their PIN and the use case approves it."""
        department, price, tax_class = dialog.department, dialog.unit_price, dialog.tax_class
        explanation = open_price_needs_manager(price, self.store)
        if explanation:
            cart, terminal, store = self.cart, self._terminal, self.store
            approval = ApprovalDialog(
                explanation,
                terminal,
                self._runner,
                self,
                action=ApprovalAction.OPEN_PRICE,
                subject=open_price_subject(department, price),
                asked_by=self.clerk,
                then=lambda granted: approve_open_price_item(
                    terminal.uow(),
                    cart,
                    department,
                    price,
                    tax_class,
                    granted,
                    store,
                    terminal.clock,
                ),
            )
            self._open(approval, lambda: self.set_cart(approval.outcome))
            return
        try:
            cart = add_open_price_item(self.cart, department, price, tax_class, self.store)
        except PosError as error:
            self.notice.show_error(error_text(error))
            return
        self.set_cart(cart)

    def ask_cancel_sale(self) -> None:
        if self.scan_field.text():
            self.scan_field.clear()
            return
        if self.cart.is_empty or self.busy:
            return
        dialog = ReasonDialog(
            "Cancel sale",
            "Why is this sale cancelled? All its lines are removed.",
            CANCEL_SALE_REASONS,
            self,
        )
        self._open(dialog, lambda: self._cancel_sale(dialog.reason))

    def _cancel_sale(self, reason: str) -> None:
        """Empty the sale at once; the audit entry is written in the DB worker."""
        if self.clerk is None:
            return
        cart, clerk, terminal, store = self.cart, self.clerk, self._terminal, self.store
        self.set_cart(Cart(currency=store.currency))
        self.notice.show_notice("Sale cancelled.", seconds=2.5)
        self._runner.run_db(
            "audit cancelled sale",
            lambda _c: cancel_sale(terminal.uow(), cart, reason, clerk, store, terminal.clock),
            None,
            self._on_task_failed,
        )

    def _who(self) -> str:
        return self.clerk.name if self.clerk else "?"

    # park / resume -----------------------------------------------------------------------

    def ask_park(self) -> None:
        if self.cart.is_empty or self.busy:
            return
        default = f"{self.totals.total and money(self.totals.total, self.store.currency)} at {datetime.now():%H:%M}"
        dialog = TextPromptDialog(
            "Park sale (F8)", "A label to find it again (e.g. the customer's name):", default, self
        )
        self._open(dialog, lambda: self.park(dialog.text))

    def park(self, text: str, on_parked=None, *, closing: bool = False) -> None:  # type: ignore[no-untyped-def]
        """Park the sale (F8, F10); ``closing``: because the till is being closed (audited)."""
        if self.cart.is_empty or self.clerk is None:
            return
        cart, clerk, terminal, store = self.cart, self.clerk, self._terminal, self.store
        self._set_busy(True)

        def parked(sale_id: str) -> None:
            self._set_busy(False)
            self.set_cart(Cart(currency=self.store.currency))
            self.notice.show_notice(
                f"Sale parked as “{text or 'Parked sale'}”. F9 resumes it.", seconds=3
            )
            self.sale_parked.emit(sale_id)
            if on_parked is not None:
                on_parked()

        def work(_control: Any) -> str:
            if closing:
                return park_sale_on_close(
                    terminal.uow(), cart, clerk, text, store, terminal.clock, terminal.ids
                )
            return park_sale(terminal.uow(), cart, clerk, text, terminal.clock, terminal.ids)

        self._runner.run_db("park sale", work, parked, self._on_task_failed)

    def show_parked(self) -> None:
        if self.busy:
            return
        if not self.cart.is_empty:
            self.notice.show_error("Finish or park (F8) the current sale before resuming another.")
            return
        with self._terminal.read() as uow:
            parked = list(uow.parked.list())
            names = {clerk.id: clerk.name for clerk in uow.clerks.all()}
        dialog = ParkedSalesDialog(parked, names, self.store.currency, self)
        self._open(dialog, lambda: self.resume(dialog.sale_id))

    def resume(self, sale_id: str) -> None:
        terminal = self._terminal
        self._set_busy(True)

        def resumed(cart: Cart) -> None:
            self._set_busy(False)
            self.set_cart(cart)
            self.notice.show_notice("Parked sale resumed.", seconds=2.5)
            self.sale_resumed.emit()

        self._runner.run_db(
            "resume sale",
            lambda _c: resume_sale(terminal.uow(), sale_id),
            resumed,
            self._on_task_failed,
        )

    # pay ---------------------------------------------------------------------------------

    def refresh_shift_required(self) -> None:
        """Read (in the DB worker) whether a sale needs a shift opened first: the till has
        had shifts and none is open (``complete_sale`` refuses such a sale)."""
        terminal = self._terminal

        def required(_c: Any) -> bool:
            with terminal.read() as uow:
                return uow.shifts.current() is None and uow.shifts.in_use()

        self._runner.run_db("shift state", required, self._set_shift_required)

    def _set_shift_required(self, required: bool) -> None:
        self.shift_required = required

    def ask_pay(self) -> None:
        if self.cart.is_empty or self.busy:
            return
        if self.shift_required:  # the use case would refuse it: ask for the shift first
            self.notice.show_error(
                "Open a shift first (Shift → Open shift…): the float is counted before the "
                "first sale. The sale stays as it is."
            )
            self.shift_needed.emit()
            return
        available, reason = self.card_state()
        # The order id is fixed now: a card attempt names it, and a parked sale keeps it.
        self.cart = self.cart.with_order_id(self._terminal.ids.new_id())
        dialog = PayDialog(
            self.totals.total,
            self.store.currency,
            card_available=available,
            card_reason=reason,
            card_handler=lambda amount: self._take_card(dialog, amount),
            parent=self,
        )
        self._open(dialog, lambda: self.pay(dialog.tenders))

    def _take_card(self, pay_dialog: PayDialog, amount: int) -> None:
        """Card: the customer pays on the payment page; the tender is added once confirmed."""
        from app.services.card_payments import card_tender
        from ui.card_dialog import CardPaymentDialog

        gateway = self.payment_gateway()
        if gateway is None or self.clerk is None:
            pay_dialog.show_error("Card payments need a connection to the store's server.")
            return
        dialog = CardPaymentDialog(
            self._terminal, gateway, self.cart, amount, self.clerk, self._runner, pay_dialog
        )
        dialog.paid.connect(lambda payment: pay_dialog.add_tender(card_tender(payment)))
        dialog.accepted.connect(pay_dialog.finish_if_paid)
        self.dialog_opened.emit(dialog)
        dialog.open()

    def pay(self, tenders: list[TenderInput]) -> None:
        if self.clerk is None or self.cart.is_empty:
            return
        cart, clerk, terminal = self.cart, self.clerk, self._terminal
        store = self.store
        self._set_busy(True)
        self._runner.run_db(
            "complete sale",
            lambda _c: complete_sale(
                terminal.uow(), cart, tenders, clerk, store, terminal.clock, terminal.ids
            ),
            self._on_sale_completed,
            self._on_task_failed,
        )

    def _on_sale_completed(self, order: Order) -> None:
        self._set_busy(False)
        self.set_cart(Cart(currency=self.store.currency))
        self.sale_completed.emit(order)
        dialog = ReceiptDialog(order, self.store, self._runner, parent=self)
        dialog.installEventFilter(self)
        self._open(dialog, lambda: None)
        self._drain_pending_scans()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A scan while the receipt is still shown starts the next sale (no keystroke lost)."""
        if (
            isinstance(watched, ReceiptDialog)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.text().isdigit()
        ):
            watched.accept()
            self.scan_field.setFocus()
            self.scan_field.insert(event.text())
            return True
        return super().eventFilter(watched, event)

    def _drain_pending_scans(self) -> None:
        pending, self._pending_scans = self._pending_scans, []
        for code in pending:
            self.scan(code)

    def _on_task_failed(self, error: Exception) -> None:
        self._set_busy(False)
        message = error_text(error)
        self.notice.show_error(message)
        self.sale_failed.emit(message)
        self._drain_pending_scans()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._render_totals()
        if not busy:
            self.focus_scan()

    # dialogs -----------------------------------------------------------------------------

    def _open(self, dialog: QDialog, on_accepted) -> None:  # type: ignore[no-untyped-def]
        self.active_dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(lambda _result, d=dialog: self._on_dialog_closed(d))
        dialog.open()
        self.dialog_opened.emit(dialog)

    def _on_dialog_closed(self, dialog: QDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None
            QTimer.singleShot(0, self.focus_scan)
