"""The Reports screen: managers only; offline it computes this till's own reports, which equal
sums taken straight over the till's orders; CSV export writes what the table shows; nothing is
cut at the counter sizes."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.domain.audit import AuditAction, AuditEntry
from app.domain.cart import Cart, Discount, DiscountKind
from app.domain.errors import PosError
from app.domain.order import OrderStatus, TenderInput, TenderKind
from app.domain.refund import Refund, RefundState
from app.domain.report import ReportName
from app.services.checkout import complete_sale
from app.services.reports import ReportRequest, local_report
from tests.fakes import StepClock
from tests.ui.layout_check import clipped_widgets
from tests.ui.test_layout import SIZES, _fit_to_screen
from ui.reports import LOCAL_ONLY_TEXT, ReportsDialog
from ui.sample_catalog import barcode_of
from ui.tasks import TaskRunner

from .conftest import add_clerk
from .test_z_report_view import _text

TIMEOUT = 10_000
FIRST_DAY = date(2026, 11, 23)  # Europe/Dublin is UTC+0 in winter: local dates are UTC dates


@pytest.fixture
def runner(qapp: Any, terminal: Any) -> Any:
    tasks = TaskRunner()
    tasks.route_writes(terminal)
    yield tasks
    tasks.shutdown()


def _sell(terminal: Any, maria: Any, ben: Any) -> list[Any]:
    """Nine sales over three days by two clerks (cash, card, split, a discount), one refund,
    one void: what the reports must add up."""
    with terminal.read() as uow:
        coffee = uow.products.by_code(barcode_of("Ground coffee 500 g"))
        milk = uow.products.by_code(barcode_of("Whole milk 1 L"))
        eggs = uow.products.by_code(barcode_of("Free-range eggs, 10"))
    orders = []
    for n in range(9):
        at = datetime(2026, 11, 23 + n // 3, 9 + 3 * (n % 3), 15, tzinfo=UTC)
        cart = Cart(currency="EUR").add(coffee).add(milk, 1 + n % 2)
        if n % 4 == 0:
            cart = cart.add(eggs)
        if n == 4:
            line = cart.lines[0].line_id
            cart = cart.set_line_discount(line, Discount(DiscountKind.PERCENT, 1000, "dented"))
        total = cart.totals(terminal.store.taxes).total
        tenders = (
            [TenderInput(TenderKind.CASH, total + 500)],
            [TenderInput(TenderKind.CARD, total)],
            [TenderInput(TenderKind.CARD, 300), TenderInput(TenderKind.CASH, total - 300)],
        )[n % 3]
        clerk = maria if n % 2 == 0 else ben
        args = (terminal.store, StepClock(at), terminal.ids)
        orders.append(complete_sale(terminal.uow(), cart, tenders, clerk, *args))
    refunded_at = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    refund = Refund(
        "r-1", orders[1].id, 250, 250, 0, None, "Damaged", (), maria.id, "Maria",
        refunded_at, RefundState.DONE, refunded_at,
    )  # fmt: skip
    voided = orders[5]
    with terminal.uow() as uow:
        uow.refunds.add(refund)
        uow.orders.set_refunded_total(orders[1].id, 250)
        uow.orders.set_status(voided.id, OrderStatus.VOIDED)
        at = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
        uow.audit.add(
            AuditEntry(
                at, maria.id, "Maria", AuditAction.ORDER_VOIDED, "Wrong items", voided.total,
                voided.receipt_no,
            )
        )  # fmt: skip
        uow.commit()
    return orders


def _open(qtbot: Any, terminal: Any, runner: Any, clerk: Any) -> ReportsDialog:
    dialog = ReportsDialog(terminal, runner, clerk, today=FIRST_DAY + timedelta(days=6))
    qtbot.addWidget(dialog)
    dialog.from_date.setDate(FIRST_DAY)
    dialog.show()
    return dialog


def _show(qtbot: Any, dialog: ReportsDialog, report: ReportName) -> Any:
    dialog.report_choice.setCurrentIndex(dialog.report_choice.findData(report))
    with qtbot.waitSignal(dialog.report_shown, timeout=TIMEOUT) as shown:
        dialog.load()
    return shown.args[0]


def test_a_clerk_cannot_open_reports(terminal: Any, runner: Any) -> None:
    ben = add_clerk(terminal, "Ben", "1357")
    with pytest.raises(PosError, match="only a manager may open the reports; Ben is a clerk"):
        ReportsDialog(terminal, runner, ben)
    today = date.today()
    with pytest.raises(PosError, match="only a manager"):  # the use case refuses as well
        local_report(
            terminal.local_reports(), ben, ReportRequest(ReportName.SALES_BY_DAY, today, today)
        )


def test_offline_reports_equal_sums_over_the_tills_orders_export_and_fit_the_screen(
    qtbot: Any, terminal: Any, runner: Any, tmp_path: Path
) -> None:
    maria = add_clerk(terminal, "Maria", "246810", manager=True)
    ben = add_clerk(terminal, "Ben", "1357")
    orders = _sell(terminal, maria, ben)
    sales = [o for n, o in enumerate(orders) if n != 5]  # the voided one is no sale
    dialog = _open(qtbot, terminal, runner, maria)
    assert not dialog.pin_row.isVisible()  # offline: nothing to ask the server

    by_day = _show(qtbot, dialog, ReportName.SALES_BY_DAY)
    assert by_day.local_only and dialog.banner.isVisible()
    assert dialog.banner.text().startswith(LOCAL_ONLY_TEXT)
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for order in sales:
        day = expected[order.paid_at.date().isoformat()]
        day[0] += 1
        day[1] += order.total + order.discount_total
        day[2] += order.discount_total
        day[3] += order.total
        day[4] += order.tax_total
    rows = {row[0]: row for row in by_day.rows}
    assert sorted(rows) == ["2026-11-23", "2026-11-24", "2026-11-25"]
    for day, (count, gross, discounts, amount, tax) in expected.items():
        refunds = 250 if day == "2026-11-25" else 0
        assert rows[day] == (day, count, gross, discounts, amount, refunds, amount - refunds, tax)
    assert by_day.totals["sales"] == sum(o.total for o in sales)
    assert dialog.grid.rowCount() == 4  # three days and the totals
    assert dialog.chart is not None and dialog.chart_view.isVisible()

    tenders = {row[0]: row for row in _show(qtbot, dialog, ReportName.TENDERS).rows}
    for kind in ("cash", "card"):
        taken = [t for o in sales for t in o.tenders if t.kind.value == kind]
        back = 250 if kind == "card" else 0
        assert tenders[kind] == (kind, len(taken), sum(t.amount for t in taken), back,
                                 sum(t.amount for t in taken) - back)  # fmt: skip

    clerks = {row[1]: row for row in _show(qtbot, dialog, ReportName.CLERKS).rows}
    for clerk in (maria, ben):
        theirs = [o for o in sales if o.clerk_id == clerk.id]
        assert clerks[clerk.name][2:4] == (len(theirs), sum(o.total for o in theirs))
    # the refund Maria gave; the void she made takes back Ben's sale, so it is Ben's
    assert orders[5].clerk_id == ben.id
    assert clerks["Maria"][5:] == (1, 250, 0, 0)
    assert clerks["Ben"][7:] == (1, orders[5].total)

    adjustments = {row[0]: row[1:] for row in _show(qtbot, dialog, ReportName.ADJUSTMENTS).rows}
    discounted = [o for o in sales if o.discount_total]
    assert adjustments == {
        "refunds": (1, 250),
        "voids": (1, orders[5].total),
        "discounts": (len(discounted), sum(o.discount_total for o in discounted)),
    }

    # CSV export: what the table shows, with its totals line
    table = _show(qtbot, dialog, ReportName.SALES_BY_DAY)
    assert dialog.export_name("csv") == "sales-by-day-local-2026-11-23-2026-11-29.csv"
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as exported:
        dialog.save_csv(tmp_path / "days.csv")
    with open(exported.args[0], newline="", encoding="utf-8") as file:
        lines = list(csv.reader(file))
    assert lines[0] == [
        "Date", "Sales", "Gross", "Discounts", "Sales amount", "Refunds", "Net", "Tax",
    ]  # fmt: skip
    first = table.rows[0]
    assert lines[1] == [first[0], str(first[1])] + [f"{v / 100:.2f}" for v in first[2:]]
    totals = table.totals
    assert lines[-1] == ["Total", str(totals["orders"])] + [
        f"{totals[k] / 100:.2f}" for k in ("gross", "discounts", "sales", "refunds", "net", "tax")
    ]
    assert len(lines) == 1 + len(table.rows) + 1
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as exported:
        dialog.save_pdf(tmp_path / "days.pdf")  # the PDF: title, scope, chart and table
    words = _text(Path(exported.args[0]))
    assert "Sales by day" in words and LOCAL_ONLY_TEXT in words
    assert f"Total {totals['orders']} {totals['gross'] / 100:.2f}" in words

    # nothing cut at the counter sizes, for the widest tables
    problems: list[str] = []
    for report in (ReportName.CLERKS, ReportName.PRODUCTS):
        _show(qtbot, dialog, report)
        for size in SIZES:
            _fit_to_screen(dialog, size)
            qtbot.wait(1)
            problems += [f"{report} at {size}: {p}" for p in clipped_widgets(dialog)]
    assert problems == []


def test_a_clerk_chosen_shows_only_that_clerks_figures_and_tenders_refuse_the_filter(
    qtbot: Any, terminal: Any, runner: Any, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    from app.services.clerks import deactivate_clerk

    maria = add_clerk(terminal, "Maria", "246810", manager=True)
    ben = add_clerk(terminal, "Ben", "1357")
    cleo = add_clerk(terminal, "Cleo", "2468")
    deactivate_clerk(terminal.uow(), terminal.ids, StepClock(datetime.now(UTC)), maria, cleo.id)
    orders = _sell(terminal, maria, ben)
    bens = [o for n, o in enumerate(orders) if n != 5 and o.clerk_id == ben.id]
    dialog = _open(qtbot, terminal, runner, maria)
    choice = dialog.clerk_choice
    qtbot.waitUntil(lambda: choice.count() == 4, timeout=TIMEOUT)
    assert [choice.itemText(i) for i in range(4)] == [
        "All clerks", "Ben", "Cleo (inactive)", "Maria",
    ]  # fmt: skip
    assert dialog.store_text.text() == (
        f"Store {terminal.store.store_code} · {terminal.store.store_name}"
    )
    # Alt+C moves to the clerk box (Alt+T to the terminal box, whose Tab leads to it)
    dialog.activateWindow()
    qtbot.keyClick(dialog, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    assert dialog.terminal_choice.hasFocus() or dialog.terminal_choice.lineEdit().hasFocus()
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert choice.hasFocus()
    dialog.report_choice.setFocus()
    qtbot.keyClick(dialog, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert choice.hasFocus()
    choice.setCurrentIndex(choice.findData(ben.id))

    by_day = _show(qtbot, dialog, ReportName.SALES_BY_DAY)
    assert by_day.clerk == ben.id
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in bens:
        days[order.paid_at.date().isoformat()][0] += 1
        days[order.paid_at.date().isoformat()][1] += order.total
    assert {r[0]: [r[1], r[4]] for r in by_day.rows if r[1] or r[5]} == days
    assert by_day.totals["refunds"] == 0  # Maria gave the refund
    shown = [dialog.grid.item(r, 4).text() for r in range(dialog.grid.rowCount() - 1)]
    assert len(shown) == len(by_day.rows) and dialog.grid.item(dialog.grid.rowCount() - 1, 0)
    assert " · all terminals · clerk Ben · " in dialog.status.text()
    clerks = _show(qtbot, dialog, ReportName.CLERKS)
    assert [r[1:4] for r in clerks.rows] == [("Ben", len(bens), sum(o.total for o in bens))]
    assert dialog.grid.rowCount() == 2 and dialog.grid.item(0, 0).text() == "Ben"

    # the exports say whose figures they are
    assert dialog.export_name("csv") == "clerks-clerk-ben-local-2026-11-23-2026-11-29.csv"
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as exported:
        dialog.save_csv(tmp_path / "ben.csv")
    with open(exported.args[0], newline="", encoding="utf-8") as file:
        lines = list(csv.reader(file))
    assert lines[0] == [
        "Clerks · 2026-11-23 to 2026-11-29 · all terminals · clerk Ben · Europe/Dublin"
    ]
    assert lines[1][:3] == ["Clerk id", "Clerk", "Sales"] and lines[2][1] == "Ben"
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as exported:
        dialog.save_pdf(tmp_path / "ben.pdf")
    assert "Clerks · clerk Ben" in _text(Path(exported.args[0]))

    # tenders have no clerk: the box is disabled and says why, and the figures are the till's
    tenders = _show(qtbot, dialog, ReportName.TENDERS)
    reason = "No clerk filter for tenders: its figures are not kept by clerk"
    assert not choice.isEnabled() and choice.toolTip() == reason
    assert tenders.clerk is None and dialog.status.text().endswith(f" · {reason}")
    assert " · all clerks · " in dialog.status.text()
    assert sum(r[1] for r in tenders.rows) == sum(
        len(o.tenders) for n, o in enumerate(orders) if n != 5
    )
    again = _show(qtbot, dialog, ReportName.SALES_BY_HOUR)
    assert choice.isEnabled() and again.clerk == ben.id  # the choice is kept


def test_ctrl_r_opens_reports_for_a_manager_and_a_clerk_is_refused(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    from PySide6.QtCore import Qt

    from tests.ui.test_register_flow import log_in

    add_clerk(terminal, "Maria", "246810", manager=True)
    add_clerk(terminal, "Ben", "1357")
    window = open_window()
    log_in(qtbot, window, "Ben", "1357")
    assert not window.reports_action.isEnabled()
    window.show_reports()
    assert window.reports_dialog is None
    assert window.register.notice.text() == "Only a manager may open the reports; Ben is a clerk"

    window.show_login()
    log_in(qtbot, window, "Maria", "246810")
    qtbot.keyClick(window.register.scan_field, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.reports_dialog is not None, timeout=TIMEOUT)
    window.reports_dialog.reject()


def test_the_value_axis_never_shows_two_ticks_alike() -> None:
    """A day of €1.09 gave ticks 0, 1, 1, 1, 2 (seen in a real window): the labels take the
    decimals the step needs."""
    from ui.reports import tick_decimals

    assert tick_decimals(0.0, 2.0, 5) == 1  # 0, 0.5, 1.0, 1.5, 2.0
    assert tick_decimals(0.0, 200.0, 5) == 0  # 0, 50, 100, 150, 200
    assert tick_decimals(0.0, 0.2, 5) == 2  # 0, 0.05, …
    for low, high, ticks in ((0.0, 2.0, 5), (0.0, 200.0, 5), (0.0, 0.2, 5), (0.0, 1.2, 7)):
        decimals = tick_decimals(low, high, ticks)
        step = (high - low) / (ticks - 1)
        labels = [f"%.{decimals}f" % (low + i * step) for i in range(ticks)]
        assert len(set(labels)) == ticks, labels
