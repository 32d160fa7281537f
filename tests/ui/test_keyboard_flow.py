"""The keyboard flow through the real widgets: every dialog of ui/ opens with the focus in its
first field, Enter confirms and Esc cancels; Enter on an empty payment amount is exact cash."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.exceptions import TimeoutError as WaitTimeout

import ui
from app.domain.barcode import make_ean13
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale, park_sale
from tests.fakes import FakeGateway, FakeServerTransport
from ui.sample_catalog import barcode_of
from ui.widgets import INPUT_TYPES, ChildDialogHost, PosDialog

from .conftest import add_clerk
from .test_register_flow import TIMEOUT, log_in, press, scan
from .test_sync_status import make_bridge

MANAGER_PIN = "246813"


def dialog_classes() -> dict[str, type[QDialog]]:
    """Every dialog class defined in a module of ui/, found by walking the package (but the
    bases: PosDialog, ChildDialogHost and private ones such as _PrintableDialog)."""
    found: dict[str, type[QDialog]] = {}
    for module_info in pkgutil.iter_modules(ui.__path__):
        module = importlib.import_module(f"ui.{module_info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, QDialog)
                and value.__module__ == module.__name__
                and value not in (PosDialog, ChildDialogHost)
                and not name.startswith("_")
            ):
                found[name] = value
    return found


@dataclass
class Till:
    """What the dialogs are built from: the till, its window (the parent) and a paid order."""

    terminal: Any
    window: Any
    manager: Any
    order: Any
    bridge: Any

    @property
    def runner(self) -> Any:
        return self.window.runner


@dataclass
class Case:
    build: Callable[[Till], QDialog]
    typed: str = ""  # typed into the field that has the focus before Enter
    # After Enter: the dialog did what its OK does (default: it closed, accepted).
    confirmed: Callable[[QDialog, list[int]], bool] = lambda _d, results: results == [1]
    fill: Callable[[QDialog], None] = lambda _d: None  # the other fields, before Enter
    ready: Callable[[QDialog], bool] = lambda _d: True  # what it loads in the background


def _cart(terminal: Any) -> Any:
    from app.domain.cart import Cart

    with terminal.read() as uow:
        product = uow.products.by_code(barcode_of("Ground coffee 500 g"))
    return Cart(currency=terminal.store.currency).add(product)


def _build_parked(till: Till) -> QDialog:
    from ui.dialogs import ParkedSalesDialog

    terminal = till.terminal
    park_sale(terminal.uow(), _cart(terminal), till.manager, "Ana", terminal.clock, terminal.ids)
    with terminal.read() as uow:
        parked = list(uow.parked.list())
    return ParkedSalesDialog(parked, {till.manager.id: "Maria"}, "EUR", till.window)


def _approval_opened(dialog: QDialog, _results: list[int]) -> bool:
    from ui.approval_dialog import ApprovalDialog

    return any(child.isVisible() for child in dialog.findChildren(ApprovalDialog))


def _build_first_manager(till: Till) -> QDialog:
    """On a till of its own that has no manager yet: a till with one refuses a first."""
    from app.bootstrap import open_terminal

    fresh = open_terminal(till.terminal.data_dir.parent / "first-start")
    dialog = _dialogs().FirstManagerDialog(fresh, till.runner, till.window)
    dialog.finished.connect(lambda _result: fresh.close())
    return dialog


def _fill_first_manager(dialog: Any) -> None:
    dialog.pin.setText("135790")
    dialog.pin_again.setText("135790")


def _build_refund_receipt(till: Till) -> QDialog:
    from app.services.approvals import grant_approval
    from app.services.receipt import build_refund_receipt
    from app.services.refunds import refund_order, refund_subject
    from ui.receipt_view import RefundReceiptDialog

    terminal, order = till.terminal, till.order
    approval = grant_approval(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        *refund_subject(order.id, 100),
        till.manager.id,
        till.manager.id,
        MANAGER_PIN,
        store=terminal.store,
    )
    refund = refund_order(
        terminal.uow,
        None,
        order.id,
        "Damaged",
        till.manager,
        terminal.clock,
        terminal.ids,
        amount=100,
        approval=approval,
    )
    slip = build_refund_receipt(order, refund, terminal.store)
    return RefundReceiptDialog(slip, till.runner, confirmation="Refunded", parent=till.window)


def _build_z_report(till: Till) -> QDialog:
    from datetime import timedelta

    from app.domain.shift import CashCount, Shift, close_z
    from ui.z_report_view import ZReportDialog, z_report_sheet

    order, manager = till.order, till.manager
    opened = order.paid_at - timedelta(minutes=1)
    shift = Shift("shift-1", "T01", opened, manager.id, CashCount("EUR", {2000: 5}))
    counted = CashCount.from_counts("EUR", {2000: 5, 1000: 1})
    report = close_z(shift, 1, order.paid_at, manager.id, counted, [order], {order.id})
    return ZReportDialog(z_report_sheet(report, till.terminal.store), till.runner, till.window)


def _fill_passphrase(dialog: Any) -> None:
    dialog.again.setText("correct horse")


def _build_settings(till: Till) -> QDialog:
    from ui.settings_dialog import SettingsDialog

    return SettingsDialog(till.terminal, till.bridge, till.runner, till.window)


def _shift_open(till: Till) -> Any:
    """Open a shift on the till (once) for the dialogs that need one; its manager."""
    from app.domain.shift import CashCount
    from app.services.shifts import current_shift, open_shift

    terminal = till.terminal
    if current_shift(terminal.read()) is None:
        open_shift(
            terminal.uow(),
            terminal.ids,
            terminal.clock,
            terminal.store,
            till.manager,
            CashCount.from_counts("EUR", {1000: 5}),
        )
    return till.manager


def _paid_in() -> Any:
    from app.domain.shift import CashMovementKind

    return CashMovementKind.PAID_IN


def _fill_reason(dialog: Any) -> None:
    dialog.reason_field.setText("change from the bank")


def _moved_down(dialog: Any, results: list[int]) -> bool:
    """Enter in the first count (500.00 × 2) moved to the next, the dialog still open."""
    grid = dialog.grid
    return (
        results == []
        and grid.total == 2 * 50000
        and QApplication.focusWidget() is grid.fields[20000]
    )


CASES: dict[str, Case] = {
    "QuantityDialog": Case(
        lambda t: _dialogs().QuantityDialog("Whole milk 1 L", 1, False, t.window),
        typed="3",
        confirmed=lambda d, r: r == [1] and d.value == 3,
    ),
    "WeightDialog": Case(
        lambda t: _dialogs().WeightDialog("Bananas, loose", 189, "EUR", t.window),
        typed="742",
        confirmed=lambda d, r: r == [1] and d.value == 742,
    ),
    "ReasonDialog": Case(
        lambda t: _dialogs().ReasonDialog("Remove line", "Why?", ["Scanned twice"], t.window),
        typed="Wrong shelf label",
        confirmed=lambda d, r: r == [1] and d.reason == "Wrong shelf label",
    ),
    "TextPromptDialog": Case(
        lambda t: _dialogs().TextPromptDialog("Park sale (F8)", "A label:", "€4.67", t.window),
        typed="Mrs Smith",  # replaces the selected default
        confirmed=lambda d, r: r == [1] and d.text == "Mrs Smith",
    ),
    "DiscountDialog": Case(
        lambda t: _dialogs().DiscountDialog("Coffee", 500, 500, "EUR", t.window),
        typed="10",
        confirmed=lambda d, r: r == [1] and d.discount is not None and d.discount.value == 1000,
    ),
    "ApprovalDialog": Case(
        lambda t: _module("approval_dialog").ApprovalDialog(
            "A refund", t.terminal, t.runner, t.window
        ),
        typed=MANAGER_PIN,
        confirmed=lambda d, r: r == [1] and d.manager is not None,
    ),
    "FirstManagerDialog": Case(
        _build_first_manager,
        typed="Owen",
        fill=_fill_first_manager,
    ),
    "CloseWithSaleDialog": Case(lambda t: _dialogs().CloseWithSaleDialog("€4.67", 2, t.window)),
    "OpenPriceDialog": Case(
        lambda t: _dialogs().OpenPriceDialog(["Bakery"], [("food", "VAT 7 %")], str, t.window),
        typed="3.50",
        confirmed=lambda d, r: r == [1] and d.unit_price == 350 and d.department == "Bakery",
    ),
    "ParkedSalesDialog": Case(_build_parked, confirmed=lambda d, r: r == [1] and bool(d.sale_id)),
    "PayDialog": Case(
        lambda t: _pay().PayDialog(467, "EUR", parent=t.window),
        confirmed=lambda d, r: r == [1] and d.tenders == [TenderInput(TenderKind.CASH, 467)],
    ),
    "CardPaymentDialog": Case(
        lambda t: _card().CardPaymentDialog(
            t.terminal, FakeGateway(10_000), _cart(t.terminal), 500, t.manager, t.runner, t.window
        ),
        # Its one field is the customer's e-mail address; it has nothing to confirm (the
        # payment confirms itself): Enter leaves it open, Esc cancels the payment.
        confirmed=lambda d, r: r == [] and d.isVisible(),
    ),
    "ReceiptDialog": Case(
        lambda t: _receipt().ReceiptDialog(t.order, t.terminal.store, t.runner, parent=t.window)
    ),
    "HistoryDialog": Case(
        lambda t: _module("history").HistoryDialog(t.terminal, t.runner, t.window),
        # Enter in its search (a receipt's number, typed or scanned) searches at once and the
        # dialog stays open; of the till's two sales, the one with that number is listed.
        typed="T01-000001",
        ready=lambda d: len(d.orders) == 2,
        confirmed=lambda d, r: r == [] and [o.receipt_no for o in d.orders] == ["T01-000001"],
    ),
    "RefundDialog": Case(
        lambda t: _module("refund_dialog").RefundDialog(
            t.terminal, t.runner, t.order, None, t.window
        ),
        ready=lambda d: d.plan is not None,  # the refund is quoted in the DB worker
        confirmed=_approval_opened,  # the manager's PIN comes next
    ),
    "AuditDialog": Case(
        lambda t: _module("audit_dialog").AuditDialog(t.terminal, t.runner, t.window)
    ),
    "CatalogImportDialog": Case(
        lambda t: _module("catalog_dialog").CatalogImportDialog(t.terminal, t.runner, t.window)
    ),
    "UnusableRowsDialog": Case(
        lambda t: _module("quarantine_dialog").UnusableRowsDialog(
            t.terminal.sync_store(), t.runner, t.window
        )
    ),
    "RejectedSalesDialog": Case(
        lambda t: _module("rejected_dialog").RejectedSalesDialog(
            t.terminal, t.terminal.sync_store(), t.bridge, t.runner, t.window
        )
    ),
    "SettingsDialog": Case(
        _build_settings,
        typed="https://127.0.0.1:9",
        # Enter presses Connect, its default button (disabled without a keyring to keep the
        # token in: then Enter does nothing).
        confirmed=lambda d, r: (
            r == []
            and d.connect_button.isDefault()
            and (bool(d.message.text()) or not d.connect_button.isEnabled())
        ),
    ),
    "RefundReceiptDialog": Case(_build_refund_receipt),
    "ClerksDialog": Case(
        lambda t: _module("clerks_dialog").ClerksDialog(t.terminal, t.runner, t.manager, t.window),
        ready=lambda d: d.table.rowCount() > 0,
    ),
    "ClerkPinDialog": Case(
        lambda t: _module("clerks_dialog").ClerkPinDialog("Add a clerk", t.window, new_clerk=True),
        typed="Nina",
        fill=lambda d: (d.pin.setText("4321"), d.pin_again.setText("4321")),
        confirmed=lambda d, r: r == [1] and d.name == "Nina",
    ),
    "ZReportDialog": Case(_build_z_report),
    "ReportsDialog": Case(
        lambda t: _module("reports").ReportsDialog(
            t.terminal, t.runner, t.manager, parent=t.window
        ),
        # Enter shows the chosen report (offline: this till's own) and the dialog stays open.
        confirmed=lambda d, r: r == [] and d.table_shown is not None,
    ),
    "TokenFileDialog": Case(
        lambda t: _module("settings_dialog").TokenFileDialog(t.window),
        typed="correct horse",
        fill=_fill_passphrase,
    ),
    # The count grids: Enter moves down to the next note or coin (Ctrl+Enter confirms).
    "OpenShiftDialog": Case(
        lambda t: _module("shift_dialogs").OpenShiftDialog(
            t.terminal, t.runner, t.manager, t.window
        ),
        typed="2",
        confirmed=_moved_down,
    ),
    "CashMovementDialog": Case(
        lambda t: _module("shift_dialogs").CashMovementDialog(
            t.terminal, t.runner, _shift_open(t), _paid_in(), t.window
        ),
        typed="5.00",
        fill=_fill_reason,
    ),
    "CloseShiftDialog": Case(
        lambda t: _module("shift_dialogs").CloseShiftDialog(
            t.terminal, t.runner, _shift_open(t), t.window
        ),
        typed="2",
        ready=lambda d: d.expected is not None,
        confirmed=_moved_down,
    ),
}
CASES.update(importlib.import_module("tests.ui.phone_cases").phone_cases(Case))


def _module(name: str) -> Any:
    return importlib.import_module(f"ui.{name}")


def _dialogs() -> Any:
    return _module("dialogs")


def _pay() -> Any:
    return _module("pay")


def _card() -> Any:
    return _module("card_dialog")


def _receipt() -> Any:
    return _module("receipt_view")


@pytest.fixture
def till(qtbot: Any, open_window: Any, terminal: Any) -> Till:
    manager = add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    bridge = make_bridge(terminal, FakeServerTransport())
    window = open_window(sync=bridge)
    orders = [
        complete_sale(
            terminal.uow(),
            _cart(terminal),
            [TenderInput(TenderKind.CASH, 1000)],
            manager,
            terminal.store,
            terminal.clock,
            terminal.ids,
        )
        for _sale in range(2)
    ]
    return Till(terminal, window, manager, orders[0], bridge)


def _open(qtbot: Any, till: Till, case: Case) -> tuple[QDialog, list[int]]:
    dialog = case.build(till)
    results: list[int] = []
    dialog.finished.connect(results.append)
    dialog.open()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=TIMEOUT)
    return dialog, results


def _first_input(dialog: QDialog) -> QWidget | None:
    """The first visible, enabled, editable input of the dialog in tab order, found here
    independently of the dialog base's own search."""
    widget = dialog.nextInFocusChain()
    while widget is not dialog:
        if (
            isinstance(widget, INPUT_TYPES)
            and widget.isVisible()
            and widget.isEnabled()
            and widget.window() is dialog
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and not getattr(widget, "isReadOnly", lambda: False)()
        ):
            return widget
        widget = widget.nextInFocusChain()
    return None


