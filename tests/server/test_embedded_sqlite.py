"""The server as `make run` starts it (no DATABASE_URL: SQLite under its data directory).

SQLite keeps a timestamp as text without its offset; every timestamp the server reads back
must still be aware UTC, or a till cannot store a pulled delivery slot ("naive datetime: the
shop keeps UTC only") and the payment routes compare a naive time with an aware one (500)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from app.domain.timestamps import utc_iso
from server.admin import service as admin
from server.app import create_app
from server.config import TestConfig
from server.db import unit_of_work, upgrade_database
from server.models import DeliverySlot, Payment, Store
from sync.protocol import DeliverySlotChange, PaymentData, PullResponse
from tests.server.conftest import Shop, services_of
from tests.server.test_payments import payment_body, start

NINE_IN_BERLIN = datetime(2026, 11, 26, 9, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture
def config(tmp_path: Any) -> TestConfig:
    """Overrides the suite's PostgreSQL: the embedded default, SQLite under data_dir."""
    config = TestConfig(data_dir=tmp_path / "srv")
    assert config.sqlalchemy_url.startswith("sqlite:///")
    upgrade_database(config.sqlalchemy_url)
    return config


@pytest.fixture
def app(payments_config: Any) -> Iterator[Flask]:
    """Stripe configured (localstripe), as for the payment routes."""
    app = create_app(payments_config)
    yield app
    services_of(app).close()


def add_slot(app: Flask, store_code: str, starts_at: datetime) -> uuid.UUID:
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, store_code)
        slot = admin.add_delivery_slot(session, store, starts_at, timedelta(hours=2), capacity=8)
        return slot.id


def test_pulled_delivery_slot_is_aware_utc_and_the_till_can_store_it(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    slot_id = add_slot(app, "S1", NINE_IN_BERLIN)
    answer = client.get("/api/v1/sync/pull?limit=1000", headers=shop.s1.headers)
    assert answer.status_code == 200, answer.json
    page = PullResponse.model_validate(answer.json)  # as the till's transport reads it
    (slot,) = [c.data for c in page.changes if isinstance(c, DeliverySlotChange)]
    assert slot.id == str(slot_id)
    assert slot.starts_at == NINE_IN_BERLIN and slot.starts_at.utcoffset() == timedelta(0)
    assert utc_iso(slot.starts_at) == "2026-11-26T08:00:00.000000+00:00"  # the till's rule
    assert utc_iso(slot.ends_at) == "2026-11-26T10:00:00.000000+00:00"


def test_every_timestamp_read_back_from_sqlite_is_aware_utc(app: Flask, shop: Shop) -> None:
    slot_id = add_slot(app, "S1", NINE_IN_BERLIN)
    with services_of(app).sessions() as session:
        slot = session.get_one(DeliverySlot, slot_id)
        store = session.scalars(select(Store).where(Store.code == "S1")).one()
        assert slot.starts_at == NINE_IN_BERLIN
        assert (slot.starts_at.tzinfo, store.created_at.tzinfo) == (UTC, UTC)
        assert store.created_at <= datetime.now(UTC)  # compares with an aware time


def test_naive_datetime_is_refused_on_the_way_in(app: Flask, shop: Shop) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        add_slot(app, "S1", datetime(2026, 11, 26, 9))
    with services_of(app).sessions() as session:
        assert session.scalars(select(DeliverySlot)).all() == []


def started_payment(client: FlaskClient, shop: Shop) -> dict[str, Any]:
    started = start(client, shop.s1, payment_body())
    assert started.status_code == 200, started.json
    body: dict[str, Any] = started.json  # type: ignore[assignment]
    return body


def pay_token(app: Flask, payment_id: str) -> str:
    with services_of(app).sessions() as session:
        return (
            session.scalars(select(Payment).where(Payment.id == uuid.UUID(payment_id)))
            .one()
            .pay_token
        )


def test_payment_is_read_back_with_its_utc_times(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    started = started_payment(client, shop)
    answer = client.get(f"/api/v1/payments/{started['payment_id']}", headers=shop.s1.headers)
    assert answer.status_code == 200, answer.json
    payment = PaymentData.model_validate(answer.json)  # as the till reads it
    assert payment.status == "pending"
    assert payment.pay_url_expires_at is not None
    assert payment.pay_url_expires_at - payment.created_at == timedelta(days=1)
    assert payment.created_at <= datetime.now(UTC)


def test_pay_page_opens_on_sqlite(app: Flask, client: FlaskClient, shop: Shop) -> None:
    started = started_payment(client, shop)
    answer = client.get(f"/pay/{pay_token(app, started['payment_id'])}")
    assert answer.status_code == 200
    assert b"clientSecret" in answer.data and b'"clientSecret": null' not in answer.data


def test_pay_page_refresh_answers_on_sqlite(app: Flask, client: FlaskClient, shop: Shop) -> None:
    started = started_payment(client, shop)
    answer = client.post(f"/pay/{pay_token(app, started['payment_id'])}/refresh")
    assert answer.status_code == 200, answer.data
    assert answer.json == {"status": "pending", "decline_reason": None}
