"""Writing many rows in one statement: the hot path of a push.

On PostgreSQL rows go in as one ``INSERT … SELECT * FROM unnest(arrays) … RETURNING`` (a
fixed statement text with one array parameter per column, so psycopg neither re-parses a
huge VALUES list nor makes a round trip per row) or as ``COPY … FROM STDIN`` when nothing
needs to come back. Elsewhere (SQLite) the same calls fall back to SQLAlchemy executemany.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import JSON, Table, case, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from server.models import Base
from server.sql import dialect_insert, is_postgresql


def _pg_type(sql_type: TypeEngine[Any]) -> str:
    return sql_type.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]


@cache
def _is_json(table: Table, column: str) -> bool:
    col_type = table.c[column].type
    impl = col_type.dialect_impl(postgresql.dialect())  # type: ignore[no-untyped-call]
    return isinstance(impl, JSON) or isinstance(col_type, JSON)


def _cursor(session: Session) -> Any:
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def _adapt(table: Table, column: str, values: list[Any]) -> list[Any]:
    if _is_json(table, column):
        from psycopg.types.json import Jsonb

        return [None if v is None else Jsonb(v) for v in values]
    return values


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def insert_returning(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    *,
    conflict: tuple[str, ...],
    returning: tuple[str, ...],
    add_on_conflict: str | None = None,
) -> list[tuple[Any, ...]]:
    """Insert ``rows``; on a key clash (``conflict`` columns) do nothing, or add
    ``add_on_conflict``'s new value to the stored one. Returns ``returning`` of the rows
    inserted or updated."""
    if not rows:
        return []
    table = _table(model)
    columns = list(rows[0])
    if is_postgresql(session):
        arrays = ", ".join(f"%b::{_pg_type(table.c[c].type)}[]" for c in columns)
        if add_on_conflict:
            action = (
                f"DO UPDATE SET {add_on_conflict} = {table.name}.{add_on_conflict} + "
                f"excluded.{add_on_conflict}"
            )
        else:
            action = "DO NOTHING"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(conflict)}) {action} RETURNING {', '.join(returning)}"
        )
        params = [_adapt(table, c, [row[c] for row in rows]) for c in columns]
        cursor = _cursor(session)
        cursor.execute(sql, params, binary=True)  # binary arrays: no quoting per element
        return [tuple(r) for r in cursor.fetchall()]
    stmt = dialect_insert(session, table)
    if add_on_conflict:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_={add_on_conflict: table.c[add_on_conflict] + stmt.excluded[add_on_conflict]},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    stmt = stmt.returning(*(table.c[c] for c in returning))
    return [tuple(r) for r in session.connection().execute(stmt, rows)]


def copy_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` (no conflict expected): COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    table = _table(model)
    if not is_postgresql(session):
        session.connection().execute(table.insert(), rows)
        return
    columns = list(rows[0])
    json_columns = {c for c in columns if _is_json(table, c)}
    cursor = _cursor(session)
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        if json_columns:
            from psycopg.types.json import Jsonb

            for row in rows:
                copy.write_row(
                    [
                        Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c]
                        for c in columns
                    ]
                )
        else:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def select_by_keys(
    session: Session,
    model: type[Base],
    key: str,
    keys: list[Any],
    columns: tuple[str, ...],
    equal: dict[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """``key`` and ``columns`` of the rows whose ``key`` is among ``keys`` (and whose columns
    named in ``equal`` hold those values, e.g. the caller's store): on PostgreSQL one fixed
    statement with a single array parameter (``= ANY``), not one bind per key."""
    if not keys:
        return []
    table = _table(model)
    equal = equal or {}
    if is_postgresql(session):
        also = "".join(f" AND {name} = %b" for name in equal)
        sql = (
            f"SELECT {', '.join((key, *columns))} FROM {table.name} "
            f"WHERE {key} = ANY(%b::{_pg_type(table.c[key].type)}[]){also}"
        )
        cursor = _cursor(session)
        cursor.execute(sql, [list(keys), *equal.values()], binary=True)
        return [tuple(r) for r in cursor.fetchall()]
    query = select(table.c[key], *(table.c[c] for c in columns)).where(
        table.c[key].in_(keys), *(table.c[name] == value for name, value in equal.items())
    )
    return [tuple(r) for r in session.connection().execute(query)]


def upsert_adding(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    *,
    conflict: tuple[str, ...],
    add: tuple[str, ...],
    keep_nonempty: tuple[str, ...] = (),
) -> None:
    """Insert ``rows``; on a key clash add each of the ``add`` columns to the stored value and
    take each ``keep_nonempty`` text column's new value unless it is empty (the summaries of
    server/reports/summaries.py). Sort ``rows`` by key first: concurrent writers then take the
    row locks in one order."""
    if not rows:
        return
    table = _table(model)
    columns = list(rows[0])
    name = table.name
    sets = [f"{c} = {name}.{c} + excluded.{c}" for c in add] + [
        f"{c} = CASE WHEN excluded.{c} = '' THEN {name}.{c} ELSE excluded.{c} END"
        for c in keep_nonempty
    ]
    if is_postgresql(session):
        arrays = ", ".join(f"%b::{_pg_type(table.c[c].type)}[]" for c in columns)
        sql = (
            f"INSERT INTO {name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {', '.join(sets)}"
        )
        params = [_adapt(table, c, [row[c] for row in rows]) for c in columns]
        _cursor(session).execute(sql, params, binary=True)
        return
    stmt = dialect_insert(session, table)
    set_: dict[str, Any] = {c: table.c[c] + stmt.excluded[c] for c in add}
    for c in keep_nonempty:
        set_[c] = case((stmt.excluded[c] == "", table.c[c]), else_=stmt.excluded[c])
    stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_=set_)
    session.connection().execute(stmt, rows)
