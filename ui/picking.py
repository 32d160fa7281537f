"""Picking a phone order, and its paper: the pick list of a slot and the delivery note.

The picking screen lists the ordered lines; per line the picker marks it picked (F5),
substituted with another product (F6), or not available (F7), and types the actual weight
of a weighed item, or the units picked (F4 or Enter on the line). The total is recomputed
live with the sale's own arithmetic (``app.domain.delivery.picked_totals``), beside the
estimate and, for a card link, what the card authorised. Saving records the picking
(``record_picking``: ordered → picked → substituted → weighed, for capture, receipt and
reports).

The pick list (lines of every order of a slot, grouped by department) and the delivery note
(one order: address, items as picked, payment) print or save as PDF like the receipt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QKeySequence, QShortcut, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QTableWidgetItem, QWidget

from app.domain.delivery import (
    PaymentMethod,
    PhoneOrder,
    PhoneOrderLine,
    PickedLine,
    PickStatus,
    Substitution,
    picked_totals,
    priced_picked_lines,
)
from app.domain.errors import PosError
from app.domain.money import format_minor
from app.domain.product import Product, SoldBy, format_quantity
from ui.dialogs import QuantityDialog
from ui.phone_order import DialogTasks
from ui.receipt_view import _PrintableDialog, html_document
from ui.slot_picker import slot_text
from ui.tasks import TaskRunner
from ui.widgets import ChildDialogHost, PosDialog, button, error_text, label, list_table, money

COLUMNS = ("#", "Ordered", "If out of stock", "Picked", "Qty", "Total")
STATUS_WORDS = {
    PickStatus.PICKED: "picked",
    PickStatus.SUBSTITUTED: "substituted",
    PickStatus.NOT_AVAILABLE: "not available",
}
TO_WEIGH = "weigh it"
WARN = QColor("#9a6700")
MUTED = QColor("#52606d")


def start_picking(order: PhoneOrder) -> list[PickedLine]:
    """The lines as picking starts: what was picked before, else each line as ordered (a
    weighed line still to weigh: quantity 0 until its actual weight is typed)."""
    if order.picked:
        return list(order.picked)
    return [
        PickedLine(
            line_no=line.line_no,
            status=PickStatus.PICKED,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            sold_by=line.sold_by,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_class=line.tax_class,
            tax_rate_bp=line.tax_rate_bp,
            net=line.net,
        )
        for line in order.lines
    ]


def substitution_words(line: PhoneOrderLine, names: dict[str, str] | None = None) -> str:
    if line.substitution is Substitution.NONE:
        words = "no substitute"
    elif line.substitution is Substitution.SPECIFIC:
        words = (names or {}).get(line.substitute_product_id) or "the product asked for"
        words = f"→ {words}"
    else:
        words = "best match"
    return f"{words} · {line.note}" if line.note else words


class PickingDialog(ChildDialogHost):
    """Pick one order: per line picked / substituted / not available, actual weights."""

    saved = Signal(object)  # PhoneOrder
    total_changed = Signal(int)

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        clerk: Any,
        order: PhoneOrder,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Picking {order.order_no} · {order.customer.name}", parent)
        self._terminal = terminal
        self._runner = DialogTasks(self, runner)
        self.clerk = clerk
        self.order = order
        self.store = terminal.store
        self.lines = start_picking(order)
        self._weighed: set[int] = {
            p.line_no for p in self.lines if p.sold_by is not SoldBy.WEIGHT or order.picked
        }
        self.substitute_names: dict[str, str] = {}
        self.resize(1100, 680)
        self.body.addWidget(label(f"{order.address.one_line}", "Muted", wrap=True))
        self.table = list_table(list(COLUMNS), 40, len(self.lines))
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.ask_quantity())
        self.body.addWidget(self.table, 1)
        keys = QHBoxLayout()
        self.picked_button = button("F5 Picked", lambda: self.mark(PickStatus.PICKED))
        self.substitute_button = button("F6 Substituted…", self.ask_substitute)
        self.missing_button = button(
            "F7 Not available", lambda: self.mark(PickStatus.NOT_AVAILABLE)
        )
        self.quantity_button = button("F4 Actual weight / qty", self.ask_quantity)
        for key in (
            self.picked_button,
            self.substitute_button,
            self.missing_button,
            self.quantity_button,
        ):
            key.setAutoDefault(False)
            key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            keys.addWidget(key)
        keys.addStretch(1)
        self.body.addLayout(keys)
        totals = QHBoxLayout()
        self.compare = label("", "Subtitle", wrap=True)
        totals.addWidget(self.compare, 1)
        totals.addWidget(label("Picked total", "TotalCaption"))
        self.total_label = label("", "BigAmount")
        totals.addWidget(self.total_label)
        self.body.addLayout(totals)
        for key, slot in (
            ("F4", self.ask_quantity),
            ("F5", lambda: self.mark(PickStatus.PICKED)),
            ("F6", self.ask_substitute),
            ("F7", lambda: self.mark(PickStatus.NOT_AVAILABLE)),
        ):
            QShortcut(QKeySequence(key), self, slot)
        self.finish_layout("Save picking (Enter)", stretch=False)
        self._render()
        if self.lines:
            self.table.selectRow(0)
        wanted = [ln.substitute_product_id for ln in order.lines if ln.substitute_product_id]
        if wanted:
            self._runner.run_db(
                "substitute names",
                lambda _c: product_names(terminal, wanted),
                self._on_names,
            )

    def _on_names(self, names: dict[str, str]) -> None:
        self.substitute_names = names
        self._render(self.current_row())

    def first_field(self) -> QWidget | None:
        return self.table

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """On a weighed line still to weigh, Enter asks its weight; else Enter saves."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            row = self.current_row()
            if row is not None and self.lines[row].line_no not in self._weighed:
                self.ask_quantity()
                return
        super().keyPressEvent(event)

    # lines -------------------------------------------------------------------------------

    def current_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self.lines):
            return rows[0].row()
        return None

    def ordered(self, line_no: int) -> PhoneOrderLine:
        return next(line for line in self.order.lines if line.line_no == line_no)

    def mark(self, status: PickStatus, row: int | None = None) -> None:
        row = self.current_row() if row is None else row
        if row is None:
            return
        ordered = self.ordered(self.lines[row].line_no)
        if status is PickStatus.NOT_AVAILABLE:
            self.lines[row] = replace(self.lines[row], status=status, quantity=0, net=0)
            self._weighed.add(ordered.line_no)
        else:  # picked as ordered
            self.lines[row] = start_picking(replace(self.order, picked=()))[row]
            if ordered.sold_by is SoldBy.WEIGHT:
                self._weighed.discard(ordered.line_no)
        self._render(row)
        self._next_row(row)

    def set_quantity(self, row: int, quantity: int) -> None:
        line = self.lines[row]
        status = PickStatus.PICKED if line.status is PickStatus.NOT_AVAILABLE else line.status
        self.lines[row] = replace(line, status=status, quantity=quantity)
        self._weighed.add(line.line_no)
        self._render(row)

    def substitute(self, row: int, product: Product, quantity: int | None = None) -> None:
        """The line picked as ``product`` (the units ordered, unless ``quantity``)."""
        ordered = self.ordered(self.lines[row].line_no)
        weighed = product.sold_by is SoldBy.WEIGHT
        if quantity is None:
            same_kind = ordered.sold_by is product.sold_by
            quantity = ordered.quantity if same_kind and not weighed else (0 if weighed else 1)
        self.lines[row] = PickedLine(
            line_no=ordered.line_no,
            status=PickStatus.SUBSTITUTED,
            product_id=product.id,
            sku=product.sku,
            name=product.name,
            sold_by=product.sold_by,
            quantity=quantity or 1,
            unit_price=product.unit_price,
            tax_class=product.tax_class,
            tax_rate_bp=0,
            net=0,
        )
        if weighed and not quantity:
            self._weighed.discard(ordered.line_no)
        else:
            self._weighed.add(ordered.line_no)
        self._render(row)

    def ask_quantity(self) -> None:
        row = self.current_row()
        if row is None or self.child_dialog is not None:
            return
        line = self.lines[row]
        weighed = line.sold_by is SoldBy.WEIGHT
        current = line.quantity if line.status is not PickStatus.NOT_AVAILABLE else 0
        title = "Actual weight" if weighed else "Units picked"
        dialog = QuantityDialog(line.name, current or 1, weighed, self, title=title)
        if weighed:
            dialog.field.clear()
            ordered = self.ordered(line.line_no)
            dialog.field.setPlaceholderText(f"grams; {ordered.quantity} g were estimated")
        dialog.accepted.connect(lambda: (self.set_quantity(row, dialog.value), self._next_row(row)))
        self.open_child(dialog)

    def ask_substitute(self) -> None:
        from ui.phone_order import ProductSearchDialog

        row = self.current_row()
        if row is None or self.child_dialog is not None:
            return
        ordered = self.ordered(self.lines[row].line_no)
        if ordered.substitution is Substitution.NONE:
            self.show_error(f"The customer wants no substitute for {ordered.name}.")
            return
        dialog = ProductSearchDialog(self._terminal, f"Substitute for {ordered.name}", self)
        dialog.picker.search_field.setText(ordered.name.split(",")[0].split()[0])

        def chosen() -> None:
            assert dialog.product is not None
            self.substitute(row, dialog.product)
            if dialog.product.sold_by is SoldBy.WEIGHT:
                QTimer.singleShot(0, self.ask_quantity)

        dialog.accepted.connect(chosen)
        self.open_child(dialog)

    def _next_row(self, row: int) -> None:
        if row + 1 < len(self.lines):
            self.table.selectRow(row + 1)

    # rendering ---------------------------------------------------------------------------

    def _render(self, keep_row: int | None = None) -> None:
        table = self.table
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        countable = [p for p in self.lines if p.status is PickStatus.NOT_AVAILABLE or p.quantity]
        totals = picked_totals(countable, self.store)
        nets = {lt.line_id: lt.net for lt in totals.lines}
        for row, line in enumerate(self.lines):
            ordered = self.ordered(line.line_no)
            to_weigh = line.line_no not in self._weighed
            if line.status is PickStatus.SUBSTITUTED:
                picked = f"substituted: {line.name}"
            else:
                picked = STATUS_WORDS[line.status]
            if to_weigh:
                quantity = TO_WEIGH
            elif line.status is PickStatus.NOT_AVAILABLE:
                quantity = "—"
            else:
                quantity = format_quantity(line.quantity, line.sold_by)
                quantity = f"{quantity} ×" if line.sold_by is not SoldBy.WEIGHT else quantity
            ordered_text = (
                f"{ordered.name} · {format_quantity(ordered.quantity, ordered.sold_by)}"
                + (" est." if ordered.sold_by is SoldBy.WEIGHT else "")
            )
            total = "" if to_weigh else format_minor(nets.get(line.line_no, 0), self.order.currency)
            cells = (
                str(line.line_no),
                ordered_text,
                substitution_words(ordered, self.substitute_names),
                picked,
                quantity,
                total,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (4, 5):
                    item.setTextAlignment(right)
                if to_weigh and column == 4:
                    item.setForeground(QBrush(WARN))
                if line.status is PickStatus.NOT_AVAILABLE and column in (3, 4):
                    item.setForeground(QBrush(MUTED))
                table.setItem(row, column, item)
        if keep_row is not None:
            table.selectRow(keep_row)
        self.total_label.setText(money(totals.total, self.order.currency))
        parts = [f"Estimated {money(self.order.estimated_total, self.order.currency)}"]
        if self.order.payment_method is PaymentMethod.CARD_LINK and self.order.authorised_amount:
            parts.append(
                f"card authorised {money(self.order.authorised_amount, self.order.currency)}"
            )
            if totals.total > self.order.authorised_amount:
                parts.append("more than authorised: staff choose a top-up or to absorb it")
        waiting = len(self.lines) - len(self._weighed)
        if waiting:
            parts.append(f"{waiting} to weigh")
        self.compare.setText(" · ".join(parts))
        self.total_changed.emit(totals.total)

    @property
    def picked_total(self) -> int:
        countable = [p for p in self.lines if p.status is PickStatus.NOT_AVAILABLE or p.quantity]
        return int(picked_totals(countable, self.store).total)

    # save --------------------------------------------------------------------------------

    def _on_ok(self) -> None:
        if self.child_dialog is not None:
            return
        waiting = [p for p in self.lines if p.line_no not in self._weighed]
        if waiting:
            names = ", ".join(p.name for p in waiting)
            self.show_error(f"Weigh {names} first (F4): the customer pays the actual weight.")
            row = self.lines.index(waiting[0])
            self.table.selectRow(row)
            return
        try:
            lines = priced_picked_lines(self.lines, self.store)
        except PosError as error:
            self.show_error(error_text(error))
            return
        from app.services import phone_orders

        terminal, store, clerk, order_id = self._terminal, self.store, self.clerk, self.order.id
        self.ok_button.setEnabled(False)
        self._runner.run_db(
            "record picking",
            lambda _c: phone_orders.record_picking(
                terminal.uow(), terminal.ids, terminal.clock, store, clerk, order_id, lines
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

    def focus_after_child(self) -> None:
        self.table.setFocus()


def product_names(terminal: Any, product_ids: list[str]) -> dict[str, str]:
    """The names of products by id (the substitutes customers asked for)."""
    with terminal.read() as uow:
        found = (uow.products.by_id(product_id) for product_id in product_ids)
        return {product.id: product.name for product in found if product is not None}


# paper -------------------------------------------------------------------------------------


def _table(rows: list[tuple[str, str]], *, indent: bool = False) -> str:
    pad = "padding-left:14px;" if indent else ""
    cells = "".join(
        f"<tr><td style='{pad}'>{escape(left)}</td><td align='right'>{escape(right)}</td></tr>"
        for left, right in rows
    )
    return f"<table width='100%' cellspacing='0' cellpadding='1'>{cells}</table>"


def pick_list_title(pick_list: Any) -> str:
    slot = pick_list.slot
    return slot_text(slot.starts_at, slot.ends_at) if slot is not None else "no slot"


def pick_list_html(pick_list: Any, store_name: str, base_pt: int = 10) -> str:
    """The pick list of a slot: every line of its orders still to pick, by department."""
    orders = len(pick_list.orders)
    parts = [
        f"<div style='font-family: \"DejaVu Sans\"; font-size: {base_pt}pt; color: #000;'>",
        f"<p align='center' style='margin:0'><b style='font-size:{base_pt + 3}pt'>"
        f"{escape(store_name)}</b><br>PICK LIST</p>",
        f"<p align='center' style='margin:0'><b>{escape(pick_list_title(pick_list))}</b>"
        f"<br>{orders} order{'s' if orders != 1 else ''}</p><hr>",
    ]
    if not pick_list.groups:
        parts.append("<p>Nothing left to pick in this slot.</p>")
    for group in pick_list.groups:
        parts.append(f"<p style='margin:6px 0 0 0'><b>{escape(group.department)}</b></p>")
        rows = []
        for item in group.lines:
            line = item.line
            what = f"☐ {format_quantity(line.quantity, line.sold_by)} × {line.name}"
            if line.sold_by is SoldBy.WEIGHT:
                what += " (est.)"
            if line.substitution is Substitution.NONE:
                what += " · no substitute"
            if line.note:
                what += f" · {line.note}"
            rows.append((what, f"{item.order_no} {item.customer_name.split()[0]}"))
        parts.append(_table(rows, indent=True))
    parts.append("<hr></div>")
    return "".join(parts)


def delivery_note_html(note: Any, store_name: str, base_pt: int = 10) -> str:
    """One order's delivery note: to whom, where, what was picked, how it is paid."""
    from app.services.phone_orders import PAYMENT_WORDS

    order: PhoneOrder = note.order
    address = order.address
    where = [address.line1, address.line2, f"{address.postcode} {address.city}", address.country]
    slot = slot_text(note.slot.starts_at, note.slot.ends_at) if note.slot is not None else ""
    parts = [
        f"<div style='font-family: \"DejaVu Sans\"; font-size: {base_pt}pt; color: #000;'>",
        f"<p align='center' style='margin:0'><b style='font-size:{base_pt + 3}pt'>"
        f"{escape(store_name)}</b><br>DELIVERY NOTE</p>",
        f"<p style='margin:4px 0'><b>{escape(order.order_no)}</b> · {escape(slot)}</p>",
        f"<p style='margin:0'><b>{escape(order.customer.name)}</b> · "
        f"{escape(order.customer.phone)}<br>"
        + "<br>".join(escape(part) for part in where if part.strip())
        + "</p>",
    ]
    if address.notes:
        parts.append(f"<p style='margin:2px 0'><b>Delivery notes:</b> {escape(address.notes)}</p>")
    parts.append("<hr>")
    rows: list[tuple[str, str]] = []
    if order.picked:
        for picked in order.picked:
            if picked.status is PickStatus.NOT_AVAILABLE:
                ordered = next((ln for ln in order.lines if ln.line_no == picked.line_no), None)
                rows.append((f"{ordered.name if ordered else picked.name}: not available", ""))
                continue
            text = f"{format_quantity(picked.quantity, picked.sold_by)} × {picked.name}"
            if picked.status is PickStatus.SUBSTITUTED:
                text += " (substitute)"
            rows.append((text, format_minor(picked.net, order.currency)))
        total = ("TOTAL", money(order.actual_total, order.currency))
    else:
        for line in order.lines:
            text = f"{format_quantity(line.quantity, line.sold_by)} × {line.name}"
            estimated = " (est.)" if line.sold_by is SoldBy.WEIGHT else ""
            rows.append((text + estimated, format_minor(line.net, order.currency)))
        total = ("ESTIMATED TOTAL", money(order.estimated_total, order.currency))
    parts.append(_table(rows))
    parts.append("<hr>")
    parts.append(
        "<table width='100%' cellspacing='0' cellpadding='1'>"
        f"<tr style='font-size:{base_pt + 3}pt; font-weight:bold'><td>{escape(total[0])}</td>"
        f"<td align='right'>{escape(total[1])}</td></tr></table>"
    )
    parts.append(
        f"<p style='margin:4px 0'>Payment: {escape(PAYMENT_WORDS[order.payment_method])}</p>"
    )
    if order.note:
        parts.append(f"<p style='margin:2px 0'>Note: {escape(order.note)}</p>")
    parts.append("<p align='center'>Signed for: ____________________</p></div>")
    return "".join(parts)


def save_html_pdf(html: str, path: Path) -> Path:
    """Any slip (pick list, delivery note) as a PDF on receipt paper (file I/O: a worker)."""
    from PySide6.QtPrintSupport import QPrinter

    from ui.receipt_view import receipt_page_layout

    document = html_document(html)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setPageLayout(receipt_page_layout(document))
    document.print_(printer)
    return path


class SlipDialog(_PrintableDialog):
    """A pick list or a delivery note on screen, with Print / Preview / PDF… and Done."""

    def __init__(
        self,
        title: str,
        html: Callable[[int], str],
        pdf_name: str,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        self._runner = DialogTasks(self, runner)
        self._pdf_name = pdf_name
        self.html = html(10)
        self.resize(720, 720)
        screen: QTextDocument = html_document(html(12), width_px=560)
        self._add_document(_Named(pdf_name), html_document(self.html), screen)  # type: ignore[arg-type]
        self.finish_layout("Done (Enter)", "Close (Esc)", stretch=False)
        self.cancel_button.hide()

    def pdf_name(self) -> str:
        return self._pdf_name

    def save_pdf(self, path: Path) -> None:
        html = self.html
        self.status.setText("Saving PDF…")
        self._runner.run_io(
            "slip pdf",
            lambda _c: save_html_pdf(html, path),
            self._on_pdf_saved,
            lambda error: self.status.setText(error_text(error)),
        )


class _Named:
    """What _PrintableDialog keeps as its ``receipt``: only the name matters here."""

    def __init__(self, name: str) -> None:
        self.receipt_no = name


def open_pick_list(
    terminal: Any,
    runner: TaskRunner,
    slot_id: str,
    show: Callable[[PosDialog], None],
    parent: QWidget,
) -> None:
    """Build the slot's pick list in the DB worker, then show it."""
    from app.services import phone_orders

    def shown(pick_list: Any) -> None:
        name = terminal.store.store_name
        stem = f"{pick_list.slot.starts_at:%Y%m%d-%H%M}" if pick_list.slot else "slot"
        dialog = SlipDialog(
            f"Pick list · {pick_list_title(pick_list)}",
            lambda pt: pick_list_html(pick_list, name, pt),
            f"pick-list-{stem}.pdf",
            runner,
            parent,
        )
        show(dialog)

    runner.run_db(
        "pick list",
        lambda _c: phone_orders.pick_list(terminal.read(), slot_id),
        shown,
        lambda error: _tell(parent, error),
    )


def open_delivery_note(
    terminal: Any,
    runner: TaskRunner,
    order_id: str,
    show: Callable[[PosDialog], None],
    parent: QWidget,
) -> None:
    from app.services import phone_orders

    def shown(note: Any) -> None:
        name = terminal.store.store_name
        dialog = SlipDialog(
            f"Delivery note · {note.order.order_no}",
            lambda pt: delivery_note_html(note, name, pt),
            f"delivery-note-{note.order.order_no}.pdf",
            runner,
            parent,
        )
        show(dialog)

    runner.run_db(
        "delivery note",
        lambda _c: phone_orders.delivery_note(terminal.read(), order_id),
        shown,
        lambda error: _tell(parent, error),
    )


def _tell(parent: QWidget, error: Exception) -> None:
    show_error = getattr(parent, "show_error", None)
    if show_error is not None:
        show_error(error_text(error))
