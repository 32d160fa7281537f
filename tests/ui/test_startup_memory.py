"""What start-up does not keep in memory (docs/ui.md, start-up memory), and that the features
loaded later still work when a person reaches them."""

from __future__ import annotations

import linecache
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.domain.cart import Cart
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from tests.ui.conftest import add_clerk
from ui.main import keep_module_sources_out_of_memory, module_uses_pyside
from ui.receipt_view import ReceiptDialog
from ui.sample_catalog import barcode_of
from ui.tasks import TaskRunner

TIMEOUT = 10_000


def test_start_path_loads_neither_print_support_nor_the_orm() -> None:
    """The modules the till imports before "ready" (a fresh interpreter, as `shopsmart run`)."""
    probe = (
        "import sys\n"
        "import ui.main, ui.main_window, ui.login, ui.register, ui.sync_bridge\n"
        "import app.bootstrap, local_db.uow, local_db.sync_store\n"
        "print(sorted(m for m in sys.modules if m.startswith(\n"
        "    ('PySide6.QtPrintSupport', 'sqlalchemy.orm'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == "[]"


@pytest.fixture
def pyside_feature(monkeypatch: pytest.MonkeyPatch) -> Any:
    import PySide6.QtCore  # noqa: F401 - installs PySide6's import hook

    feature = sys.modules["shibokensupport.feature"]
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)  # restored
    return feature


def test_pyside_import_hook_keeps_no_module_source(
    pyside_feature: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_module_sources_out_of_memory()
    (tmp_path / "memtest_qt_user.py").write_text("from PySide6.QtCore import QObject\n")
    (tmp_path / "memtest_plain.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        __import__("memtest_qt_user")  # through PySide6's __import__, as a plain import is
        __import__("memtest_plain")
        assert str(tmp_path / "memtest_qt_user.py") not in linecache.cache
        assert str(tmp_path / "memtest_plain.py") not in linecache.cache
        # The hook still records PySide6's answer: 0 = uses PySide6, -1 = ignore.
        assert pyside_feature.pyside_feature_dict["memtest_qt_user"] == 0
        assert pyside_feature.pyside_feature_dict["memtest_plain"] == -1
    finally:
        for name in ("memtest_qt_user", "memtest_plain"):
            sys.modules.pop(name, None)


def test_source_check_answers_as_pyside_does(pyside_feature: Any) -> None:
    import json

    import sqlalchemy

    import app.domain.money
    import ui.register

    original = pyside_feature._mod_uses_pyside
    for module in (ui.register, app.domain.money, json, sqlalchemy, sys, pyside_feature):
        assert module_uses_pyside(module) == original(module), module.__name__


def test_receipt_saves_a_pdf_loading_print_support_on_demand(
    qtbot: Any, terminal: Any, tmp_path: Path
) -> None:
    clerk = add_clerk(terminal, "Maria", "2468")
    with terminal.read() as uow:
        milk = uow.products.by_code(barcode_of("Whole milk 1 L"))
    assert milk is not None
    order = complete_sale(
        terminal.uow(),
        Cart(currency=terminal.store.currency).add(milk, 2),
        [TenderInput(TenderKind.CASH, 1000)],
        clerk,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )
    runner = TaskRunner()
    dialog = ReceiptDialog(order, terminal.store, runner)
    qtbot.addWidget(dialog)
    path = tmp_path / "receipt.pdf"
    with qtbot.waitSignal(dialog.pdf_saved, timeout=TIMEOUT) as saved:
        dialog.save_pdf(path)
    assert saved.args == [str(path)]
    assert path.read_bytes().startswith(b"%PDF")
    runner.shutdown()
