"""The mail outbox and its dispatcher against moto's SES server: the right message to the
right address, exactly once across a worker killed mid-run, retries, permanent errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from flask import Flask
from sqlalchemy import select

from server.db import unit_of_work
from server.mail.dispatch import MailDispatcher
from server.mail.mailer import EmlFileMailer, SesMailer
from server.mail.notifications import queue_mail, queue_order_confirmation
from server.models import MailOutbox
from tests.server.builders import order, paid_event, push_body
from tests.server.conftest import Shop, services_of

SENDER = "orders@shop.test"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ses(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    requests.post(f"{moto_url}/moto-api/reset", timeout=5)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    v1 = boto3.client("ses", endpoint_url=moto_url, region_name="eu-central-1")
    v1.verify_email_identity(EmailAddress=SENDER)
    yield moto_url
    requests.post(f"{moto_url}/moto-api/reset", timeout=5)


def sent(moto_url: str) -> list[dict[str, Any]]:
    data = requests.get(f"{moto_url}/moto-api/data.json", timeout=5).json()
    messages: list[dict[str, Any]] = data["ses"]["Message"]
    return messages


def ses_client(moto_url: str) -> Any:
    return boto3.client("sesv2", endpoint_url=moto_url, region_name="eu-central-1")


def enqueue(app: Flask, to: str = "ada@example.com", key: str = "test:1") -> int:
    with unit_of_work(services_of(app).sessions) as session:
        mail_id = queue_mail(
            session,
            store_id=None,
            kind="payment_link",
            dedupe_key=key,
            to=to,
            subject="Please pay 12.50 EUR",
            template="payment_link",
            context={
                "store_name": "High Street",
                "amount": "12.50 EUR",
                "pay_url": "https://pos.example.test/pay/abc",
                "expires": "26 Nov 2026 13:00 UTC",
                "receipt_no": "",
            },
        )
    assert mail_id is not None
    return mail_id


def row(app: Flask, mail_id: int) -> MailOutbox:
    with services_of(app).sessions() as session:
        return session.get_one(MailOutbox, mail_id)


def worker_env(pg_url: str, moto_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": pg_url,
        "SHOPSMART_MAIL_BACKEND": "ses",
        "SHOPSMART_SES_ENDPOINT_URL": moto_url,
        "SHOPSMART_MAIL_FROM": SENDER,
        "AWS_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SHOPSMART_MAIL_LEASE_SECONDS": "1",
        "SHOPSMART_LOG_LEVEL": "WARNING",
        **extra,
    }


def run_worker(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "shopsmart-server"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def kill_when_paused(env: dict[str, str]) -> None:
    """Start `worker --once`, wait until it says it paused, then SIGKILL it."""
    process = subprocess.Popen(
        [str(BIN / "shopsmart-server"), "worker", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "mail-worker paused at" in line, line
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_worker_sends_the_right_message_to_the_right_address(
    app: Flask, ses: str, migrated_url: str
) -> None:
    mail_id = enqueue(app, to="ada@example.com")
    output = run_worker(worker_env(migrated_url, ses), "worker", "--once")
    assert "sent 1" in output
    messages = sent(ses)
    assert len(messages) == 1
    assert messages[0]["destinations"]["ToAddresses"] == ["ada@example.com"]
    assert messages[0]["subject"] == "Please pay 12.50 EUR"
    assert "https://pos.example.test/pay/abc" in messages[0]["body"]
    stored = row(app, mail_id)
    assert (stored.status, stored.message_id) == ("sent", messages[0]["id"])
    assert "sent 0" in run_worker(worker_env(migrated_url, ses), "worker", "--once")
    assert len(sent(ses)) == 1


def test_worker_killed_between_claim_and_send_sends_exactly_once_after_restart(
    app: Flask, ses: str, migrated_url: str
) -> None:
    mail_id = enqueue(app)
    kill_when_paused(
        worker_env(
            migrated_url, ses, SHOPSMART_MAIL_PAUSE_AT="claimed", SHOPSMART_MAIL_PAUSE_SECONDS="60"
        )
    )
    assert row(app, mail_id).status == "claimed"
    assert sent(ses) == []
    time.sleep(1.2)  # the dead worker's lease runs out
    run_worker(worker_env(migrated_url, ses), "worker", "--once")
    assert len(sent(ses)) == 1
    assert row(app, mail_id).status == "sent"
    run_worker(worker_env(migrated_url, ses), "worker", "--once")
    assert len(sent(ses)) == 1


def test_worker_killed_between_send_and_record_never_sends_again(
    app: Flask, ses: str, migrated_url: str
) -> None:
    mail_id = enqueue(app)
    kill_when_paused(
        worker_env(
            migrated_url, ses, SHOPSMART_MAIL_PAUSE_AT="sent", SHOPSMART_MAIL_PAUSE_SECONDS="60"
        )
    )
    assert len(sent(ses)) == 1
    assert row(app, mail_id).status == "sending"
    time.sleep(1.2)
    env = worker_env(migrated_url, ses)
    assert "unknown 1" in run_worker(env, "worker", "--once")
    run_worker(env, "worker", "--once")
    assert len(sent(ses)) == 1  # exactly once: the second worker did not resend it
    stored = row(app, mail_id)
    assert stored.status == "unknown"
    listed = run_worker(env, "mail", "list", "--failed")
    assert f"{mail_id}\tunknown\tpayment_link\tada@example.com" in listed
    run_worker(env, "mail", "retry", str(mail_id))  # a manager decides to send it again
    run_worker(env, "worker", "--once")
    assert len(sent(ses)) == 2


class _Throttled:
    """An SES client that is throttled ``times`` times before it lets a message through."""

    def __init__(self, real: Any, times: int, code: str = "TooManyRequestsException") -> None:
        self.real = real
        self.times = times
        self.code = code
        self.calls = 0

    def send_email(self, **params: Any) -> Any:
        self.calls += 1
        if self.calls <= self.times:
            raise ClientError(
                {
                    "Error": {"Code": self.code, "Message": "Maximum sending rate exceeded."},
                    "ResponseMetadata": {"HTTPStatusCode": 429},
                },
                "SendEmail",
            )
        return self.real.send_email(**params)


def dispatcher(app: Flask, client: Any, clock: Any = None, **kwargs: Any) -> MailDispatcher:
    return MailDispatcher(
        services_of(app).sessions,
        SesMailer(client, SENDER),
        retry_base_seconds=10,
        clock=clock or (lambda: datetime.now(UTC)),
        **kwargs,
    )


def test_throttled_sends_are_retried_with_backoff(app: Flask, ses: str) -> None:
    mail_id = enqueue(app)
    now = [datetime.now(UTC)]
    throttled = _Throttled(ses_client(ses), times=2)
    worker = dispatcher(app, throttled, clock=lambda: now[0])
    assert worker.run_once().retried == 1
    waiting = row(app, mail_id)
    assert waiting.status == "queued"
    assert waiting.next_attempt_at >= now[0] + timedelta(seconds=10)
    assert worker.run_once().sent == 0  # not due yet
    now[0] += timedelta(seconds=11)
    assert worker.run_once().retried == 1
    assert row(app, mail_id).next_attempt_at >= now[0] + timedelta(seconds=20)  # backoff grows
    now[0] += timedelta(seconds=21)
    assert worker.run_once().sent == 1
    assert throttled.calls == 3
    assert len(sent(ses)) == 1
    assert row(app, mail_id).attempts == 3


def test_rows_out_of_attempts_fail_visibly(app: Flask, ses: str) -> None:
    mail_id = enqueue(app)
    now = [datetime.now(UTC)]
    worker = dispatcher(app, _Throttled(ses_client(ses), times=99), clock=lambda: now[0])
    worker.max_attempts = 2
    worker.run_once()
    now[0] += timedelta(hours=1)
    assert worker.run_once().failed == 1
    failed = row(app, mail_id)
    assert failed.status == "failed" and "Maximum sending rate" in (failed.last_error or "")


def test_permanent_error_is_recorded_and_listed(app: Flask, ses: str, migrated_url: str) -> None:
    mail_id = enqueue(app)
    env = worker_env(migrated_url, ses, SHOPSMART_MAIL_FROM="nobody@unverified.test")
    assert "failed 1" in run_worker(env, "worker", "--once")
    stored = row(app, mail_id)
    assert stored.status == "failed"
    assert "MessageRejected" in (stored.last_error or "")
    assert f"{mail_id}\tfailed" in run_worker(env, "mail", "list", "--failed")
    assert sent(ses) == []


def test_two_dispatchers_never_send_the_same_row(app: Flask, ses: str) -> None:
    ids = [enqueue(app, to=f"c{i}@example.com", key=f"test:{i}") for i in range(6)]
    first = dispatcher(app, ses_client(ses), batch_size=3)
    second = dispatcher(app, ses_client(ses), batch_size=3)
    claimed_first = first.claim()
    claimed_second = second.claim()
    assert {m.outbox_id for m in claimed_first}.isdisjoint(m.outbox_id for m in claimed_second)
    assert sorted(m.outbox_id for m in claimed_first + claimed_second) == ids


def test_embedded_default_writes_eml_files(app: Flask, tmp_path: Path) -> None:
    mail_id = enqueue(app, to="ada@example.com")
    worker = MailDispatcher(services_of(app).sessions, EmlFileMailer(tmp_path, SENDER))
    assert worker.run_once().sent == 1
    written = (tmp_path / f"{mail_id:08d}.eml").read_text()
    assert "To: ada@example.com" in written and "Subject: Please pay 12.50 EUR" in written
    assert "text/html" in written and "text/plain" in written


def test_confirmation_lists_lines_totals_tax_and_escapes_html(app: Flask, shop: Shop) -> None:
    summary = {
        "receipt_no": "T01-000007",
        "lines": [{"name": "<script>x</script> Tea", "quantity": 2, "unit_price": 150, "net": 300}],
        "subtotal": 300,
        "tax_total": 20,
        "total": 300,
        "tax": [
            {"tax_class": "food", "label": "VAT 7%", "rate_bp": 700, "taxable": 300, "tax": 20}
        ],
    }
    with unit_of_work(services_of(app).sessions) as session:
        mail_id = queue_order_confirmation(
            session,
            store_id=shop.s1.store_id,
            order_id=shop.s1.store_id,
            to="ada@example.com",
            currency="EUR",
            paid=300,
            summary=summary,
            payment_ref="ref-1",
        )
    assert mail_id is not None
    mail = row(app, mail_id)
    assert mail.subject == "Your order T01-000007 at High Street"
    assert "2 × <script>x</script> Tea @ €1.50 = €3.00" in mail.text_body
    assert "<script>x" not in mail.html_body and "&lt;script&gt;" in mail.html_body
    assert "VAT 7% on €3.00: €0.20 (included)" in mail.text_body


@pytest.mark.parametrize("email", ["", "walk-in", "a@b"])
def test_no_email_for_sales_without_a_valid_address(app: Flask, shop: Shop, email: str) -> None:
    import uuid

    customer = {"id": str(uuid.uuid4()), "name": "Walk-in", "email": email}
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 1)], customer=customer)
    client = app.test_client()
    answer = client.post(
        "/api/v1/sync/push", json=push_body([paid_event(payload)]), headers=shop.s1.headers
    )
    assert answer.json["accepted"] == 1
    with services_of(app).sessions() as session:
        assert session.scalars(select(MailOutbox)).all() == []


def test_sale_with_a_customer_address_is_confirmed_once(app: Flask, shop: Shop) -> None:
    import uuid

    customer = {"id": str(uuid.uuid4()), "name": "Ada", "email": "ada@example.com"}
    payload = order(clerk_id=shop.s1.clerk_id, lines=[("p1", 2)], customer=customer)
    client = app.test_client()
    for _ in range(2):
        client.post(
            "/api/v1/sync/push", json=push_body([paid_event(payload)]), headers=shop.s1.headers
        )
    with services_of(app).sessions() as session:
        mails = session.scalars(select(MailOutbox)).all()
    assert [(m.kind, m.to_address) for m in mails] == [("order_confirmation", "ada@example.com")]
    assert "Product 1" in mails[0].text_body or "p1" in mails[0].text_body
