"""Server configuration: one class reading the environment (documented in docs/server.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sync.protocol import MAX_PUSH_EVENTS


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def default_data_dir() -> Path:
    return Path(os.environ.get("SHOPSMART_DATA_DIR", "") or Path.home() / ".shopsmart-server")


@dataclass(frozen=True)
class Config:
    """Everything the server can be told. Build it with ``Config.from_env()`` in production;
    tests build it directly (``TestConfig``)."""

    database_url: str = ""
    mongo_url: str = ""
    mongo_db: str = "shopsmart"
    data_dir: Path = field(default_factory=default_data_dir)
    max_body_bytes: int = 8 * 1024 * 1024
    max_push_events: int = MAX_PUSH_EVENTS
    rate_limit_per_minute: int = 1200
    rate_limit_burst: int = 120
    enroll_code_ttl_minutes: int = 60 * 24
    log_level: str = "INFO"
    db_pool_size: int = 5
    testing: bool = False

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL", ""),
            mongo_url=env.get("MONGO_URL", ""),
            mongo_db=env.get("MONGO_DB", "") or "shopsmart",
            data_dir=default_data_dir(),
            max_body_bytes=_int_env("SHOPSMART_MAX_BODY_BYTES", 8 * 1024 * 1024),
            max_push_events=min(
                _int_env("SHOPSMART_MAX_PUSH_EVENTS", MAX_PUSH_EVENTS), MAX_PUSH_EVENTS
            ),
            rate_limit_per_minute=_int_env("SHOPSMART_RATE_LIMIT_PER_MINUTE", 1200),
            rate_limit_burst=_int_env("SHOPSMART_RATE_LIMIT_BURST", 120),
            enroll_code_ttl_minutes=_int_env("SHOPSMART_ENROLL_CODE_TTL_MINUTES", 60 * 24),
            log_level=env.get("SHOPSMART_LOG_LEVEL", "") or "INFO",
            db_pool_size=_int_env("SHOPSMART_DB_POOL_SIZE", 5),
        )

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL made explicit about the driver; SQLite under data_dir without one."""
        url = self.database_url
        if not url:
            return f"sqlite:///{self.data_dir / 'server.sqlite3'}"
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url


@dataclass(frozen=True)
class TestConfig(Config):
    """What the tests use: generous limits unless a test asks otherwise."""

    __test__ = False  # not a pytest test class, despite the name

    testing: bool = True
    rate_limit_per_minute: int = 1_000_000
    rate_limit_burst: int = 1_000_000
    log_level: str = "WARNING"
