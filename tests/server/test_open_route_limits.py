"""The routes anyone may call (enroll, pay page, Stripe webhook) are throttled per client
address: 429 JSON with Retry-After, before any work, and no client picks its own address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from server.app import create_app
from server.config import TestConfig

ENROLL = ("post", "/api/v1/terminals/enroll")
OPEN_ROUTES = [ENROLL, ("get", "/pay/no-such-token"), ("post", "/stripe/webhook")]


def limited_app(config: TestConfig, trusted_proxies: int = 0) -> Iterator[Flask]:
    app = create_app(
        config.replace(
            open_rate_limit_per_minute=1, open_rate_limit_burst=3, trusted_proxies=trusted_proxies
        )
    )
    yield app
    app.extensions["shopsmart"].close()


@pytest.fixture
def strict(config: TestConfig) -> Iterator[Flask]:
    yield from limited_app(config)


@pytest.fixture
def behind_proxy(config: TestConfig) -> Iterator[Flask]:
    yield from limited_app(config, trusted_proxies=1)


def call(app: Flask, route: tuple[str, str], address: str, **headers: str) -> tuple[int, dict]:
    method, path = route
    response = getattr(app.test_client(), method)(
        path, json={}, headers=headers, environ_base={"REMOTE_ADDR": address}
    )
    return response.status_code, {**(response.json or {}), **dict(response.headers)}


@pytest.mark.parametrize("route", OPEN_ROUTES, ids=["enroll", "pay", "webhook"])
def test_an_address_over_the_limit_gets_429_json_with_retry_after_and_others_do_not(
    strict: Flask, route: tuple[str, str]
) -> None:
    answers = [call(strict, route, "203.0.113.7")[0] for _ in range(3)]
    assert 429 not in answers  # refused for what they are (bad code, no token, no Stripe)
    status, body = call(strict, route, "203.0.113.7")
    assert status == 429
    assert body["error"] == "rate_limited" and "203.0.113.7" in body["message"]
    assert body["Content-Type"] == "application/json" and int(body["Retry-After"]) >= 1
    assert call(strict, route, "198.51.100.9")[0] != 429  # another address: its own bucket


def test_each_open_route_has_its_own_bucket_and_terminal_routes_are_not_counted(
    strict: Flask,
) -> None:
    for _ in range(3):
        call(strict, ENROLL, "203.0.113.7")
    assert call(strict, ENROLL, "203.0.113.7")[0] == 429
    assert call(strict, ("get", "/pay/no-such-token"), "203.0.113.7")[0] == 404
    for _ in range(5):  # authenticated routes keep the per-terminal limit only
        assert call(strict, ("get", "/api/v1/sync/pull"), "203.0.113.7")[0] in (400, 401)
    assert call(strict, ("get", "/api/v1/health"), "203.0.113.7")[0] != 429


def test_a_client_cannot_choose_its_bucket_with_x_forwarded_for(strict: Flask) -> None:
    for n in range(3):
        call(strict, ENROLL, "203.0.113.7", **{"X-Forwarded-For": f"10.0.0.{n}"})
    status, _ = call(strict, ENROLL, "203.0.113.7", **{"X-Forwarded-For": "10.0.0.99"})
    assert status == 429


def test_behind_the_proxy_the_forwarded_address_is_the_client(behind_proxy: Flask) -> None:
    # nginx replaces X-Forwarded-For with the peer it saw; the app's peer is nginx itself
    for _ in range(3):
        call(behind_proxy, ENROLL, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.7"})
    assert call(behind_proxy, ENROLL, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.7"})[0] == 429
    assert call(behind_proxy, ENROLL, "127.0.0.1", **{"X-Forwarded-For": "198.51.100.9"})[0] != 429
