"""clerk.saved and approval.used pushed by a till: the store's clerk takes the newest change
and every till pulls it back; the approval lands in the store's audit log; one store never
changes another's clerks; a clerk (not a manager) cannot change clerks; the last active
manager stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.domain.clerk import hash_pin
from server.admin import service as admin
from server.db import unit_of_work
from server.models import AuditEntry, Clerk
from tests.server.builders import push_body
from tests.server.conftest import Shop, services_of

PUSH, PULL = "/api/v1/sync/push", "/api/v1/sync/pull"
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PIN_HASH = hash_pin("135790", cost=(1024, 8, 1))


def a_manager(app: Flask, store_code: str = "S1") -> str:
    with unit_of_work(services_of(app).sessions) as session:
        store = admin.store_by_code(session, store_code)
        return str(admin.add_clerk(session, store, f"Boss of {store_code}", "manager", "246813").id)


def clerk_saved(by: str, clerk_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    payload = {
        "clerk_id": clerk_id,
        "name": "Nina",
        "role": "clerk",
        "active": True,
        "pin_hash": PIN_HASH,
        "updated_at": at.isoformat(),
        "by_clerk_id": by,
        **fields,
    }
    return {
        "event_id": str(uuid.uuid4()),
        "type": "clerk.saved",
        "occurred_at": at.isoformat(),
        "payload": payload,
    }


def push(client: FlaskClient, headers: dict[str, str], *events: dict[str, Any]) -> list[Any]:
    response = client.post(PUSH, json=push_body(list(events)), headers=headers)
    assert response.status_code == 200, response.json
    return [(r["status"], r.get("reason")) for r in response.json["results"]]


def server_clerk(app: Flask, clerk_id: str) -> Clerk | None:
    with unit_of_work(services_of(app).sessions) as session:
        clerk = session.get(Clerk, uuid.UUID(clerk_id))
        if clerk is not None:
            session.expunge(clerk)
        return clerk


def test_clerk_saved_at_a_till_is_stored_newest_wins_and_pulled_back(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    boss = a_manager(app)
    nina = str(uuid.uuid4())
    assert push(client, shop.s1.headers, clerk_saved(boss, nina, AT)) == [("accepted", None)]
    newer = clerk_saved(boss, nina, AT + timedelta(minutes=5), role="manager", name="Nina B")
    older = clerk_saved(boss, nina, AT + timedelta(minutes=1), active=False)
    assert push(client, shop.s1.headers, newer) == [("accepted", None)]
    assert push(client, shop.s1.headers, older) == [("accepted", None)]  # stored, changes nothing
    stored = server_clerk(app, nina)
    assert stored is not None
    assert (stored.name, stored.role, stored.active, stored.pin_hash) == (
        "Nina B",
        "manager",
        True,
        PIN_HASH,
    )
    pulled = client.get(PULL, headers=shop.s1.headers).json["changes"]
    assert [
        c["data"]["name"] for c in pulled if c["kind"] == "clerk" and c["data"]["id"] == nina
    ] == ["Nina B"]
    other_store = client.get(PULL, headers=shop.s2.headers).json["changes"]
    assert nina not in {c["data"].get("id") for c in other_store if c["kind"] == "clerk"}


def test_only_a_manager_of_the_store_may_save_a_clerk(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    s2_boss = a_manager(app, "S2")
    nina = str(uuid.uuid4())
    assert push(client, shop.s1.headers, clerk_saved(shop.s1.clerk_id, nina, AT)) == [
        ("rejected", "not_a_manager")
    ]
    assert push(client, shop.s1.headers, clerk_saved(s2_boss, nina, AT)) == [
        ("rejected", "not_a_manager")
    ]
    # another store's terminal cannot change this store's clerk, even by a manager of its own
    boss = a_manager(app)
    assert push(client, shop.s1.headers, clerk_saved(boss, nina, AT)) == [("accepted", None)]
    later = AT + timedelta(minutes=1)
    assert push(client, shop.s2.headers, clerk_saved(s2_boss, nina, later, active=False)) == [
        ("rejected", "clerk_id_taken")
    ]
    assert server_clerk(app, nina).active is True


def test_the_last_active_manager_cannot_be_demoted_from_a_till(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    boss = a_manager(app)
    demote = clerk_saved(boss, boss, AT + timedelta(days=1), role="clerk", name="Boss of S1")
    assert push(client, shop.s1.headers, demote) == [("rejected", "last_manager")]
    assert server_clerk(app, boss).role == "manager"


def test_approval_used_is_kept_in_the_stores_audit_log(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    boss = a_manager(app)
    approval_id = str(uuid.uuid4())
    event = {
        "event_id": approval_id,
        "type": "approval.used",
        "occurred_at": AT.isoformat(),
        "payload": {
            "approval_id": approval_id,
            "action": "refund",
            "subject": f"refund:order={uuid.uuid4()}:amount=1250",
            "asked_by": shop.s1.clerk_id,
            "approved_by": boss,
            "terminal_code": "T01",
            "at": AT.isoformat(),
            "used_at": (AT + timedelta(seconds=20)).isoformat(),
        },
    }
    assert push(client, shop.s1.headers, event) == [("accepted", None)]
    assert push(client, shop.s1.headers, event) == [("duplicate", None)]
    with unit_of_work(services_of(app).sessions) as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "approval.used")).all()
        assert [(r.actor, r.store_id) for r in rows] == [(boss, shop.s1.store_id)]
        detail = rows[0].detail
    assert (detail["action"], detail["asked_by"], detail["approver_is_manager"]) == (
        "refund",
        shop.s1.clerk_id,
        True,
    )
    by_a_clerk = {**event, "event_id": str(uuid.uuid4())}
    by_a_clerk["payload"] = {
        **event["payload"],
        "approval_id": by_a_clerk["event_id"],
        "approved_by": shop.s1.clerk_id,
    }
    assert push(client, shop.s1.headers, by_a_clerk) == [("accepted", None)]  # it happened
    with unit_of_work(services_of(app).sessions) as session:
        flagged = session.scalars(
            select(AuditEntry).where(AuditEntry.actor == shop.s1.clerk_id)
        ).one()
        assert flagged.detail["approver_is_manager"] is False  # marked for a person to look at
    bad = {**event, "event_id": str(uuid.uuid4())}
    bad["payload"] = {**event["payload"], "action": "free_money"}
    assert push(client, shop.s1.headers, bad)[0][0] == "rejected"


def test_the_manager_made_at_a_tills_first_start_becomes_the_stores_first_manager(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    """A till started before it was connected made its own first manager (saved by
    themselves): the server takes them while the store has no active manager, and they open
    the store's reports; another till's own first manager is then refused, saying why."""
    maria, max_ = str(uuid.uuid4()), str(uuid.uuid4())
    as_clerk = clerk_saved(maria, maria, AT, name="Maria")  # a clerk cannot add themselves
    assert push(client, shop.s1.headers, as_clerk) == [("rejected", "not_a_manager")]
    first = clerk_saved(maria, maria, AT, name="Maria", role="manager")
    assert push(client, shop.s1.headers, first) == [("accepted", None)]
    stored = server_clerk(app, maria)
    assert stored is not None and (stored.role, stored.active) == ("manager", True)
    signed_in = client.post(
        "/api/v1/manager-sessions",
        json={"protocol_version": 1, "clerk_id": maria, "pin": "135790"},
        headers=shop.s1.headers,
    )
    assert signed_in.status_code == 200, signed_in.json
    second = clerk_saved(max_, max_, AT, name="Max", role="manager")
    response = client.post(PUSH, json=push_body([second]), headers=shop.s1.headers)
    [result] = response.json["results"]
    assert (result["status"], result["reason"]) == ("rejected", "not_a_manager")
    assert "already has a manager" in result["message"]
    assert server_clerk(app, max_) is None
