"""Who may call what: enrollment, bearer tokens, revocation, store scoping, limits."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.admin import service as admin
from server.app import create_app
from server.config import TestConfig
from server.db import unit_of_work
from server.errors import Forbidden, NotFound
from server.models import Base, Customer, Order, Terminal
from server.ratelimit import RateLimiter
from server.request_log import JsonFormatter
from server.terminals.auth import (
    Caller,
    CallerKind,
    authenticate,
    create_enroll_code,
    get_owned,
    revoke_terminal,
)
from sync.protocol import PROTOCOL_HEADER
from tests.conftest import create_database, database_url, drop_database
from tests.server.builders import order, paid_event, push_body
from tests.server.conftest import (
    Shop,
    enroll_terminal,
    make_shop,
    payments_config_of,
    services_of,
    stripe_client_of,
)
from tests.server.phone_builders import (
    customer_event,
    phone_order_event,
    picked_event,
    transition_event,
)
from tests.server.test_delivery import add_slot, push
from tests.server.test_phone_payments import authorise, link_in, mails

PUBLIC = {"/api/v1/health", "/api/v1/terminals/enroll", "/api/openapi.json"}


@dataclass
class World:
    """A shop where S1 has one order, one price-mismatch flag, a revoked terminal, a paid
    card payment and an open one, a manager, and for phone orders a customer, a delivery
    slot with a booking and a card-link phone order (its link sent, not yet authorised)."""

    shop: Shop
    order_id: str
    revoked_token: str
    paid_payment_id: str = ""
    open_payment_id: str = ""
    manager_id: str = ""  # a manager of S1 (PIN MANAGER_PIN) and a session of theirs at T01
    manager_token: str = ""
    app: Flask | None = None
    customer: dict[str, Any] | None = None  # the customer.saved payload
    slot_id: str = ""
    booking_id: str = ""  # an online booking of the slot
    phone_order_id: str = ""

    @property
    def customer_id(self) -> str:
        assert self.customer is not None
        return str(self.customer["id"])

    def s1_ids(self) -> list[str]:
        """The ids of S1's objects that no answer to S2 may hold."""
        return [
            self.order_id,
            self.shop.s1.clerk_id,
            self.customer_id,
            self.slot_id,
            self.booking_id,
            self.phone_order_id,
        ]


@pytest.fixture
def app(payments_config: TestConfig) -> Iterator[Flask]:
    """Card payments configured (localstripe), so the payment endpoints answer too."""
    app = create_app(payments_config)
    yield app
    services_of(app).close()


def _card_payment(client: FlaskClient, shop: Shop, stripe_client: Any | None) -> str:
    from tests.server.test_payments import VISA, intent_of, pay_as_the_browser, payment_body

    body = payment_body()
    assert client.post("/api/v1/payments", json=body, headers=shop.s1.headers).status_code == 200
    if stripe_client is not None:
        app = client.application
        pay_as_the_browser(stripe_client, intent_of(app, body["payment_id"]), VISA)
        status = client.get(f"/api/v1/payments/{body['payment_id']}", headers=shop.s1.headers)
        assert status.json["status"] == "succeeded"
    return str(body["payment_id"])


@pytest.fixture
def world(app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any) -> World:
    return make_world(app, client, shop, stripe_client)


@contextmanager
def _module_world(
    pg_admin_url: str, template: str, localstripe_url: str, tmp_path_factory: Any
) -> Iterator[tuple[FlaskClient, World]]:
    """A world on a database of its own, for the tests of a module that share one."""
    name = create_database(pg_admin_url, template=template)
    config = payments_config_of(
        TestConfig(database_url=database_url(pg_admin_url, name)),
        localstripe_url,
        tmp_path_factory.mktemp("world"),
    )
    app = create_app(config)
    try:
        client = app.test_client()
        shop = make_shop(app, client)
        yield client, make_world(app, client, shop, stripe_client_of(localstripe_url))
    finally:
        services_of(app).close()
        drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def refusal_world(
    pg_admin_url: str, pg_migrated_template: str, localstripe_url: str, tmp_path_factory: Any
) -> Iterator[tuple[FlaskClient, World]]:
    """One world for every refusal of a bad token: a refusal writes nothing (each test checks
    every table's rows are as they were), so the endpoints need not build one each."""
    with _module_world(
        pg_admin_url, pg_migrated_template, localstripe_url, tmp_path_factory
    ) as world:
        yield world


