"""What the operator reads through the CLI: terminals and orders, as plain rows.

Each function returns JSON-ready dicts (ids and times as text, money in minor units), so the
CLI prints them as tab-separated lines or, with ``--json``, as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.money import format_minor
from server.admin.service import AdminError, store_by_code
from server.models import Order, Store, SyncEvent, Terminal


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def parse_since(text: str) -> datetime:
    """An ISO date or date-time (UTC when no offset is given); an AdminError otherwise."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AdminError(
            f"--since {text!r} is not a date or time (2026-12-01 or 2026-12-01T09:30)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def list_terminals(session: Session, store_code: str | None = None) -> list[dict[str, Any]]:
    """Every terminal (or one store's), oldest enrollment first, with its last push."""
    last_push = (
        select(SyncEvent.terminal_id, func.max(SyncEvent.received_at).label("at"))
        .group_by(SyncEvent.terminal_id)
        .subquery()
    )
    query = (
        select(Terminal, Store.code, last_push.c.at)
        .join(Store, Store.id == Terminal.store_id)
        .outerjoin(last_push, last_push.c.terminal_id == Terminal.id)
        .order_by(Terminal.enrolled_at, Terminal.id)
    )
    if store_code is not None:
        query = query.where(Terminal.store_id == store_by_code(session, store_code).id)
    return [
        {
            "id": str(terminal.id),
            "store": code,
            "code": terminal.code,
            "name": terminal.name,
            "state": "revoked" if terminal.revoked_at is not None else "active",
            "enrolled_at": _iso(terminal.enrolled_at),
            "revoked_at": _iso(terminal.revoked_at),
            "last_push_at": _iso(at),
        }
        for terminal, code, at in session.execute(query)
    ]


def list_orders(
    session: Session, store_code: str, since: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """One store's orders paid at or after ``since``, newest first, at most ``limit``."""
    if limit < 1:
        raise AdminError("--limit must be at least 1")
    store = store_by_code(session, store_code)
    query = select(Order).where(Order.store_id == store.id)
    if since is not None:
        query = query.where(Order.paid_at >= since)
    query = query.order_by(Order.paid_at.desc(), Order.id).limit(limit)
    return [
        {
            "id": str(order.id),
            "receipt_no": order.receipt_no,
            "terminal": order.terminal_code,
            "terminal_id": str(order.terminal_id),
            "clerk": order.clerk_name,
            "status": order.status,
            "kind": order.kind,
            "currency": order.currency,
            "total": order.total,
            "refunded_total": order.refunded_total,
            "paid_at": _iso(order.paid_at),
            "received_at": _iso(order.received_at),
        }
        for order in session.scalars(query)
    ]


def terminal_line(row: dict[str, Any]) -> str:
    seen = row["last_push_at"] or "never pushed"
    return (
        f"{row['id']}\t{row['store']}\t{row['code']}\t{row['state']}\t{row['enrolled_at']}\t{seen}"
    )


def order_line(row: dict[str, Any]) -> str:
    refunded = (
        f"\trefunded {format_minor(row['refunded_total'], row['currency'])}"
        if row["refunded_total"]
        else ""
    )
    return (
        f"{row['paid_at']}\t{row['receipt_no']}\t{row['status']}\t"
        f"{format_minor(row['total'], row['currency'])}\t{row['clerk']}\t{row['id']}{refunded}"
    )
