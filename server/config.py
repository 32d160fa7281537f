"""Server configuration: one pydantic-settings model of everything the server can be told.

Every field can be set from the environment. Its variable is ``SHOPSMART_<FIELD NAME>``
(``max_body_bytes`` → ``SHOPSMART_MAX_BODY_BYTES``), except for the names operators already
know, which are kept: ``DATABASE_URL``, ``MONGO_URL``, ``MONGO_DB``, ``STRIPE_…`` and
``AWS_REGION`` / ``AWS_DEFAULT_REGION`` (those fields take ``SHOPSMART_<FIELD NAME>`` as a
second name). Empty variables count as unset. A value that does not fit its field is refused
when the configuration is built, with a ``ConfigError`` naming the variable.

The table of docs/server.md is generated from this model (``python -m server.config``) and a
test keeps the two equal.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from sync.protocol import MAX_PUSH_EVENTS

ENV_PREFIX = "SHOPSMART_"
# Environment variables read outside Config (gunicorn.conf.py), documented next to its table.
GUNICORN_VARIABLES = ("SHOPSMART_BIND", "SHOPSMART_WORKERS")


class ConfigError(ValueError):
    """The environment (or a test) gave a value the server cannot run with."""


def _known_as(*names: str) -> Any:
    """The environment names of a field that keeps an operator-known variable name."""
    return AliasChoices(*names)


def default_data_dir() -> Path:
    return Path.home() / ".shopsmart-server"


class Config(BaseSettings):
    """Everything the server can be told. Build it with ``Config.from_env()`` in production;
    tests build ``TestConfig`` directly (it reads no environment)."""

    model_config = SettingsConfigDict(
        frozen=True,
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        populate_by_name=True,  # Config(database_url=...) as well as the variable names
        extra="ignore",
        validate_default=True,
    )

    # -- storage -------------------------------------------------------------------------------
    database_url: str = Field(
        "",
        validation_alias=_known_as("DATABASE_URL", "SHOPSMART_DATABASE_URL"),
        description="PostgreSQL URL (`postgresql://user@host:port/db`; the psycopg 3 driver is "
        "implied). Empty: SQLite file `server.sqlite3` in the data dir.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the SQLite file (no `DATABASE_URL`) and the `.eml` mail files live.",
        json_schema_extra={"doc_default": "`~/.shopsmart-server`"},
    )
    mongo_url: str = Field(
        "",
        validation_alias=_known_as("MONGO_URL", "SHOPSMART_MONGO_URL"),
        description="MongoDB URL. Set: the catalog lives in MongoDB (indexes on sku, barcodes, "
        "updated_at). Empty: catalog in the SQL database (JSONB on PostgreSQL, JSON on SQLite).",
    )
    mongo_db: str = Field(
        "shopsmart",
        validation_alias=_known_as("MONGO_DB", "SHOPSMART_MONGO_DB"),
        description="MongoDB database name.",
    )
    db_pool_size: int = Field(
        5, ge=1, description="SQLAlchemy pool size per process (overflow the same again)."
    )

    # -- limits --------------------------------------------------------------------------------
    max_body_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1,
        description="Request body limit; larger → `413 too_large`.",
        json_schema_extra={"doc_default": "`8388608` (8 MiB)"},
    )
    max_push_events: int = Field(
        MAX_PUSH_EVENTS,
        ge=1,
        description=f"Events per push (can only be lowered below the protocol's "
        f"{MAX_PUSH_EVENTS}: a larger value is taken as {MAX_PUSH_EVENTS}); more → "
        "`413 too_large`.",
    )
    rate_limit_per_minute: int = Field(
        1200,
        ge=1,
        description="Sustained requests per terminal per minute: a token bucket per terminal in "
        "the `rate_buckets` table (UNLOGGED on PostgreSQL), shared by every worker and host, "
        "spent in the request's authenticating transaction.",
    )
    rate_limit_burst: int = Field(
        120,
        ge=1,
        description="Bucket size: requests a terminal may make at once. Over → "
        "`429 rate_limited` + `Retry-After` (seconds).",
    )
    open_rate_limit_per_minute: int = Field(
        60,
        ge=1,
        description="Sustained requests per client address per minute on each route anyone may "
        "call (enroll, the pay page, the Stripe webhook): a bucket per address and route in "
        "`rate_buckets`. Over → `429 rate_limited` + `Retry-After`.",
    )
    open_rate_limit_burst: int = Field(
        30, ge=1, description="Bucket size of those routes: requests an address may make at once."
    )
    trusted_proxies: int = Field(
        0,
        ge=0,
        le=5,
        description="Proxies in front of the server whose `X-Forwarded-For` is believed for the "
        "client address (rate limits, logs): `1` behind deploy/nginx.conf, `0` when clients "
        "connect directly (the header is then ignored, so no client picks its own address).",
    )
    enroll_code_ttl_minutes: int = Field(60 * 24, ge=1, description="Life of an enrollment code.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO",
        description="Level of the JSON logs (`WARNING` silences the request lines).",
    )
    testing: bool = Field(False, description="Flask's testing mode (the test suite's own).")

    # -- card payments (Stripe); without a secret key the payment endpoints answer 503 ---------
    stripe_secret_key: str = Field(
        "",
        validation_alias=_known_as("STRIPE_SECRET_KEY", "SHOPSMART_STRIPE_SECRET_KEY"),
        description="`sk_test_…` / `sk_live_…`. Empty: payment endpoints answer "
        "`503 payments_unavailable`.",
    )
    stripe_publishable_key: str = Field(
        "",
        validation_alias=_known_as("STRIPE_PUBLISHABLE_KEY", "SHOPSMART_STRIPE_PUBLISHABLE_KEY"),
        description="`pk_…`, used by the payment page.",
    )
    stripe_api_base: str = Field(
        "",
        validation_alias=_known_as("STRIPE_API_BASE", "SHOPSMART_STRIPE_API_BASE"),
        description="Another API base (tests: localstripe).",
        json_schema_extra={"doc_default": "*(Stripe)*"},
    )
    stripe_js_url: str = Field(
        "https://js.stripe.com/v3/",
        validation_alias=_known_as("STRIPE_JS_URL", "SHOPSMART_STRIPE_JS_URL"),
        description="Stripe.js (tests: localstripe's `/js.stripe.com/v3/`).",
    )
    stripe_webhook_secret: str = Field(
        "",
        validation_alias=_known_as("STRIPE_WEBHOOK_SECRET", "SHOPSMART_STRIPE_WEBHOOK_SECRET"),
        description="`whsec_…` of the webhook endpoint. Empty: the webhook answers 503.",
    )
    stripe_webhook_tolerance_seconds: int = Field(
        300, ge=1, description="How old a webhook's signed timestamp may be."
    )
    stripe_timeout_seconds: float = Field(15.0, gt=0, description="Timeout of one call to Stripe.")
    stripe_max_retries: int = Field(
        3, ge=0, description="Retries of a Stripe call after a 429 or a connection error."
    )
    stripe_retry_base_seconds: float = Field(
        0.5, ge=0, description="First pause between Stripe retries (it grows exponentially)."
    )
    public_url: str = Field(
        "",
        description="How customers reach the server (e.g. `https://pos.example.com`): pay "
        "links are built from it alone, never from a request's Host header. Required with "
        "card payments (the server refuses to start without it); `shopsmart-server run` uses "
        "its own `http://127.0.0.1:PORT`.",
        json_schema_extra={"doc_default": "*(none)*"},
    )
    pay_link_ttl_minutes: int = Field(60 * 24, ge=1, description="Life of a payment link.")
    payment_recheck_seconds: float = Field(
        5.0, ge=0, description="A GET of a pending payment asks Stripe at most this often."
    )

    # -- e-mail: "eml" writes .eml files to data_dir/outbox-mail, "ses" sends through SES v2 ---
    mail_backend: Literal["eml", "ses"] = Field("eml", description="`eml` (files) or `ses`.")
    mail_from: str = Field(
        "ShopSmart <orders@shopsmart.invalid>", description="A sender verified in SES."
    )
    ses_region: str = Field(
        "eu-central-1",
        validation_alias=_known_as("AWS_REGION", "AWS_DEFAULT_REGION", "SHOPSMART_SES_REGION"),
        description="SES region (credentials: the usual AWS chain).",
    )
    ses_endpoint_url: str = Field(
        "",
        description="Another SES endpoint (tests: moto's server).",
        json_schema_extra={"doc_default": "*(AWS)*"},
    )
    ses_configuration_set: str = Field(
        "",
        description="SES configuration set for sends.",
        json_schema_extra={"doc_default": "*(none)*"},
    )
    mail_lease_seconds: int = Field(60, ge=1, description="Claim lease; must exceed one SES call.")
    mail_max_attempts: int = Field(8, ge=1, description="Transient failures before `failed`.")
    mail_retry_base_seconds: float = Field(
        5.0,
        ge=0,
        description="Pause before the first retry of a mail (doubling, at most an hour).",
    )
    mail_poll_seconds: float = Field(
        2.0, gt=0, description="How often the mail dispatcher looks for queued mail."
    )
    run_worker: bool = Field(
        False,
        description="`1`: `shopsmart-server run` also runs the mail dispatcher.",
        json_schema_extra={"doc_default": "*(off)*"},
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe_errors(type(self), exc)) from None

    @classmethod
    def from_env(cls) -> Config:
        """The configuration the environment gives; ``ConfigError`` naming the variable if a
        value does not fit."""
        return cls()

    @field_validator("max_push_events")
    @classmethod
    def _at_most_the_protocol_limit(cls, value: int) -> int:
        return min(value, MAX_PUSH_EVENTS)

    @field_validator("log_level", "mail_backend", mode="before")
    @classmethod
    def _case_insensitive(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("public_url")
    @classmethod
    def _without_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

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

    def replace(self, **changes: Any) -> Config:
        """A copy with ``changes`` applied and validated (the model is frozen)."""
        return type(self)(**{**self.model_dump(), **changes})


class TestConfig(Config):
    """What the tests use: generous limits unless a test asks otherwise, and nothing read from
    the environment (a developer's SHOPSMART_* variables never leak into a test)."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    testing: bool = True
    rate_limit_per_minute: int = 1_000_000
    rate_limit_burst: int = 1_000_000
    open_rate_limit_per_minute: int = 1_000_000
    open_rate_limit_burst: int = 1_000_000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


# -- the names of the variables, the error messages and the table of docs/server.md ------------


def env_names(name: str) -> tuple[str, ...]:
    """The environment variables of field ``name``, the documented one first."""
    alias = Config.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    return (ENV_PREFIX + name.upper(),)


def _variable_of(settings_cls: type[Config], key: str) -> str:
    """The variable that gave the value of ``key`` (a field name or one of its names)."""
    for name in settings_cls.model_fields:
        names = env_names(name)
        if key == name or key.upper() in names:
            if settings_cls is TestConfig:
                return name
            return next((n for n in names if os.environ.get(n, "").strip()), names[0])
    return key


_SECRET_FIELDS = frozenset({"stripe_secret_key", "stripe_webhook_secret", "database_url"})


def describe_errors(settings_cls: type[Config], exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        variable = _variable_of(settings_cls, key)
        shown = "" if key in _SECRET_FIELDS else f" (got {error.get('input')!r})"
        problems.append(f"{variable}: {error['msg'][:1].lower()}{error['msg'][1:]}{shown}")
    return "configuration refused: " + "; ".join(problems)


def _default_cell(name: str) -> str:
    field = Config.model_fields[name]
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "doc_default" in extra:
        return str(extra["doc_default"])
    default = field.get_default(call_default_factory=True)
    if default == "":
        return "*(empty)*"
    if isinstance(default, bool):
        return "`1`" if default else "`0`"
    return f"`{default}`"


def environment_table() -> str:
    """The Markdown table of docs/server.md, generated from the model."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Config.model_fields.items():
        first, *others = env_names(name)
        also = ", ".join(f"`{other}`" for other in others)
        variable = f"`{first}`" + (f" (or {also})" if also else "")
        rows.append(f"| {variable} | {_default_cell(name)} | {field.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(environment_table())
