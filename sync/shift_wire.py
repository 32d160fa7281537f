"""The shift events on the wire (issue 14): shift.opened, cash.moved, shift.closed.

``sync.wire.encode_event`` calls ``shift_wire_form`` for them; the payloads are the models
``p.ShiftOpenedPayload``, ``p.CashMovedPayload`` and ``p.ShiftClosedPayload`` as JSON types.
"""

from __future__ import annotations

from typing import Any, Final

from app.domain.shift import CashMoved, ShiftClosed, ShiftOpened, ZFigures, ZReport
from app.domain.timestamps import optional_utc_iso, utc_iso

SHIFT_OPENED: Final = "shift.opened"
CASH_MOVED: Final = "cash.moved"
SHIFT_CLOSED: Final = "shift.closed"


def figures_payload(figures: ZFigures) -> dict[str, Any]:
    """``p.ZFiguresPayload`` as JSON types."""
    return {
        "sales_count": figures.sales_count,
        "first_receipt_no": figures.first_receipt_no,
        "last_receipt_no": figures.last_receipt_no,
        "clerks": list(figures.clerks),
        "gross_sales": figures.gross_sales,
        "discounts": figures.discounts,
        "refunds_count": figures.refunds_count,
        "refunds": figures.refunds,
        "voids_count": figures.voids_count,
        "voids": figures.voids,
        "cancellations_count": figures.cancellations_count,
        "cancellations": figures.cancellations,
        "net_sales": figures.net_sales,
        "tax": [
            {"rate_bp": t.rate_bp, "label": t.label, "net": t.net, "tax": t.tax, "gross": t.gross}
            for t in figures.tax
        ],
        "tenders": [
            {"kind": t.kind, "count": t.count, "amount": t.amount} for t in figures.tenders
        ],
        "cash_sales": figures.cash_sales,
        "cash_refunds": figures.cash_refunds,
        "cash_voids": figures.cash_voids,
        "paid_in": figures.paid_in,
        "paid_out": figures.paid_out,
        "no_sales": figures.no_sales,
        "float_amount": figures.float_amount,
        "expected_cash": figures.expected_cash,
        "phone_orders_taken": figures.phone_orders_taken,
        "phone_orders_paid": figures.phone_orders_paid,
    }


def z_report_payload(report: ZReport) -> dict[str, Any]:
    """``p.ShiftClosedPayload`` as JSON types."""
    return {
        "shift_id": report.shift_id,
        "terminal_code": report.terminal_code,
        "z_number": report.z_number,
        "status": report.status.value,
        "opened_at": utc_iso(report.opened_at),
        "opened_by": report.opened_by,
        "closed_at": utc_iso(report.closed_at),
        "closed_by": report.closed_by,
        "counted": report.counted.as_wire(),
        "counted_total": report.counted.total,
        "expected_cash": report.expected_cash,
        "difference": report.difference,
        "figures": figures_payload(report.figures),
        "waiting": [s.receipt_no for s in report.waiting],
        "synced_after_close": [s.receipt_no for s in report.synced_after_close],
        "finalised_at": optional_utc_iso(report.finalised_at),
    }


def shift_wire_form(event: object) -> tuple[str, dict[str, Any]] | None:
    """(event type, payload as JSON types) of a shift event; None for any other event."""
    if isinstance(event, ShiftOpened):
        shift = event.shift
        return SHIFT_OPENED, {
            "shift_id": shift.id,
            "terminal_code": shift.terminal_code,
            "opened_at": utc_iso(shift.opened_at),
            "clerk_id": shift.opened_by,
            "float_amount": shift.float_count.total,
            "float_count": shift.float_count.as_wire(),
        }
    if isinstance(event, CashMoved):
        move = event.movement
        return CASH_MOVED, {
            "movement_id": move.id,
            "shift_id": move.shift_id,
            "kind": move.kind.value,
            "amount": move.amount,
            "reason": move.reason,
            "clerk_id": move.clerk_id,
            "approval_id": move.approval_id,
            "at": utc_iso(move.at),
        }
    if isinstance(event, ShiftClosed):
        return SHIFT_CLOSED, z_report_payload(event.report)
    return None
