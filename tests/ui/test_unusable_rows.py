"""A manager sees the rows from the server this till could not use, and why."""

from __future__ import annotations

from typing import Any

from app.data import DEMO_MANAGER_PIN
from app.domain.barcode import make_ean13
from sync import protocol as p
from sync.engine import ConnectionState
from tests.fakes import FakeServerTransport
from ui.quarantine_dialog import UnusableRowsDialog
from ui.rejected_dialog import RejectedSalesDialog
from ui.sample_catalog import barcode_of

from .conftest import add_clerk
from .test_register_flow import log_in
from .test_sync_status import make_bridge


def product(pid: str, sku: str, name: str, code: str) -> dict[str, Any]:
    data = {
        "id": pid,
        "sku": sku,
        "name": name,
        "unit_price": 199,
        "tax_class": "food",
        "sold_by": "each",
        "barcodes": [code],
    }
    return {"kind": "product", "cursor": "1", "data": data}


def test_rows_kept_aside_are_counted_in_the_header_and_listed_for_a_manager(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Maria", DEMO_MANAGER_PIN, manager=True)
    good = make_ean13("401234500001")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    milk = barcode_of("Whole milk 1 L")
    transport = FakeServerTransport()
    transport.pages = [
        p.PullResponse.model_validate(
            {
                "changes": [
                    product("p-oat", "OAT-1", "Oat drink 1 L", bad),
                    product("p-soy", "SOY-1", "Soy drink 1 L", milk),
                    product("p-rye", "RYE-1", "Rye bread 500 g", good),
                ],
                "next_cursor": "1",
                "has_more": False,
            }
        )
    ]
    bridge = make_bridge(terminal, transport)
    window = open_window(sync=bridge)
    bridge.start()
    qtbot.waitUntil(
        lambda: (
            window.sync_status is not None
            and window.sync_status.state is ConnectionState.ONLINE
            and not window.sync_status.running
        ),
        timeout=10_000,
    )
    assert window.status_label.text() == "● Online · 0 waiting · 2 catalog rows could not be used"
    assert window.refused_banner.isVisible()
    assert "2 rows from the server could not be used" in window.refused_label.text()

    log_in(qtbot, window, "Maria", DEMO_MANAGER_PIN)
    window.show_refused()
    refused = window.refused_dialog
    assert isinstance(refused, RejectedSalesDialog)
    assert refused.unusable_button.isEnabled()
    refused.unusable_button.click()
    listing = refused.unusable_dialog
    assert isinstance(listing, UnusableRowsDialog)
    qtbot.waitUntil(lambda: listing.table.rowCount() == 2, timeout=10_000)
    cells = {
        listing.table.item(row, 1).text(): (
            listing.table.item(row, 0).text(),
            listing.table.item(row, 2).text(),
        )
        for row in range(2)
    }
    assert cells["Oat drink 1 L (sku OAT-1) · p-oat"][0] == "product"
    assert bad in cells["Oat drink 1 L (sku OAT-1) · p-oat"][1]
    kind, why = cells["Soy drink 1 L (sku SOY-1) · p-soy"]
    assert kind == "product"
    assert why.startswith(f"barcode {milk} already belongs to Whole milk 1 L (sku ")
    assert listing.summary.text() == "2 rows kept aside."
    listing.accept()
    refused.accept()
    bridge.stop()
