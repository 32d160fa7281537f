"""Fixtures for the server suite: a migrated PostgreSQL per test, the app, two stores."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from server.admin import service as admin
from server.app import create_app
from server.catalog.repository import ProductDocument
from server.config import TestConfig
from server.db import unit_of_work
from server.services import Services
from server.terminals.auth import create_enroll_code
from sync.protocol import PROTOCOL_HEADER
from tests.server.builders import PRODUCTS


def sqlalchemy_url(pg_url: str) -> str:
    return TestConfig(database_url=pg_url).sqlalchemy_url


@pytest.fixture
def migrated_url(pg_migrated_url: str) -> str:
    """A fresh PostgreSQL database at head (a copy of the worker's migrated template)."""
    return pg_migrated_url


@pytest.fixture
def config(migrated_url: str) -> TestConfig:
    return TestConfig(database_url=migrated_url)


@pytest.fixture
def app(config: TestConfig) -> Iterator[Flask]:
    app = create_app(config)
    yield app
    services_of(app).close()


def services_of(app: Flask) -> Services:
    found: Services = app.extensions["shopsmart"]
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass(frozen=True)
class EnrolledTerminal:
    store_code: str
    store_id: uuid.UUID
    terminal_id: str
    terminal_code: str
    token: str
    clerk_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", PROTOCOL_HEADER: "1"}


def enroll_terminal(
    app: Flask, client: FlaskClient, store_code: str, terminal_code: str
) -> EnrolledTerminal:
    svc = services_of(app)
    with unit_of_work(svc.sessions) as session:
        store = admin.store_by_code(session, store_code)
        code = create_enroll_code(session, store.id, timedelta(hours=1))
        clerk = admin.add_clerk(session, store, f"Clerk of {store_code}", "clerk", "1234")
        store_id, clerk_id = store.id, str(clerk.id)
    response = client.post(
        "/api/v1/terminals/enroll",
        json={"protocol_version": 1, "code": code, "terminal_code": terminal_code},
    )
    assert response.status_code == 201, response.json
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return EnrolledTerminal(
        store_code, store_id, body["terminal_id"], terminal_code, body["token"], clerk_id
    )


@dataclass(frozen=True)
class Shop:
    """Two stores with one enrolled terminal each, a catalog and stock in store S1."""

    s1: EnrolledTerminal
    s2: EnrolledTerminal


@pytest.fixture
def shop(app: Flask, client: FlaskClient) -> Shop:
    return make_shop(app, client)


def make_shop(app: Flask, client: FlaskClient) -> Shop:
    """S1 and S2, the catalog, S1's stock and a terminal enrolled in each."""
    svc = services_of(app)
    with unit_of_work(svc.sessions) as session:
        s1 = admin.create_store(session, "S1", "High Street")
        admin.create_store(session, "S2", "Harbour")
        admin.save_products(session, svc.catalog(session), [ProductDocument(**p) for p in PRODUCTS])
        admin.set_stock(session, s1, {p["id"]: 100_000 for p in PRODUCTS})
    return Shop(
        enroll_terminal(app, client, "S1", "T01"), enroll_terminal(app, client, "S2", "T02")
    )


@contextmanager
def served_on_loopback(wsgi_app: Any) -> Iterator[str]:
    """``wsgi_app`` served by a real threaded WSGI server on a free loopback port: its URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by a real threaded WSGI server on a free loopback port."""
    with served_on_loopback(app) as url:
        yield url


# --------------------------------------------------------------------------- payments, mail
# localstripe and moto's server run as subprocesses on loopback for the whole session.

LOCALSTRIPE_LAUNCHER = """
import sys
from aiohttp import web
import localstripe.resources as resources
from localstripe.server import app

resources.Store.dump_to_disk = lambda self: None  # no pickle in /tmp
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
STRIPE_TEST_SECRET_KEY = "sk_test_shopsmart_localstripe"
STRIPE_TEST_PUBLISHABLE_KEY = "pk_test_shopsmart_localstripe"
STRIPE_WEBHOOK_SECRET = "whsec_test_shopsmart"


def free_loopback_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_service(args: list[str], probe: str, log_path: Any) -> Any:
    import subprocess
    import time
    from pathlib import Path

    import requests

    log = open(log_path, "wb")  # noqa: SIM115 - closed by the fixture
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"{args[0]} exited: {Path(log_path).read_text()[-2000:]}")
        try:
            requests.get(probe, timeout=1)
            return process, log
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    log.close()
    raise RuntimeError(f"{args[0]} did not answer in 30 s")


def _stop_service(process: Any, log: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except Exception:
        process.kill()
        process.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe on a free loopback port (its own CLI binds every interface, so the same
    app is started on 127.0.0.1 by a three-line launcher)."""
    import sys

    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    process, log = _start_service(
        [sys.executable, "-c", LOCALSTRIPE_LAUNCHER, str(port)],
        f"{url}/js.stripe.com/v3/",
        tmp_path_factory.mktemp("localstripe") / "localstripe.log",
    )
    try:
        yield url
    finally:
        _stop_service(process, log)


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's server (SES v2) on a free loopback port."""
    import sys
    from pathlib import Path

    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    binary = Path(sys.executable).parent / "moto_server"
    process, log = _start_service(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        f"{url}/moto-api/data.json",
        tmp_path_factory.mktemp("moto") / "moto.log",
    )
    try:
        yield url
    finally:
        _stop_service(process, log)


@pytest.fixture
def payments_config(config: TestConfig, localstripe_url: str, tmp_path: Any) -> TestConfig:
    return payments_config_of(config, localstripe_url, tmp_path)


def payments_config_of(config: TestConfig, localstripe_url: str, tmp_path: Any) -> TestConfig:
    """``config`` with card payments through the localstripe at ``localstripe_url``."""
    return config.replace(
        data_dir=tmp_path / "srv",
        stripe_secret_key=STRIPE_TEST_SECRET_KEY,
        stripe_publishable_key=STRIPE_TEST_PUBLISHABLE_KEY,
        stripe_api_base=localstripe_url,
        stripe_js_url=f"{localstripe_url}/js.stripe.com/v3/",
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
        stripe_timeout_seconds=10.0,
        stripe_retry_base_seconds=0.01,
        payment_recheck_seconds=0.0,
        public_url="https://pos.example.test",
    )


@pytest.fixture
def stripe_client(localstripe_url: str) -> Any:
    """The SDK as the tests use it to play Stripe's other side (the customer's card)."""
    return stripe_client_of(localstripe_url)


def stripe_client_of(localstripe_url: str) -> Any:
    import stripe

    return stripe.StripeClient(
        STRIPE_TEST_SECRET_KEY, base_addresses={"api": localstripe_url}, max_network_retries=0
    )
