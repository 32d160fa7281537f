"""The X and Z reports of a shift on screen, on paper and as PDF (docs/manager.md).

One printed sheet, built as HTML from the pure figures of ``app.domain.shift`` and laid out
in a ``QTextDocument`` as the receipt is (ui/receipt_view.py): the till's receipt printer
prints it, "PDF…" saves it. A Z report says PROVISIONAL or FINAL in large type at the top;
a provisional one lists the sales still waiting to reach the server at the close (their cash
is expected in the drawer, so a late sale is never variance), a final one lists apart the
sales that reached the server after the close. An X report is the same figures taken at any
time: it closes nothing and says so.

Qt's print support is imported only when a person prints, previews or saves a PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtWidgets import QWidget

from app.domain.money import format_minor
from app.domain.shift import CashCount, ReportedSale, Shift, ZFigures, ZReport, ZStatus
from app.domain.store import StoreProfile
from ui.receipt_view import DOC_WIDTH_PX, _PrintableDialog, html_document
from ui.tasks import TaskRunner
from ui.widgets import error_text, label

SCREEN_LIST_LIMIT = 100  # sales named on screen of those listed apart (paper: all)
TENDER_WORDS = {"cash": "Cash", "card": "Card", "pay_later": "Pay later"}


@dataclass(frozen=True, slots=True)
class ShiftSheet:
    """Everything one printed X or Z report shows (figures in minor units)."""

    kind: str  # "X" or "Z"
    store_name: str
    store_address: str
    store_code: str
    terminal_code: str
    currency: str
    locale: str
    z_number: int | None  # None on an X report
    status: ZStatus | None  # None on an X report
    opened_at: datetime
    opened_by: str  # names
    closed_at: datetime | None
    closed_by: str
    finalised_at: datetime | None
    printed_at: datetime
    figures: ZFigures
    counted: CashCount | None
    expected_cash: int
    waiting: tuple[ReportedSale, ...] = ()
    synced_after_close: tuple[ReportedSale, ...] = ()

    @property
    def title(self) -> str:
        if self.kind == "X":
            return f"X report · till {self.terminal_code}"
        return f"Z {self.z_number} · till {self.terminal_code}"

    @property
    def status_word(self) -> str:
        if self.status is None:
            return "X REPORT"
        return self.status.value.upper()

    @property
    def pdf_name(self) -> str:
        if self.kind == "X":
            return f"x-report-{self.terminal_code}-{self.printed_at:%Y%m%d-%H%M}.pdf"
        status = self.status.value if self.status else "z"
        return f"z-report-{self.terminal_code}-{self.z_number:04d}-{status}.pdf"

    @property
    def waiting_cash(self) -> int:
        return sum(sale.cash_amount for sale in self.waiting)

    @property
    def difference(self) -> int | None:
        return None if self.counted is None else self.counted.total - self.expected_cash


def z_report_sheet(
    report: ZReport,
    store: StoreProfile,
    names: Mapping[str, str] | None = None,
    printed_at: datetime | None = None,
) -> ShiftSheet:
    """The sheet of a Z report; ``names`` maps clerk ids to names (the report keeps ids)."""
    names = names or {}
    return ShiftSheet(
        kind="Z",
        store_name=store.store_name,
        store_address=store.store_address,
        store_code=store.store_code,
        terminal_code=report.terminal_code,
        currency=report.counted.currency,
        locale=store.locale,
        z_number=report.z_number,
        status=report.status,
        opened_at=report.opened_at,
        opened_by=names.get(report.opened_by, report.opened_by),
        closed_at=report.closed_at,
        closed_by=names.get(report.closed_by, report.closed_by),
        finalised_at=report.finalised_at,
        printed_at=printed_at or report.finalised_at or report.closed_at,
        figures=report.figures,
        counted=report.counted,
        expected_cash=report.expected_cash,
        waiting=report.waiting,
        synced_after_close=report.synced_after_close,
    )


def x_report_sheet(
    shift: Shift,
    figures: ZFigures,
    store: StoreProfile,
    at: datetime,
    names: Mapping[str, str] | None = None,
) -> ShiftSheet:
    """The sheet of an X report: the shift's figures at ``at``, no count, nothing closed."""
    names = names or {}
    return ShiftSheet(
        kind="X",
        store_name=store.store_name,
        store_address=store.store_address,
        store_code=store.store_code,
        terminal_code=shift.terminal_code,
        currency=shift.float_count.currency,
        locale=store.locale,
        z_number=None,
        status=None,
        opened_at=shift.opened_at,
        opened_by=shift.opened_by_name or names.get(shift.opened_by, shift.opened_by),
        closed_at=None,
        closed_by="",
        finalised_at=None,
        printed_at=at,
        figures=figures,
        counted=None,
        expected_cash=figures.expected_cash,
    )


