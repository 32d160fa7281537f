"""The receipt on screen, on paper and as PDF: one QTextDocument built from the pure model;
the refund receipt the same way (``RefundReceiptDialog``, shown when a refund is done).

Qt's print support (QtPrintSupport: the library and its bindings) is imported only when a
person prints, previews or saves a PDF, not when the till starts (docs/ui.md, start-up memory).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF, Signal
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter, QTextDocument
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QTextBrowser, QWidget

from app.domain.order import Order
from app.domain.refund import Refund, RefundState
from app.domain.store import StoreProfile
from app.services.receipt import Receipt, RefundReceipt, build_receipt, build_refund_receipt
from ui.tasks import TaskRunner
from ui.widgets import PosDialog, button, error_text, label, money

PAPER_WIDTH_MM = 80
DOC_WIDTH_PX = 380


def receipt_html(receipt: Receipt, base_pt: int = 10) -> str:
    def row(left: str, right: str, style: str = "", indent: bool = False) -> str:
        pad = "padding-left:14px;" if indent else ""
        return (
            f"<tr style='{style}'><td style='{pad}'>{escape(left)}</td>"
            f"<td align='right'>{escape(right)}</td></tr>"
        )

    parts = [
        f"<div style='font-family: \"DejaVu Sans\"; font-size: {base_pt}pt; color: #000;'>",
        f"<p align='center' style='margin:0'><b style='font-size:{base_pt + 3}pt'>"
        f"{escape(receipt.store_name)}</b><br>{escape(receipt.store_address)}</p>",
    ]
    if receipt.copy:
        parts.append("<p align='center'><b>*** COPY ***</b></p>")
    if receipt.status.value in ("voided", "refunded"):
        parts.append(f"<p align='center'><b>*** {escape(receipt.status.value.upper())} ***</b></p>")
    parts.append(
        "<table width='100%' cellspacing='0' cellpadding='1'>"
        + row(f"Receipt {receipt.receipt_no}", receipt.printed_time)
        + "</table><hr>"
    )
    items = ["<table width='100%' cellspacing='0' cellpadding='1'>"]
    for line in receipt.lines:
        if line.detail:
            items.append(f"<tr><td colspan='2'>{escape(line.name)}</td></tr>")
            items.append(row(line.detail, receipt.amount(line.amount), indent=True))
        else:
            items.append(row(line.name, receipt.amount(line.amount)))
        if line.discount:
            items.append(row(line.discount_label, receipt.amount(-line.discount), indent=True))
    items.append("</table><hr>")
    parts += items
    totals = ["<table width='100%' cellspacing='0' cellpadding='1'>"]
    totals.append(row("Subtotal", receipt.amount(receipt.subtotal)))
    if receipt.order_discount:
        totals.append(row("Order discount", receipt.amount(-receipt.order_discount)))
    totals.append(
        row(
            f"TOTAL {receipt.currency}",
            receipt.amount(receipt.total),
            f"font-size:{base_pt + 4}pt; font-weight:bold",
        )
    )
    totals.append("<tr><td colspan='2'></td></tr>")
    for tender in receipt.tenders:
        totals.append(row(tender.label, receipt.amount(tender.tendered)))
    if receipt.change:  # on a copy, plain: it was handed over at the sale
        style = "" if receipt.copy else "font-weight:bold"
        totals.append(row("Change", receipt.amount(receipt.change), style))
    if receipt.refunds:
        totals.append("<tr><td colspan='2'><hr><b>Refunds</b></td></tr>")
        for refund in receipt.refunds:
            totals.append(
                row(f"{refund.printed_time} {refund.refunded_to}", receipt.amount(-refund.amount))
            )
            for item in refund.items:
                totals.append(row(item, "", indent=True))
            totals.append(
                row(f"{refund.reason} · approved by {refund.approved_by}", "", indent=True)
            )
        totals.append(
            row(
                "Paid less refunds",
                receipt.amount(receipt.total - receipt.refunded),
                "font-weight:bold",
            )
        )
    totals.append("</table>")
    parts += totals
    wording = "incl." if receipt.prices_include_tax else "plus"
    taxes = [
        f"<table width='100%' cellspacing='0' cellpadding='1' style='font-size:{base_pt - 1}pt'>"
    ]
    taxes.append(
        "<tr><td>Tax</td><td align='right'>Net</td><td align='right'>Tax</td>"
        "<td align='right'>Gross</td></tr>"
    )
    for tax in receipt.taxes:
        # ``taxable`` is what the lines of the rate cost: tax included in it, or added to it
        net = tax.taxable - tax.tax if receipt.prices_include_tax else tax.taxable
        taxes.append(
            f"<tr><td>{wording} {escape(tax.label)}</td>"
            f"<td align='right'>{receipt.amount(net)}</td>"
            f"<td align='right'>{receipt.amount(tax.tax)}</td>"
            f"<td align='right'>{receipt.amount(net + tax.tax)}</td></tr>"
        )
    taxes.append("</table>")
    parts.append("<br>")
    parts += taxes
    if receipt.savings:
        parts.append(f"<p align='center'><b>You saved {receipt.amount(receipt.savings)}</b></p>")
    parts.append(
        f"<p align='center'>Served by {escape(receipt.clerk_name)} · Till "
        f"{escape(receipt.terminal_code)}<br>Thank you for shopping with us</p></div>"
    )
    return "".join(parts)


def refund_receipt_html(slip: RefundReceipt, base_pt: int = 10) -> str:
    def row(left: str, right: str, style: str = "", indent: bool = False) -> str:
        pad = "padding-left:14px;" if indent else ""
        return (
            f"<tr style='{style}'><td style='{pad}'>{escape(left)}</td>"
            f"<td align='right'>{escape(right)}</td></tr>"
        )

    table = "<table width='100%' cellspacing='0' cellpadding='1'>"
    parts = [
        f"<div style='font-family: \"DejaVu Sans\"; font-size: {base_pt}pt; color: #000;'>",
        f"<p align='center' style='margin:0'><b style='font-size:{base_pt + 3}pt'>"
        f"{escape(slip.store_name)}</b><br>{escape(slip.store_address)}</p>",
        f"<p align='center'><b>*** REFUND{' · COPY' if slip.copy else ''} ***</b></p>",
        table,
        row(f"Receipt {slip.receipt_no}", slip.printed_time),
        "</table>",
        f"<p style='margin:0'>Refund {escape(slip.refund_ref)}</p><hr>",
        table,
    ]
    for line in slip.lines:
        amount = slip.amount_text(line.amount) if line.amount is not None else ""
        if line.detail:
            parts.append(f"<tr><td colspan='2'>{escape(line.name)}</td></tr>")
            parts.append(row(line.detail, amount, indent=True))
        else:
            parts.append(row(line.name, amount))
    parts.append("</table><hr>" + table)
    parts.append(
        row(
            f"REFUNDED {slip.currency}",
            slip.amount_text(slip.amount),
            f"font-size:{base_pt + 4}pt; font-weight:bold",
        )
    )
    if slip.card_amount:
        parts.append(row("To the card", slip.amount_text(slip.card_amount)))
    if slip.cash_amount:
        parts.append(row("In cash", slip.amount_text(slip.cash_amount)))
    parts.append("</table><hr>" + table)
    parts.append(row(f"Reason: {slip.reason}", ""))
    if not slip.with_receipt:
        parts.append(row("Returned without a receipt", ""))
    parts.append(
        row(
            "Refunded of this sale",
            f"{slip.amount_text(slip.refunded_total)} of {slip.amount_text(slip.order_total)}",
        )
    )
    parts.append(
        f"</table><p align='center'>Approved by {escape(slip.approved_by)} · Till "
        f"{escape(slip.terminal_code)}</p></div>"
    )
    return "".join(parts)


def html_document(html: str, width_px: int = DOC_WIDTH_PX) -> QTextDocument:
    document = QTextDocument()
    document.setDocumentMargin(12)
    document.setHtml(html)
    document.setTextWidth(width_px)
    return document


def receipt_document(
    receipt: Receipt, width_px: int = DOC_WIDTH_PX, base_pt: int = 10
) -> QTextDocument:
    return html_document(receipt_html(receipt, base_pt), width_px)


def render_receipt_image(receipt: Receipt, scale: float = 2.0) -> QImage:
    """The receipt as an image (screenshots, and a preview without a print system)."""
    document = receipt_document(receipt)
    size = document.size()
    image = QImage(
        int(size.width() * scale), int(size.height() * scale), QImage.Format.Format_RGB32
    )
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.scale(scale, scale)
    document.drawContents(painter)
    painter.end()
    return image


def receipt_page_layout(document: QTextDocument) -> QPageLayout:
    height_mm = max(100.0, document.size().height() * 25.4 / 96 + 20)
    page = QPageSize(QSizeF(PAPER_WIDTH_MM, height_mm), QPageSize.Unit.Millimeter, "Receipt")
    return QPageLayout(
        page, QPageLayout.Orientation.Portrait, QMarginsF(4, 4, 4, 4), QPageLayout.Unit.Millimeter
    )


def save_receipt_pdf(receipt: Receipt | RefundReceipt, path: Path) -> Path:
    """Write the receipt (or a refund receipt) as a PDF (runs in a worker: it is file I/O)."""
    from PySide6.QtPrintSupport import QPrinter

    if isinstance(receipt, RefundReceipt):
        document = html_document(refund_receipt_html(receipt))
    else:
        document = receipt_document(receipt)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    printer.setPageLayout(receipt_page_layout(document))
    document.print_(printer)
    return path


class _PrintableDialog(PosDialog):
    """A document on screen with Print / Preview / PDF… (a sale's receipt, a refund's)."""

    pdf_saved = Signal(str)

    def _add_document(
        self, receipt: Receipt | RefundReceipt, document: QTextDocument, screen: QTextDocument
    ) -> None:
        self.receipt = receipt
        self.document = document
        self.screen_document = screen
        self.view = QTextBrowser()
        self.view.setDocument(self.screen_document)
        self.body.addWidget(self.view, 1)
        self.status = label("", "Muted", wrap=True)
        self.body.addWidget(self.status)
        for text, slot in (
            ("Print (Ctrl+P)", self.print_receipt),
            ("Preview", self.preview),
            ("PDF…", self.ask_pdf_path),
        ):
            extra = button(text, slot)
            extra.setAutoDefault(False)
            if text.startswith("Print"):
                extra.setShortcut("Ctrl+P")
            self.buttons.addWidget(extra)

    def pdf_name(self) -> str:
        return f"receipt-{self.receipt.receipt_no}.pdf"

    def print_receipt(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(receipt_page_layout(self.document))
        dialog = QPrintDialog(printer, self)
        if dialog.exec():
            self.document.print_(printer)

    def preview(self) -> None:
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(receipt_page_layout(self.document))
        dialog = QPrintPreviewDialog(printer, self)
        dialog.paintRequested.connect(self.document.print_)
        dialog.exec()

    def ask_pdf_path(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save as PDF", self.pdf_name(), "PDF (*.pdf)"
        )
        if path:
            self.save_pdf(Path(path))

    def save_pdf(self, path: Path) -> None:
        receipt = self.receipt
        self.status.setText("Saving PDF…")
        self._runner.run_io(
            "receipt pdf",
            lambda _c: save_receipt_pdf(receipt, path),
            self._on_pdf_saved,
            lambda error: self.status.setText(error_text(error)),
        )

    def _on_pdf_saved(self, path: Path) -> None:
        self.status.setText(f"Saved {path.name}")
        self.pdf_saved.emit(str(path))


class ReceiptDialog(_PrintableDialog):
    """After a sale: the receipt, change due, print / PDF, and Done. A reprint (``copy``) is
    marked COPY, lists the sale's ``refunds``, and shows no "Change due": that was the
    sale's, handed over then."""

    def __init__(
        self,
        order: Order,
        store: StoreProfile,
        runner: TaskRunner,
        *,
        title: str = "Sale complete",
        copy: bool = False,
        refunds: tuple[Refund, ...] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        self.order = order
        self._runner = runner
        receipt = build_receipt(order, store, copy=copy, refunds=refunds)
        self._store = store
        self._refunds = refunds
        self.refund_receipt_dialog: RefundReceiptDialog | None = None
        self.resize(760, 780)
        self.change_amount: QWidget | None = None
        if order.change and not copy:
            change_row = QHBoxLayout()
            change_row.addWidget(label("Change due", "TotalCaption"))
            change_row.addStretch(1)
            self.change_amount = label(money(order.change, order.currency), "ChangeAmount")
            change_row.addWidget(self.change_amount)
            self.body.addLayout(change_row)
        self._add_document(
            receipt, receipt_document(receipt), receipt_document(receipt, width_px=560, base_pt=12)
        )
        if copy and receipt.refunds:
            again = button("Refund receipt", self.show_refund_receipt)
            again.setAutoDefault(False)
            self.buttons.addWidget(again)
        if copy:
            self.finish_layout("Close (Enter)", "Close (Esc)", stretch=False)
        else:
            self.finish_layout("Next customer (Enter)", "Close (Esc)", stretch=False)
        self.cancel_button.hide()
        self.ok_button.setFocus()

    def show_refund_receipt(self) -> None:
        """A copy of the receipt of the last refund this copy lists."""
        latest = _latest_done(self._refunds)
        if latest is None:
            return
        slip = build_refund_receipt(self.order, latest, self._store, self._refunds, copy=True)
        again = RefundReceiptDialog(
            slip,
            self._runner,
            confirmation=f"A copy of the receipt of the last refund ({slip.printed_time}).",
            parent=self,
        )
        self.refund_receipt_dialog = again
        again.open()


class RefundReceiptDialog(_PrintableDialog):
    """After a refund: what was given back (the confirmation), its receipt to print or save
    as PDF, and whether the customer is e-mailed one by the store's server."""

    def __init__(
        self,
        slip: RefundReceipt,
        runner: TaskRunner,
        *,
        confirmation: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Refund done · receipt {slip.receipt_no}", parent)
        self._runner = runner
        self.resize(760, 720)
        self.confirmation = label(confirmation, "Subtitle", wrap=True)
        self.body.addWidget(self.confirmation)
        self._add_document(
            slip,
            html_document(refund_receipt_html(slip)),
            html_document(refund_receipt_html(slip, base_pt=12), width_px=560),
        )
        self.finish_layout("Done (Enter)", "Close (Esc)", stretch=False)
        self.cancel_button.hide()
        self.ok_button.setFocus()

    def pdf_name(self) -> str:
        return f"refund-{self.receipt.receipt_no}-{self.receipt.refund_ref}.pdf"


def _latest_done(refunds: tuple[Refund, ...]) -> Refund | None:
    done = [r for r in refunds if r.state is RefundState.DONE]
    return max(done, key=lambda r: (r.refunded_at or r.created_at, r.id), default=None)
