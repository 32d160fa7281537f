"""Alembic environment for the terminal's SQLite store (run programmatically, never by hand)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, event

from local_db.engine import apply_pragmas
from local_db.models import metadata

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        apply_pragmas(dbapi_connection)

    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
