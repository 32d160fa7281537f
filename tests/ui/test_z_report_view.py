"""The printed X and Z reports: every figure on the sheet, PROVISIONAL or FINAL in large type,
the waiting and synced-after-close sales apart; the PDF read back with poppler (pdftotext for
its words, pdftoppm for its picture: one page of receipt roll, the status line in large type)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage

from app.domain.cart import Cart
from app.domain.order import TenderInput, TenderKind
from app.domain.refund import Refund, RefundState
from app.domain.shift import CashCount, Shift, close_z, final_z, z_figures
from app.services.checkout import complete_sale
from ui.sample_catalog import barcode_of
from ui.z_report_view import (
    ZReportDialog,
    save_shift_sheet_pdf,
    shift_sheet_html,
    x_report_sheet,
    z_report_sheet,
)

from .conftest import add_clerk
from .layout_check import clipped_widgets
from .test_layout import SIZES, _fit_to_screen

TIMEOUT = 10_000


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:  # make test installs it (scripts/ensure_test_deps.sh): fail, never skip
        pytest.fail(f"{tool} is missing: apt-get install poppler-utils")
    return found


def _sales(terminal: Any, clerk: Any) -> list[Any]:
    """Cash, card and a split sale of the sample catalog."""
    with terminal.read() as uow:
        coffee = uow.products.by_code(barcode_of("Ground coffee 500 g"))
        milk = uow.products.by_code(barcode_of("Whole milk 1 L"))
    cart = Cart(currency="EUR").add(coffee).add(milk, 2)
    total = cart.totals(terminal.store.taxes).total
    tenders = (
        [TenderInput(TenderKind.CASH, 5000)],
        [TenderInput(TenderKind.CARD, total)],
        [TenderInput(TenderKind.CARD, 500), TenderInput(TenderKind.CASH, total - 500)],
        [TenderInput(TenderKind.CASH, total)],
    )
    args = (terminal.store, terminal.clock, terminal.ids)
    return [complete_sale(terminal.uow(), cart, list(t), clerk, *args) for t in tenders]


def _text(pdf: Path) -> str:
    done = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, check=True
    )
    return " ".join(unicodedata.normalize("NFKC", done.stdout.decode()).split())  # ligatures


def test_z_report_pdf_shows_every_figure_and_its_status(
    qtbot: Any, terminal: Any, tmp_path: Path
) -> None:
    maria = add_clerk(terminal, "Maria", "246810", manager=True)
    orders = _sales(terminal, maria)
    given = orders[0].paid_at + timedelta(minutes=1)
    refund = Refund(
        "r1", orders[0].id, 150, 0, 150, None, "Damaged", (), maria.id, "Maria", given,
        RefundState.DONE, given,
    )  # fmt: skip
    opened = orders[0].paid_at - timedelta(minutes=5)
    float_count = CashCount.from_counts("EUR", {2000: 5})
    shift = Shift("shift-1", "T01", opened, maria.id, float_count, opened_by_name="Maria")
    counted = CashCount.from_counts("EUR", {5000: 1, 2000: 5, 500: 1, 10: 3})
    closed_at = datetime.now(UTC)
    late = {orders[-1].id}
    provisional = close_z(
        shift, 7, closed_at, maria.id, counted, orders, late, [refund], clerks=["Maria"]
    )
    sheet = z_report_sheet(provisional, terminal.store, {maria.id: "Maria"})
    pdf = save_shift_sheet_pdf(sheet, tmp_path / "z.pdf")
    words = _text(pdf)
    f = provisional.figures
    amounts = {
        "Gross sales": f.gross_sales,
        "Refunds (1)": -f.refunds,
        "NET SALES": f.net_sales,
        "Float": 10_000,
        "+ Cash sales": f.cash_sales,
        "+ Cash of sales waiting to sync": orders[-1].total,
        "− Cash refunds": -150,
        "= Expected": provisional.expected_cash,
        "Counted": counted.total,
    }
    assert "Z REPORT 7" in words and "PROVISIONAL" in words and "FINAL" not in words
    for caption, minor in amounts.items():
        assert f"{caption} {minor / 100:.2f}" in words, caption
    assert f"Number of sales {f.sales_count}" in words and f.sales_count == 3
    assert f"Receipts {orders[0].receipt_no} – {orders[2].receipt_no}" in words
    assert "Cash (2)" in words and "Card (2)" in words  # the split sale counts in both
    difference = counted.total - provisional.expected_cash
    assert f"Difference ({'over' if difference > 0 else 'short'}) {difference / 100:.2f}" in words
    assert "Waiting to sync at the close (1) " in words and orders[-1].receipt_no in words
    screen = shift_sheet_html(sheet, list_limit=0)  # the screen names at most so many
    assert "… and 1 more: Print or PDF lists them all" in screen
    assert orders[-1].receipt_no not in screen and orders[-1].receipt_no in shift_sheet_html(sheet)
    assert provisional.expected_cash == (
        10_000 + sum(o.total for o in orders) - orders[1].total - 500 - 150
    )

    page = tmp_path / "z"
    subprocess.run([_poppler("pdftoppm"), "-r", "100", "-png", str(pdf), str(page)], check=True)
    pages = sorted(tmp_path.glob("z*.png"))
    assert len(pages) == 1  # one sheet of receipt roll, never cut into pages
    image = QImage(str(pages[0]))
    assert abs(image.width() - 80 / 25.4 * 100) <= 2  # 80 mm wide
    assert image.height() > 2 * image.width()  # one long sheet

    inked = [
        any(QColor(image.pixel(x, y)).lightness() < 100 for x in range(0, image.width(), 2))
        for y in range(image.height())
    ]
    bands: list[tuple[int, int]] = []  # (top, height) of each line of ink
    for y, ink in enumerate([*inked, False]):
        if ink and (not bands or bands[-1][0] + bands[-1][1] != y):
            bands.append((y, 1))
        elif ink:
            bands[-1] = (bands[-1][0], bands[-1][1] + 1)
    tallest = max(bands[:6], key=lambda band: band[1])  # the heading's lines
    usual = sorted(height for _top, height in bands)[len(bands) // 2]
    assert tallest[1] >= 2 * usual  # PROVISIONAL in large type, above the figures

    final = final_z(
        provisional,
        z_figures(orders, [refund], float_amount=10_000, clerks=["Maria"]),
        closed_at + timedelta(minutes=3),
    )
    words = _text(save_shift_sheet_pdf(z_report_sheet(final, terminal.store), tmp_path / "f.pdf"))
    assert "FINAL" in words and "PROVISIONAL" not in words
    assert "Synced after close (1)" in words and "Waiting to sync" not in words
    assert f"NET SALES {final.figures.net_sales / 100:.2f}" in words
    assert final.figures.net_sales - f.net_sales == orders[-1].total


def test_x_report_closes_nothing_fits_the_counter_screens_and_saves_its_pdf(
    qtbot: Any, terminal: Any, tmp_path: Path
) -> None:
    from ui.tasks import TaskRunner

    maria = add_clerk(terminal, "Maria", "246810", manager=True)
    orders = _sales(terminal, maria)
    shift = Shift(
        "s", "T01", orders[0].paid_at, maria.id, CashCount("EUR", {}), opened_by_name="Maria"
    )
    sheet = x_report_sheet(shift, z_figures(orders), terminal.store, datetime.now(UTC))
    html = shift_sheet_html(sheet)
    assert "X REPORT" in html and "closes nothing" in html and "Counted" not in html
    runner = TaskRunner()
    dialog = ZReportDialog(sheet, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.pdf_name().startswith("x-report-T01-")
    for size in SIZES:  # nothing cut at the counter sizes
        _fit_to_screen(dialog, size)
        qtbot.wait(1)
        assert clipped_widgets(dialog) == [], size
        # the sheet is as wide as its view: no sideways scroll bar for a pixel over
        assert not dialog.view.horizontalScrollBar().isVisible(), size
    with qtbot.waitSignal(dialog.pdf_saved, timeout=TIMEOUT) as saved:
        dialog.save_pdf(tmp_path / dialog.pdf_name())
    assert "X REPORT" in _text(Path(saved.args[0]))
    runner.shutdown()