@pytest.fixture(scope="module")
def other_store_world(
    pg_admin_url: str, pg_migrated_template: str, localstripe_url: str, tmp_path_factory: Any
) -> Iterator[tuple[FlaskClient, World]]:
    """One world for every call by S2's terminal: what S2 writes is S2's own (a payment of
    its own, its own customer under S1's id), and each check is about S1's objects, which
    no call of S2 may reach."""
    with _module_world(
        pg_admin_url, pg_migrated_template, localstripe_url, tmp_path_factory
    ) as world:
        yield world


def make_world(app: Flask, client: FlaskClient, shop: Shop, stripe_client: Any) -> World:
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 1)], unit_prices={"p1": 1})
    slot_id = add_slot(app, 10, capacity=5)
    customer = customer_event()
    phone_order = phone_order_event(
        customer["payload"]["id"], slot_id, status="provisional", payment_method="card_link"
    )
    response = client.post(
        "/api/v1/sync/push",
        json=push_body([paid_event(payload), customer, phone_order]),
        headers=shop.s1.headers,
    )
    assert response.json["accepted"] == 3, response.json
    booking_id = str(uuid.uuid4())
    booked = client.post(
        f"/api/v1/delivery-slots/{slot_id}/bookings",
        json={"booking_id": booking_id, "units": 1},
        headers=shop.s1.headers,
    )
    assert booked.status_code == 201, booked.json
    revoked = enroll_terminal(app, client, "S1", "T09")
    with unit_of_work(services_of(app).sessions) as session:
        assert revoke_terminal(session, _uuid(revoked.terminal_id))
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        manager_id = str(admin.add_clerk(session, store, "Max", "manager", MANAGER_PIN).id)
    signed_in = client.post(
        "/api/v1/manager-sessions",
        json=_manager_body(manager_id),
        headers=shop.s1.headers,
    )
    assert signed_in.status_code == 200, signed_in.json
    return World(
        shop,
        payload["id"],
        revoked.token,
        paid_payment_id=_card_payment(client, shop, stripe_client),
        open_payment_id=_card_payment(client, shop, None),
        manager_id=manager_id,
        manager_token=signed_in.json["token"],
        app=app,
        customer=customer["payload"],
        slot_id=slot_id,
        booking_id=booking_id,
        phone_order_id=phone_order["payload"]["id"],
    )


MANAGER_PIN = "246813"


def _manager_body(manager_id: str) -> dict[str, Any]:
    return {"protocol_version": 1, "clerk_id": manager_id, "pin": MANAGER_PIN}


def _manager_refused(error: str) -> Callable[[World, Any], None]:
    def check(w: World, response: Any) -> None:
        assert response.status_code == 403
        assert response.json["error"] == error

    return check


def _uuid(text: str) -> Any:
    import uuid

    return uuid.UUID(text)


@dataclass(frozen=True)
class Call:
    method: str
    rule: str
    path: Callable[[World], str]
    body: Callable[[World], Any] | None
    # What a terminal of the OTHER store (S2) sees: asserts on the response.
    other_store: Callable[[World, Any], None]
    headers: Callable[[World], dict[str, str]] | None = None  # beside the bearer token
    status: int = 200  # the own store's success code
    # What S1's own terminal sees beside the status (a list shows S1's object, say)
    own_store: Callable[[World, Any], None] | None = None
    # Run before S1's own call only (the card authorised and the order picked, say)
    prepare: Callable[[World, FlaskClient, Any], None] | None = None


def _no_s1_data(w: World, response: Any) -> None:
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for s1_id in w.s1_ids():
        assert s1_id not in text


def _not_found(w: World, response: Any) -> None:
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def _own_store(w: World, response: Any) -> None:
    assert response.status_code == 200
    assert response.json["store"]["code"] == "S2"


def _shared_catalog(w: World, response: Any) -> None:
    assert response.status_code == 200  # the catalog is the chain's, shared by every store


def _push_other_store(w: World, response: Any) -> None:
    assert response.status_code == 200
    assert response.json["results"][0]["reason"] == "unknown_order"


