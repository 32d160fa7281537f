"""A shift closed during an outage, through the real server on both databases: the Z is
provisional on the till, turns final by itself once the shift's sales have arrived, and the
server holds one Z, final, with the late sales listed apart and the count the clerk made."""

from __future__ import annotations

import random
import uuid

from sqlalchemy import select

from app.domain.shift import CashCount, ZStatus
from app.services.shifts import close_shift, open_shift, z_report
from server.config import TestConfig
from server.db import make_engine, make_session_factory, unit_of_work
from server.models import Shift, ZReportRow
from sync.engine import ConnectionState

from .conftest import POSTGRESQL
from .proxy import FaultProxy
from .test_offline_sync import sell


def server_rows(backend, terminal_code: str) -> tuple[list[ZReportRow], list[Shift]]:
    url = backend.database if backend.kind == POSTGRESQL else f"sqlite:///{backend.database}"
    engine = make_engine(TestConfig(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            zs = list(
                session.scalars(select(ZReportRow).where(ZReportRow.terminal_code == terminal_code))
            )
            shifts = list(
                session.scalars(select(Shift).where(Shift.terminal_code == terminal_code))
            )
            session.expunge_all()
            return zs, shifts
    finally:
        engine.dispose()


def test_a_shift_closed_in_an_outage_turns_final_on_the_server_with_the_late_sales_apart(
    backend, make_till
):
    proxy = FaultProxy(backend.server.port)
    try:
        till = make_till("T01", via=proxy.url)
        t = till.terminal
        assert till.engine.run_once().state is ConnectionState.ONLINE
        currency = t.store.currency
        shift = open_shift(
            t.uow(), t.ids, t.clock, t.store, till.clerk, CashCount.from_counts(currency, {2000: 5})
        )
        rng = random.Random(14)
        early = sell(till, rng, 3)
        assert till.engine.run_once(force=True).waiting == 0  # the opening and 3 sales arrived

        proxy.mode = "refuse"  # the outage
        late = sell(till, rng, 2)
        counted = CashCount.from_counts(currency, {5000: 4, 1: 7})
        provisional = close_shift(t.uow(), t.ids, t.clock, t.store, till.clerk, counted)
        assert till.engine.run_once(force=True).state is ConnectionState.OFFLINE
        assert provisional.status is ZStatus.PROVISIONAL
        assert {s.order_id for s in provisional.waiting} == {order_id for order_id, _ in late}
        assert server_rows(backend, "T01")[0] == []  # nothing of the close reached the server

        proxy.mode = "pass"  # back: the sales go, the final follows in the same run
        status = till.engine.run_once(force=True)
        assert (status.state, status.waiting) == (ConnectionState.ONLINE, 0)
        final = z_report(t.read(), shift.id)
        assert final.status is ZStatus.FINAL and final.waiting == ()
        assert final.synced_after_close == provisional.waiting
        assert final.expected_cash == provisional.expected_cash  # a late sale is no variance
        late_total = sum(total for _, total in late)
        assert final.figures.net_sales - provisional.figures.net_sales == late_total
        assert final.figures.net_sales == sum(total for _, total in early + late)

        [row], [server_shift] = server_rows(backend, "T01")
        assert (row.status, row.z_number, row.shift_id) == ("final", 1, uuid.UUID(shift.id))
        assert (row.net_sales, row.counted_total, row.expected_cash) == (
            final.figures.net_sales,
            counted.total,
            final.expected_cash,
        )
        assert row.difference == counted.total - final.expected_cash
        assert sorted(row.synced_after_close) == sorted(  # receipt numbers
            s.receipt_no for s in provisional.waiting
        )
        assert row.waiting == []
        assert server_shift.closed_at is not None
    finally:
        proxy.close()
