"""Shifts on a real SQLite file: open with a float, sales (cash, card, split), a refund, a
void, paid in/out and a no-sale with a manager's approval, then the close: every Z figure
checked against sums over the stored orders. A close during an outage is provisional and
becomes final by itself after the next push, differing exactly by the late sales; Z numbers
run without gaps; a final Z cannot be changed, not even with SQL."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from app.data import DEMO_MANAGER_PIN
from app.domain.approval import ApprovalAction, ApprovalNeeded, ApprovalRefused, approval_subject
from app.domain.cart import Cart, Discount, DiscountKind
from app.domain.errors import InvalidInput, PermissionDenied
from app.domain.order import Order, TenderInput, TenderKind
from app.domain.shift import (
    CashCount,
    CashMovementKind,
    NoOpenShift,
    ShiftAlreadyOpen,
    ZStatus,
    cash_of,
)
from app.services.approvals import grant_approval
from app.services.checkout import complete_sale, void_order
from app.services.refunds import refund_order
from app.services.shifts import (
    close_shift,
    finalise_ready_shifts,
    open_shift,
    record_cash_movement,
    x_report,
    z_report,
    z_reports,
)
from local_db.engine import DB_FILENAME
from local_db.sync_store import SqliteSyncStore
from sync import protocol as p
from sync.engine import SyncEngine
from sync.errors import SyncError
from tests.fakes import FakeServerTransport, StepClock

from .conftest import MILK, WINE

FLOAT = {2000: 5, 1000: 5, 200: 10, 50: 20}  # 180.00


def eur(counts: dict[int, int]) -> CashCount:
    return CashCount.from_counts("EUR", counts)


def approved(terminal, asker, manager, call: Callable[..., Any]) -> Any:
    """Run a use case; when it needs a manager, the manager approves it with their PIN and
    it runs again with that approval (the register's flow)."""
    try:
        return call()
    except ApprovalNeeded as needed:
        approval = grant_approval(
            terminal.uow(),
            terminal.ids,
            terminal.clock,
            needed.action,
            needed.subject,
            asker.id,
            manager.id,
            DEMO_MANAGER_PIN,
            store=terminal.store,
        )
        return call(approval=approval)


def sell(terminal, clerk, cart: Cart, *tenders: TenderInput) -> Order:
    return complete_sale(
        terminal.uow(), cart, list(tenders), clerk, terminal.store, terminal.clock, terminal.ids
    )


def cash(amount: int) -> TenderInput:
    return TenderInput(TenderKind.CASH, amount)


def card(amount: int) -> TenderInput:
    return TenderInput(TenderKind.CARD, amount, "external-terminal-1")


def move(terminal, clerk, kind, amount, reason, approval=None):
    return record_cash_movement(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        terminal.store,
        clerk,
        kind,
        amount,
        reason,
        approval,
    )


def opened(terminal, clerk):
    return open_shift(
        terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, eur(FLOAT)
    )


def close(terminal, clerk, counts: dict[int, int]):
    return close_shift(
        terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, eur(counts)
    )


class Engine:
    """The till's sync engine with its after-push step, over a server that can be cut off."""

    def __init__(self, terminal) -> None:
        self.transport = FakeServerTransport()
        self.offline = False
        clock = StepClock(terminal.clock.now())
        self.engine = SyncEngine(
            SqliteSyncStore(terminal.database.writer),
            lambda: self.transport,
            clock,
            rng=random.Random(1),
            after_push=terminal.finalise_shifts,  # as the till wires it (app.bootstrap)
        )

    def run(self) -> None:
        if self.offline:
            self.transport.fail_next = [SyncError("offline"), SyncError("offline")]
        self.engine.run_once(force=True)
        self.transport.fail_next = []


def outbox(terminal, event_type: str) -> list[dict]:
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        rows = db.execute(
            "SELECT payload FROM outbox WHERE event_type = ? ORDER BY seq", (event_type,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def a_day(terminal, clerk, manager) -> dict[str, Any]:
    """Sales cash, card and split (one discounted, two tax rates), a refund, a void, paid in,
    paid out over the limit, a no-sale."""
    s1 = sell(terminal, clerk, Cart().add(MILK, 3).add(WINE), cash(5000))  # 3.27 + 7.99
    s2 = sell(terminal, clerk, Cart().add(WINE, 2), card(1598))
    s3 = sell(
        terminal,
        clerk,
        Cart().add(MILK, 5).add(WINE).set_order_discount(Discount(DiscountKind.PERCENT, 1000)),
        card(500),
        cash(2000),
    )
    s4 = sell(terminal, clerk, Cart().add(MILK), cash(200))
    refund = approved(
        terminal,
        clerk,
        manager,
        lambda approval=None: refund_order(
            terminal.uow,
            None,
            s1.id,
            "spilt",
            clerk,
            terminal.clock,
            terminal.ids,
            amount=300,
            approval=approval,
        ),
    )
    approved(
        terminal,
        clerk,
        manager,
        lambda approval=None: void_order(
            terminal.uow(),
            s4.id,
            "rang up twice",
            clerk,
            terminal.clock,
            terminal.ids,
            approval=approval,
        ),
    )
    move(terminal, clerk, CashMovementKind.PAID_IN, 2500, "change from the bank")
    with pytest.raises(ApprovalNeeded, match=r"above 50\.00"):
        move(terminal, clerk, CashMovementKind.PAID_OUT, 6000, "window cleaner")
    paid_out = approved(
        terminal,
        clerk,
        manager,
        lambda approval=None: move(
            terminal, clerk, CashMovementKind.PAID_OUT, 6000, "window cleaner", approval
        ),
    )
    move(terminal, clerk, CashMovementKind.PAID_OUT, 450, "milk for the staff room")
    no_sale = approved(
        terminal,
        clerk,
        manager,
        lambda approval=None: move(
            terminal, clerk, CashMovementKind.NO_SALE, 0, "change for a customer", approval
        ),
    )
    assert paid_out.approval_id and no_sale.approval_id
    return {"sales": [s1, s2, s3, s4], "refund": refund}


def test_open_sales_refund_paid_out_close_every_figure_from_the_orders(terminal, clerk, manager):
    shift = opened(terminal, clerk)
    with pytest.raises(ShiftAlreadyOpen):
        opened(terminal, clerk)
    day = a_day(terminal, clerk, manager)
    sales: list[Order] = day["sales"]
    with terminal.read() as uow:
        stored = [uow.orders.get(s.id) for s in sales]
    assert all(o is not None and o.shift_id == shift.id for o in stored)
    x = x_report(terminal.read(), terminal.store)  # the X report closes nothing
    report = close(terminal, clerk, {5000: 4, 2000: 1, 200: 3})
    assert report.status is ZStatus.PROVISIONAL  # nothing synced: everything waits
    assert [s.receipt_no for s in report.waiting] == [s.receipt_no for s in sales]
    assert report.figures.sales_count == 0
    # Everything reaches the server: the final's figures are the whole shift's.
    finals = finalise_ready_shifts(terminal.uow(), terminal.clock)
    assert finals == []  # nothing acknowledged yet
    Engine(terminal).run()
    final = z_report(terminal.read(), shift.id)
    assert final.status is ZStatus.FINAL and final.figures == x
    f = final.figures
    totals = [s.total for s in sales]
    assert (f.sales_count, f.first_receipt_no, f.last_receipt_no) == (
        4,
        sales[0].receipt_no,
        sales[-1].receipt_no,
    )
    assert f.clerks == ("Maria",)
    assert f.discounts == sum(s.discount_total for s in sales) > 0
    assert f.gross_sales == sum(ln.gross for s in sales for ln in s.lines)
    assert (f.refunds_count, f.refunds) == (1, 300)
    assert (f.voids_count, f.voids) == (1, sales[3].total)
    assert f.net_sales == sum(totals) - 300 - sales[3].total
    by_rate = {t.rate_bp: t for t in f.tax}
    for rate in (700, 1900):
        entries = [e for s in sales for e in s.tax if e.rate_bp == rate]
        assert by_rate[rate].gross == sum(e.taxable for e in entries)
        assert by_rate[rate].tax == sum(e.tax for e in entries)
    assert f.tender("card").amount == 1598 + 500 and f.tender("card").count == 2
    cash_taken = sum(cash_of(s) for s in sales)
    assert f.tender("cash").amount == cash_taken == f.cash_sales
    assert (f.cash_refunds, f.cash_voids) == (300, sales[3].total)
    assert (f.paid_in, f.paid_out, f.no_sales) == (2500, 6450, 1)
    expected = 18000 + cash_taken - 300 - sales[3].total + 2500 - 6450
    assert f.expected_cash == final.expected_cash == report.expected_cash == expected
    assert final.difference == 5000 * 4 + 2000 + 600 - expected == report.difference
    assert final.synced_after_close == report.waiting


def test_close_offline_then_late_sales_sync_final_differs_exactly_by_them(terminal, clerk, manager):
    engine = Engine(terminal)
    shift = opened(terminal, clerk)
    early = [
        sell(terminal, clerk, Cart().add(MILK, 2), cash(500)),
        sell(terminal, clerk, Cart().add(WINE), card(799)),
    ]
    engine.run()  # these reach the server
    engine.offline = True
    late = [
        sell(terminal, clerk, Cart().add(WINE, 2), card(598), cash(1000)),
        sell(terminal, clerk, Cart().add(MILK), cash(109)),
    ]
    move(terminal, clerk, CashMovementKind.PAID_OUT, 1000, "taxi")
    engine.run()  # the outage: nothing more reaches the server
    provisional = close(terminal, clerk, {5000: 3, 1: 9})
    assert provisional.status is ZStatus.PROVISIONAL
    assert [s.receipt_no for s in provisional.waiting] == [s.receipt_no for s in late]
    cash_all = sum(cash_of(s) for s in early + late)
    assert provisional.expected_cash == 18000 + cash_all - 1000  # a late sale is no variance
    engine.run()  # still offline
    assert z_report(terminal.read(), shift.id).status is ZStatus.PROVISIONAL
    engine.offline = False
    engine.run()  # the sales go, the final follows by itself and goes in the same run
    final = z_report(terminal.read(), shift.id)
    assert final.status is ZStatus.FINAL and final.waiting == ()
    assert final.synced_after_close == provisional.waiting
    assert (final.z_number, final.counted, final.expected_cash) == (
        provisional.z_number,
        provisional.counted,
        provisional.expected_cash,
    )
    pf, ff = provisional.figures, final.figures
    assert ff.sales_count - pf.sales_count == len(late)
    assert ff.net_sales - pf.net_sales == sum(s.total for s in late)
    assert ff.gross_sales - pf.gross_sales == sum(s.total + s.discount_total for s in late)
    assert ff.cash_sales - pf.cash_sales == sum(cash_of(s) for s in late)
    assert ff.tender("card").amount - pf.tender("card").amount == 598
    assert ff.paid_out == pf.paid_out == 1000
    # Both reports went to the server as shift.closed events, the final as a new event.
    closed = [e["payload"] for e in engine.transport.stored.values() if e["type"] == "shift.closed"]
    assert sorted(c["status"] for c in closed) == ["final", "provisional"]
    for event in outbox(terminal, "shift.closed"):
        p.ShiftClosedEvent.model_validate(event)
    assert outbox(terminal, "shift.opened")[0]["payload"]["float_amount"] == 18000


PHONE_ORDER_TEXT = [
    "order_no",
    "clerk_id",
    "clerk_name",
    "customer_id",
    "customer",
    "address",
    "note",
    "slot_id",
    "slot_starts_at",
    "slot_ends_at",
    "booking_id",
    "booking_status",
    "moved_from_slot_id",
    "moved_from_starts_at",
    "state",
    "cancel_reason",
    "payment_method",
    "payment_status",
    "pay_url",
    "currency",
    "updated_at",
    "sync_state",
    "sync_error",
]
PHONE_ORDER_NUMBERS = [
    "version",
    "authorised_amount",
    "captured_amount",
    "estimated_total",
    "actual_total",
    "shortfall",
    "customer_told",
]


def take_phone_order(terminal, at) -> None:
    """A phone order this till took at ``at`` (its row as migration 0011 keeps it)."""
    row = {name: "x" for name in PHONE_ORDER_TEXT} | {n: 0 for n in PHONE_ORDER_NUMBERS}
    row |= {"id": terminal.ids.new_id(), "terminal_code": "T01", "created_at": at.isoformat()}
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        db.execute(
            f"INSERT INTO phone_orders ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )


def test_z_numbers_run_without_gaps_and_a_final_z_cannot_be_changed(terminal, clerk, manager):
    numbers = []
    for _ in range(3):
        opened(terminal, clerk)
        take_phone_order(terminal, terminal.clock.now())
        sell(terminal, clerk, Cart().add(MILK), cash(109))
        numbers.append(close(terminal, clerk, FLOAT).z_number)
    assert numbers == [1, 2, 3]
    Engine(terminal).run()
    reports = z_reports(terminal.read())
    assert [r.z_number for r in reports] == [3, 2, 1]
    assert all(r.status is ZStatus.FINAL for r in reports)
    assert [r.figures.phone_orders_taken for r in reports] == [1, 1, 1]  # each in its shift
    with sqlite3.connect(terminal.data_dir / DB_FILENAME) as db:
        with pytest.raises(sqlite3.IntegrityError, match="never changed"):
            db.execute("UPDATE z_reports SET counted_total = 0 WHERE z_number = 1")
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            db.execute("DELETE FROM z_reports WHERE z_number = 2")
        with pytest.raises(sqlite3.IntegrityError, match="without a gap"):
            db.execute(
                "INSERT INTO z_reports SELECT 'x', terminal_code, 5, 'provisional', closed_at, "
                "NULL, 0, 0, '{}' FROM z_reports LIMIT 1"
            )


def test_no_shift_no_sale_no_cash_movement_and_a_clerk_cannot_close_anothers_shift(
    terminal, clerk, manager
):
    before = sell(terminal, clerk, Cart().add(MILK), cash(109))  # a till that never had one
    assert before.shift_id is None
    with pytest.raises(NoOpenShift, match="open a shift"):
        move(terminal, clerk, CashMovementKind.PAID_IN, 100, "x")
    with pytest.raises(NoOpenShift):
        close(terminal, clerk, {})
    with pytest.raises(InvalidInput, match="is not a note or coin"):
        eur({300: 1})
    opened(terminal, manager)
    with pytest.raises(PermissionDenied, match="only a manager may close Sam's shift"):
        close(terminal, clerk, {})
    with pytest.raises(ApprovalNeeded):
        move(terminal, clerk, CashMovementKind.NO_SALE, 0, "change")
    with pytest.raises(InvalidInput, match="moves no money"):
        move(terminal, clerk, CashMovementKind.NO_SALE, 5, "change")
    # an approval of a paid out cannot open the drawer
    with terminal.read() as uow:
        shift = uow.shifts.current()
    paid_out_approval = grant_approval(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        ApprovalAction.PAID_OUT,
        approval_subject(ApprovalAction.PAID_OUT, shift=shift.id, amount=6000),
        clerk.id,
        manager.id,
        DEMO_MANAGER_PIN,
        store=terminal.store,
    )
    with pytest.raises(ApprovalRefused):
        move(terminal, clerk, CashMovementKind.NO_SALE, 0, "change", paid_out_approval)
    report = close(terminal, manager, {})
    assert report.status is ZStatus.FINAL  # no sales: nothing waits
    # Once the till has had a shift, a sale needs one open.
    with pytest.raises(NoOpenShift, match="open a shift"):
        sell(terminal, clerk, Cart().add(MILK), cash(109))
    with terminal.read() as uow:
        assert uow.orders.count() == 1  # the refused sale left nothing
    shift = opened(terminal, clerk)
    assert sell(terminal, clerk, Cart().add(MILK), cash(109)).shift_id == shift.id