def _own_payment(w: World, response: Any) -> None:
    assert response.status_code == 200
    assert w.paid_payment_id not in response.get_data(as_text=True)


def _new_payment_body(w: World) -> dict[str, Any]:
    import uuid

    return {
        "protocol_version": 1,
        "payment_id": str(uuid.uuid4()),
        "order_id": str(uuid.uuid4()),
        "amount": 500,
        "currency": "EUR",
    }


def _lists(
    key: str, s1_id: Callable[[World], str], inner: str = ""
) -> Callable[[World, Any], None]:
    """S1's list holds S1's object (so S2's list, asked the same, would show it if leaked)."""

    def check(w: World, response: Any) -> None:
        ids = [(item[inner] if inner else item)["id"] for item in response.json[key]]
        assert s1_id(w) in ids

    return check


def _customer_body(w: World) -> dict[str, Any]:
    """S1's customer renamed (newer than the stored one)."""
    assert w.customer is not None
    return {**w.customer, "name": "Aoife Ní Bhroin", "updated_at": "2030-01-01T00:00:00+00:00"}


def _s1_customer_untouched(w: World, response: Any) -> None:
    """Customer ids are each store's own (migration 0009): S2's PUT under S1's id saves S2's
    own customer, answered as a fresh id is, and S1's customer stays as it was."""
    assert response.status_code == 200, response.json
    assert response.json["name"] == "Aoife Ní Bhroin"
    assert w.app is not None and w.customer is not None
    with services_of(w.app).sessions() as session:
        mine = session.get_one(
            Customer, {"store_id": w.shop.s1.store_id, "id": _uuid(w.customer_id)}
        )
        theirs = session.get_one(
            Customer, {"store_id": w.shop.s2.store_id, "id": _uuid(w.customer_id)}
        )
        assert (mine.name, theirs.name) == (w.customer["name"], "Aoife Ní Bhroin")


def _authorised_and_picked(w: World, client: FlaskClient, stripe_client: Any) -> None:
    """The customer authorises the card through the mailed link; the order is picked
    lighter than estimated, so the capture charges the picked total."""
    assert w.app is not None
    [mail] = mails(w.app, "payment_link")
    authorise(client, w.app, stripe_client, link_in(mail))
    picked = push(
        client,
        w.shop.s1,
        transition_event(w.phone_order_id, "received", "picking"),
        picked_event(w.phone_order_id, grams=1000),
    )
    assert [r["status"] for r in picked] == ["accepted"] * 2


def _captured(w: World, response: Any) -> None:
    assert (response.json["payment_status"], response.json["captured_amount"]) == (
        "captured",
        202 + 199,  # 2 × 1.01 and 1 kg of bananas at 1.99
    )


