"""Retries on the server: a transaction that lost to another one is run again (told by the
database's error code), anything else is not; the stripe SDK retries reads itself while a
creation keeps our own retry; the mail outbox waits longer after each failed try."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe
from flask import Flask
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from server.db import in_transaction, is_transient_conflict
from server.mail.dispatch import MailDispatcher
from server.models import Store
from server.payments.stripe_gateway import StripeGateway
from tests.server.conftest import STRIPE_TEST_SECRET_KEY, Shop, services_of


def test_a_serialization_failure_is_run_again_and_then_commits(app: Flask, shop: Shop) -> None:
    svc = services_of(app)
    tries: list[int] = []

    def rename(session: Session) -> int:
        tries.append(1)
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        name = session.scalar(select(Store.name).where(Store.code == "S1"))  # the snapshot
        if len(tries) == 1:  # another transaction changes the row meanwhile, and commits
            with svc.engine.begin() as other:
                other.execute(update(Store).where(Store.code == "S1").values(name="Renamed"))
        session.execute(update(Store).where(Store.code == "S1").values(name=f"{name} +"))
        return len(tries)

    assert in_transaction(svc.sessions, rename) == 2  # 40001 the first time, then through
    with svc.sessions() as session:
        assert session.scalar(select(Store.name).where(Store.code == "S1")) == "Renamed +"


def test_the_real_serialization_failure_is_what_is_recognised(app: Flask, shop: Shop) -> None:
    svc = services_of(app)
    with svc.engine.connect() as mine, svc.engine.connect() as other:
        mine = mine.execution_options(isolation_level="REPEATABLE READ")
        with mine.begin():
            mine.execute(select(Store.name).where(Store.code == "S1")).all()
            with other.begin():
                other.execute(update(Store).where(Store.code == "S1").values(name="Other"))
            with pytest.raises(OperationalError) as caught:
                mine.execute(update(Store).where(Store.code == "S1").values(name="Mine"))
    assert caught.value.orig.sqlstate == "40001"  # type: ignore[union-attr]
    assert is_transient_conflict(caught.value)


def test_an_error_that_is_not_a_conflict_is_not_run_again(app: Flask, shop: Shop) -> None:
    svc = services_of(app)
    tries: list[int] = []

    def add_a_second_s1(session: Session) -> None:
        tries.append(1)
        session.execute(insert(Store).values(code="S1", name="Twin", currency="EUR"))

    with pytest.raises(IntegrityError) as caught:
        in_transaction(svc.sessions, add_a_second_s1)
    assert tries == [1]
    assert caught.value.orig.sqlstate == "23505"  # type: ignore[union-attr]
    assert not is_transient_conflict(caught.value)


def test_a_busy_sqlite_file_is_run_again_once_the_other_writer_is_done(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    sessions = sessionmaker(engine)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the file
    other.execute("INSERT INTO notes VALUES (1)")
    errors: list[int] = []
    tries: list[int] = []

    def write(session: Session) -> None:
        tries.append(1)
        if len(tries) == 2:
            other.execute("COMMIT")
        try:
            session.execute(text("INSERT INTO notes VALUES (2)"))
        except OperationalError as exc:
            errors.append(exc.orig.sqlite_errorcode)  # type: ignore[union-attr]
            raise

    try:
        in_transaction(sessions, write)
    finally:
        other.close()
    assert tries == [1, 1]
    assert errors == [sqlite3.SQLITE_BUSY]
    with sessions() as session:
        assert session.scalars(text("SELECT id FROM notes ORDER BY id")).all() == [1, 2]
    engine.dispose()


class _DroppingHttpClient(stripe.RequestsClient):
    """The SDK's own HTTP client, losing the connection of the first ``drops`` requests
    the way requests reports it (so the SDK sees what a network fault gives it)."""

    def __init__(self, drops: int) -> None:
        super().__init__(timeout=10)
        self.drops = drops
        self.seen: list[tuple[str, str | None]] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None
    ) -> tuple[bytes, int, Any]:
        self.seen.append((method, (headers or {}).get("Idempotency-Key")))
        if self.drops:
            self.drops -= 1
            self._handle_request_error(requests.exceptions.ConnectionError("connection reset"))
        return super().request(method, url, headers, post_data)


def _intent(localstripe_url: str) -> str:
    client = stripe.StripeClient(
        STRIPE_TEST_SECRET_KEY, base_addresses={"api": localstripe_url}, max_network_retries=0
    )
    created = client.v1.payment_intents.create(
        params={"amount": 1250, "currency": "eur", "payment_method_types": ["card"]}
    )
    return str(created.id)


def test_the_sdk_retries_a_read_whose_connection_broke(localstripe_url: str) -> None:
    intent_id = _intent(localstripe_url)
    http = _DroppingHttpClient(drops=1)
    our_pauses: list[float] = []
    gateway = StripeGateway(
        STRIPE_TEST_SECRET_KEY,
        api_base=localstripe_url,
        http_client=http,
        max_retries=2,
        sleep=our_pauses.append,
    )
    assert gateway.retrieve_intent(intent_id).id == intent_id
    assert [method for method, _ in http.seen] == ["get", "get"]  # the SDK tried again
    assert our_pauses == []  # …not us


def test_a_creation_whose_connection_broke_is_retried_by_us_after_looking(
    localstripe_url: str,
) -> None:
    http = _DroppingHttpClient(drops=1)
    our_pauses: list[float] = []
    looked: list[int] = []

    def find_existing() -> None:
        looked.append(1)
        return None

    gateway = StripeGateway(
        STRIPE_TEST_SECRET_KEY,
        api_base=localstripe_url,
        http_client=http,
        max_retries=2,
        retry_base=0.25,
        sleep=our_pauses.append,
    )
    state = gateway.create_intent(
        amount=990,
        currency="EUR",
        metadata={"payment_id": "p-1"},
        idempotency_key="shopsmart-pi:test:1:1",
        find_existing=find_existing,
    )
    assert state.amount == 990
    assert http.seen == [("post", "shopsmart-pi:test:1:1")] * 2  # one key, both tries
    assert our_pauses == [0.25]  # our backoff, not the SDK's
    assert looked == [1]  # and we looked for it before trying again


def test_the_mail_outbox_waits_twice_as_long_after_each_try_at_most_an_hour() -> None:
    dispatcher = MailDispatcher(sessionmaker(), None, retry_base_seconds=5.0)  # type: ignore[arg-type]
    assert [dispatcher.backoff(n) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
    assert dispatcher.backoff(20) == 3600.0