def _when(moment: datetime | None, tz: tzinfo | None) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "–"


def shift_sheet_html(
    sheet: ShiftSheet,
    base_pt: int = 10,
    tz: tzinfo | None = None,
    list_limit: int | None = None,
) -> str:
    """The printed report as HTML for a ``QTextDocument`` (80 mm paper, like the receipt);
    ``tz`` is the wall clock the times are printed in (default: the till's). ``list_limit``
    names at most that many of the sales listed apart, then how many more (the screen's
    view; paper and PDF list them all)."""
    f = sheet.figures

    def amount(minor: int) -> str:
        return format_minor(minor, sheet.currency, sheet.locale)

    def row(left: str, right: str = "", style: str = "", indent: bool = False) -> str:
        pad = "padding-left:14px;" if indent else ""
        return (
            f"<tr style='{style}'><td style='{pad}'>{escape(left)}</td>"
            f"<td align='right'>{escape(right)}</td></tr>"
        )

    def section(heading: str) -> str:
        return f"<tr><td colspan='2' style='padding-top:6px'><b>{escape(heading)}</b></td></tr>"

    bold = "font-weight:bold"
    big = f"font-size:{base_pt + 3}pt; font-weight:bold"
    table = "<table width='100%' cellspacing='0' cellpadding='1'>"
    parts = [
        f"<div style='font-family: \"DejaVu Sans\"; font-size: {base_pt}pt; color: #000;'>",
        f"<p align='center' style='margin:0'><b style='font-size:{base_pt + 3}pt'>"
        f"{escape(sheet.store_name)}</b><br>{escape(sheet.store_address)}</p>",
    ]
    if sheet.kind == "X":
        parts.append(
            f"<p align='center' style='margin:6px 0 0 0'><b style='font-size:{base_pt + 10}pt'>"
            "X REPORT</b><br>Shift still open · closes nothing</p>"
        )
    else:
        parts.append(
            f"<p align='center' style='margin:6px 0 0 0'><b style='font-size:{base_pt + 6}pt'>"
            f"Z REPORT {sheet.z_number}</b><br><b style='font-size:{base_pt + 12}pt'>"
            f"{escape(sheet.status_word)}</b></p>"
        )
        if sheet.status is ZStatus.PROVISIONAL:
            many = len(sheet.waiting) != 1
            parts.append(
                f"<p align='center' style='margin:2px 0'>{len(sheet.waiting)} "
                f"sale{'s' if many else ''} had not reached the server at the close. "
                "This report becomes final by itself once "
                f"{'they have' if many else 'it has'}; the count is kept.</p>"
            )
    parts.append(table)
    parts.append(row(f"Store {sheet.store_code}", f"Till {sheet.terminal_code}"))
    parts.append(row("Opened", f"{_when(sheet.opened_at, tz)} {sheet.opened_by}".strip()))
    if sheet.kind == "Z":
        parts.append(row("Closed", f"{_when(sheet.closed_at, tz)} {sheet.closed_by}".strip()))
        if sheet.finalised_at is not None:
            parts.append(row("Final", _when(sheet.finalised_at, tz)))
    else:
        parts.append(row("Taken", _when(sheet.printed_at, tz)))
    parts.append(row("Clerks", ", ".join(f.clerks) or "–"))
    receipts = f"{f.first_receipt_no} – {f.last_receipt_no}" if f.first_receipt_no else "none"
    parts.append(row("Receipts", receipts))
    parts.append(row("Number of sales", str(f.sales_count)))
    parts.append("</table><hr>" + table)

    parts.append(section(f"Sales ({sheet.currency})"))
    parts.append(row("Gross sales", amount(f.gross_sales)))
    parts.append(row("Discounts", amount(-f.discounts)))
    parts.append(row(f"Refunds ({f.refunds_count})", amount(-f.refunds)))
    parts.append(row(f"Voids ({f.voids_count})", amount(-f.voids)))
    parts.append(row("NET SALES", amount(f.net_sales), big))
    parts.append(
        row(
            f"Cancelled before payment ({f.cancellations_count})",
            amount(f.cancellations),
            "color:#444",
        )
    )
    parts.append("</table>")

    parts.append(
        f"<table width='100%' cellspacing='0' cellpadding='1' style='font-size:{base_pt}pt'>"
        "<tr><td colspan='4' style='padding-top:6px'><b>Tax per rate</b></td></tr>"
        "<tr><td>Rate</td><td align='right'>Net</td><td align='right'>Tax</td>"
        "<td align='right'>Gross</td></tr>"
    )
    for line in f.tax:
        parts.append(
            f"<tr><td>{escape(line.label)}</td><td align='right'>{amount(line.net)}</td>"
            f"<td align='right'>{amount(line.tax)}</td>"
            f"<td align='right'>{amount(line.gross)}</td></tr>"
        )
    if not f.tax:
        parts.append("<tr><td colspan='4'>none</td></tr>")
    parts.append("</table>" + table)

    parts.append(section("Tenders"))
    for tender in f.tenders:
        parts.append(
            row(
                f"{TENDER_WORDS.get(tender.kind, tender.kind)} ({tender.count})",
                amount(tender.amount),
            )
        )
    if not f.tenders:
        parts.append(row("none"))
    parts.append(section("Phone and delivery orders"))
    parts.append(row("Taken", str(f.phone_orders_taken)))
    parts.append(row("Paid", str(f.phone_orders_paid)))
    parts.append("</table><hr>" + table)

    parts.append(section("Cash in the drawer"))
    parts.append(row("Float", amount(f.float_amount)))
    parts.append(row("+ Cash sales", amount(f.cash_sales)))
    if sheet.waiting:
        parts.append(row("+ Cash of sales waiting to sync", amount(sheet.waiting_cash)))
    parts.append(row("− Cash refunds", amount(-f.cash_refunds)))
    if f.cash_voids:
        parts.append(row("− Cash of voided sales", amount(-f.cash_voids)))
    parts.append(row("+ Paid in", amount(f.paid_in)))
    parts.append(row("− Paid out", amount(-f.paid_out)))
    parts.append(row("= Expected", amount(sheet.expected_cash), bold))
    if sheet.counted is not None and sheet.difference is not None:
        parts.append(row("Counted", amount(sheet.counted.total), bold))
        difference = sheet.difference
        word = "over" if difference > 0 else "short" if difference < 0 else "balanced"
        parts.append(row(f"Difference ({word})", amount(difference), big))
    parts.append(row("No-sale drawer opens", str(f.no_sales)))
    parts.append("</table>")

    if sheet.counted is not None and sheet.counted.counts:
        parts.append(
            f"<table width='100%' cellspacing='0' cellpadding='1' style='font-size:{base_pt - 1}pt'>"
            "<tr><td colspan='3' style='padding-top:6px'><b>Counted</b></td></tr>"
        )
        for value, pieces in sheet.counted.counts.items():
            parts.append(
                f"<tr><td>{amount(value)}</td><td align='right'>× {pieces}</td>"
                f"<td align='right'>{amount(value * pieces)}</td></tr>"
            )
        parts.append("</table>")

    parts += _sales_list(
        "Waiting to sync at the close",
        "Not in the figures above; their cash is in the expected cash.",
        sheet.waiting,
        amount,
        tz,
        base_pt,
        list_limit,
    )
    parts += _sales_list(
        "Synced after close",
        "Reached the server after the close: in the figures above, never variance.",
        sheet.synced_after_close,
        amount,
        tz,
        base_pt,
        list_limit,
    )
    parts.append(
        f"<hr><p align='center' style='margin:0'>Printed {_when(sheet.printed_at, tz)}"
        f" · Till {escape(sheet.terminal_code)}</p></div>"
    )
    return "".join(parts)