CALLS = [
    Call("GET", "/api/v1/terminals/me", lambda w: "/api/v1/terminals/me", None, _own_store),
    Call(
        "GET",
        "/api/v1/catalog/products",
        lambda w: "/api/v1/catalog/products?sku=SKU-1",
        None,
        _shared_catalog,
    ),
    Call(
        "GET",
        "/api/v1/catalog/products/<product_id>",
        lambda w: "/api/v1/catalog/products/p1",
        None,
        _shared_catalog,
    ),
    Call(
        "POST",
        "/api/v1/sync/push",
        lambda w: "/api/v1/sync/push",
        lambda w: push_body(
            [
                {
                    "event_id": "0190f1c2-0000-7000-8000-0000000000aa",
                    "type": "order.voided",
                    "occurred_at": "2026-11-25T13:00:00+00:00",
                    "payload": {
                        "order_id": w.order_id,
                        "reason": "x",
                        "voided_at": "2026-11-25T13:00:00+00:00",
                        "clerk_id": "c",
                    },
                }
            ]
        ),
        _push_other_store,
    ),
    Call("GET", "/api/v1/sync/pull", lambda w: "/api/v1/sync/pull", None, _no_s1_data),
    Call(
        "GET",
        "/api/v1/orders/<order_id>",
        lambda w: f"/api/v1/orders/{w.order_id}",
        None,
        _not_found,
    ),
    Call("GET", "/api/v1/flags", lambda w: "/api/v1/flags", None, _no_s1_data),
    Call("POST", "/api/v1/payments", lambda w: "/api/v1/payments", _new_payment_body, _own_payment),
    Call(
        "GET",
        "/api/v1/payments/<payment_id>",
        lambda w: f"/api/v1/payments/{w.paid_payment_id}",
        None,
        _not_found,
    ),
    Call(
        "POST",
        "/api/v1/payments/<payment_id>/refunds",
        lambda w: f"/api/v1/payments/{w.paid_payment_id}/refunds",
        lambda w: {
            "protocol_version": 1,
            "refund_id": "0190f1c2-0000-7000-8000-0000000000bb",
            "amount": 100,
        },
        _not_found,
    ),
    Call(
        "POST",
        "/api/v1/payments/<payment_id>/cancel",
        lambda w: f"/api/v1/payments/{w.open_payment_id}/cancel",
        lambda w: {"protocol_version": 1},
        _not_found,
    ),
    Call(
        "POST",
        "/api/v1/payments/<payment_id>/email-link",
        lambda w: f"/api/v1/payments/{w.open_payment_id}/email-link",
        lambda w: {"protocol_version": 1, "email": "ada@example.com"},
        _not_found,
    ),
    # S1's manager is unknown to S2's terminals, and S1's manager session is not S2's
    Call(
        "POST",
        "/api/v1/manager-sessions",
        lambda w: "/api/v1/manager-sessions",
        lambda w: _manager_body(w.manager_id),
        _manager_refused("invalid_pin"),
    ),
    Call(
        "GET",
        "/api/v1/reports/<name>",
        lambda w: "/api/v1/reports/sales-by-day?from=2026-11-01&to=2026-11-30",
        None,
        _manager_refused("manager_required"),
        lambda w: {"X-Shopsmart-Manager": w.manager_token},
    ),
    # phone orders (server/delivery): S1's customer, slot, booking and phone order
    Call(
        "GET",
        "/api/v1/customers",
        lambda w: "/api/v1/customers?phone=353",
        None,
        _no_s1_data,
        own_store=_lists("customers", lambda w: w.customer_id),
    ),
    Call(
        "GET",
        "/api/v1/customers/<customer_id>",
        lambda w: f"/api/v1/customers/{w.customer_id}",
        None,
        _not_found,
    ),
    Call(
        "PUT",
        "/api/v1/customers/<customer_id>",
        lambda w: f"/api/v1/customers/{w.customer_id}",
        _customer_body,
        _s1_customer_untouched,
    ),
    Call(
        "GET",
        "/api/v1/delivery-slots",
        lambda w: "/api/v1/delivery-slots",
        None,
        _no_s1_data,
        own_store=_lists("slots", lambda w: w.slot_id, inner="slot"),
    ),
    Call(
        "POST",
        "/api/v1/delivery-slots/<slot_id>/bookings",
        lambda w: f"/api/v1/delivery-slots/{w.slot_id}/bookings",
        lambda w: {"booking_id": str(uuid.uuid4()), "units": 1},
        _not_found,
        status=201,
    ),
    Call(
        "DELETE",
        "/api/v1/delivery-slots/<slot_id>/bookings/<booking_id>",
        lambda w: f"/api/v1/delivery-slots/{w.slot_id}/bookings/{w.booking_id}",
        None,
        _not_found,
    ),
    Call(
        "GET",
        "/api/v1/phone-orders",
        lambda w: "/api/v1/phone-orders",
        None,
        _no_s1_data,
        own_store=_lists("orders", lambda w: w.phone_order_id),
    ),
    Call(
        "GET",
        "/api/v1/phone-orders/<order_id>",
        lambda w: f"/api/v1/phone-orders/{w.phone_order_id}",
        None,
        _not_found,
    ),
    Call(
        "POST",
        "/api/v1/phone-orders/<order_id>/transitions",
        lambda w: f"/api/v1/phone-orders/{w.phone_order_id}/transitions",
        lambda w: {
            "transition_id": str(uuid.uuid4()),
            "from_state": "received",
            "to_state": "picking",
        },
        _not_found,
    ),
    # the card side of S1's card-link phone order (server/payments/phone_blueprint.py)
    Call(
        "GET",
        "/api/v1/phone-orders/<order_id>/payment",
        lambda w: f"/api/v1/phone-orders/{w.phone_order_id}/payment",
        None,
        _not_found,
    ),
    Call(
        "POST",
        "/api/v1/phone-orders/<order_id>/payment-link",
        lambda w: f"/api/v1/phone-orders/{w.phone_order_id}/payment-link",
        lambda w: {"protocol_version": 1},
        _not_found,
    ),
    Call(
        "POST",
        "/api/v1/phone-orders/<order_id>/capture",
        lambda w: f"/api/v1/phone-orders/{w.phone_order_id}/capture",
        lambda w: {"protocol_version": 1, "capture_id": str(uuid.uuid4()), "choice": "capture"},
        _not_found,
        own_store=_captured,
        prepare=_authorised_and_picked,
    ),
]


