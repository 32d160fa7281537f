"""The till's Reports screen online: the manager's PIN opens a session at the real server over
real HTTP (sync/reports.py), the report it answers is the server's figures, shown without the
"local only" banner; a wrong PIN is said in the server's words and nothing is shown."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.bootstrap import open_terminal
from app.domain.clerk import Clerk, Role
from app.domain.report import ReportName
from app.services.reports import ReportRequest
from sync.http_transport import HttpSyncTransport
from sync.reports import HttpReportClient, ReportRefused
from tests.server.report_builders import MANAGER_PIN, build_sale, paid, report_shop

DAY = date(2026, 11, 10)


def _sales(shop: Any, count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    till = shop.tills[0]
    clerk = (shop.manager_id, "Max")
    payloads = [
        build_sale(rng, till.terminal_code, n, clerk, datetime(2026, 11, 10, 9 + n, 5, tzinfo=UTC))
        for n in range(1, count + 1)
    ]
    shop.push(till, [paid(p) for p in payloads])
    return payloads


def test_a_manager_pin_opens_the_servers_reports_on_the_till_and_a_wrong_one_is_refused(
    app: Flask, live_server: str, qtbot: Any, tmp_path: Path
) -> None:
    from ui.reports import ReportsDialog
    from ui.tasks import TaskRunner

    shop = report_shop(app, tills=1)
    payloads = _sales(shop, 4)
    sales = sum(p["total"] for p in payloads)
    till = shop.tills[0]
    client = HttpReportClient(HttpSyncTransport(live_server, lambda: till.token))

    with pytest.raises(ReportRefused) as refused:
        client.open_session(shop.manager_id, "999999")
    assert refused.value.error == "invalid_pin" and refused.value.session_over

    session = client.open_session(shop.manager_id, MANAGER_PIN)
    assert session.clerk_name == "Max" and session.valid_at(datetime.now(UTC))
    table = client.report(session, ReportRequest(ReportName.SALES_BY_DAY, DAY, DAY))
    assert not table.local_only
    assert table.rows == (
        (
            "2026-11-10", 4,
            sum(p["total"] + p["discount_total"] for p in payloads),
            sum(p["discount_total"] for p in payloads),
            sum(p["total"] for p in payloads), 0,
            sum(p["total"] for p in payloads),
            sum(p["tax_total"] for p in payloads),
        ),
    )  # fmt: skip
    # the clerk filter goes to the server as ?clerk=, and comes back named; a report without
    # clerks refuses it in the server's words (the session stays)
    theirs = client.report(
        session, ReportRequest(ReportName.CLERKS, DAY, DAY, clerk=shop.manager_id)
    )
    assert theirs.clerk == shop.manager_id and [r[:3] for r in theirs.rows] == [
        (shop.manager_id, "Max", 4)
    ]
    nobody = ReportRequest(ReportName.SALES_BY_DAY, DAY, DAY, clerk="c-of-another-store")
    assert client.report(session, nobody).rows == ()
    with pytest.raises(ReportRefused) as no_clerks:
        client.report(session, ReportRequest(ReportName.TENDERS, DAY, DAY, clerk=shop.manager_id))
    assert no_clerks.value.error == "clerk_filter_not_supported"
    assert not no_clerks.value.session_over

    with pytest.raises(ReportRefused) as over:
        client.report(
            type(session)("made-up", session.expires_at, session.clerk_id, session.clerk_name),
            ReportRequest(ReportName.TENDERS, DAY, DAY),
        )
    assert over.value.error == "manager_required" and over.value.session_over

    # The Reports screen: the PIN once, the server's report, the session kept for the next.
    terminal = open_terminal(tmp_path / "till")  # a till with no sales of its own
    runner = TaskRunner()
    manager = Clerk(shop.manager_id, "Max", Role.MANAGER, pin_hash="")
    sessions: dict[str, Any] = {}

    def server() -> HttpReportClient:
        return HttpReportClient(HttpSyncTransport(live_server, lambda: till.token))

    def open_dialog() -> ReportsDialog:
        dialog = ReportsDialog(
            terminal, runner, manager, server=server, online=lambda: True,
            sessions=sessions, today=DAY,
        )  # fmt: skip
        dialog.show()
        return dialog

    try:
        dialog = open_dialog()
        assert dialog.pin_row.isVisible() and dialog.first_field() is dialog.pin
        dialog.pin.setText("999999")
        dialog.load()
        qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)
        assert dialog.error.text() and dialog.table_shown is None and dialog.pin.text() == ""

        dialog.pin.setText(MANAGER_PIN)
        with qtbot.waitSignal(dialog.report_shown, timeout=10_000) as shown:
            dialog.load()
        table = shown.args[0]
        assert not table.local_only and not dialog.banner.isVisible()
        assert table.totals["sales"] == sales
        assert "from the store's server" in dialog.status.text()
        dialog.done(0)

        again = open_dialog()  # the session is kept: no PIN this time, shown at once
        assert not again.pin_row.isVisible()
        qtbot.waitUntil(lambda: again.table_shown is not None, timeout=10_000)
        assert not again.table_shown.local_only
        again.done(0)
    finally:
        runner.shutdown()
        terminal.close()