def _sales_list(
    heading: str,
    note: str,
    sales: Sequence[ReportedSale],
    amount: Callable[[int], str],
    tz: tzinfo | None,
    base_pt: int,
    limit: int | None = None,
) -> list[str]:
    """The sales named apart, one line each in a fixed-width paragraph (a shift closed in a
    long outage lists thousands: a table of that many rows takes seconds to lay out)."""
    if not sales:
        return []
    named = sales if limit is None else sales[:limit]
    width = max((len(amount(sale.total)) for sale in named), default=0)
    lines = [
        escape(
            f"{sale.receipt_no}  {sale.paid_at.astimezone(tz):%H:%M}  {amount(sale.total):>{width}}"
        ).replace(" ", "&nbsp;")
        for sale in named
    ]
    if len(named) < len(sales):
        lines.append(escape(f"… and {len(sales) - len(named):,} more: Print or PDF lists them all"))
    return [
        "<hr>",
        f"<p style='margin:0; font-size:{base_pt - 1}pt'><b>{escape(heading)} ({len(sales)})</b>"
        f"<br>{escape(note)}</p>",
        f"<p style='margin:2px 0; font-family: \"DejaVu Sans Mono\"; font-size:{base_pt - 1}pt'>"
        + "<br>".join(lines)  # one paragraph of lines: the quickest to lay out
        + "</p>",
        f"<table width='100%' cellspacing='0' cellpadding='1' style='font-size:{base_pt - 1}pt'>"
        f"<tr><td><b>Total</b></td><td align='right'>"
        f"<b>{amount(sum(s.total for s in sales))}</b></td></tr></table>",
    ]


def shift_sheet_document(
    sheet: ShiftSheet, width_px: int = DOC_WIDTH_PX, base_pt: int = 10, tz: tzinfo | None = None
) -> QTextDocument:
    return html_document(shift_sheet_html(sheet, base_pt, tz), width_px)