def test_every_dialog_of_ui_has_a_keyboard_case() -> None:
    """A new dialog must be added to CASES, so the walk below covers it."""
    assert sorted(dialog_classes()) == sorted(CASES)


def test_every_dialog_opens_in_its_first_field_enter_confirms_and_esc_cancels(
    qtbot: Any, till: Till
) -> None:
    problems: list[str] = []
    for name, case in CASES.items():
        dialog, results = _open(qtbot, till, case)
        focus = QApplication.focusWidget()
        expected = _first_input(dialog)
        if expected is None:  # nothing to type: Enter goes to the default (OK) button
            expected = getattr(dialog, "ok_button", None)
        if focus is not expected or expected is None:
            problems.append(f"{name}: focus on {focus!r}, not on {expected!r}")
            dialog.reject()
            continue
        qtbot.waitUntil(lambda c=case, d=dialog: c.ready(d), timeout=TIMEOUT)
        if case.typed:
            qtbot.keyClicks(focus, case.typed)
        case.fill(dialog)
        qtbot.keyClick(focus, Qt.Key.Key_Return)
        try:
            qtbot.waitUntil(lambda c=case, d=dialog, r=results: c.confirmed(d, r), timeout=3000)
        except WaitTimeout:
            problems.append(f"{name}: Enter did not confirm (results {results})")
        if not results:
            for child in dialog.findChildren(QDialog):
                child.reject()
            dialog.reject()

        dialog, results = _open(qtbot, till, case)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
        try:
            qtbot.waitUntil(lambda r=results: r == [0], timeout=3000)
        except WaitTimeout:
            problems.append(f"{name}: Esc did not cancel (results {results})")
            dialog.reject()
    assert problems == [], "\n".join(problems)


