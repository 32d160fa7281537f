"""The phone-order screen (Ctrl+P from the register): a customer phones, staff take a
delivery order while the caller waits, online or not.

Left: the customer (found by phone number or name in the till's own copy, or created here),
the delivery address and the slot picker. Right: the items, entered with the register's own
widgets (the scan field, the product picker, the cart table, the quantity and weight
dialogs) and the same product look-up (``app.services.scanning``); weighed items get an
estimated weight, and each line a substitution choice (F5). Bottom: the order note, the
payment (cash or card at the door, or a card link e-mailed to the customer) and the
estimated total. F12 shows the read-back summary to confirm with the caller; saving it is
one durable transaction on the till (``place_phone_order``), as a sale is.

Every database call runs in the DB worker (ui/tasks.py); the widgets only render the
frozen data the services return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.cart import Cart
from app.domain.delivery import Address, Customer, PaymentMethod, PhoneOrder, Substitution
from app.domain.errors import PosError
from app.domain.product import Product, SoldBy
from ui.cart_model import CartTableModel
from ui.dialogs import QuantityDialog
from ui.picker import ProductPickerWidget
from ui.register import ScanField
from ui.slot_picker import SlotPickerWidget, slot_text
from ui.tasks import TaskRunner
from ui.widgets import (
    ChildDialogHost,
    NoticeWidget,
    PosDialog,
    button,
    error_text,
    label,
    list_table,
    money,
)

SEARCH_DEBOUNCE_MS = 200
SLOTS_DEBOUNCE_MS = 250
CUSTOMER_ROWS = 20
ESC_AGAIN_S = 4.0
SUBSTITUTION_WORDS = {
    Substitution.BEST_MATCH: "best match",
    Substitution.SPECIFIC: "specific product",
    Substitution.NONE: "no substitute",
}
PAYMENT_WORDS = {
    PaymentMethod.DOOR_CASH: "cash at the door",
    PaymentMethod.DOOR_CARD: "card at the door",
    PaymentMethod.CARD_LINK: "card link by e-mail",
}
PAYMENT_KEYS = {  # the buttons' words: short, the key under them
    PaymentMethod.DOOR_CASH: "Cash at door",
    PaymentMethod.DOOR_CARD: "Card at door",
    PaymentMethod.CARD_LINK: "Card link",
}
CARD_LINK_NEEDS_EMAIL = "A card link is e-mailed: the customer needs an e-mail address."


class DialogTasks:
    """The task runner as one dialog uses it: a result that comes back after the dialog
    closed (a dialog is deleted on close) is dropped instead of reaching a deleted widget."""

    def __init__(self, widget: QWidget, runner: Any) -> None:
        self._widget = widget
        self.runner: TaskRunner = runner.runner if isinstance(runner, DialogTasks) else runner

    def _guard(self, slot: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
        if slot is None:
            return None
        widget = self._widget

        def guarded(value: Any) -> None:
            if shiboken6.isValid(widget):
                slot(value)

        return guarded

    def run_db(
        self,
        name: str,
        work: Callable[[Any], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[Any], None] | None = None,
    ) -> Any:
        return self.runner.run_db(name, work, self._guard(on_done), self._guard(on_failed))

    def run_network(
        self,
        name: str,
        work: Callable[[Any], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[Any], None] | None = None,
    ) -> Any:
        return self.runner.run_network(name, work, self._guard(on_done), self._guard(on_failed))

    def run_io(
        self,
        name: str,
        work: Callable[[Any], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[Any], None] | None = None,
    ) -> Any:
        return self.runner.run_io(name, work, self._guard(on_done), self._guard(on_failed))


ADDRESS_WORDS = {  # an address field as its caption names it
    "line1": "street and number",
    "line2": "flat, floor",
    "notes": "delivery notes",
}


def _services() -> Any:
    """app.services.phone_orders, imported when a screen first needs it."""
    from app.services import phone_orders

    return phone_orders


@dataclass(frozen=True)
class LineChoice:
    """What the picker does when a line's product is out of stock."""

    substitution: Substitution = Substitution.BEST_MATCH
    product_id: str = ""
    product_name: str = ""
    note: str = ""

    @property
    def text(self) -> str:
        if self.substitution is Substitution.SPECIFIC:
            words = f"→ {self.product_name}"
        else:
            words = SUBSTITUTION_WORDS[self.substitution]
        return f"{words} · {self.note}" if self.note else words


class PhoneCartModel(CartTableModel):
    """The register's cart table with one more column: the line's substitution choice."""

    def __init__(self) -> None:
        super().__init__()
        self.choices: dict[int, LineChoice] = {}

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else super().columnCount(parent) + 1

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and section == 5:
            return "Substitute" if role == Qt.ItemDataRole.DisplayRole else None
        return super().headerData(section, orientation, role)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if index.isValid() and index.column() == 5:
            line = self.line_at(index.row())
            if line is None:
                return None
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                if self.row_of_line(line.line_id) != index.row():
                    return ""  # the discount row under a line
                return self.choices.get(line.line_id, LineChoice()).text
            if role == Qt.ItemDataRole.BackgroundRole:
                return super().data(self.index(index.row(), 1), role)
            return None
        return super().data(index, role)