def render_shift_sheet_image(sheet: ShiftSheet, scale: float = 2.0) -> QImage:
    """The printed report as an image (screenshots)."""
    document = shift_sheet_document(sheet)
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


PAPER_MM = 80.0  # receipt roll
MARGIN_MM = 4.0


def sheet_page_layout(document: QTextDocument) -> QPageLayout:
    """One page of receipt roll as long as the report: the printed lines keep the screen's
    proportions (the document drawn to the paper's width, never re-wrapped narrower)."""
    size = document.size()
    mm_per_px = (PAPER_MM - 2 * MARGIN_MM) / size.width()
    height_mm = size.height() * mm_per_px + 2 * MARGIN_MM + 1
    page = QPageSize(QSizeF(PAPER_MM, height_mm), QPageSize.Unit.Millimeter, "Report roll")
    margins = QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM)
    return QPageLayout(page, QPageLayout.Orientation.Portrait, margins, QPageLayout.Unit.Millimeter)


def paint_sheet(document: QTextDocument, device: QPagedPaintDevice) -> None:
    """Draw ``document`` scaled to the width of ``device``'s printable area (a printer, a
    PDF writer), on the page ``sheet_page_layout`` gave it."""
    painter = QPainter(device)
    try:
        room = device.pageLayout().paintRectPixels(device.logicalDpiX())
        scale = room.width() / document.size().width()
        painter.scale(scale, scale)
        document.drawContents(painter)
    finally:
        painter.end()


def save_shift_sheet_pdf(sheet: ShiftSheet, path: Path) -> Path:
    """Write the report as a PDF on receipt roll (runs in a worker: it is file I/O)."""
    document = shift_sheet_document(sheet)
    writer = QPdfWriter(str(path))
    writer.setResolution(300)
    writer.setTitle(sheet.title)
    writer.setCreator("ShopSmart POS")
    writer.setPageLayout(sheet_page_layout(document))
    paint_sheet(document, writer)
    return path


class ZReportDialog(_PrintableDialog):
    """An X or Z report on screen with Print (Ctrl+P) / Preview / PDF…, and Close."""

    def __init__(
        self, sheet: ShiftSheet, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(sheet.title, parent)
        self.sheet = sheet
        self._runner = runner
        self.resize(760, 820)
        if sheet.status is ZStatus.PROVISIONAL:
            self.status_label = label(
                "PROVISIONAL: some sales had not reached the server at the close. The report "
                "becomes final by itself once they have.",
                "Notice",
                wrap=True,
            )
        elif sheet.status is ZStatus.FINAL:
            self.status_label = label(
                "FINAL: every sale of the shift is on the server. This report never changes.",
                "Subtitle",
                wrap=True,
            )
        else:
            self.status_label = label(
                "X report: the shift's figures so far. Nothing is closed or reset.",
                "Subtitle",
                wrap=True,
            )
        self.body.addWidget(self.status_label)
        screen = QTextDocument()  # as wide as the view: the browser lays it out
        screen.setDocumentMargin(12)
        screen.setHtml(shift_sheet_html(sheet, base_pt=12, list_limit=SCREEN_LIST_LIMIT))
        # The paper's document is laid out when it is printed (paper_document): a long list
        # of sales waiting to sync costs its layout once, on screen, at the close.
        self._add_document(sheet, screen, screen)  # type: ignore[arg-type]
        # Laid out to the view's width, the sheet's tables came out one pixel wider than it:
        # no sideways scroll bar for that pixel (nothing wider is ever cut, as it wraps).
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._paper: QTextDocument | None = None
        self.finish_layout("Close (Enter)", "Close (Esc)", stretch=False)
        self.cancel_button.hide()
        self.ok_button.setFocus()

    def pdf_name(self) -> str:
        return self.sheet.pdf_name

    def paper_document(self) -> QTextDocument:
        """The sheet as printed (80 mm roll), made on first use."""
        if self._paper is None:
            self._paper = shift_sheet_document(self.sheet)
        return self._paper

    def print_receipt(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        paper = self.paper_document()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(sheet_page_layout(paper))
        dialog = QPrintDialog(printer, self)
        if dialog.exec():
            paint_sheet(paper, printer)

    def preview(self) -> None:
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        paper = self.paper_document()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(sheet_page_layout(paper))
        dialog = QPrintPreviewDialog(printer, self)
        dialog.paintRequested.connect(lambda device: paint_sheet(paper, device))
        dialog.exec()

    def save_pdf(self, path: Path) -> None:
        sheet = self.sheet
        self.status.setText("Saving PDF…")
        self._runner.run_io(
            "z report pdf",
            lambda _c: save_shift_sheet_pdf(sheet, path),
            self._on_pdf_saved,
            lambda error: self.status.setText(error_text(error)),
        )
