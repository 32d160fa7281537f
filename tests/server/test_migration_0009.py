"""Migration 0009 keys orders, refunds, payments and customers by (store_id, id) and keeps
every row and link of a database with data, on both databases; its downgrade gives them
back under the old keys while no id is held by two stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, inspect

from server.db import alembic_config, upgrade_database
from tests.server.conftest import sqlalchemy_url

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return sqlalchemy_url(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'server.sqlite3'}"


def row(table: sa.Table, **given: Any) -> dict[str, Any]:
    """``given``, and a plain value for every other required column."""
    values = dict(given)
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.autoincrement is True or (
            column.primary_key
            and isinstance(column.type, sa.Integer)
            and len(table.primary_key.columns) == 1
        ):
            continue
        kind = column.type
        if isinstance(kind, sa.Uuid):
            values[column.name] = uuid.uuid4()
        elif isinstance(kind, sa.Boolean):
            values[column.name] = False
        elif isinstance(kind, sa.Integer):
            values[column.name] = 1
        elif isinstance(kind, sa.DateTime):
            values[column.name] = NOW
        elif isinstance(kind, sa.JSON):
            values[column.name] = []
        else:
            values[column.name] = "x"
    return values


def test_upgrade_keeps_every_row_and_link_and_the_downgrade_gives_them_back(
    database_url: str,
) -> None:
    upgrade_database(database_url, "0008")
    engine = create_engine(database_url)
    store, terminal = uuid.uuid4(), uuid.uuid4()
    order_id, payment_id, refund_id, customer_id = (uuid.uuid4() for _ in range(4))
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        t = meta.tables
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":  # reflected: CHAR(32) holding the hex
                plain = connection.execute

                def execute(statement: Any, rows: list[dict[str, Any]]) -> Any:
                    hexed = [
                        {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in r.items()}
                        for r in rows
                    ]
                    return plain(statement, hexed)

                connection.execute = execute  # type: ignore[method-assign,assignment]
            connection.execute(sa.insert(t["stores"]), [row(t["stores"], id=store, code="S1")])
            connection.execute(
                sa.insert(t["terminals"]),
                [row(t["terminals"], id=terminal, store_id=store, token_hash="h")],
            )
            connection.execute(
                sa.insert(t["customers"]), [row(t["customers"], id=customer_id, store_id=store)]
            )
            connection.execute(
                sa.insert(t["orders"]),
                [row(t["orders"], id=order_id, store_id=store, terminal_id=terminal)],
            )
            for line_no in (1, 2):
                connection.execute(
                    sa.insert(t["order_lines"]),
                    [row(t["order_lines"], order_id=order_id, line_no=line_no)],
                )
            connection.execute(
                sa.insert(t["tenders"]), [row(t["tenders"], order_id=order_id, position=1)]
            )
            connection.execute(
                sa.insert(t["order_refunds"]),
                [
                    row(
                        t["order_refunds"],
                        id=refund_id,
                        order_id=order_id,
                        store_id=store,
                        terminal_id=terminal,
                    )
                ],
            )
            connection.execute(
                sa.insert(t["payments"]),
                [
                    row(
                        t["payments"],
                        id=payment_id,
                        store_id=store,
                        terminal_id=terminal,
                        order_id=order_id,
                        pay_token="tok",
                    )
                ],
            )
            connection.execute(
                sa.insert(t["payment_refunds"]),
                [row(t["payment_refunds"], id=refund_id, payment_id=payment_id, store_id=store)],
            )
            connection.execute(
                sa.insert(t["mail_outbox"]),
                [
                    row(t["mail_outbox"], store_id=store, dedupe_key=key)
                    for key in (f"order_confirmation:{order_id}", f"refund_receipt:{refund_id}")
                ],
            )

        upgrade_database(database_url)
        with engine.connect() as connection:
            keys = {
                name: inspect(connection).get_pk_constraint(name)["constrained_columns"]
                for name in ("orders", "customers", "payments", "order_refunds")
            }
            assert all(sorted(cols) == ["id", "store_id"] for cols in keys.values()), keys
            lines = connection.execute(sa.text("SELECT store_id, order_id FROM order_lines")).all()
            assert len(lines) == 2
            tenders = connection.execute(sa.text("SELECT store_id FROM tenders")).all()
            assert len(tenders) == 1
            mail = sorted(
                connection.execute(sa.text("SELECT dedupe_key FROM mail_outbox")).scalars()
            )
            assert mail == sorted(
                [f"order_confirmation:{store}:{order_id}", f"refund_receipt:{store}:{refund_id}"]
            )
            for child, parent in (
                ("order_lines", "orders"),
                ("tenders", "orders"),
                ("order_refunds", "orders"),
                ("payment_refunds", "payments"),
            ):
                links = {
                    (fk["referred_table"], tuple(fk["constrained_columns"]))
                    for fk in inspect(connection).get_foreign_keys(child)
                }
                assert (parent, ("store_id", f"{parent[:-1]}_id")) in links, (child, links)
            if connection.dialect.name == "postgresql":  # a tender of no order of its store
                with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
                    connection.execute(
                        sa.text(
                            "INSERT INTO tenders (store_id, order_id, position, kind, amount, "
                            "tendered, change, reference) VALUES "
                            "(:s, :o, 2, 'cash', 1, 1, 0, '')"
                        ),
                        {"s": uuid.uuid4(), "o": order_id},
                    )

        command.downgrade(alembic_config(database_url), "0008")
        with engine.connect() as connection:
            assert inspect(connection).get_pk_constraint("orders")["constrained_columns"] == ["id"]
            assert "store_id" not in {c["name"] for c in inspect(connection).get_columns("tenders")}
            counts = {
                name: connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in ("orders", "order_lines", "tenders", "order_refunds", "payments")
            }
            assert counts == {
                "orders": 1,
                "order_lines": 2,
                "tenders": 1,
                "order_refunds": 1,
                "payments": 1,
            }
            mail = sorted(
                connection.execute(sa.text("SELECT dedupe_key FROM mail_outbox")).scalars()
            )
            assert mail == sorted([f"order_confirmation:{order_id}", f"refund_receipt:{refund_id}"])
        upgrade_database(database_url)  # and up again
    finally:
        engine.dispose()
