"""The shift dialogs on real widgets: the float typed count by count (Enter moves down, the
total is live), the close showing expected, counted and difference before it closes the shift
into a Z report, and a no-sale that asks a manager before the drawer opens."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.domain.order import TenderInput, TenderKind
from app.domain.shift import CashCount, CashMovementKind, ZStatus
from app.services.checkout import complete_sale
from app.services.shifts import close_shift, current_shift, open_shift
from ui.approval_dialog import ApprovalDialog
from ui.shift_dialogs import CashMovementDialog, CloseShiftDialog, OpenShiftDialog
from ui.tasks import TaskRunner
from ui.widgets import money

from .conftest import add_clerk
from .test_keyboard_flow import MANAGER_PIN, _cart
from .test_register_flow import TIMEOUT

CURRENCY = "EUR"  # the test terminal's store


@pytest.fixture
def runner(qapp: Any) -> Any:
    runner = TaskRunner()
    yield runner
    runner.shutdown()


def show(qtbot: Any, dialog: Any) -> None:
    dialog.open()  # deletes itself on close (WA_DeleteOnClose)
    qtbot.waitExposed(dialog)


def type_count(qtbot: Any, text: str) -> None:
    qtbot.keyClicks(QApplication.focusWidget(), text)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)


def test_float_is_typed_down_the_grid_and_opens_the_shift(
    qtbot: Any, terminal: Any, runner: Any
) -> None:
    clerk = add_clerk(terminal, "Ana", "2468")
    dialog = OpenShiftDialog(terminal, runner, clerk)
    show(qtbot, dialog)
    grid = dialog.grid
    qtbot.waitUntil(lambda: QApplication.focusWidget() is grid.fields[50000], timeout=TIMEOUT)
    type_count(qtbot, "0")  # 500.00
    type_count(qtbot, "1")  # 200.00
    assert QApplication.focusWidget() is grid.fields[10000]  # Enter moved down
    assert dialog.isVisible()  # and did not open the shift yet
    type_count(qtbot, "")
    type_count(qtbot, "3")  # 50.00
    assert money(35000, CURRENCY) in grid.total_label.text()
    with qtbot.waitSignal(dialog.shift_opened, timeout=TIMEOUT) as opened:
        qtbot.keyClick(
            QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
    shift = opened.args[0]
    assert shift.float_count == CashCount.from_counts("EUR", {20000: 1, 5000: 3})
    assert current_shift(terminal.read()) == shift


def test_close_shows_expected_counted_difference_then_makes_the_z(
    qtbot: Any, terminal: Any, runner: Any
) -> None:
    clerk = add_clerk(terminal, "Ana", "2468")
    open_shift(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        terminal.store,
        clerk,
        CashCount.from_counts("EUR", {1000: 5}),
    )
    sale = complete_sale(
        terminal.uow(),
        _cart(terminal),
        [TenderInput(TenderKind.CASH, 2000)],
        clerk,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )
    expected = 5000 + sale.total
    dialog = CloseShiftDialog(terminal, runner, clerk)
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.expected == expected, timeout=TIMEOUT)
    assert money(expected, CURRENCY) not in dialog.summary.text()  # a blind count
    dialog.grid.set_counts({5000: 1, 1000: 1})  # 60.00 counted
    qtbot.keyClick(dialog.grid.first(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    text = dialog.summary.text()
    difference = 6000 - expected
    assert f"Expected {money(expected, CURRENCY)} · counted {money(6000, CURRENCY)}" in text
    assert f"difference {money(difference, CURRENCY)} (over)" in text
    assert dialog.report is None  # nothing closed yet
    dialog.grid.set_counts({1: 3})  # counted again after the check: checked again
    assert dialog.checked_total is None
    dialog._on_ok()
    assert f"difference {money(difference + 3, CURRENCY)} (over)" in dialog.summary.text()
    assert current_shift(terminal.read()) is not None
    with qtbot.waitSignal(dialog.closed, timeout=TIMEOUT) as closed:
        qtbot.keyClick(
            QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
    report = closed.args[0]
    assert report.z_number == 1 and report.status is ZStatus.PROVISIONAL  # not synced yet
    assert report.counted.total == 6003 and report.difference == difference + 3
    assert [s.receipt_no for s in report.waiting] == [sale.receipt_no]
    assert current_shift(terminal.read()) is None


def test_no_sale_asks_a_manager_then_records_it(qtbot: Any, terminal: Any, runner: Any) -> None:
    clerk = add_clerk(terminal, "Ana", "2468")
    add_clerk(terminal, "Sam", MANAGER_PIN, manager=True)
    open_shift(
        terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, CashCount("EUR")
    )
    dialog = CashMovementDialog(terminal, runner, clerk, CashMovementKind.NO_SALE)
    show(qtbot, dialog)
    dialog.reason_field.setText("change for the market stall")
    dialog._on_ok()
    qtbot.waitUntil(lambda: dialog.approval_dialog is not None, timeout=TIMEOUT)
    approval = dialog.approval_dialog
    assert isinstance(approval, ApprovalDialog)
    approval.pin.setText(MANAGER_PIN)
    with qtbot.waitSignal(dialog.recorded, timeout=TIMEOUT) as recorded:
        approval._on_ok()
    movement = recorded.args[0]
    assert movement.kind is CashMovementKind.NO_SALE and movement.approval_id


def test_pay_on_a_till_that_has_had_shifts_asks_to_open_one_first(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    from ui.pay import PayDialog
    from ui.sample_catalog import barcode_of

    from .test_register_flow import log_in, press, scan

    clerk = add_clerk(terminal, "Ana", "2468")
    add_clerk(terminal, "Sam", MANAGER_PIN, manager=True)
    open_shift(
        terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, CashCount("EUR")
    )
    close_shift(
        terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, CashCount("EUR")
    )
    window = open_window()
    log_in(qtbot, window, "Ana", "2468")
    register = window.register
    qtbot.waitUntil(lambda: register.shift_required, timeout=TIMEOUT)

    def offered() -> list[str]:
        return [a.text() for a in window.shift_actions if a.isEnabled()]

    qtbot.waitUntil(lambda: offered() == ["Open shift…"], timeout=TIMEOUT)  # none is open
    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    press(qtbot, register, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: isinstance(window.shift_dialog, OpenShiftDialog), timeout=TIMEOUT)
    assert "Open a shift first" in register.notice.text()
    assert not register.cart.is_empty  # the sale stays
    dialog = window.shift_dialog
    dialog.grid.set_counts({1000: 10})
    with qtbot.waitSignal(dialog.shift_opened, timeout=TIMEOUT):
        dialog._on_ok()
    assert not register.shift_required
    assert offered() == [  # with a shift open: everything but opening another
        "Paid in…",
        "Paid out…",
        "No sale (open drawer)…",
        "X report",
        "Close shift…",
    ]
    press(qtbot, register, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: isinstance(register.active_dialog, PayDialog), timeout=TIMEOUT)
