"""Departments are one list, matched without regard to case, in the server's spelling."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from local_db.sync_store import SqliteSyncStore
from sync.engine import ConnectionState, SyncEngine
from tests.integration.test_pull_unusable_rows import Clock, ScriptedPages, page, product
from tests.ui.conftest import add_clerk
from tests.ui.test_register_flow import TIMEOUT, log_in
from ui.picker import DepartmentButton


def test_a_pulled_bakery_product_joins_the_local_bakery_department(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    with terminal.read() as uow:  # the demo catalog's four "Bakery" products, local
        local_bakery = {p.name for p in uow.products.in_department("Bakery", limit=80)}
    assert len(local_bakery) == 4

    transport = ScriptedPages()
    engine = SyncEngine(SqliteSyncStore(terminal.database.sync_writer), lambda: transport, Clock())
    pulled = product("p-rye", "BAK-RYE", "Rye bread 500 g")
    pulled["data"]["department"] = "bakery"  # the server spells it in lower case
    transport.queue = [page("c1", pulled)]
    assert engine.run_once(force=True).state is ConnectionState.ONLINE

    add_clerk(terminal, "Maria", "246810", manager=True)
    window = open_window()
    log_in(qtbot, window, "Maria", "246810")
    picker = window.register.picker
    buttons = [b for b in picker.department_group.buttons() if isinstance(b, DepartmentButton)]
    bakeries = [b for b in buttons if b.department.casefold() == "bakery"]
    assert [b.department for b in bakeries] == ["bakery"]  # one button, the server's spelling
    names = [b.department for b in buttons]
    assert len({n.casefold() for n in names}) == len(names)

    with qtbot.waitSignal(picker.results_shown, timeout=TIMEOUT):
        qtbot.mouseClick(bakeries[0], Qt.MouseButton.LeftButton)
    assert {p.name for p in picker.shown_products} == local_bakery | {"Rye bread 500 g"}
