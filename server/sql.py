"""Small helpers for SQL that differs between PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """``INSERT`` that knows ``ON CONFLICT`` for the session's database."""
    if is_postgresql(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def current_txid(session: Session) -> int:
    """This transaction's id (assigning one now if needed); 0 on SQLite."""
    if not is_postgresql(session):
        return 0
    return int(session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())


def visible_txid_limit(session: Session) -> int | None:
    """Transactions below this id have all finished; None when there is no such limit."""
    if not is_postgresql(session):
        return None
    return int(
        session.execute(
            text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        ).scalar_one()
    )
