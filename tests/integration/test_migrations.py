"""The store upgrades in place: a database made by the first migration reaches head intact."""

from __future__ import annotations

import sqlite3

from app.bootstrap import open_terminal
from app.domain.product import Product
from local_db.engine import DB_FILENAME
from local_db.migrate import HEAD_REVISION, current_revision, upgrade, upgrade_to_head


def test_database_from_first_migration_upgrades_with_its_data(tmp_path):
    path = tmp_path / "till" / DB_FILENAME
    upgrade(path, "0001_initial")
    assert current_revision(path) == "0001_initial"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO products (id, sku, name, brand, department, unit_price, tax_class, "
            "sold_by, active, stock, attributes, updated_at) VALUES "
            "('p1', 'BAK-SOUR', 'Sourdough loaf 800 g', 'Hofbäckerei', 'Bakery', 320, 'food', "
            "'each', 1, 5, '{}', '2026-01-01T00:00:00+00:00')"
        )
        db.execute("INSERT INTO product_barcodes VALUES ('4012345678901', 'p1')")
        db.execute("INSERT INTO sequences VALUES ('receipt:T01', 41)")

    assert upgrade_to_head(path) is True
    assert current_revision(path) == HEAD_REVISION
    assert upgrade_to_head(path) is False  # nothing left to do

    terminal = open_terminal(path.parent)
    try:
        with terminal.read() as uow:
            assert [p.sku for p in uow.products.search("sour")] == ["BAK-SOUR"]
            assert [p.sku for p in uow.products.search("so")] == ["BAK-SOUR"]
            assert uow.products.by_code("4012345678901").name == "Sourdough loaf 800 g"
        with terminal.uow() as uow:
            assert uow.sequences.next_value("receipt:T01") == 42
            uow.products.upsert_many(
                [
                    Product(
                        id="p2",
                        sku="BAK-RYE",
                        name="Rye bread 500 g",
                        unit_price=250,
                        tax_class="food",
                    )
                ]
            )
            uow.commit()
        with terminal.read() as uow:  # the search index still follows new products
            assert [p.sku for p in uow.products.search("rye bre")] == ["BAK-RYE"]
    finally:
        terminal.close()


def test_connections_use_wal_full_sync_and_foreign_keys(terminal):
    with terminal.database.writer.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }


def test_only_the_sync_writer_skips_the_fsync_per_commit(terminal):
    """Sales are durable at Pay (FULL); sync bookkeeping may roll back (NORMAL): resent,
    answered duplicate. Same WAL file, same foreign keys and busy timeout."""
    levels = {}
    for name in ("writer", "reader", "sync_writer"):
        with getattr(terminal.database, name).connect() as connection:
            levels[name] = (
                connection.exec_driver_sql("PRAGMA synchronous").scalar(),
                connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                connection.exec_driver_sql("PRAGMA foreign_keys").scalar(),
            )
    assert levels == {
        "writer": (2, "wal", 1),
        "reader": (2, "wal", 1),
        "sync_writer": (1, "wal", 1),
    }