def test_the_matrix_covers_every_endpoint_that_needs_a_token(app: Flask) -> None:
    protected = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api") and rule.rule not in PUBLIC
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert protected == {(c.method, c.rule) for c in CALLS}


def _call(client: FlaskClient, w: World, call: Call, headers: dict[str, str]) -> Any:
    return client.open(
        call.path(w),
        method=call.method,
        json=call.body(w) if call.body else None,
        headers={PROTOCOL_HEADER: "1", **(call.headers(w) if call.headers else {}), **headers},
    )


# Each way of calling without a valid token, and the error it gets (one world per endpoint:
# a refusal changes nothing, so the five are asked in turn)
BAD_AUTH = [
    ("no-token", None, "unauthorized"),
    ("empty-token", "Bearer ", "unauthorized"),
    ("basic-auth", "Basic dXNlcjpwYXNz", "unauthorized"),
    ("bad-token", "Bearer not-a-real-token", "invalid_token"),
    ("revoked-token", "revoked", "revoked_token"),
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.rule}")
def test_endpoint_refuses_callers_without_a_valid_token(
    refusal_world: tuple[FlaskClient, World], call: Call
) -> None:
    client, world = refusal_world
    assert world.app is not None
    before = _row_counts(world.app)
    for name, auth, error in BAD_AUTH:
        headers = {}
        if auth == "revoked":
            headers["Authorization"] = f"Bearer {world.revoked_token}"
        elif auth is not None:
            headers["Authorization"] = auth
        response = _call(client, world, call, headers)
        assert (response.status_code, response.json["error"]) == (401, error), name
        assert response.json["message"], name
    assert _row_counts(world.app) == before  # a refusal writes nothing


def _row_counts(app: Flask) -> dict[str, int]:
    """How many rows each of the server's tables holds."""
    with services_of(app).sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.rule}")
def test_endpoint_serves_the_own_store(
    client: FlaskClient, world: World, call: Call, stripe_client: Any
) -> None:
    if call.prepare is not None:
        call.prepare(world, client, stripe_client)
    response = _call(client, world, call, {"Authorization": f"Bearer {world.shop.s1.token}"})
    assert response.status_code == call.status, response.json
    if call.own_store is not None:
        call.own_store(world, response)


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.rule}")
def test_endpoint_never_shows_another_stores_data(
    other_store_world: tuple[FlaskClient, World], call: Call
) -> None:
    client, world = other_store_world
    response = _call(client, world, call, {"Authorization": f"Bearer {world.shop.s2.token}"})
    call.other_store(world, response)


