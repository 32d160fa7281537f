"""The server's configuration: every field from the environment under the names operators
use, wrong values refused at start-up naming the variable, and docs/server.md's table equal to
the model. No database needed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest

from server.config import (
    GUNICORN_VARIABLES,
    Config,
    ConfigError,
    TestConfig,
    env_names,
    environment_table,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
ENV_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]+)`[^|]*\| ([^|]*) \|", re.MULTILINE)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable of the developer's shell takes part."""
    for name in Config.model_fields:
        for variable in env_names(name):
            monkeypatch.delenv(variable, raising=False)


def other_value(name: str, tmp_path: Path) -> tuple[str, Any]:
    """A valid value for field ``name`` that is not its default: (as written, as parsed)."""
    field = Config.model_fields[name]
    default = field.get_default(call_default_factory=True)
    choices = get_args(field.annotation)
    if choices:
        choice = next(c for c in choices if c != default)
        return choice.lower(), choice
    if field.annotation is bool:
        return "1", True
    if field.annotation is int:
        other = default - 1 if default > 0 else default + 1
        return str(other), other
    if field.annotation is float:
        return str(default + 1.5), default + 1.5
    if field.annotation is Path:
        return str(tmp_path / "elsewhere"), tmp_path / "elsewhere"
    return "https://value.example/x", "https://value.example/x"


@pytest.mark.parametrize("name", list(Config.model_fields))
def test_every_field_is_read_from_its_documented_variable(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written, parsed = other_value(name, tmp_path)
    monkeypatch.setenv(env_names(name)[0], written)

    assert getattr(Config.from_env(), name) == parsed
    assert getattr(Config.from_env(), name) != Config.model_fields[name].get_default(
        call_default_factory=True
    )


def test_the_names_operators_know_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://shop@db.internal/pos")
    monkeypatch.setenv("MONGO_URL", "mongodb://catalog.internal")
    monkeypatch.setenv("MONGO_DB", "chain")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("SHOPSMART_PUBLIC_URL", "https://pos.example.com/")

    config = Config.from_env()

    assert config.sqlalchemy_url == "postgresql+psycopg://shop@db.internal/pos"
    assert (config.mongo_url, config.mongo_db) == ("mongodb://catalog.internal", "chain")
    assert config.payments_enabled
    assert config.ses_region == "us-east-1"
    assert config.public_url == "https://pos.example.com"


def test_aws_region_wins_over_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert Config.from_env().ses_region == "eu-west-1"


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGO_DB", "")
    monkeypatch.setenv("SHOPSMART_MAX_BODY_BYTES", "")
    monkeypatch.setenv("SHOPSMART_LOG_LEVEL", "")

    config = Config.from_env()

    assert (config.mongo_db, config.max_body_bytes, config.log_level) == (
        "shopsmart",
        8 * 1024 * 1024,
        "INFO",
    )


def test_a_field_name_without_its_prefix_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "/somewhere/else")
    monkeypatch.setenv("TESTING", "1")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")

    config = Config.from_env()

    assert config.data_dir == Path.home() / ".shopsmart-server"
    assert (config.testing, config.log_level) == (False, "INFO")


def test_sqlite_under_the_data_dir_without_a_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPSMART_DATA_DIR", str(tmp_path))

    config = Config.from_env()

    assert config.sqlalchemy_url == f"sqlite:///{tmp_path / 'server.sqlite3'}"
    assert config.mail_dir == tmp_path / "outbox-mail"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SHOPSMART_MAX_PUSH_EVENTS", "abc", "valid integer"),
        ("SHOPSMART_RATE_LIMIT_BURST", "0", "greater than or equal to 1"),
        ("SHOPSMART_MAIL_BACKEND", "smtp", "'eml' or 'ses'"),
        ("SHOPSMART_RUN_WORKER", "perhaps", "valid boolean"),
        ("SHOPSMART_LOG_LEVEL", "LOUD", "'DEBUG'"),
        ("SHOPSMART_STRIPE_TIMEOUT_SECONDS", "soon", "valid number"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_variable(
    variable: str, value: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as refused:
        Config.from_env()

    assert str(refused.value).startswith(f"configuration refused: {variable}: ")
    assert says in str(refused.value)
    assert repr(value) in str(refused.value)


def test_the_variable_named_is_the_one_that_was_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSMART_MAX_BODY_BYTES", "8 MiB")
    monkeypatch.setenv("SHOPSMART_MAIL_MAX_ATTEMPTS", "-1")

    with pytest.raises(ConfigError) as refused:
        Config.from_env()

    assert "SHOPSMART_MAX_BODY_BYTES: input should be a valid integer" in str(refused.value)
    assert "SHOPSMART_MAIL_MAX_ATTEMPTS: input should be greater than or equal to 1" in str(
        refused.value
    )


def test_push_events_cannot_exceed_the_protocol_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSMART_MAX_PUSH_EVENTS", "100000")

    assert Config.from_env().max_push_events == 500


def test_test_config_reads_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSMART_RATE_LIMIT_BURST", "3")
    monkeypatch.setenv("DATABASE_URL", "postgres://wrong@nowhere/db")

    config = TestConfig(data_dir=tmp_path)

    assert (config.rate_limit_burst, config.database_url, config.testing) == (1_000_000, "", True)


def test_the_configuration_is_frozen_and_replace_validates(tmp_path: Path) -> None:
    config = TestConfig(data_dir=tmp_path)

    with pytest.raises(ValueError, match="frozen"):
        config.rate_limit_burst = 3  # type: ignore[misc]
    changed = config.replace(rate_limit_burst=3)

    assert (changed.rate_limit_burst, config.rate_limit_burst) == (3, 1_000_000)
    assert type(changed) is TestConfig
    with pytest.raises(ConfigError, match="rate_limit_burst: input should be a valid integer"):
        config.replace(rate_limit_burst="three")


def documented_table() -> str:
    text = (DOCS / "server.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- config-table:begin[^>]*-->\n(.*?)<!-- config-table:end -->", text, re.S
    )
    assert found, "docs/server.md lost its config-table markers"
    return found.group(1)


def test_the_table_in_docs_server_md_is_the_model() -> None:
    assert documented_table() == environment_table(), (
        "docs/server.md's configuration table differs from server.config.Config: "
        "paste the output of `python -m server.config` between its config-table markers"
    )


def test_every_variable_in_a_docs_table_exists_with_the_same_default() -> None:
    """Other pages (docs/payments.md) repeat some rows: they must name real variables and agree
    on the defaults."""
    generated = dict(ENV_ROW.findall(environment_table()))
    known = {variable for name in Config.model_fields for variable in env_names(name)}
    for page in sorted(DOCS.glob("*.md")):
        for variable, default in ENV_ROW.findall(page.read_text(encoding="utf-8")):
            if not variable.startswith(("SHOPSMART_", "STRIPE_", "AWS_", "MONGO_", "DATABASE_")):
                continue
            if variable in GUNICORN_VARIABLES:
                continue
            assert variable in known, f"{page.name} documents {variable}, which nothing reads"
            if variable in generated:
                assert default == generated[variable], f"{page.name}: default of {variable}"


def test_the_server_does_not_start_on_a_wrong_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.cli import main

    monkeypatch.setenv("SHOPSMART_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOPSMART_MAX_PUSH_EVENTS", "abc")

    assert main(["db", "upgrade"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("error: configuration refused: SHOPSMART_MAX_PUSH_EVENTS: ")
    assert not (tmp_path / "server.sqlite3").exists()
