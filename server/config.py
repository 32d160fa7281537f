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
    # Card payments (Stripe). Without a secret key the payment endpoints answer 503.
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_api_base: str = ""  # empty: Stripe itself; tests point it at localstripe
    stripe_js_url: str = "https://js.stripe.com/v3/"
    stripe_webhook_secret: str = ""
    stripe_webhook_tolerance_seconds: int = 300
    stripe_timeout_seconds: float = 15.0
    stripe_max_retries: int = 3  # for 429 and connection errors, with backoff
    stripe_retry_base_seconds: float = 0.5
    public_url: str = ""  # e.g. https://pos.example.com; empty: the request's own host
    pay_link_ttl_minutes: int = 60 * 24
    payment_recheck_seconds: float = 5.0  # GET of a pending payment asks Stripe this often
    # E-mail: "eml" writes .eml files to data_dir/outbox-mail; "ses" sends through SES v2.
    mail_backend: str = "eml"
    mail_from: str = "ShopSmart <orders@shopsmart.invalid>"
    ses_region: str = "eu-central-1"
    ses_endpoint_url: str = ""  # empty: AWS itself; tests point it at moto
    ses_configuration_set: str = ""
    mail_lease_seconds: int = 60
    mail_max_attempts: int = 8
    mail_retry_base_seconds: float = 5.0
    mail_poll_seconds: float = 2.0
    run_worker: bool = False  # start the mail dispatcher inside `shopsmart-server run`

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
            stripe_secret_key=env.get("STRIPE_SECRET_KEY", ""),
            stripe_publishable_key=env.get("STRIPE_PUBLISHABLE_KEY", ""),
            stripe_api_base=env.get("STRIPE_API_BASE", ""),
            stripe_js_url=env.get("STRIPE_JS_URL", "") or "https://js.stripe.com/v3/",
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", ""),
            public_url=env.get("SHOPSMART_PUBLIC_URL", "").rstrip("/"),
            pay_link_ttl_minutes=_int_env("SHOPSMART_PAY_LINK_TTL_MINUTES", 60 * 24),
            mail_backend=(env.get("SHOPSMART_MAIL_BACKEND", "") or "eml").lower(),
            mail_from=env.get("SHOPSMART_MAIL_FROM", "") or "ShopSmart <orders@shopsmart.invalid>",
            ses_region=env.get("AWS_REGION", "")
            or env.get("AWS_DEFAULT_REGION", "")
            or "eu-central-1",
            ses_endpoint_url=env.get("SHOPSMART_SES_ENDPOINT_URL", ""),
            ses_configuration_set=env.get("SHOPSMART_SES_CONFIGURATION_SET", ""),
            mail_lease_seconds=_int_env("SHOPSMART_MAIL_LEASE_SECONDS", 60),
            mail_max_attempts=_int_env("SHOPSMART_MAIL_MAX_ATTEMPTS", 8),
            run_worker=env.get("SHOPSMART_RUN_WORKER", "").strip().lower() in ("1", "true", "yes"),
        )

    @property
    def payments_enabled(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "outbox-mail"

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
