"""The till's own reports (local_db/reports.py) keep the store's local days: the time zone the
server sent at enrollment decides on which day a sale counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.bootstrap import open_terminal
from app.domain.cart import Cart
from app.domain.clerk import Role
from app.domain.order import TenderInput, TenderKind
from app.domain.report import ReportName
from app.services.checkout import complete_sale
from app.services.clerks import create_clerk
from app.services.reports import ReportRequest, local_report
from sync import protocol as p
from sync.credentials import EncryptedFileKeyring, TokenStore
from sync.enrollment import enroll
from tests.fakes import StepClock
from ui.sample_catalog import barcode_of, sample_products


class NewYorkServer:
    """Enrollment with a store in New York (UTC−5 in November)."""

    def enroll(self, code: str, terminal_code: str, name: str = "") -> p.EnrollResponse:
        store = p.StoreInfo(
            id="store-1", code="S07", name="Hudson St", currency="EUR", time_zone="America/New_York"
        )
        return p.EnrollResponse(
            terminal_id="term-1", token="secret", terminal_code=terminal_code, store=store
        )


def test_sales_count_on_the_local_day_of_the_time_zone_the_server_sent(tmp_path: Path) -> None:
    terminal = open_terminal(tmp_path / "till")
    try:
        with terminal.uow() as uow:
            uow.products.replace_all(sample_products())
            uow.commit()
        maria = create_clerk(terminal.uow(), "Maria", "246810", Role.MANAGER, terminal.ids)
        with terminal.read() as uow:
            coffee = uow.products.by_code(barcode_of("Ground coffee 500 g"))
        cart = Cart(currency="EUR").add(coffee)
        total = cart.totals(terminal.store.taxes).total

        def sell(at: datetime) -> Any:
            tenders = [TenderInput(TenderKind.CASH, total)]
            args = (terminal.store, StepClock(at), terminal.ids)
            return complete_sale(terminal.uow(), cart, tenders, maria, *args)

        sell(datetime(2026, 11, 24, 3, 30, tzinfo=UTC))  # 23 Nov 22:30 in New York
        sell(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # 24 Nov 10:00 in New York
        request = ReportRequest(ReportName.SALES_BY_DAY, date(2026, 11, 23), date(2026, 11, 24))

        def days() -> dict[Any, Any]:
            table = local_report(terminal.local_reports(), maria, request)
            return {row[0]: row[1] for row in table.rows}

        assert days() == {"2026-11-24": 2}  # Europe/Dublin (UTC+0) until the server says

        tokens = TokenStore(EncryptedFileKeyring(tmp_path / "tokens", "correct horse battery"))
        enroll(terminal.uow, tokens, "https://pos.example.com", "CODE", "T01",
               transport=NewYorkServer())  # type: ignore[arg-type]  # fmt: skip
        assert days() == {"2026-11-23": 1, "2026-11-24": 1}
        by_hour = ReportRequest(ReportName.SALES_BY_HOUR, date(2026, 11, 23), date(2026, 11, 24))
        hours = local_report(terminal.local_reports(), maria, by_hour)
        assert [(row[0], row[1]) for row in hours.rows] == [(10, 1), (22, 1)]
        assert hours.time_zone == "America/New_York" and hours.local_only
    finally:
        terminal.close()


def test_the_shifts_report_offline_lists_this_tills_z_reports_with_their_variance(
    tmp_path: Path,
) -> None:
    from app.domain.shift import CashCount
    from app.services.shifts import close_shift, open_shift

    terminal = open_terminal(tmp_path / "till")
    try:
        maria = create_clerk(terminal.uow(), "Maria", "246810", Role.MANAGER, terminal.ids)
        float_count = CashCount.from_counts("EUR", {2000: 5})
        at = StepClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
        args = (terminal.ids, at, terminal.store, maria)
        open_shift(terminal.uow(), *args, float_count)
        at.moment = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
        close_shift(terminal.uow(), *args, CashCount.from_counts("EUR", {2000: 4, 500: 1, 200: 2}))
        request = ReportRequest(ReportName.SHIFTS, date(2026, 11, 25), date(2026, 11, 25))
        table = local_report(terminal.local_reports(), maria, request, terminal.read)
        assert table.local_only and table.rows == (
            ("T01", 1, "final", "2026-11-25T08:00:00.000000+00:00",
             "2026-11-25T18:00:00.000000+00:00", "Maria", 0, 10_000, 8_900, -1_100, 0),
        )  # fmt: skip
        another_day = ReportRequest(ReportName.SHIFTS, date(2026, 11, 26), date(2026, 11, 26))
        assert local_report(terminal.local_reports(), maria, another_day, terminal.read).rows == ()
    finally:
        terminal.close()
