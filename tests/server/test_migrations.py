"""Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from server.db import upgrade_database
from server.models import Base
from tests.server.conftest import sqlalchemy_url


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return sqlalchemy_url(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'server.sqlite3'}"


def test_upgrade_to_head_matches_the_models(database_url: str) -> None:
    upgrade_database(database_url)
    upgrade_database(database_url)  # a second run is a no-op
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() is not None
            assert set(inspect(connection).get_table_names()) >= {
                "stores",
                "terminals",
                "clerks",
                "customers",
                "orders",
                "order_lines",
                "tenders",
                "stock_levels",
                "audit_log",
                "delivery_slots",
                "change_log",
                "flags",
                "sync_conflicts",
                "sync_events",
                "products",
                "rate_buckets",
            }
            if connection.dialect.name == "postgresql":  # no WAL for the per-request upsert
                persistence = connection.exec_driver_sql(
                    "SELECT relpersistence FROM pg_class WHERE relname = 'rate_buckets'"
                ).scalar_one()
                assert persistence == "u"
    finally:
        engine.dispose()
