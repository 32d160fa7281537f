"""A catalog in MongoDB is written outside the SQL transaction that announces it in the change
log; a crash in between must delay the announcement, never lose it (server/admin/service.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.admin import service as admin
from server.app import create_app
from server.catalog.repository import ProductDocument
from server.config import TestConfig
from server.db import unit_of_work
from server.models import CatalogIntent, ChangeEntry
from server.worker import housekeeping
from tests.server.builders import PRODUCTS
from tests.server.conftest import enroll_terminal, services_of


class Died(Exception):
    """The process 'dies' after the MongoDB write, before its transaction commits."""


@pytest.fixture
def mongo_app(migrated_url: str) -> Iterator[Flask]:
    import mongomock

    app = create_app(
        TestConfig(database_url=migrated_url), mongo_client=mongomock.MongoClient(tz_aware=True)
    )
    with unit_of_work(services_of(app).sessions) as session:
        admin.create_store(session, "S1", "High Street")
        admin.save_products(
            session, services_of(app).catalog(session), [ProductDocument(**p) for p in PRODUCTS]
        )
    yield app
    services_of(app).close()


def counts(app: Flask) -> tuple[int, int]:
    with services_of(app).sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(CatalogIntent)) or 0,
            session.scalar(
                select(func.count()).where(
                    ChangeEntry.kind == "product", ChangeEntry.entity_key == "p1"
                )
            )
            or 0,
        )


def pull(app: Flask, headers: dict[str, str], cursor: str) -> tuple[list[dict[str, Any]], str]:
    page = (
        app.test_client()
        .get("/api/v1/sync/pull", query_string={"cursor": cursor}, headers=headers)
        .json
    )
    assert page is not None
    return page["changes"], page["next_cursor"]


def repriced(price: int) -> ProductDocument:
    return ProductDocument(**{**next(p for p in PRODUCTS if p["id"] == "p1"), "unit_price": price})


def test_a_write_is_journalled_and_cleared_with_its_announcement(mongo_app: Flask) -> None:
    assert counts(mongo_app) == (0, 1)
    svc = services_of(mongo_app)
    with unit_of_work(svc.sessions) as session:
        admin.save_products(session, svc.catalog(session), [repriced(333)])
    assert counts(mongo_app) == (0, 2)  # announced, and nothing left in the journal


def test_a_crash_between_mongodb_and_the_commit_is_announced_later(mongo_app: Flask) -> None:
    terminal = enroll_terminal(mongo_app, mongo_app.test_client(), "S1", "T01")
    _, cursor = pull(mongo_app, terminal.headers, "")
    svc = services_of(mongo_app)
    with pytest.raises(Died), unit_of_work(svc.sessions) as session:
        admin.save_products(session, svc.catalog(session), [repriced(777)])
        raise Died
    with svc.sessions() as session:
        assert svc.catalog(session).unit_prices(["p1"]) == {"p1": 777}  # MongoDB has it
    assert counts(mongo_app) == (1, 1)  # …the change log does not, the journal does
    changes, cursor = pull(mongo_app, terminal.headers, cursor)
    assert [c for c in changes if c["kind"] == "product"] == []  # the tills don't know yet

    with svc.sessions() as session, session.begin():  # a write in progress is left alone
        assert admin.announce_leftover_catalog_writes(session, older_than=timedelta(hours=1)) == 0
    with svc.sessions() as session, session.begin():
        session.execute(
            CatalogIntent.__table__.update().values(  # type: ignore[attr-defined]
                created_at=func.now() - timedelta(minutes=5)
            )
        )
    assert housekeeping(svc.sessions) == 1  # the worker's chore announces it…
    assert counts(mongo_app) == (0, 2)
    changes, _ = pull(mongo_app, terminal.headers, cursor)
    assert [
        (c["data"]["id"], c["data"]["unit_price"]) for c in changes if c["kind"] == "product"
    ] == [("p1", 777)]  # …and the next pull brings the new price


def test_an_sql_catalog_needs_no_journal(app: Flask) -> None:
    svc = services_of(app)
    with unit_of_work(svc.sessions) as session:
        catalog = svc.catalog(session)
        admin.save_products(session, catalog, [ProductDocument(**p) for p in PRODUCTS])
        admin.save_products(session, catalog, [repriced(444)])
        assert admin.delete_product(session, catalog, "p2")
    with svc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CatalogIntent)) == 0
