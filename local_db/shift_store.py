"""Shifts, cash movements and Z reports on the terminal's SQLite (migration 0010).

``SqliteShiftRepository`` is ``uow.shifts``. A Z report is kept whole as JSON beside the
columns it is looked up by; the database refuses to change or delete a final one and to skip
a Z number (triggers of migration 0010), so neither rests on this code alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, text, update

from app.domain.audit import AuditAction, AuditEntry, voided_receipt_no
from app.domain.order import Order, SyncState
from app.domain.refund import Refund, RefundState
from app.domain.shift import (
    CashCount,
    CashMovement,
    CashMovementKind,
    ReportedSale,
    Shift,
    ShiftState,
    ShiftVoid,
    TaxLine,
    TenderTotal,
    ZFigures,
    ZReport,
    ZStatus,
    cash_of,
)
from app.domain.sync import OutboxState
from app.domain.timestamps import optional_utc_iso, utc_iso
from local_db.codec import from_iso
from local_db.models import AUDIT, CASH_MOVEMENTS, ORDERS, OUTBOX, REFUNDS, SHIFTS, Z_REPORTS
from local_db.repositories import SqliteOrderRepository, SqliteRefundRepository


def _count_json(count: CashCount) -> str:
    return json.dumps({"currency": count.currency, "counts": count.as_wire()})


def _count_from_json(text: str) -> CashCount:
    data = json.loads(text)
    return CashCount(data["currency"], {int(k): int(v) for k, v in data["counts"].items()})


def _sale_json(sale: ReportedSale) -> list[Any]:
    return [sale.order_id, sale.receipt_no, utc_iso(sale.paid_at), sale.total, sale.cash_amount]


def _sale_from_json(item: list[Any]) -> ReportedSale:
    return ReportedSale(item[0], item[1], datetime.fromisoformat(item[2]), item[3], item[4])


def report_json(report: ZReport) -> str:
    figures = {
        name: getattr(report.figures, name)
        for name in ZFigures.__dataclass_fields__
        if name not in ("tax", "tenders", "clerks")
    }
    figures["clerks"] = list(report.figures.clerks)
    figures["tax"] = [[t.rate_bp, t.label, t.net, t.tax, t.gross] for t in report.figures.tax]
    figures["tenders"] = [[t.kind, t.count, t.amount] for t in report.figures.tenders]
    return json.dumps(
        {
            "shift_id": report.shift_id,
            "terminal_code": report.terminal_code,
            "z_number": report.z_number,
            "status": report.status.value,
            "opened_at": utc_iso(report.opened_at),
            "closed_at": utc_iso(report.closed_at),
            "closed_by": report.closed_by,
            "opened_by": report.opened_by,
            "figures": figures,
            "waiting": [_sale_json(s) for s in report.waiting],
            "synced_after_close": [_sale_json(s) for s in report.synced_after_close],
            "counted": _count_json(report.counted),
            "expected_cash": report.expected_cash,
            "finalised_at": optional_utc_iso(report.finalised_at),
        },
        sort_keys=True,
    )


def report_from_json(text: str) -> ZReport:
    data = json.loads(text)
    raw = dict(data["figures"])
    raw["clerks"] = tuple(raw["clerks"])
    raw["tax"] = tuple(TaxLine(*t) for t in raw["tax"])
    raw["tenders"] = tuple(TenderTotal(*t) for t in raw["tenders"])
    return ZReport(
        shift_id=data["shift_id"],
        terminal_code=data["terminal_code"],
        z_number=data["z_number"],
        status=ZStatus(data["status"]),
        opened_at=datetime.fromisoformat(data["opened_at"]),
        closed_at=datetime.fromisoformat(data["closed_at"]),
        closed_by=data["closed_by"],
        figures=ZFigures(**raw),
        waiting=tuple(_sale_from_json(s) for s in data["waiting"]),
        synced_after_close=tuple(_sale_from_json(s) for s in data["synced_after_close"]),
        counted=_count_from_json(data["counted"]),
        expected_cash=data["expected_cash"],
        finalised_at=from_iso(data["finalised_at"]),
        opened_by=data["opened_by"],
    )


class SqliteShiftRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # ------------------------------------------------------------------ shifts

    def add(self, shift: Shift) -> None:
        self._c.execute(
            insert(SHIFTS),
            {
                "id": shift.id,
                "terminal_code": shift.terminal_code,
                "opened_at": utc_iso(shift.opened_at),
                "opened_by": shift.opened_by,
                "opened_by_name": shift.opened_by_name,
                "currency": shift.float_count.currency,
                "float_count": _count_json(shift.float_count),
                "state": shift.state.value,
                "closed_at": optional_utc_iso(shift.closed_at),
                "closed_by": shift.closed_by,
            },
        )

    @staticmethod
    def _shift(row: Any) -> Shift:
        return Shift(
            id=row.id,
            terminal_code=row.terminal_code,
            opened_at=datetime.fromisoformat(row.opened_at),
            opened_by=row.opened_by,
            float_count=_count_from_json(row.float_count),
            state=ShiftState(row.state),
            closed_at=from_iso(row.closed_at),
            closed_by=row.closed_by,
            opened_by_name=row.opened_by_name,
        )

    def get(self, shift_id: str) -> Shift | None:
        row = self._c.execute(select(SHIFTS).where(SHIFTS.c.id == shift_id)).first()
        return self._shift(row) if row else None

    def current(self) -> Shift | None:
        """The shift open on this terminal, if any (at most one is)."""
        row = self._c.execute(
            select(SHIFTS).where(SHIFTS.c.state == ShiftState.OPEN.value).limit(1)
        ).first()
        return self._shift(row) if row else None

    def in_use(self) -> bool:
        """A shift was ever opened on this terminal (from then on a sale needs one)."""
        return self._c.execute(select(SHIFTS.c.id).limit(1)).first() is not None

    def close(self, shift_id: str, closed_at: datetime, closed_by: str) -> None:
        self._c.execute(
            update(SHIFTS)
            .where(SHIFTS.c.id == shift_id)
            .values(
                state=ShiftState.CLOSED.value, closed_at=utc_iso(closed_at), closed_by=closed_by
            )
        )

    # ------------------------------------------------------------------ cash

    def add_movement(self, movement: CashMovement) -> None:
        self._c.execute(
            insert(CASH_MOVEMENTS),
            {
                "id": movement.id,
                "shift_id": movement.shift_id,
                "kind": movement.kind.value,
                "amount": movement.amount,
                "reason": movement.reason,
                "clerk_id": movement.clerk_id,
                "approval_id": movement.approval_id,
                "at": utc_iso(movement.at),
            },
        )

    def movements(self, shift_id: str) -> list[CashMovement]:
        rows = self._c.execute(
            select(CASH_MOVEMENTS)
            .where(CASH_MOVEMENTS.c.shift_id == shift_id)
            .order_by(CASH_MOVEMENTS.c.at, CASH_MOVEMENTS.c.id)
        )
        return [
            CashMovement(
                r.id,
                r.shift_id,
                CashMovementKind(r.kind),
                r.amount,
                r.reason,
                r.clerk_id,
                r.approval_id,
                datetime.fromisoformat(r.at),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ what the shift did

    def sales(self, shift_id: str) -> list[Order]:
        """The shift's sales (paid while it was open), in receipt order."""
        rows = self._c.execute(
            select(ORDERS)
            .where(ORDERS.c.shift_id == shift_id, ORDERS.c.paid_at.is_not(None))
            .order_by(ORDERS.c.sequence)
        ).all()
        return SqliteOrderRepository(self._c).load_rows(rows)

    def unsynced_sales(self, shift_id: str) -> set[str]:
        """Ids of the shift's sales the server has not acknowledged."""
        rows = self._c.execute(
            select(ORDERS.c.id).where(
                ORDERS.c.shift_id == shift_id,
                ORDERS.c.sync_state != SyncState.ACKNOWLEDGED.value,
            )
        )
        return {row.id for row in rows}

    def refunds(self, start: datetime, end: datetime | None) -> list[Refund]:
        """Refunds done from ``start`` until ``end`` (None: until now)."""
        condition = and_(
            REFUNDS.c.state == RefundState.DONE.value, REFUNDS.c.refunded_at >= utc_iso(start)
        )
        if end is not None:
            condition = and_(condition, REFUNDS.c.refunded_at < utc_iso(end))
        ids = [r.id for r in self._c.execute(select(REFUNDS.c.id).where(condition))]
        refunds = SqliteRefundRepository(self._c)
        return [found for rid in ids if (found := refunds.get(rid)) is not None]

    def _audit(self, action: AuditAction, start: datetime, end: datetime | None) -> list[Any]:
        condition = and_(AUDIT.c.action == action.value, AUDIT.c.at >= utc_iso(start))
        if end is not None:
            condition = and_(condition, AUDIT.c.at < utc_iso(end))
        return list(self._c.execute(select(AUDIT).where(condition).order_by(AUDIT.c.id)))

    def voids(self, start: datetime, end: datetime | None) -> list[ShiftVoid]:
        """Orders voided from ``start`` until ``end``, with the cash of each handed back."""
        orders = SqliteOrderRepository(self._c)
        found: list[ShiftVoid] = []
        for row in self._audit(AuditAction.ORDER_VOIDED, start, end):
            receipt_no = voided_receipt_no(row.detail)  # "T01-000042, asked by Maria"
            order = orders.by_receipt_no(receipt_no)
            cash = cash_of(order) if order else 0
            found.append(
                ShiftVoid(
                    order.id if order else "",
                    receipt_no,
                    row.amount,
                    cash,
                    datetime.fromisoformat(row.at),
                )
            )
        return found

    def cancellations(self, start: datetime, end: datetime | None) -> list[AuditEntry]:
        return [
            AuditEntry(
                datetime.fromisoformat(r.at),
                r.clerk_id,
                r.clerk_name,
                AuditAction(r.action),
                r.reason,
                r.amount,
                r.detail,
            )
            for r in self._audit(AuditAction.SALE_CANCELLED, start, end)
        ]

    def phone_orders_taken(self, terminal_code: str, start: datetime, end: datetime | None) -> int:
        """Phone orders this terminal took from ``start`` until ``end`` (migration 0011's
        table, read by plain SQL so the shift store needs nothing of the phone-order code)."""
        sql = "SELECT count(*) FROM phone_orders WHERE terminal_code = :t AND created_at >= :a"
        params = {"t": terminal_code, "a": utc_iso(start)}
        if end is not None:
            sql += " AND created_at < :b"
            params["b"] = utc_iso(end)
        return int(self._c.execute(text(sql), params).scalar_one())

    def events_waiting(self, event_ids: Sequence[str]) -> int:
        """How many of these outbox events the server has not acknowledged."""
        if not event_ids:
            return 0
        return int(
            self._c.execute(
                select(func.count())
                .select_from(OUTBOX)
                .where(
                    OUTBOX.c.event_id.in_(list(event_ids)),
                    OUTBOX.c.state != OutboxState.DONE.value,
                )
            ).scalar_one()
        )

    # ------------------------------------------------------------------ Z reports

    def add_z(self, report: ZReport) -> None:
        self._c.execute(
            insert(Z_REPORTS),
            {
                "shift_id": report.shift_id,
                "terminal_code": report.terminal_code,
                "z_number": report.z_number,
                "status": report.status.value,
                "closed_at": utc_iso(report.closed_at),
                "finalised_at": optional_utc_iso(report.finalised_at),
                "counted_total": report.counted.total,
                "expected_cash": report.expected_cash,
                "report": report_json(report),
            },
        )

    def replace_z(self, report: ZReport) -> None:
        """Write a provisional report's final over it (the database refuses it over a final)."""
        self._c.execute(
            update(Z_REPORTS)
            .where(Z_REPORTS.c.shift_id == report.shift_id)
            .values(
                status=report.status.value,
                finalised_at=optional_utc_iso(report.finalised_at),
                report=report_json(report),
            )
        )

    def z(self, shift_id: str) -> ZReport | None:
        row = self._c.execute(
            select(Z_REPORTS.c.report).where(Z_REPORTS.c.shift_id == shift_id)
        ).first()
        return report_from_json(row.report) if row else None

    def z_list(self, limit: int = 50) -> list[ZReport]:
        """Newest first."""
        rows = self._c.execute(
            select(Z_REPORTS.c.report)
            .order_by(Z_REPORTS.c.closed_at.desc(), Z_REPORTS.c.z_number.desc())
            .limit(limit)
        )
        return [report_from_json(r.report) for r in rows]

    def provisional(self) -> list[ZReport]:
        rows = self._c.execute(
            select(Z_REPORTS.c.report)
            .where(Z_REPORTS.c.status == ZStatus.PROVISIONAL.value)
            .order_by(Z_REPORTS.c.z_number)
        )
        return [report_from_json(r.report) for r in rows]
