"""The screens at the counter sizes: no button or label cuts its text, departments wrap.

The register is walked at 1024×768, 1366×768 and 1920×1080 with the demo catalog plus
generated departments (19 buttons, the most the picker shows), a full cart and a search.
The pay, refund and history dialogs open over it; a dialog larger than the screen is shrunk
to it, as ``PosDialog`` does on a real screen (the offscreen screen is 800×800).
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMenu, QWidget

from app.services.demo_catalog import demo_products
from tests.ui.conftest import add_clerk
from tests.ui.layout_check import clipped_widgets
from tests.ui.test_register_flow import TIMEOUT, log_in, scan
from ui.history import HistoryDialog
from ui.pay import PayDialog
from ui.picker import DETAIL_ROLE, DepartmentButton
from ui.refund_dialog import RefundDialog
from ui.sample_catalog import barcode_of

SIZES = [(1024, 768), (1366, 768), (1920, 1080)]
WINDOW_FRAME = 40
BASKET = [
    "Whole milk 1 L",
    "Free-range eggs, 10",
    "Ground coffee 500 g",
    "Red wine, Rioja 0.75 L",
    "Postage stamp, standard letter",
]


@pytest.fixture
def full_catalog(terminal: Any) -> Any:
    """The demo catalog and enough generated products for every generator department."""
    with terminal.uow() as uow:
        uow.products.replace_all(demo_products(600))
        uow.commit()
    return terminal


def _fit_to_screen(dialog: QWidget, size: tuple[int, int]) -> None:
    """The dialog as it opens on a ``size`` screen: its own size, at most the screen's
    (PosDialog's rule; the offscreen screen, 800×800, would clamp it tighter)."""
    hint = dialog.sizeHint().expandedTo(dialog.size())
    width, height = min(hint.width(), size[0]), min(hint.height(), size[1] - WINDOW_FRAME)
    layout = dialog.layout()
    least = layout.minimumSize() if layout is not None else dialog.minimumSize()
    dialog.setMinimumSize(min(least.width(), width), min(least.height(), height))
    dialog.resize(width, height)


def _settle(qtbot: Any) -> None:
    """Run the posted layout requests and the pickers' caption fitting (a 0 ms timer)."""
    from PySide6.QtWidgets import QApplication

    from ui.picker import ProductPickerWidget

    for _ in range(3):
        QApplication.processEvents()
    pickers = [w for w in QApplication.allWidgets() if isinstance(w, ProductPickerWidget)]
    qtbot.waitUntil(lambda: not any(p._captions.isActive() for p in pickers), timeout=TIMEOUT)
    QApplication.processEvents()


def _problems(screen: str, size: tuple[int, int], widget: QWidget) -> list[str]:
    return [f"{screen} at {size[0]}×{size[1]}: {p}" for p in clipped_widgets(widget)]


def test_no_text_is_cut_on_the_counter_screens(
    qtbot: Any, open_window: Any, full_catalog: Any
) -> None:
    add_clerk(full_catalog, "Maria", "246810", manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", "246810")
    register = window.register
    order = _sell(qtbot, register)
    for name in BASKET:  # a second cart, open over the screens below
        scan(qtbot, register, barcode_of(name))
    departments = [b for b in register.picker.department_group.buttons()]
    assert len(departments) >= 18  # Favourites and the file's and the generator's departments

    problems: list[str] = []
    for size in SIZES:
        window.resize(*size)
        qtbot.waitUntil(lambda s=size: (window.width(), window.height()) == s, timeout=TIMEOUT)
        _settle(qtbot)
        problems += _problems("register", size, window)

        register.ask_pay()
        pay = register.active_dialog
        assert isinstance(pay, PayDialog)
        _fit_to_screen(pay, size)
        _settle(qtbot)
        problems += _problems("pay", size, pay)
        pay.reject()
        qtbot.waitUntil(lambda: register.active_dialog is None, timeout=TIMEOUT)

        window.show_history()
        history = window.history_dialog
        assert isinstance(history, HistoryDialog)
        if not history.table.rowCount():
            with qtbot.waitSignal(history.loaded, timeout=TIMEOUT):
                pass
        _fit_to_screen(history, size)
        _settle(qtbot)
        problems += _problems("history", size, history)

        refund = RefundDialog(full_catalog, window.runner, order, None, history)
        refund.show()
        qtbot.waitUntil(lambda r=refund: r.plan is not None, timeout=TIMEOUT)
        refund.part.setChecked(True)
        refund.amount_field.setText("5.00")
        qtbot.waitUntil(lambda r=refund: r.preview.text() != "", timeout=TIMEOUT)
        _fit_to_screen(refund, size)
        _settle(qtbot)
        problems += _problems("refund", size, refund)
        refund.done(0)
        history.accept()
        qtbot.waitUntil(lambda h=history: not h.isVisible(), timeout=TIMEOUT)
    assert problems == [], "\n".join(problems)


def _sell(qtbot: Any, register: Any) -> Any:
    """One paid sale (cash, exact), for the history and refund screens."""
    for name in BASKET:
        scan(qtbot, register, barcode_of(name))
    register.ask_pay()
    pay = register.active_dialog
    assert isinstance(pay, PayDialog)
    pay.add_cash(register.totals.total)
    with qtbot.waitSignal(register.sale_completed, timeout=TIMEOUT) as completed:
        pay._on_ok()
    qtbot.waitUntil(lambda: register.active_dialog is not None, timeout=TIMEOUT)
    register.active_dialog.accept()  # the receipt
    qtbot.waitUntil(lambda: register.active_dialog is None, timeout=TIMEOUT)
    return completed.args[0]


def test_department_buttons_wrap_and_show_the_whole_name(
    qtbot: Any, open_window: Any, full_catalog: Any
) -> None:
    add_clerk(full_catalog, "Maria", "246810", manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", "246810")
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=TIMEOUT)
    _settle(qtbot)
    buttons = {
        b.department: b
        for b in window.register.picker.department_group.buttons()
        if isinstance(b, DepartmentButton)
    }
    for name in ("Household", "Personal Care", "Dairy & Eggs", "Fruit & Vegetables"):
        shown = buttons[name].text().replace("&&", "&")
        assert shown.split() == name.split()  # every word, none cut, maybe on two lines
    assert "\n" in buttons["Fruit & Vegetables"].text()


def test_search_tells_two_coffees_apart_and_fills_the_window(
    qtbot: Any, open_window: Any, full_catalog: Any
) -> None:
    from app.domain.product import Product

    coffees = [
        Product(f"coffee-{b}", f"COF-{b}", "Coffee beans 1 kg", 1299, "food", brand=brand)
        for b, brand in (("a", "Roastery No. 5"), ("b", "Bean & Leaf"))
    ]
    with full_catalog.uow() as uow:
        uow.products.upsert_many(coffees)
        uow.commit()
    add_clerk(full_catalog, "Maria", "246810", manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", "246810")
    picker = window.register.picker
    with qtbot.waitSignal(picker.results_shown, timeout=TIMEOUT):
        qtbot.keyClicks(picker.search_field, "coffee beans")
    rows = {
        picker.results.item(r, 0).data(DETAIL_ROLE)
        for r in range(picker.results.rowCount())
        if picker.results.item(r, 0).text() == "Coffee beans 1 kg"
    }
    assert rows == {"Roastery No. 5", "Bean & Leaf"}  # painted under the name

    with qtbot.waitSignal(picker.results_shown, timeout=TIMEOUT):
        picker.search_field.setText("sauce")  # more results than any window holds
    for size, least in zip(SIZES, (4, 4, 8), strict=True):
        window.resize(*size)
        qtbot.waitUntil(lambda s=size: (window.width(), window.height()) == s, timeout=TIMEOUT)
        _settle(qtbot)
        table = picker.results
        shown = table.viewport().height() // table.verticalHeader().defaultSectionSize()
        assert shown >= least, f"{shown} result rows at {size}"


def test_disabled_menu_items_look_disabled(qtbot: Any, open_window: Any, terminal: Any) -> None:
    add_clerk(terminal, "Maria", "246810", manager=True)
    window = open_window()  # the login screen: the Till menu's sale actions are disabled
    menu = window.menuBar().actions()[0].menu()
    assert isinstance(menu, QMenu)
    quit_action = next(a for a in menu.actions() if a.text() == "Quit")
    disabled = [a for a in menu.actions() if not a.isSeparator() and not a.isEnabled()]
    assert quit_action.isEnabled() and window.history_action in disabled
    menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitExposed(menu)
    image = menu.grab().toImage()

    def darkest(action: Any) -> float:
        rect = menu.actionGeometry(action)
        return min(
            QColor(image.pixel(x, y)).lightnessF()
            for x in range(rect.left(), rect.right())
            for y in range(rect.top(), rect.bottom())
        )

    assert darkest(quit_action) < 0.3  # ink
    for action in disabled:
        assert darkest(action) > 0.5, action.text()  # grey, like a disabled button
    menu.hide()
