"""Bring a terminal database to the newest schema at start-up (a desktop app upgrades in place).

Checking is cheap (one indexed read through plain ``sqlite3``); Alembic — a few hundred ms to
import — is loaded only when there is something to upgrade.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

HEAD_REVISION = "0011_phone_orders"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def current_revision(path: Path) -> str | None:
    if not path.exists():
        return None
    connection = sqlite3.connect(path)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def alembic_config(path: Path):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    return config


def upgrade(path: Path, revision: str = "head") -> None:
    from alembic import command

    path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(path), revision)


def upgrade_to_head(path: Path) -> bool:
    """Upgrade if needed; returns True when a migration ran."""
    if current_revision(path) == HEAD_REVISION:
        return False
    upgrade(path, "head")
    return True
