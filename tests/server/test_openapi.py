"""The OpenAPI document describes every endpoint, and the server honours it (schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.admin import service as admin
from server.db import unit_of_work
from sync.protocol import MANAGER_HEADER
from tests.server.conftest import Shop, services_of

MAX_EXAMPLES = 25  # per operation and mode: keeps tests/server well under its time budget
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    ("GET", "/api/openapi.json"),
    ("GET", "/api/v1/catalog/products"),
    ("GET", "/api/v1/customers"),
    ("GET", "/api/v1/customers/{customer_id}"),
    ("PUT", "/api/v1/customers/{customer_id}"),
    ("GET", "/api/v1/delivery-slots"),
    ("POST", "/api/v1/delivery-slots/{slot_id}/bookings"),
    ("DELETE", "/api/v1/delivery-slots/{slot_id}/bookings/{booking_id}"),
    ("GET", "/api/v1/catalog/products/{product_id}"),
    ("GET", "/api/v1/flags"),
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/manager-sessions"),
    ("GET", "/api/v1/reports/{name}"),
    ("GET", "/api/v1/orders/{order_id}"),
    ("POST", "/api/v1/payments"),
    ("GET", "/api/v1/payments/{payment_id}"),
    ("POST", "/api/v1/payments/{payment_id}/refunds"),
    ("POST", "/api/v1/payments/{payment_id}/cancel"),
    ("POST", "/api/v1/payments/{payment_id}/email-link"),
    ("GET", "/api/v1/phone-orders"),
    ("GET", "/api/v1/phone-orders/{order_id}"),
    ("POST", "/api/v1/phone-orders/{order_id}/transitions"),
    ("GET", "/api/v1/phone-orders/{order_id}/payment"),
    ("POST", "/api/v1/phone-orders/{order_id}/payment-link"),
    ("POST", "/api/v1/phone-orders/{order_id}/capture"),
    ("GET", "/api/v1/sync/pull"),
    ("POST", "/api/v1/sync/push"),
    ("POST", "/api/v1/terminals/enroll"),
    ("GET", "/api/v1/terminals/me"),
    ("GET", "/pay/{token}"),  # the customer's pay page and Stripe's webhook: no token, but
    ("POST", "/pay/{token}/refresh"),  # reachable by anyone, so fuzzed like the rest
    ("POST", "/stripe/webhook"),
]


@pytest.fixture
def app(payments_config: Any) -> Any:
    """Card payments configured (localstripe), so generated payment requests reach Stripe."""
    from server.app import create_app

    app = create_app(payments_config)
    yield app
    services_of(app).close()


def documented_operations(client: FlaskClient) -> set[tuple[str, str]]:
    document = client.get("/api/openapi.json").json
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }


def test_document_lists_every_route(client: FlaskClient, app: Flask) -> None:
    routes = {
        (method, rule.rule.replace("<", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"  # Flask's own; the app serves no files
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert documented_operations(client) == routes == set(OPERATIONS)


WITHOUT_INPUT = {("GET", "/api/openapi.json"), ("GET", "/api/v1/health")}  # nothing to negate
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    if mode is schemathesis.GenerationMode.POSITIVE or (method, path) not in WITHOUT_INPUT
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_generated_requests_get_no_5xx_and_documented_answers(
    app: Flask, shop: Shop, method: str, path: str, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {shop.s1.token}"}
    if path.startswith("/api/v1/reports/"):  # a manager signed in: the reports' SQL is fuzzed
        headers[MANAGER_HEADER] = _manager_session(app, shop)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def exercise(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    exercise()


def _manager_session(app: Flask, shop: Shop) -> str:
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        manager_id = str(admin.add_clerk(session, store, "Max", "manager", "246813").id)
    answer = app.test_client().post(
        "/api/v1/manager-sessions",
        json={"protocol_version": 1, "clerk_id": manager_id, "pin": "246813"},
        headers={"Authorization": f"Bearer {shop.s1.token}"},
    )
    assert answer.status_code == 200, answer.json
    token: str = answer.json["token"]  # type: ignore[index]
    return token


def test_push_body_schema_is_the_protocol_model(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").json
    push = document["paths"]["/api/v1/sync/push"]["post"]
    ref = push["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["properties"]["events"]["maxItems"] == 500
    line = document["components"]["schemas"]["OrderLinePayload"]
    assert line["properties"]["unit_price"]["type"] == "integer"
