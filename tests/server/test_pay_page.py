"""The customer's pay page as the open internet meets it: odd tokens are a 404 (never a 500),
the page may not be framed or cached, its token never reaches a log, and its link is built
from configuration only (never from a request's Host header)."""

from __future__ import annotations

import io
import json
import logging
import runpy
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import cli
from server.app import create_app
from server.config import ConfigError
from server.request_log import JsonFormatter
from tests.server.conftest import Shop, services_of
from tests.server.test_payments import outbox, payment_body, start

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(payments_config: Any) -> Iterator[Flask]:
    app = create_app(payments_config)
    yield app
    services_of(app).close()


@pytest.fixture
def pay_url(client: FlaskClient, shop: Shop) -> str:
    answer = start(client, shop.s1, payment_body())
    assert answer.status_code == 200, answer.json
    url: str = answer.json["pay_url"]
    return url


def path_of(url: str) -> str:
    return "/pay/" + url.split("/pay/", 1)[1]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/pay/%00"),
        ("GET", "/pay/a%00b"),
        ("POST", "/pay/a%00b/refresh"),
        ("POST", "/pay/%00/refresh"),
        ("GET", "/pay/" + "a" * 65),
        ("GET", "/pay/a.b"),
    ],
)
def test_a_token_that_cannot_be_one_is_a_404_not_a_500(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 404


def test_pay_page_cannot_be_framed_cached_or_leak_its_token(
    client: FlaskClient, pay_url: str
) -> None:
    path = path_of(pay_url)
    for response in (client.get(path), client.post(f"{path}/refresh")):
        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
    assert "clientSecret" in client.get(path).get_data(as_text=True)  # the page it guards


def test_request_log_shows_no_pay_token(client: FlaskClient, pay_url: str) -> None:
    path = path_of(pay_url)
    token = path.rsplit("/", 1)[1]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("shopsmart.server.request")
    logger.addHandler(handler)
    level = logging.getLogger("shopsmart.server").level
    logging.getLogger("shopsmart.server").setLevel(logging.INFO)
    try:
        client.get(path)
        client.post(f"{path}/refresh")
    finally:
        logger.removeHandler(handler)
        logging.getLogger("shopsmart.server").setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["path"] for e in lines if e.get("event") == "request"] == [
        "/pay/[redacted]",
        "/pay/[redacted]/refresh",
    ]
    assert token not in stream.getvalue()


def test_gunicorn_access_log_shows_no_pay_token() -> None:
    """gunicorn.conf.py's logger, as gunicorn builds it when the access log is turned on."""
    from gunicorn.config import Config as GunicornConfig

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = GunicornConfig()
    cfg.set("logger_class", settings["logger_class"])
    cfg.set("access_log_format", settings["access_log_format"])
    stream = io.StringIO()
    logger = cfg.logger_class(cfg)
    handler = logging.StreamHandler(stream)
    logger.access_log.addHandler(handler)
    logger.access_log.setLevel(logging.INFO)
    logger._access_log_enabled = True
    token = "Zr0_secret-token-of-a-customer-0123456789abc"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/pay/{token}?x=1",
        "PATH_INFO": f"/pay/{token}",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://pos.example.com/pay/{token}",
        "HTTP_USER_AGENT": "test",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = SimpleNamespace(headers=[("REFERER", f"https://pos.example.com/pay/{token}")])
    logger.access(response, request, environ, SimpleNamespace(seconds=0, microseconds=1500))
    line = stream.getvalue()
    assert '"GET /pay/[redacted]?x=1 HTTP/1.1" 200' in line
    assert token not in line
    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=0))
    assert not [k for k, v in atoms.items() if token in str(v)]


def test_pay_link_is_built_from_configuration_never_from_the_host_header(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    evil = {**shop.s1.headers, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    body = payment_body(email=None, purpose="phone")
    started = client.post("/api/v1/payments", json=body, headers=evil)
    assert started.json["pay_url"].startswith("https://pos.example.test/pay/")
    mailed = client.post(
        f"/api/v1/payments/{body['payment_id']}/email-link",
        json={"protocol_version": 1, "email": "bob@example.com"},
        headers=evil,
    )
    assert mailed.status_code == 200, mailed.json
    (mail,) = outbox(app)
    assert "https://pos.example.test/pay/" in mail.text_body
    assert "evil.example" not in mail.text_body + mail.html_body


def test_server_with_card_payments_and_no_public_url_refuses_to_start(
    payments_config: Any,
) -> None:
    with pytest.raises(ConfigError, match="SHOPSMART_PUBLIC_URL is not set"):
        create_app(payments_config.replace(public_url=""))


def test_embedded_server_gives_pay_links_its_own_loopback_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`shopsmart-server run` (what scripts/run_embedded.py starts) needs no PUBLIC_URL."""
    served: list[Flask] = []
    monkeypatch.setattr(Flask, "run", lambda self, **kw: served.append(self))
    for name in ("DATABASE_URL", "SHOPSMART_DATABASE_URL", "SHOPSMART_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOPSMART_DATA_DIR", str(tmp_path / "srv"))
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_embedded")
    assert cli.main(["run", "--port", "8799"]) == 0
    (app,) = served
    try:
        assert services_of(app).config.public_url == "http://127.0.0.1:8799"
    finally:
        services_of(app).close()


def test_development_servers_request_lines_show_no_pay_token(
    app: Flask, pay_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """werkzeug's own request log (``shopsmart-server run``) goes through the same rule."""
    import requests

    from tests.server.conftest import served_on_loopback

    path = path_of(pay_url)
    with caplog.at_level(logging.INFO, logger="werkzeug"), served_on_loopback(app) as url:
        assert requests.get(url + path, timeout=10).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/pay/[redacted]" in line for line in lines), lines
    assert not [line for line in lines if path in line]
