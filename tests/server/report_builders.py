"""A store with several tills, a manager, and a seeded month of orders, refunds and voids
pushed through the real push endpoint; the reports' fixtures (PostgreSQL and SQLite)."""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.domain.cart import line_gross
from server.admin import service as admin
from server.app import create_app
from server.catalog.repository import ProductDocument
from server.config import TestConfig
from server.db import unit_of_work, upgrade_database
from sync.protocol import MANAGER_HEADER
from tests.server.builders import PRODUCTS, push_body
from tests.server.conftest import EnrolledTerminal, enroll_terminal, services_of

MANAGER_PIN = "246813"
DEPARTMENT = {p["id"]: p["department"] for p in PRODUCTS}


@pytest.fixture(scope="session")
def migrated_sqlite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A server data directory whose SQLite database is migrated to head, once per worker."""
    data = tmp_path_factory.mktemp("server-sqlite")
    upgrade_database(TestConfig(database_url="", data_dir=data).sqlalchemy_url)
    return data


@pytest.fixture(params=["postgresql", "sqlite"])
def report_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The app on PostgreSQL and on the embedded SQLite (``make run``'s default), each on a
    fresh copy of a database migrated once."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_dir")
        shutil.copytree(template, tmp_path / "data")
        config = TestConfig(database_url="", data_dir=tmp_path / "data")
    else:
        config = TestConfig(database_url=request.getfixturevalue("migrated_url"))
    app = create_app(config)
    yield app
    services_of(app).close()


@dataclass
class ReportShop:
    app: Flask
    client: FlaskClient
    tills: list[EnrolledTerminal]
    other: EnrolledTerminal  # a till of another store
    manager_id: str
    clerk_pin_id: str  # a clerk (not a manager) with PIN 1234

    def manager_token(self, till: EnrolledTerminal | None = None) -> str:
        till = till or self.tills[0]
        answer = self.client.post(
            "/api/v1/manager-sessions",
            json={"protocol_version": 1, "clerk_id": self.manager_id, "pin": MANAGER_PIN},
            headers=till.headers,
        )
        assert answer.status_code == 200, answer.json
        token: str = answer.json["token"]  # type: ignore[index]
        return token

    def report(
        self, name: str, token: str, till: EnrolledTerminal | None = None, **query: Any
    ) -> Any:
        till = till or self.tills[0]
        answer = self.client.get(
            f"/api/v1/reports/{name}",
            query_string=query,
            headers={**till.headers, MANAGER_HEADER: token},
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    def push(self, till: EnrolledTerminal, events: list[dict[str, Any]]) -> list[str]:
        statuses: list[str] = []
        for start in range(0, len(events), 100):
            answer = self.client.post(
                "/api/v1/sync/push",
                json=push_body(events[start : start + 100]),
                headers=till.headers,
            )
            assert answer.status_code == 200, answer.json
            results = answer.json["results"]  # type: ignore[index]
            refused = [r for r in results if r["status"] == "rejected"]
            assert not refused, refused[:3]
            statuses += [r["status"] for r in results]
        return statuses


def report_shop(app: Flask, tills: int = 3) -> ReportShop:
    client = app.test_client()
    svc = services_of(app)
    with unit_of_work(svc.sessions) as session:
        store = admin.create_store(session, "S1", "High Street")
        admin.create_store(session, "S2", "Harbour")
        admin.save_products(session, svc.catalog(session), [ProductDocument(**p) for p in PRODUCTS])
        manager = admin.add_clerk(session, store, "Max", "manager", MANAGER_PIN)
        clerk = admin.add_clerk(session, store, "Maria", "clerk", "1234")
        manager_id, clerk_id = str(manager.id), str(clerk.id)
    enrolled = [enroll_terminal(app, client, "S1", f"T{n:02d}") for n in range(1, tills + 1)]
    other = enroll_terminal(app, client, "S2", "T01")
    return ReportShop(app, client, enrolled, other, manager_id, clerk_id)


# --------------------------------------------------------------------------- a month of sales


@dataclass
class Sale:
    payload: dict[str, Any]
    voided_at: datetime | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)  # payloads, with "terminal"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def build_sale(
    rng: random.Random, terminal: str, sequence: int, clerk: tuple[str, str], paid_at: datetime
) -> dict[str, Any]:
    """A consistent, tax-inclusive order of 1–4 lines, some discounted, paid in cash, by card
    (an external terminal) or split."""
    lines = []
    for number, product in enumerate(rng.sample(PRODUCTS, rng.randint(1, 4)), start=1):
        weight = product["sold_by"] == "weight"
        quantity = rng.randint(150, 2500) if weight else rng.randint(1, 5)
        gross = line_gross(product["sold_by"], quantity, product["unit_price"])
        discount = rng.choice([0, 0, 0, gross // 10])
        lines.append(
            {
                "line_no": number,
                "product_id": product["id"],
                "sku": product["sku"],
                "name": product["name"],
                "sold_by": product["sold_by"],
                "quantity": quantity,
                "unit_price": product["unit_price"],
                "gross": gross,
                "line_discount": discount,
                "order_discount_share": 0,
                "net": gross - discount,
                "tax_class": "food",
                "tax_rate_bp": 700,
                "discount_reason": "promo" if discount else "",
            }
        )
    total = sum(ln["net"] for ln in lines)  # = Σ(gross − line discount): the subtotal
    tax = (total * 700 + 5350) // 10700
    how = rng.choice(["cash", "card", "split"])
    card = total if how == "card" else (rng.randint(1, total - 1) if how == "split" else 0)
    tenders = []
    if total - card:
        tenders.append(
            {
                "kind": "cash",
                "amount": total - card,
                "tendered": total - card + 50,
                "change": 50,
                "reference": "",
            }
        )
    if card:
        tenders.append(
            {"kind": "card", "amount": card, "tendered": card, "change": 0, "reference": ""}
        )
    return {
        "id": str(uuid.uuid4()),
        "receipt_no": f"{terminal}-{sequence:06d}",
        "terminal_code": terminal,
        "sequence": sequence,
        "clerk_id": clerk[0],
        "clerk_name": clerk[1],
        "currency": "EUR",
        "status": "paid",
        "kind": "counter",
        "created_at": _iso(paid_at - timedelta(seconds=30)),
        "paid_at": _iso(paid_at),
        "subtotal": total,
        "discount_total": sum(ln["line_discount"] for ln in lines),
        "tax_total": tax,
        "total": total,
        "prices_include_tax": True,
        "customer": None,
        "lines": lines,
        "tenders": tenders,
        "tax": [
            {"tax_class": "food", "label": "VAT 7%", "rate_bp": 700, "taxable": total, "tax": tax}
        ],
    }


CLERKS = [("c-anna", "Anna"), ("c-ben", "Ben"), ("c-cora", "Cora")]


def generate_month(
    rng: random.Random, terminals: list[str], first: date, days: int, orders: int
) -> list[Sale]:
    """``orders`` sales over ``days`` local days from ``first`` (UTC moments a little before
    the first day to a little after the last, so the store's day boundaries matter), with
    ~6 % voided and ~12 % refunded in part (a day or so later)."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=3)
    span = int(timedelta(days=days, hours=6).total_seconds())
    sequences = dict.fromkeys(terminals, 0)
    sales = []
    for _ in range(orders):
        terminal = rng.choice(terminals)
        sequences[terminal] += 1
        paid_at = start + timedelta(seconds=rng.randrange(span))
        payload = build_sale(rng, terminal, sequences[terminal], rng.choice(CLERKS), paid_at)
        sale = Sale(payload)
        roll = rng.random()
        if roll < 0.06:
            sale.voided_at = paid_at + timedelta(minutes=rng.randint(1, 90))
        elif roll < 0.18:
            amount = rng.randint(1, payload["total"])
            sale.refunds.append(
                {
                    "refund_id": str(uuid.uuid4()),
                    "order_id": payload["id"],
                    "amount": amount,
                    "cash_amount": amount,
                    "card_amount": 0,
                    "card_payment_id": None,
                    "reason": "damaged",
                    "refunded_at": _iso(paid_at + timedelta(hours=rng.randint(1, 40))),
                    "clerk_id": rng.choice(CLERKS)[0],
                    "lines": [],
                    "terminal": rng.choice(terminals),
                }
            )
        sales.append(sale)
    return sales


def paid(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "order.paid",
        "occurred_at": payload["paid_at"],
        "payload": payload,
    }


def voided(sale: Sale) -> dict[str, Any]:
    assert sale.voided_at is not None
    return {
        "event_id": str(uuid.uuid4()),
        "type": "order.voided",
        "occurred_at": _iso(sale.voided_at),
        "payload": {
            "order_id": sale.payload["id"],
            "reason": "wrong items",
            "voided_at": _iso(sale.voided_at),
            "clerk_id": "c-manager",
        },
    }


def refunded(refund: dict[str, Any]) -> dict[str, Any]:
    payload = {k: v for k, v in refund.items() if k != "terminal"}
    return {
        "event_id": str(uuid.uuid4()),
        "type": "order.refunded",
        "occurred_at": payload["refunded_at"],
        "payload": payload,
    }


def push_month(shop: ReportShop, sales: list[Sale]) -> None:
    """Every sale through its till's push, then the voids (same till) and refunds (the
    till that gave them); everything must be accepted."""
    tills = {t.terminal_code: t for t in shop.tills}
    for code, till in tills.items():
        mine = [paid(s.payload) for s in sales if s.payload["terminal_code"] == code]
        assert set(shop.push(till, mine)) <= {"accepted"}
    for code, till in tills.items():
        later = [voided(s) for s in sales if s.voided_at and s.payload["terminal_code"] == code]
        later += [refunded(r) for s in sales for r in s.refunds if r["terminal"] == code]
        if later:
            assert set(shop.push(till, later)) == {"accepted"}
