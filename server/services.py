"""What the app holds on to: built once by create_app, reached through ``services()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.catalog.repository import (
    CatalogRepository,
    MongoCatalogRepository,
    SqlCatalogRepository,
)
from server.config import Config
from server.ratelimit import RateLimiter


@dataclass
class Services:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    rate_limiter: RateLimiter
    mongo_client: Any = None
    _mongo_db: Any = field(default=None, repr=False)
    # adapters built on first use (the Stripe gateway); tests may put fakes here
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    def catalog(self, session: Session) -> CatalogRepository:
        """The catalog repository: MongoDB when configured, else the SQL database."""
        if self.mongo_client is not None:
            return MongoCatalogRepository(self.mongo_client[self.config.mongo_db])
        return SqlCatalogRepository(session)

    def close(self) -> None:
        self.engine.dispose()
        if self.mongo_client is not None:
            self.mongo_client.close()


def services() -> Services:
    found: Services = current_app.extensions["shopsmart"]
    return found