def test_typed_digits_land_in_the_discount_field_after_f6(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    """F6, then "10" and Enter, with no click in between: a 10 % discount."""
    add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", MANAGER_PIN)
    register = window.register
    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    press(qtbot, register, Qt.Key.Key_F6)
    dialog = register.active_dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.value_field, timeout=TIMEOUT)
    qtbot.keyClicks(QApplication.focusWidget(), "10")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: register.cart.lines[0].discount is not None, timeout=TIMEOUT)
    assert register.cart.lines[0].discount.value == 1000
    qtbot.waitUntil(lambda: QApplication.focusWidget() is register.scan_field, timeout=TIMEOUT)


def test_enter_on_an_empty_amount_is_exact_cash(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", MANAGER_PIN)
    register = window.register
    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    total = register.totals.total
    press(qtbot, register, Qt.Key.Key_F12)
    pay = register.active_dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is pay.amount_field, timeout=TIMEOUT)
    assert pay.amount_field.text() == ""
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        qtbot.keyClick(pay.amount_field, Qt.Key.Key_Return)
    order = completed.args[0]
    assert [(t.kind, t.amount, t.tendered, t.change) for t in order.tenders] == [
        (TenderKind.CASH, total, total, 0)
    ]


def test_errors_are_red_and_beep_notices_are_beige_and_silent(
    qtbot: Any, open_window: Any, terminal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    beeps: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: beeps.append(1)))
    add_clerk(terminal, "Maria", MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", MANAGER_PIN)
    register = window.register
    scan(qtbot, register, make_ean13("400000099999"))  # a valid EAN-13 nobody sells
    notice = register.notice
    assert "Unknown barcode" in notice.text()
    assert notice.is_error and notice.objectName() == "ErrorNotice" and beeps == [1]
    error_colour = notice.palette().color(notice.foregroundRole()).name()

    scan(qtbot, register, barcode_of("Ground coffee 500 g"))
    press(qtbot, register, Qt.Key.Key_F8)
    park = register.active_dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is park.field, timeout=TIMEOUT)
    with qtbot.waitSignal(register.sale_parked, timeout=TIMEOUT):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert "Sale parked" in notice.text()
    assert not notice.is_error and notice.objectName() == "Notice" and beeps == [1]
    assert notice.palette().color(notice.foregroundRole()).name() != error_colour