def favourite_products(terminal: Any) -> list[Product]:
    """The register's favourites (as its picker shows them first), read in the DB worker."""
    from ui.picker import FAVOURITES_KEY

    with terminal.read() as uow:
        skus = [s for s in uow.settings.get(FAVOURITES_KEY, "").split(",") if s]
        return [p for p in (uow.products.by_code(s) for s in skus[:40]) if p is not None]


def cart_view(model: CartTableModel) -> QTableView:
    """The cart table as the register shows it."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(36)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    return view


class AddressForm(QFrame):
    """One structured address: line 1, postcode, city and country are required."""

    def __init__(self, address: Address | None, country: str, number: int) -> None:
        super().__init__()
        self.setObjectName("Panel")
        self.address_id = address.id if address else ""
        form = QFormLayout(self)
        form.setContentsMargins(12, 8, 12, 8)
        form.setVerticalSpacing(6)
        self.fields: dict[str, QLineEdit] = {}
        values = {
            "label": address.label if address else ("Home" if number == 1 else ""),
            "line1": address.line1 if address else "",
            "line2": address.line2 if address else "",
            "postcode": address.postcode if address else "",
            "city": address.city if address else "",
            "country": address.country if address else country,
            "notes": address.notes if address else "",
        }
        captions = {
            "label": "Label",
            "line1": "Street, number *",
            "line2": "Flat, floor",
            "postcode": "Postcode *",
            "city": "City *",
            "country": "Country *",
            "notes": "Delivery notes",
        }
        hints = {"label": "Home, Work…", "notes": "ring twice, side door…", "country": "IE"}
        form.addRow(label(f"Address {number}", "Subtitle"))
        for name, caption in captions.items():
            field = QLineEdit(values[name])
            field.setPlaceholderText(hints.get(name, ""))
            field.setObjectName(f"address_{name}")
            if name == "country":
                field.setMaxLength(2)
            self.fields[name] = field
            form.addRow(caption, field)

    def value(self, new_id: Callable[[], str]) -> Address:
        """The address as typed (``InvalidInput`` naming the field that is wrong)."""
        text = {name: field.text().strip() for name, field in self.fields.items()}
        return Address(
            id=self.address_id or new_id(),
            label=text["label"],
            line1=text["line1"],
            line2=text["line2"],
            postcode=text["postcode"],
            city=text["city"],
            country=text["country"].upper(),
            notes=text["notes"],
        )


class CustomerDialog(PosDialog):
    """A new customer, or more details (another address) for one: saved on this till at
    once (offline too) and sent to the server as ``customer.saved``."""

    saved = Signal(object)  # Customer (a new one: as it will be saved with the order)

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        customer: Customer | None = None,
        *,
        typed: str = "",
        unsaved: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Edit customer" if customer else "New customer (F3)", parent)
        # A new customer (or one typed in this order and not saved yet) is saved with the
        # order, in its transaction; a customer the till knows is saved at once.
        self.is_new = customer is None or unsaved
        self._terminal = terminal
        self._runner = DialogTasks(self, runner)
        self.customer = customer
        self.draft: Any = None  # the CustomerDraft typed (a new customer's goes with the order)
        self.resize(640, 720)
        country = terminal.store.country
        form = QFormLayout()
        form.setVerticalSpacing(8)
        self.name_field = QLineEdit(customer.name if customer else "")
        self.phone_field = QLineEdit(customer.phone if customer else "")
        self.phone_field.setPlaceholderText(f"a number of {country} or +country code")
        self.email_field = QLineEdit(customer.email if customer else "")
        self.email_field.setPlaceholderText("needed for a card link; may stay empty")
        self.notes_field = QLineEdit(customer.notes if customer else "")
        if customer is None and typed:
            digits = sum(ch.isdigit() for ch in typed)
            (self.phone_field if digits >= len(typed) / 2 else self.name_field).setText(typed)
        form.addRow("Name *", self.name_field)
        form.addRow("Phone *", self.phone_field)
        form.addRow("E-mail", self.email_field)
        form.addRow("Notes", self.notes_field)
        self.body.addLayout(form)
        self.address_box = QVBoxLayout()
        self.address_box.setSpacing(8)
        holder = QWidget()
        holder.setLayout(self.address_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        self.body.addWidget(scroll, 1)
        self.addresses: list[AddressForm] = []
        for address in customer.addresses if customer else ():
            self.add_address(address)
        if not self.addresses:
            self.add_address(None)
        self.add_button = button("Ctrl+N Another address", lambda: self.add_address(None, True))
        self.add_button.setAutoDefault(False)
        QShortcut(QKeySequence("Ctrl+N"), self, lambda: self.add_address(None, True))
        self.buttons.addWidget(self.add_button)
        self.finish_layout("Save customer (Enter)", stretch=False)

    def add_address(self, address: Address | None, focus: bool = False) -> None:
        form = AddressForm(address, self._terminal.store.country, len(self.addresses) + 1)
        self.addresses.append(form)
        self.address_box.addWidget(form)
        if focus:
            form.fields["line1"].setFocus()

    def _field_widget(self, field: str | None) -> QWidget | None:
        if field is None:
            return None
        direct = {
            "name": self.name_field,
            "phone": self.phone_field,
            "email": self.email_field,
            "notes": self.notes_field,
        }
        if field in direct:
            return direct[field]
        for form in self.addresses:
            if field in form.fields and not form.fields[field].text().strip():
                return form.fields[field]
        return None

    def _on_ok(self) -> None:
        """Checked here (every field named when wrong); a new customer is kept as a draft
        and saved with the order, in its transaction; a known one is saved at once."""
        from app.domain.delivery import make_customer

        terminal = self._terminal
        ids, store = terminal.ids, terminal.store
        services = _services()
        try:
            addresses = tuple(
                form.value(ids.new_id)
                for number, form in enumerate(self.addresses)
                if number == 0 or _filled(form)
            )
            draft = services.CustomerDraft(
                id=self.customer.id if self.customer else ids.new_id(),
                name=self.name_field.text(),
                phone=self.phone_field.text(),
                email=self.email_field.text(),
                addresses=addresses,
                notes=self.notes_field.text(),
                country=store.country,
            )
            checked = make_customer(
                id=draft.id,
                name=draft.name,
                phone=draft.phone,
                email=draft.email,
                addresses=draft.addresses,
                notes=draft.notes,
                updated_at=terminal.clock.now(),
                country=store.country,
            )
        except PosError as error:
            self._refuse(error)
            return
        self.draft = draft
        if self.is_new:
            self._on_saved(checked)
            return
        self.ok_button.setEnabled(False)
        self._runner.run_db(
            "save customer",
            lambda _c: services.save_customer(
                terminal.uow(), ids, terminal.clock, draft, country=store.country
            ),
            self._on_saved,
            self._refuse,
        )

    def _refuse(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        field = getattr(error, "field", None)
        widget = self._field_widget(field)
        text = error_text(error)
        for number, form in enumerate(self.addresses, start=1):
            if widget is not None and widget in form.fields.values():
                said = text[:1].lower() + text[1:]
                if field in ADDRESS_WORDS and said.startswith(field):  # the caption's words
                    said = ADDRESS_WORDS[field] + said[len(field) :]
                text = f"Address {number}: {said}"
        self.show_error(text)
        if widget is not None:
            widget.setFocus()

    def _on_saved(self, customer: Customer) -> None:
        self.customer = customer
        self.saved.emit(customer)
        self.accept()


def _filled(form: AddressForm) -> bool:
    """Whether anything but the label and country was typed into an address form (an
    empty extra form is left out; the first is always checked)."""
    return any(
        field.text().strip()
        for name, field in form.fields.items()
        if name not in ("label", "country")
    )


class ProductSearchDialog(PosDialog):
    """Find one product with the register's picker (a substitute to order or to pick)."""

    def __init__(self, terminal: Any, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.product: Product | None = None
        self.resize(640, 600)
        self.picker = ProductPickerWidget(terminal)
        self.picker.department_area.hide()
        self.picker.product_chosen.connect(self._on_chosen)
        self.picker.leave.connect(self.reject)  # Esc in the search: the choice is cancelled
        self.body.addWidget(self.picker, 1)
        self.finish_layout("Choose (Enter)", stretch=False)

    def showEvent(self, event: Any) -> None:
        if not self.picker.shown_products:
            self.picker.reload()
        super().showEvent(event)

    def first_field(self) -> QWidget | None:
        return self.picker.search_field

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in the search chooses there (the picker's own Enter), not twice."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and self.focusWidget() in (self.picker.search_field, self.picker.results):
            return
        super().keyPressEvent(event)

    def _on_chosen(self, product: Product) -> None:
        self.product = product
        self.accept()

    def _on_ok(self) -> None:
        rows = self.picker.results.selectionModel().selectedRows()
        products = self.picker.shown_products
        row = rows[0].row() if rows else 0
        if not 0 <= row < len(products):
            self.show_error("Search for the product, then choose it.")
            return
        self._on_chosen(products[row])


class SubstitutionDialog(PosDialog):
    """F5: what the picker does when a line's product is out of stock, and a note."""

    def __init__(
        self, terminal: Any, item: str, choice: LineChoice, parent: QWidget | None = None
    ) -> None:
        super().__init__("If out of stock (F5)", parent)
        self._terminal = terminal
        self.choice = choice
        self._product_id = choice.product_id
        self._product_name = choice.product_name
        self.body.addWidget(label(item, "Subtitle", wrap=True))
        row = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.kind_buttons: dict[Substitution, QPushButton] = {}
        for index, (kind, text) in enumerate(
            (
                (Substitution.BEST_MATCH, "Alt+1 Best match"),
                (Substitution.SPECIFIC, "Alt+2 A specific product…"),
                (Substitution.NONE, "Alt+3 No substitute"),
            )
        ):
            choice_button = button(text)
            choice_button.setCheckable(True)
            choice_button.setObjectName("Department")
            choice_button.setAutoDefault(False)
            self.group.addButton(choice_button, index)
            self.kind_buttons[kind] = choice_button
            row.addWidget(choice_button)
            QShortcut(QKeySequence(f"Alt+{index + 1}"), self, choice_button.click)
        self.kind_buttons[choice.substitution].setChecked(True)
        self.kind_buttons[Substitution.SPECIFIC].clicked.connect(self._ask_product)
        self.body.addLayout(row)
        self.product_label = label(self._product_text(), "Muted", wrap=True)
        self.body.addWidget(self.product_label)
        self.note_field = QLineEdit(choice.note)
        self.note_field.setPlaceholderText("note for the picker, e.g. ripe ones, no glass jars")
        self.body.addWidget(self.note_field)
        self.finish_layout("Set (Enter)")
        self.search_dialog: ProductSearchDialog | None = None

    def _product_text(self) -> str:
        return f"Substitute: {self._product_name}" if self._product_name else ""

    def _ask_product(self) -> None:
        dialog = ProductSearchDialog(self._terminal, "Substitute product", self)
        self.search_dialog = dialog

        def chosen() -> None:
            assert dialog.product is not None
            self._product_id, self._product_name = dialog.product.id, dialog.product.name
            self.product_label.setText(self._product_text())

        dialog.accepted.connect(chosen)
        dialog.finished.connect(lambda _r: QTimer.singleShot(0, self._focus_note))
        dialog.open()

    def _focus_note(self) -> None:
        if self.isVisible() and not self.isActiveWindow():
            self.activateWindow()  # a closed child leaves no active window on some platforms
        self.note_field.setFocus()

    def kind(self) -> Substitution:
        for kind, choice_button in self.kind_buttons.items():
            if choice_button.isChecked():
                return kind
        return Substitution.BEST_MATCH

    def _on_ok(self) -> None:
        kind = self.kind()
        if kind is Substitution.SPECIFIC and not self._product_id:
            self.show_error("Choose the substitute product (Alt+2), or another choice.")
            return
        self.choice = LineChoice(
            kind,
            self._product_id if kind is Substitution.SPECIFIC else "",
            self._product_name if kind is Substitution.SPECIFIC else "",
            self.note_field.text().strip(),
        )
        self.accept()


class ReadBackDialog(PosDialog):
    """The summary staff read to the caller before saving: items, substitutions, slot,
    address, payment, total. Enter saves the order, Esc goes back to change it."""

    def __init__(self, lines: list[str], parent: QWidget | None = None) -> None:
        super().__init__("Read back to the caller", parent)
        self.resize(700, 640)
        self.body.addWidget(
            label("Read this to the customer and ask whether it is right:", "Subtitle", wrap=True)
        )
        from PySide6.QtWidgets import QTextBrowser

        self.text = QTextBrowser()
        self.text.setPlainText("\n".join(lines))
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.text.setStyleSheet("font-size: 17px;")
        self.body.addWidget(self.text, 1)
        self.finish_layout("Save the order (Enter)", "Back to the order (Esc)", stretch=False)


class PhoneOrderDialog(ChildDialogHost):
    """Take a phone order: customer, address, items, slot, payment, read-back, save."""

    saved = Signal(object)  # PhoneOrder
    customers_shown = Signal(int)
    slots_shown = Signal(int)
    item_added = Signal()

    def __init__(
        self, terminal: Any, runner: TaskRunner, clerk: Any, parent: QWidget | None = None
    ) -> None:
        super().__init__("Phone order (Ctrl+P)", parent)
        self._terminal = terminal
        self._runner = DialogTasks(self, runner)
        self.clerk = clerk
        self.store = terminal.store
        self.cart = Cart(currency=self.store.currency)
        self.customers: list[Customer] = []
        self.customer: Customer | None = None
        self.new_customer: Any = None  # the CustomerDraft of a customer created here
        self.address: Address | None = None
        self.order: PhoneOrder | None = None
        self._esc_armed = False
        self._favourites_asked = False
        self._slot_request = 0
        self._search_request = 0
        self.resize(1500, 940)  # PosDialog keeps it within the screen
        self._build()
        self._keys()
        self._render_cart()

    # layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        columns = QHBoxLayout()
        columns.setSpacing(14)
        left = QVBoxLayout()
        left.setSpacing(6)
        search_row = QHBoxLayout()
        self.customer_search = QLineEdit()
        self.customer_search.setObjectName("SearchField")
        self.customer_search.setPlaceholderText("Customer: phone number or name")
        self.customer_search.setClearButtonEnabled(True)
        self.customer_search.textChanged.connect(lambda _t: self._search_timer.start())
        self.customer_search.returnPressed.connect(self._on_search_entered)
        search_row.addWidget(self.customer_search, 1)
        self.new_customer_button = button("F3 New", self.ask_new_customer)
        self.edit_customer_button = button("Edit", self.ask_edit_customer)
        for extra in (self.new_customer_button, self.edit_customer_button):
            extra.setAutoDefault(False)
            extra.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            extra.setProperty("compact", True)
            search_row.addWidget(extra)
        left.addLayout(search_row)
        self.customer_table = list_table(["Name", "Phone", "Address"], 34)
        self.customer_table.setMaximumHeight(34 * 3 + 2)  # two rows under the header
        header = self.customer_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.customer_table.itemSelectionChanged.connect(self._on_customer_row)
        left.addWidget(self.customer_table)
        self.customer_label = label("No customer chosen yet.", "Muted", wrap=True)
        left.addWidget(self.customer_label)
        address_row = QHBoxLayout()
        address_row.addWidget(label("Deliver to"))
        self.address_box = QComboBox()
        self.address_box.currentIndexChanged.connect(self._on_address_changed)
        address_row.addWidget(self.address_box, 1)
        left.addLayout(address_row)
        self.slot_picker = SlotPickerWidget()
        self.slot_picker.slot_chosen.connect(lambda _o: self._render_summary())
        left.addWidget(self.slot_picker, 1)
        payment = QHBoxLayout()
        payment.setSpacing(6)
        self.payment_group = QButtonGroup(self)
        self.payment_buttons: dict[PaymentMethod, QPushButton] = {}
        for index, method in enumerate(PaymentMethod):
            choice = button(f"{PAYMENT_KEYS[method]}\nAlt+{index + 1}")
            choice.setToolTip(f"Payment: {PAYMENT_WORDS[method]}")
            choice.setCheckable(True)
            choice.setObjectName("Department")
            choice.setAutoDefault(False)
            choice.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            choice.toggled.connect(lambda _on: self._render_summary())
            self.payment_group.addButton(choice, index)
            self.payment_buttons[method] = choice
            payment.addWidget(choice)
        left.addLayout(payment)
        # What the order still needs, or its slot and payment as they will be read back.
        self.summary = label("", "Muted", wrap=True)
        left.addWidget(self.summary)
        columns.addLayout(left, 5)

        right = QVBoxLayout()
        right.setSpacing(6)
        self.scan_field = ScanField()
        self.scan_field.setObjectName("ScanField")
        self.scan_field.setPlaceholderText("Scan or type barcode / SKU, then Enter")
        self.scan_field.returnPressed.connect(self._on_scan_entered)
        self.scan_field.cart_key.connect(self._on_cart_key)
        right.addWidget(self.scan_field)
        self.notice = NoticeWidget()
        right.addWidget(self.notice)
        self.model = PhoneCartModel()
        self.view = cart_view(self.model)
        cart_header = self.view.horizontalHeader()
        cart_header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        cart_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        cart_header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 34), (2, 90), (4, 70)):
            self.view.setColumnWidth(column, width)
        self.view.setColumnHidden(3, True)  # the unit price: the total says enough here
        right.addWidget(self.view, 3)
        line_keys = QHBoxLayout()
        self.qty_button = button("F4 Qty / weight", self.ask_quantity)
        self.remove_button = button("Del Remove", self.remove_selected)
        self.substitution_button = button("F5 If out of stock", self.ask_substitution)
        for key in (self.qty_button, self.remove_button, self.substitution_button):
            key.setAutoDefault(False)
            key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            key.setProperty("compact", True)
            line_keys.addWidget(key)
        line_keys.addStretch(1)
        right.addLayout(line_keys)
        self.picker = ProductPickerWidget(self._terminal)
        self.picker.product_chosen.connect(self._on_product_chosen)
        self.picker.leave.connect(self.focus_scan)
        self.picker.department_area.hide()  # on the phone, staff search (F2) for what is asked
        right.addWidget(self.picker, 2)
        columns.addLayout(right, 6)
        self.body.addLayout(columns, 1)

        self.note_field = QLineEdit()
        self.note_field.setPlaceholderText("Order note (e.g. leave with the neighbour at no. 14)")
        self.body.addWidget(self.note_field)
        self.buttons.addWidget(label("Estimated", "TotalCaption"), 0, Qt.AlignmentFlag.AlignVCenter)
        self.buttons.addSpacing(8)
        self.total_label = label("", "BigAmount")
        self.buttons.addWidget(self.total_label)
        self.payment_buttons[PaymentMethod.DOOR_CASH].setChecked(True)
        self.finish_layout("F12 Read back and save", stretch=False)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.search_customers)
        self._slot_timer = QTimer(self)
        self._slot_timer.setSingleShot(True)
        self._slot_timer.setInterval(SLOTS_DEBOUNCE_MS)
        self._slot_timer.timeout.connect(self.load_slots)

    def _keys(self) -> None:
        bindings: dict[str, Callable[[], object]] = {
            "F2": self.picker.focus_search,
            "F3": self.ask_new_customer,
            "F4": self.ask_quantity,
            "F5": self.ask_substitution,
            "F6": self.focus_customer,
            "F7": self.focus_scan,
            "F8": self.slot_picker.focus_slots,
            "F12": self._on_ok,
            "Alt+1": lambda: self.payment_buttons[PaymentMethod.DOOR_CASH].click(),
            "Alt+2": lambda: self.payment_buttons[PaymentMethod.DOOR_CARD].click(),
            "Alt+3": lambda: self.payment_buttons[PaymentMethod.CARD_LINK].click(),
        }
        for key, slot in bindings.items():
            QShortcut(QKeySequence(key), self, slot)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self.picker.shown_products and not self._favourites_asked:
            self._favourites_asked = True
            terminal = self._terminal
            self._runner.run_db(
                "favourites", lambda _c: favourite_products(terminal), self.picker.set_favourites
            )

    def first_field(self) -> QWidget | None:
        return self.customer_search

    def focus_customer(self) -> None:
        self.customer_search.setFocus()
        self.customer_search.selectAll()

    def focus_scan(self) -> None:
        if self.child_dialog is None:
            self.scan_field.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in a search or the scan field is theirs (never "save"); Esc with an order
        started asks once more before it is dropped."""
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            focus = self.focusWidget()
            if isinstance(focus, QLineEdit) or focus is self.picker.results:
                return
        if key == Qt.Key.Key_Escape and self._has_input() and not self._esc_armed:
            self._esc_armed = True
            self.notice.show_notice("Press Esc again to drop this phone order.", seconds=4)
            QTimer.singleShot(int(ESC_AGAIN_S * 1000), self._disarm_esc)
            return
        super().keyPressEvent(event)

    def _disarm_esc(self) -> None:
        self._esc_armed = False

    def _has_input(self) -> bool:
        return bool(self.cart.lines or self.customer or self.note_field.text().strip())

    # customer ----------------------------------------------------------------------------

    def _on_search_entered(self) -> None:
        self._search_timer.stop()
        self.search_customers(choose_first=True)

    def search_customers(self, choose_first: bool = False) -> None:
        self._search_timer.stop()
        text = self.customer_search.text().strip()
        if self.customer is not None and text == self.customer.name:
            if choose_first:
                self.focus_scan()
            return
        self._search_request += 1
        request = self._search_request
        terminal, country = self._terminal, self.store.country
        services = _services()

        def work(_control: Any) -> list[Customer]:
            if not text:
                return []
            return list(
                services.find_customers(terminal.read(), text, country, limit=CUSTOMER_ROWS)
            )

        self._runner.run_db(
            "find customers",
            work,
            lambda found: self._show_customers(request, found, choose_first),
            self._on_failed,
        )

    def _show_customers(self, request: int, found: list[Customer], choose_first: bool) -> None:
        if request != self._search_request:
            return  # a later search is on its way
        self.customers = found
        table = self.customer_table
        table.blockSignals(True)
        table.setRowCount(len(found))
        for row, customer in enumerate(found):
            first = customer.addresses[0].one_line if customer.addresses else ""
            for column, text in enumerate((customer.name, customer.phone, first)):
                table.setItem(row, column, QTableWidgetItem(text))
        table.blockSignals(False)
        text = self.customer_search.text().strip()
        if not found and text:
            self.customer_label.setText(f"No customer found for “{text}”: F3 creates one.")
        if found and choose_first:
            table.blockSignals(True)
            table.selectRow(0)
            table.blockSignals(False)
            if found[0].id != self._new_customer_id():
                self.new_customer = None
            self.set_customer(found[0])
            self.focus_scan()
        self.customers_shown.emit(len(found))

    def _on_customer_row(self) -> None:
        rows = self.customer_table.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self.customers):
            chosen = self.customers[rows[0].row()]
            if chosen.id != self._new_customer_id():
                self.new_customer = None
            self.set_customer(chosen)

    def set_customer(self, customer: Customer) -> None:
        self.customer = customer
        email = customer.email or "no e-mail"
        notes = f" · {customer.notes}" if customer.notes else ""
        self.customer_label.setText(f"{customer.name} · {customer.phone} · {email}{notes}")
        self.customer_label.setObjectName("")
        self.address_box.blockSignals(True)
        self.address_box.clear()
        for address in customer.addresses:
            text = f"{address.label}: {address.one_line}" if address.label else address.one_line
            self.address_box.addItem(text, address.id)
        self.address_box.blockSignals(False)
        self._on_address_changed(0)
        self._render_summary()

    def _on_address_changed(self, _index: int) -> None:
        address_id = self.address_box.currentData()
        self.address = None
        if self.customer is not None and address_id:
            self.address = self.customer.address(str(address_id))
        self._slot_timer.start()
        self._render_summary()

    def ask_new_customer(self) -> None:
        self._open_customer(None)

    def ask_edit_customer(self) -> None:
        if self.customer is None:
            self.show_error("Find the customer first (phone number or name), or F3 for a new one.")
            return
        self._open_customer(self.customer)

    def _open_customer(self, customer: Customer | None) -> None:
        typed = self.customer_search.text().strip()
        unsaved = customer is not None and customer.id == self._new_customer_id()
        dialog = CustomerDialog(
            self._terminal, self._runner, customer, typed=typed, unsaved=unsaved, parent=self
        )
        dialog.saved.connect(lambda c, d=dialog: self._on_customer_saved(c, d))
        self.open_child(dialog)

    def _new_customer_id(self) -> str:
        return str(self.new_customer.id) if self.new_customer is not None else ""

    def _on_customer_saved(self, customer: Customer, dialog: CustomerDialog) -> None:
        """A new customer's draft is kept to be saved with the order."""
        self.new_customer = dialog.draft if dialog.is_new else None
        self.customers = [customer]
        self.customer_table.blockSignals(True)
        self.customer_table.setRowCount(1)
        first = customer.addresses[0].one_line if customer.addresses else ""
        for column, text in enumerate((customer.name, customer.phone, first)):
            self.customer_table.setItem(0, column, QTableWidgetItem(text))
        self.customer_table.selectRow(0)
        self.customer_table.blockSignals(False)
        self.customer_search.blockSignals(True)
        self.customer_search.setText(customer.name)
        self.customer_search.blockSignals(False)
        self.set_customer(customer)

    # items (the register's widgets) ------------------------------------------------------

    def _on_scan_entered(self) -> None:
        code = self.scan_field.text().strip()
        self.scan_field.clear()
        if code:
            self.scan(code)

    def scan(self, code: str) -> None:
        """Look the code up in the DB worker, as ``find_scanned`` does for the register."""
        from app.services.scanning import find_scanned

        terminal = self._terminal

        def work(_control: Any) -> tuple[Product, int | None]:
            with terminal.read() as uow:
                return find_scanned(uow.products, code)

        def failed(error: Exception) -> None:
            self.notice.show_error(f"{error_text(error)}. Nothing was added; try search (F2).")

        self._runner.run_db(
            "scan", work, lambda found: self.add_product(found[0], found[1]), failed
        )

    def _on_product_chosen(self, product: Product) -> None:
        self.add_product(product, None)
        self.focus_scan()

    def add_product(self, product: Product, grams: int | None = None) -> None:
        if not product.active:
            self.notice.show_error(f"{product.name} is no longer sold (inactive).")
            return
        if product.sold_by is SoldBy.WEIGHT and grams is None:
            dialog = QuantityDialog(
                product.name, 0, True, self, title="Estimated weight (the picker weighs it)"
            )
            dialog.field.clear()
            dialog.field.setPlaceholderText("grams, e.g. 500")
            dialog.ok_button.setText("Add (Enter)")
            dialog.accepted.connect(lambda: self._add(product, dialog.value))
            self.open_child(dialog)
            return
        self._add(product, grams)

    def _add(self, product: Product, quantity: int | None) -> None:
        try:
            cart = self.cart.add(product, quantity)
        except PosError as error:
            self.notice.show_error(error_text(error))
            return
        changed = [new for new in cart.lines if new not in self.cart.lines]
        self.cart = cart
        self._render_cart(changed[-1].line_id if changed else None)
        self.item_added.emit()

    def selected_line_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        if rows:
            line = self.model.line_at(rows[0].row())
            if line is not None:
                return line.line_id
        return self.cart.lines[-1].line_id if self.cart.lines else None

    def _on_cart_key(self, key: int) -> None:
        ids = [line.line_id for line in self.cart.lines]
        if not ids:
            return
        current = self.selected_line_id()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            position = ids.index(current) if current in ids else len(ids) - 1
            step = -1 if key in (Qt.Key.Key_Up, Qt.Key.Key_PageUp) else 1
            self._render_cart(ids[max(0, min(len(ids) - 1, position + step))])
        elif key == Qt.Key.Key_Delete:
            self.remove_selected()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Minus) and current is not None:
            line = self.cart.line(current)
            if line.sold_by is SoldBy.WEIGHT:
                self.ask_quantity()
                return
            quantity = line.quantity + (1 if key == Qt.Key.Key_Plus else -1)
            if quantity <= 0:
                self.remove_selected()
            else:
                self._set_quantity(current, quantity)

    def ask_quantity(self) -> None:
        line_id = self.selected_line_id()
        if line_id is None:
            return
        line = self.cart.line(line_id)
        weighed = line.sold_by is SoldBy.WEIGHT
        title = "Estimated weight" if weighed else "Change quantity (F4)"
        dialog = QuantityDialog(line.name, line.quantity, weighed, self, title=title)
        dialog.accepted.connect(lambda: self._set_quantity(line_id, dialog.value))
        self.open_child(dialog)

    def _set_quantity(self, line_id: int, quantity: int) -> None:
        try:
            self.cart = self.cart.set_quantity(line_id, quantity)
        except PosError as error:
            self.notice.show_error(error_text(error))
            return
        self._render_cart(line_id)

    def remove_selected(self) -> None:
        line_id = self.selected_line_id()
        if line_id is None:
            return
        self.cart = self.cart.remove(line_id)
        self.model.choices.pop(line_id, None)
        self._render_cart()

    def ask_substitution(self) -> None:
        line_id = self.selected_line_id()
        if line_id is None:
            self.notice.show_error("Add an item first; F5 then sets what replaces it.")
            return
        line = self.cart.line(line_id)
        current = self.model.choices.get(line_id, LineChoice())
        dialog = SubstitutionDialog(self._terminal, line.name, current, self)

        def chosen() -> None:
            self.model.choices[line_id] = dialog.choice
            self._render_cart(line_id)

        dialog.accepted.connect(chosen)
        self.open_child(dialog)

    def set_choice(self, line_id: int, choice: LineChoice) -> None:
        self.model.choices[line_id] = choice
        self._render_cart(line_id)

    def _render_cart(self, line_id: int | None = None) -> None:
        totals = self.cart.totals(self.store.taxes)
        self.model.set_cart(self.cart, totals)
        if line_id is None and self.cart.lines:
            line_id = self.cart.lines[-1].line_id
        if line_id is not None:
            row = self.model.row_of_line(line_id)
            if row >= 0:
                self.view.selectRow(row)
                self.view.scrollTo(self.model.index(row, 0))
        self.model.set_marks(line_id, None)
        self.total_label.setText(money(totals.total, self.store.currency))
        for key in (self.qty_button, self.remove_button, self.substitution_button):
            key.setEnabled(bool(self.cart.lines))
        self._slot_timer.start()  # the places an order takes follow its items
        self._render_summary()

    # slots -------------------------------------------------------------------------------

    def load_slots(self) -> None:
        address = self.address
        if address is None:
            self.slot_picker.set_offers([], "Choose the customer and the address to see the slots.")
            self.slots_shown.emit(0)
            return
        self._slot_request += 1
        request = self._slot_request
        from app.domain.delivery import CapacityUnit, booking_units, booking_weight_g

        terminal, lines = self._terminal, self.cart.lines
        units = booking_units(CapacityUnit.ITEMS, lines)
        weight = booking_weight_g(lines)
        services = _services()

        def work(_control: Any) -> list[Any]:
            return list(
                services.offer_slots(terminal.read(), terminal.clock, units, weight, address)
            )

        self._runner.run_db(
            "offer slots", work, lambda offers: self._show_slots(request, offers), self._on_failed
        )

    def _show_slots(self, request: int, offers: list[Any]) -> None:
        if request != self._slot_request:
            return
        self.slot_picker.set_offers(offers)
        self._render_summary()
        self.slots_shown.emit(len(offers))

    # payment and summary -----------------------------------------------------------------

    def payment_method(self) -> PaymentMethod:
        for method, choice in self.payment_buttons.items():
            if choice.isChecked():
                return method
        return PaymentMethod.DOOR_CASH

    def _render_summary(self) -> None:
        link = self.payment_buttons[PaymentMethod.CARD_LINK]
        has_email = bool(self.customer and self.customer.email)
        link.setEnabled(has_email)
        if not has_email and link.isChecked():
            self.payment_buttons[PaymentMethod.DOOR_CASH].setChecked(True)
        link.setToolTip("Payment: card link by e-mail" if has_email else CARD_LINK_NEEDS_EMAIL)
        missing = self.missing()
        offer = self.slot_picker.selected
        if missing:
            self.summary.setText("Still needed: " + ", ".join(missing) + ".")
        elif not has_email:
            self.summary.setText(
                f"{self._booking_text(offer)} · {CARD_LINK_NEEDS_EMAIL} Edit adds one."
            )
        else:
            self.summary.setText(
                f"{self._booking_text(offer)} · {PAYMENT_WORDS[self.payment_method()]}"
            )

    def _booking_text(self, offer: Any) -> str:
        booking = "firm" if offer.firm else "provisional: the server confirms or moves it"
        return f"{slot_text(offer.slot.starts_at, offer.slot.ends_at)} ({booking})"

    def missing(self) -> list[str]:
        """What the order still needs before it can be read back."""
        needed = []
        if self.customer is None:
            needed.append("the customer (F6 find, F3 new)")
        elif self.address is None:
            needed.append("an address")
        if not self.cart.lines:
            needed.append("items (scan, or F2 search)")
        if self.slot_picker.selected is None:
            needed.append("a delivery slot (F8)")
        return needed

    def draft(self) -> Any:
        """The order as entered, for ``read_back`` and ``place_phone_order``."""
        assert self.customer is not None and self.address is not None
        offer = self.slot_picker.selected
        choices = {
            line.line_id: (
                self.model.choices.get(line.line_id, LineChoice()).substitution,
                self.model.choices.get(line.line_id, LineChoice()).product_id,
                self.model.choices.get(line.line_id, LineChoice()).note,
            )
            for line in self.cart.lines
        }
        return _services().PhoneOrderDraft(
            customer_id=self.customer.id,
            address_id=self.address.id,
            cart=self.cart,
            choices=choices,
            note=self.note_field.text().strip(),
            slot_id=offer.slot.id,
            payment_method=self.payment_method(),
            new_customer=self.new_customer,
        )

    def _on_ok(self) -> None:
        """F12: the read-back first; the order is saved only when the caller agrees."""
        if self.child_dialog is not None:
            return
        missing = self.missing()
        if missing:
            self.show_error("Before the read-back the order needs " + ", ".join(missing) + ".")
            return
        if self.payment_method() is PaymentMethod.CARD_LINK and not self.customer.email:  # type: ignore[union-attr]
            self.show_error(CARD_LINK_NEEDS_EMAIL)
            return
        draft, terminal, store = self.draft(), self._terminal, self.store
        services = _services()
        self.ok_button.setEnabled(False)

        def work(_control: Any) -> list[str]:
            return list(services.read_back(terminal.read(), store, draft).lines)

        self._runner.run_db(
            "read back", work, lambda lines: self._show_read_back(draft, lines), self._on_failed
        )

    def _show_read_back(self, draft: Any, lines: list[str]) -> None:
        self.ok_button.setEnabled(True)
        dialog = ReadBackDialog(lines, self)
        dialog.accepted.connect(lambda: self.save(draft))
        self.open_child(dialog)

    def save(self, draft: Any) -> None:
        terminal, store, clerk = self._terminal, self.store, self.clerk
        services = _services()
        self.ok_button.setEnabled(False)
        self._runner.run_db(
            "place phone order",
            lambda _c: services.place_phone_order(
                terminal.uow(), terminal.ids, terminal.clock, store, clerk, draft
            ),
            self._on_saved,
            self._on_failed,
        )

    def _on_saved(self, order: PhoneOrder) -> None:
        self.order = order
        self.saved.emit(order)
        self.accept()

    def _on_failed(self, error: Exception) -> None:
        self.ok_button.setEnabled(True)
        self.show_error(error_text(error))

    # dialogs -----------------------------------------------------------------------------

    def focus_after_child(self) -> None:
        if self.customer is None:
            self.focus_customer()
        else:
            self.focus_scan()
