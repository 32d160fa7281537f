"""Fixtures for the server suite: a migrated PostgreSQL per test, the app, two stores."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from server import admin
from server.app import create_app
from server.auth import create_enroll_code
from server.catalog import ProductDocument
from server.config import TestConfig
from server.db import unit_of_work, upgrade_database
from server.services import Services
from sync.protocol import PROTOCOL_HEADER
from tests.server.builders import PRODUCTS


def sqlalchemy_url(pg_url: str) -> str:
    return TestConfig(database_url=pg_url).sqlalchemy_url


@pytest.fixture
def migrated_url(pg_url: str) -> str:
    upgrade_database(sqlalchemy_url(pg_url))
    return pg_url


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
    svc = services_of(app)
    with unit_of_work(svc.sessions) as session:
        s1 = admin.create_store(session, "S1", "High Street")
        admin.create_store(session, "S2", "Harbour")
        admin.save_products(session, svc.catalog(session), [ProductDocument(**p) for p in PRODUCTS])
        admin.set_stock(session, s1, {p["id"]: 100_000 for p in PRODUCTS})
    return Shop(
        enroll_terminal(app, client, "S1", "T01"), enroll_terminal(app, client, "S2", "T02")
    )


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by a real threaded WSGI server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
