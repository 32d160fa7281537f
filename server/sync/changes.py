"""The change log terminals pull from: writing entries, and reading them page by page.

Cursor: ``"<txid>.<id>"``. Every change_log row carries the id of the transaction that wrote
it (taken before the row's own id, so ids allocated in a transaction never precede its xid).
A reader returns only rows of transactions older than the oldest one still in flight
(``pg_snapshot_xmin``) ordered by ``(txid, id)``: every transaction below that limit has
finished, so nothing can later appear before the returned cursor. No wall clock anywhere.
On SQLite there is a single writer, so ids commit in order and txid is always 0.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from server.bulk import copy_rows
from server.errors import ApiError
from server.models import ChangeEntry
from server.sql import current_txid, visible_txid_limit
from sync.protocol import MAX_ID

_CURSOR = re.compile(r"^(\d{1,19})\.(\d{1,19})$")
START = (-1, -1)


def record_changes(
    session: Session, kind: str, keys: Iterable[str], store_id: uuid.UUID | None = None
) -> None:
    """Write change_log rows for ``keys`` in the session's transaction (store None: all)."""
    unique = sorted(set(keys))
    if not unique:
        return
    txid = current_txid(session)
    copy_rows(
        session,
        ChangeEntry,
        [{"txid": txid, "store_id": store_id, "kind": kind, "entity_key": k} for k in unique],
    )


def parse_cursor(cursor: str) -> tuple[int, int]:
    if not cursor:
        return START
    match = _CURSOR.match(cursor)
    if not match or max(int(match.group(1)), int(match.group(2))) > MAX_ID:
        raise ApiError(
            "cursor must be a next_cursor returned by this server",
            code="invalid_cursor",
            field="cursor",
        )
    return int(match.group(1)), int(match.group(2))


def format_cursor(position: tuple[int, int]) -> str:
    return "" if position == START else f"{position[0]}.{position[1]}"


@dataclass(frozen=True, slots=True)
class ChangeRef:
    kind: str
    key: str
    cursor: str


@dataclass(frozen=True, slots=True)
class ChangePage:
    changes: list[ChangeRef]  # the last change of each (kind, key) in the page, in order
    next_cursor: str
    has_more: bool


def read_changes(session: Session, store_id: uuid.UUID, cursor: str, limit: int) -> ChangePage:
    position = parse_cursor(cursor)
    query = (
        select(ChangeEntry.txid, ChangeEntry.id, ChangeEntry.kind, ChangeEntry.entity_key)
        .where(tuple_(ChangeEntry.txid, ChangeEntry.id) > tuple_(*position))
        .where(or_(ChangeEntry.store_id.is_(None), ChangeEntry.store_id == store_id))
        .order_by(ChangeEntry.txid, ChangeEntry.id)
        .limit(limit + 1)
    )
    horizon = visible_txid_limit(session)
    if horizon is not None:
        query = query.where(ChangeEntry.txid < horizon)
    rows = session.execute(query).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[tuple[str, str], ChangeRef] = {}
    for txid, row_id, kind, key in rows:
        latest.pop((kind, key), None)  # keep only the last, at its later position
        latest[(kind, key)] = ChangeRef(kind, key, format_cursor((txid, row_id)))
    next_cursor = format_cursor((rows[-1][0], rows[-1][1])) if rows else cursor
    return ChangePage(list(latest.values()), next_cursor, has_more)