@pytest.mark.parametrize("path", sorted(PUBLIC - {"/api/v1/terminals/enroll"}))
def test_public_endpoint_needs_no_token(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_enrollment_code_works_once(app: Flask, client: FlaskClient, shop: Shop) -> None:
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        code = create_enroll_code(session, store.id, timedelta(hours=1))
    body = {"protocol_version": 1, "code": code.lower(), "terminal_code": "T05"}
    first = client.post("/api/v1/terminals/enroll", json=body)
    assert first.status_code == 201
    assert len(first.json["token"]) >= 43
    second = client.post("/api/v1/terminals/enroll", json=body)
    assert second.status_code == 403
    assert (second.json["error"], second.json["field"]) == ("invalid_enroll_code", "code")


def test_terminal_code_in_use_in_the_store_is_refused_until_revoked(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    def enroll_as_t01() -> Any:
        with unit_of_work(services_of(app).sessions) as session:
            store = admin.store_by_code(session, "S1")
            code = create_enroll_code(session, store.id, timedelta(hours=1))
        return client.post(
            "/api/v1/terminals/enroll",
            json={"protocol_version": 1, "code": code, "terminal_code": "T01"},
        )

    refused = enroll_as_t01()
    assert (refused.status_code, refused.json["error"]) == (409, "terminal_code_taken")
    with unit_of_work(services_of(app).sessions) as session:
        assert revoke_terminal(session, _uuid(shop.s1.terminal_id))
    assert enroll_as_t01().status_code == 201


def test_expired_enrollment_code_is_refused(app: Flask, client: FlaskClient, shop: Shop) -> None:
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, "S1")
        code = create_enroll_code(session, store.id, timedelta(seconds=-1))
    response = client.post(
        "/api/v1/terminals/enroll",
        json={"protocol_version": 1, "code": code, "terminal_code": "T05"},
    )
    assert response.status_code == 403


def test_tokens_are_stored_only_as_sha256(app: Flask, shop: Shop) -> None:
    with services_of(app).sessions() as session:
        hashes = set(session.scalars(select(Terminal.token_hash)))
    token = shop.s1.token
    assert hashlib.sha256(token.encode()).hexdigest() in hashes
    assert token not in hashes


@pytest.fixture
def strict_app(config: TestConfig) -> Iterator[Flask]:
    app = create_app(
        config.replace(rate_limit_per_minute=60, rate_limit_burst=3, max_body_bytes=4096)
    )
    yield app
    services_of(app).close()


def test_terminal_over_its_rate_is_told_when_to_retry(strict_app: Flask) -> None:
    client = strict_app.test_client()
    with unit_of_work(services_of(strict_app).sessions) as session:
        admin.create_store(session, "S1", "High Street")
    terminal = enroll_terminal(strict_app, client, "S1", "T01")
    services_of(strict_app).rate_limiter = RateLimiter(60, 3, clock=lambda: 1000.0)  # frozen
    answers = [client.get("/api/v1/terminals/me", headers=terminal.headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json["error"] == "rate_limited"
    assert answers[3].headers["Retry-After"] == "1"


def test_rate_limit_bucket_refills_with_time(strict_app: Flask) -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    t1, t2 = uuid.uuid4(), uuid.uuid4()

    def take(terminal_id: uuid.UUID) -> float:
        with unit_of_work(services_of(strict_app).sessions) as session:
            return limiter.take(session, terminal_id)

    assert [take(t1) for _ in range(2)] == [0.0, 0.0]
    assert take(t1) == pytest.approx(1.0)
    assert take(t2) == 0.0  # buckets are per terminal
    now[0] += 1.0
    assert take(t1) == 0.0
    assert take(t1) > 0
    now[0] -= 30.0  # a clock stepping back gives nothing and takes nothing
    assert take(t1) > 0


def test_rate_limit_is_shared_by_every_worker(config: TestConfig, strict_app: Flask) -> None:
    """Two apps on one database (two gunicorn workers, say): one bucket per terminal."""
    other = create_app(config.replace(rate_limit_per_minute=60, rate_limit_burst=3))
    try:
        with unit_of_work(services_of(strict_app).sessions) as session:
            admin.create_store(session, "S1", "High Street")
        terminal = enroll_terminal(strict_app, strict_app.test_client(), "S1", "T01")
        for app in (strict_app, other):
            services_of(app).rate_limiter = RateLimiter(60, 3, clock=lambda: 1000.0)  # frozen
        first, second = strict_app.test_client(), other.test_client()
        codes = [
            client.get("/api/v1/terminals/me", headers=terminal.headers).status_code
            for client in (first, second, first, second)
        ]
        assert codes == [200, 200, 200, 429]
    finally:
        services_of(other).close()


def test_body_over_the_size_limit_is_a_413_json_error(strict_app: Flask) -> None:
    client = strict_app.test_client()
    with unit_of_work(services_of(strict_app).sessions) as session:
        admin.create_store(session, "S1", "High Street")
    terminal = enroll_terminal(strict_app, client, "S1", "T01")
    body = push_body([paid_event(order()) for _ in range(5)])
    response = client.post("/api/v1/sync/push", json=body, headers=terminal.headers)
    assert response.status_code == 413
    assert response.json["error"] == "too_large"
    padded = {"protocol_version": 1, "code": "x" * 5000, "terminal_code": "T01"}
    response = client.post("/api/v1/terminals/enroll", json=padded)
    assert (response.status_code, response.json["error"]) == (413, "too_large")


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "protocol_version_missing"),
        ({PROTOCOL_HEADER: "2"}, "unsupported_protocol_version"),
        ({PROTOCOL_HEADER: "one"}, "unsupported_protocol_version"),
    ],
)
def test_request_without_a_supported_protocol_version_is_refused(
    client: FlaskClient, shop: Shop, headers: dict[str, str], error: str
) -> None:
    response = client.get(
        "/api/v1/terminals/me", headers={"Authorization": f"Bearer {shop.s1.token}", **headers}
    )
    assert response.status_code == 400
    assert response.json["error"] == error
    assert "protocol" in response.json["message"]


