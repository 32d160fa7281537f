"""Completing, parking and voiding sales on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.domain.approval import ApprovalAction, ApprovalNeeded, ApprovalRefused
from app.domain.cart import Cart, Discount, DiscountKind
from app.domain.errors import EmptyCart, IllegalTransition, TenderShortfall
from app.domain.order import OrderStatus, SyncState, TenderInput, TenderKind
from app.services.checkout import complete_sale, park_sale, resume_sale, void_order, void_subject
from local_db.engine import DB_FILENAME

from .conftest import BANANAS, MILK, WINE


def raw(terminal) -> sqlite3.Connection:
    return sqlite3.connect(terminal.data_dir / DB_FILENAME)


def sell(terminal, clerk, cart, cash=10_000):
    return complete_sale(
        terminal.uow(),
        cart,
        [TenderInput(TenderKind.CASH, cash)],
        clerk,
        terminal.store,
        terminal.clock,
        terminal.ids,
    )


def test_paid_order_is_stored_whole_with_its_outbox_event(terminal, clerk):
    cart = Cart().add(MILK, 2).add(BANANAS, 742).add(WINE)
    cart = cart.set_line_discount(3, Discount(DiscountKind.PERCENT, 1000, "label damaged"))
    order = sell(terminal, clerk, cart, cash=2000)

    with terminal.read() as uow:
        stored = uow.orders.get(order.id)
        assert stored == order
        assert stored.status is OrderStatus.PAID
        assert stored.sync_state is SyncState.QUEUED
        assert uow.outbox.pending_count() == 1
    with raw(terminal) as db:
        lines = db.execute(
            "SELECT sku, quantity, gross, line_discount, net FROM order_lines "
            "WHERE order_id = ? ORDER BY line_no",
            (order.id,),
        ).fetchall()
        assert lines == [
            ("DAI-MILK-1L", 2, 218, 0, 218),
            ("FRU-BANANA", 742, 140, 0, 140),
            ("ALC-RIOJA", 1, 799, 80, 719),
        ]
        tender = db.execute("SELECT kind, amount, tendered, change FROM tenders").fetchone()
        assert tender == ("cash", 1077, 2000, 923)
        event_type, payload = db.execute("SELECT event_type, payload FROM outbox").fetchone()
    event = json.loads(payload)
    assert event_type == "order.paid"
    assert event["event_id"] == order.id
    assert event["payload"]["total"] == 1077
    assert [line["net"] for line in event["payload"]["lines"]] == [218, 140, 719]


def test_receipt_numbers_count_up_per_terminal(terminal, clerk):
    numbers = [sell(terminal, clerk, Cart().add(MILK)).receipt_no for _ in range(3)]
    assert numbers == ["T01-000001", "T01-000002", "T01-000003"]


def test_stock_is_decremented_locally_by_units_or_grams(terminal, clerk):
    sell(terminal, clerk, Cart().add(MILK, 3).add(BANANAS, 1250))
    with terminal.read() as uow:
        assert uow.products.by_id(MILK.id).stock == 37
        assert uow.products.by_id(BANANAS.id).stock == 23_750


def test_refused_payment_changes_nothing(terminal, clerk):
    with pytest.raises(TenderShortfall):
        sell(terminal, clerk, Cart().add(WINE, 2), cash=1000)
    with pytest.raises(EmptyCart):
        sell(terminal, clerk, Cart())
    with raw(terminal) as db:
        counts = [
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("orders", "order_lines", "tenders", "outbox", "sequences")
        ]
    assert counts == [0, 0, 0, 0, 0]


def test_failure_inside_the_transaction_rolls_everything_back(terminal, clerk, monkeypatch):
    from local_db.repositories import SqliteOutboxRepository

    def broken_add(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(SqliteOutboxRepository, "add", broken_add)
    with pytest.raises(OSError):
        sell(terminal, clerk, Cart().add(MILK))
    with raw(terminal) as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM order_lines").fetchone()[0] == 0
        assert db.execute("SELECT value FROM sequences").fetchall() == []
        assert db.execute("SELECT stock FROM products WHERE sku='DAI-MILK-1L'").fetchone() == (40,)


def test_parked_sale_survives_reopening_the_store(terminal, clerk, tmp_path):
    from app.bootstrap import open_terminal

    cart = Cart().add(MILK, 2).add(BANANAS, 500)
    sale_id = park_sale(terminal.uow(), cart, clerk, "blue jacket", terminal.clock, terminal.ids)
    terminal.close()
    reopened = open_terminal(terminal.data_dir)
    try:
        with reopened.read() as uow:
            (entry,) = uow.parked.list()
        assert entry[0] == sale_id and entry[1] == "blue jacket"
        assert entry[4] == cart.totals(reopened.store.taxes).total
        assert resume_sale(reopened.uow(), sale_id) == cart
        with reopened.read() as uow:
            assert uow.parked.list() == []
    finally:
        reopened.close()


def test_void_needs_a_manager_and_a_paid_order_voids_once(terminal, clerk, manager, approve):
    order = sell(terminal, clerk, Cart().add(WINE))
    with pytest.raises(ApprovalNeeded) as needed:
        void_order(terminal.uow(), order.id, "wrong item", clerk, terminal.clock, terminal.ids)
    assert needed.value.action is ApprovalAction.VOID_AFTER_PAYMENT
    approval = approve(needed.value.action, needed.value.subject, clerk)
    voided = void_order(
        terminal.uow(),
        order.id,
        "wrong item",
        clerk,
        terminal.clock,
        terminal.ids,
        approval=approval,
    )
    assert voided.status is OrderStatus.VOIDED
    with pytest.raises(IllegalTransition, match="is voided; it cannot become voided"):
        void_order(
            terminal.uow(),
            order.id,
            "again",
            manager,
            terminal.clock,
            terminal.ids,
            approval=approval,
        )
    with raw(terminal) as db:
        types = [r[0] for r in db.execute("SELECT event_type FROM outbox ORDER BY seq")]
        (body,) = [
            r[0] for r in db.execute("SELECT payload FROM outbox WHERE event_type LIKE 'order.v%'")
        ]
    assert types == ["order.paid", "approval.used", "order.voided"]
    assert json.loads(body)["payload"]["clerk_id"] == manager.id  # the approving manager


def test_an_approval_of_one_void_does_not_void_another_order(terminal, clerk, approve):
    first = sell(terminal, clerk, Cart().add(WINE))
    second = sell(terminal, clerk, Cart().add(MILK))
    approval = approve(ApprovalAction.VOID_AFTER_PAYMENT, void_subject(first.id), clerk)
    with pytest.raises(ApprovalRefused, match="another void"):
        void_order(
            terminal.uow(),
            second.id,
            "oops",
            clerk,
            terminal.clock,
            terminal.ids,
            approval=approval,
        )
    with terminal.read() as uow:
        assert uow.orders.get(second.id).status is OrderStatus.PAID
        assert uow.approvals.get(approval.id).used_at is None


def test_history_finds_orders_by_receipt_number_and_day(terminal, clerk):
    orders = [sell(terminal, clerk, Cart().add(MILK)) for _ in range(12)]
    with terminal.read() as uow:
        assert [o.receipt_no for o in uow.orders.recent(limit=3)] == [
            o.receipt_no for o in reversed(orders[-3:])
        ]
        assert [o.id for o in uow.orders.recent(query="000011")] == [orders[10].id]
        today = orders[0].created_at.date().isoformat()
        assert len(uow.orders.recent(day=today)) == 12
        assert uow.orders.recent(day="2001-01-01") == []


def test_resumed_sale_flags_lines_deleted_or_repriced_on_the_server(terminal, clerk):
    from dataclasses import replace

    from app.domain.sync import PulledPage
    from app.services.checkout import stale_lines
    from local_db.sync_store import SqliteSyncStore

    cart = Cart().add(MILK).add(WINE).add(BANANAS, 300)
    sale_id = park_sale(terminal.uow(), cart, clerk, "", terminal.clock, terminal.ids)
    SqliteSyncStore(terminal.database.writer).apply_pull(
        PulledPage(
            next_cursor="9",
            products=[replace(WINE, unit_price=899)],
            deleted_product_ids=[MILK.id],
        )
    )
    resumed = resume_sale(terminal.uow(), sale_id)
    assert resumed == cart  # the clerk decides; nothing silently changes
    assert stale_lines(terminal.read(), resumed) == [
        (1, "Whole milk 1 L is no longer sold"),
        (2, "Rioja Crianza 0.75 L now costs 8.99"),
    ]


def test_removed_lines_cancelled_sales_and_voids_are_audited_with_reasons(
    terminal, clerk, manager, approve
):
    from app.domain.audit import AuditAction
    from app.domain.errors import InvalidInput
    from app.services.checkout import cancel_sale, remove_line

    cart = Cart().add(MILK, 2).add(BANANAS, 500).add(WINE)
    with pytest.raises(InvalidInput, match="needs a reason"):
        remove_line(terminal.uow(), cart, 1, "  ", clerk, terminal.clock)
    cart = remove_line(terminal.uow(), cart, 1, "customer changed mind", clerk, terminal.clock)
    assert [ln.sku for ln in cart.lines] == ["FRU-BANANA", "ALC-RIOJA"]
    emptied = cancel_sale(
        terminal.uow(), cart, "card declined elsewhere", clerk, terminal.store, terminal.clock
    )
    assert emptied.is_empty
    order = sell(terminal, clerk, Cart().add(WINE))
    approval = approve(ApprovalAction.VOID_AFTER_PAYMENT, void_subject(order.id))
    void_order(
        terminal.uow(),
        order.id,
        "rang up twice",
        manager,
        terminal.clock,
        terminal.ids,
        approval=approval,
    )
    with terminal.read() as uow:
        entries = uow.audit.recent()
    assert [(e.action, e.clerk_name, e.reason, e.amount, e.detail) for e in entries] == [
        (AuditAction.ORDER_VOIDED, "Sam", "rang up twice", 799, order.receipt_no),
        (
            AuditAction.APPROVAL_USED,
            "Sam",
            f"voiding paid sale {order.receipt_no}",
            799,
            f"void of a paid order approved by Sam, asked by Sam, on T01: {approval.subject}",
        ),
        (
            AuditAction.SALE_CANCELLED,
            "Maria",
            "card declined elsewhere",
            95 + 799,
            "500 g Bananas, loose, 1 × Rioja Crianza 0.75 L",
        ),
        (AuditAction.LINE_REMOVED, "Maria", "customer changed mind", 218, "2 × Whole milk 1 L"),
    ]


def test_a_void_puts_the_goods_back_and_the_tills_reports_count_it_whoever_asked(
    terminal, clerk, manager, approve
):
    """The till's stock moves with a void as the server's does (app.domain.stock), and a
    void a clerk asked for (its audit entry says so) is in the till's own reports."""
    from app.domain.report import ReportName
    from app.services.reports import ReportRequest, local_report

    order = sell(terminal, clerk, Cart().add(MILK, 3).add(BANANAS, 500))
    with raw(terminal) as db:
        stock = "SELECT stock FROM products WHERE sku = ?"
        assert db.execute(stock, ("DAI-MILK-1L",)).fetchone() == (37,)
    approval = approve(ApprovalAction.VOID_AFTER_PAYMENT, void_subject(order.id), clerk)
    void_order(
        terminal.uow(), order.id, "wrong", clerk, terminal.clock, terminal.ids, approval=approval
    )
    with raw(terminal) as db:
        assert db.execute(stock, ("DAI-MILK-1L",)).fetchone() == (40,)
        assert db.execute(stock, (BANANAS.sku,)).fetchone() == (BANANAS.stock,)
        (detail,) = db.execute(
            "SELECT detail FROM audit_log WHERE action = 'order_voided'"
        ).fetchone()
    assert detail == f"{order.receipt_no}, asked by {clerk.name}"
    day = order.paid_at.date()
    request = ReportRequest(ReportName.ADJUSTMENTS, day, day)
    rows = {r[0]: r[1:] for r in local_report(terminal.local_reports(), manager, request).rows}
    assert rows["voids"] == (1, order.total)
    by_clerk = ReportRequest(ReportName.CLERKS, day, day)
    [row] = local_report(terminal.local_reports(), manager, by_clerk).rows
    assert (row[0], row[7], row[8]) == (clerk.id, 1, order.total)  # the sale's clerk's void