def test_body_that_is_not_json_is_refused(client: FlaskClient, shop: Shop) -> None:
    response = client.post(
        "/api/v1/sync/push",
        data="events=1",
        headers={"Authorization": shop.s1.headers["Authorization"]},
    )
    assert response.status_code == 415
    broken = client.post(
        "/api/v1/sync/push", data="{", content_type="application/json", headers=shop.s1.headers
    )
    assert (broken.status_code, broken.json["error"]) == (422, "invalid_json")


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_request_log_is_json_with_request_id_and_no_token(client: FlaskClient, shop: Shop) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("shopsmart.server.request")
    logger.addHandler(handler)
    old_level = logging.getLogger("shopsmart.server").level
    logging.getLogger("shopsmart.server").setLevel(logging.INFO)
    try:
        response = client.get(
            "/api/v1/terminals/me", headers={**shop.s1.headers, "X-Request-Id": "abc-123"}
        )
    finally:
        logger.removeHandler(handler)
        logging.getLogger("shopsmart.server").setLevel(old_level)
    assert response.headers["X-Request-Id"] == "abc-123"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["request_id"], e["status"], e["path"]) for e in lines] == [
        ("abc-123", 200, "/api/v1/terminals/me")
    ]
    assert lines[0]["terminal_id"] == shop.s1.terminal_id
    assert shop.s1.token not in stream.getvalue()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/catalog/products?sku=a%00b", 422),
        ("/api/v1/catalog/products/p%001", 404),
        ("/api/v1/flags?kind=%00", 422),
    ],
)
def test_nul_characters_in_the_url_are_a_4xx(
    client: FlaskClient, shop: Shop, path: str, status: int
) -> None:
    response = client.get(path, headers=shop.s1.headers)
    assert response.status_code == status
    assert response.json["error"]


@pytest.mark.parametrize(
    "data", ["[" * 50_000, '{"protocol_version": 1, "code": "a\\u0000", "terminal_code": "T1"}']
)
def test_hostile_json_is_a_422_not_a_500(client: FlaskClient, data: str) -> None:
    response = client.post("/api/v1/terminals/enroll", data=data, content_type="application/json")
    assert response.status_code == 422
    assert response.json["error"] == "invalid_json"


def test_a_caller_that_is_not_a_terminal_has_its_own_id_and_no_terminal(shop: Shop) -> None:
    customer = uuid.uuid4()
    who = Caller(
        kind=CallerKind.CUSTOMER,
        store_id=shop.s1.store_id,
        store_code="S1",
        store_name="Store 1",
        currency="EUR",
        customer_id=customer,
    )
    assert who.id == customer  # its rate limit's key
    with pytest.raises(Forbidden) as caught:
        who.terminal()
    assert caught.value.status == 403


def test_the_store_scoped_lookup_answers_by_the_callers_store(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    event = paid_event(order(clerk_id=shop.s1.clerk_id))
    client.post("/api/v1/sync/push", json=push_body([event]), headers=shop.s1.headers)
    order_id = event["payload"]["id"]
    with services_of(app).sessions() as session:
        mine = authenticate(session, f"Bearer {shop.s1.token}")
        theirs = authenticate(session, f"Bearer {shop.s2.token}")
        assert str(get_owned(session, mine, Order, order_id).id) == order_id
        with pytest.raises(NotFound):
            get_owned(session, theirs, Order, order_id)
        with pytest.raises(NotFound):
            get_owned(session, mine, Order, "not-a-uuid")
