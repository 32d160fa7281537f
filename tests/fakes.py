"""Test doubles shared by several test layers."""

from __future__ import annotations

import json
from datetime import datetime

from sync import protocol as p
from sync.errors import BatchRefused


class FakeServerTransport:
    """Answers pushes like the server: per event, remembering what it has (by event id)."""

    def __init__(self) -> None:
        self.stored: dict[str, dict] = {}
        self.batches: list[int] = []
        self.reject_ids: set[str] = set()
        self.refuse_batches_with: set[str] = set()
        self.fail_next: list[Exception] = []
        self.pages: list[p.PullResponse] = []
        self.pull_cursors: list[str] = []
        self.bookings_pending: list[bool] = []  # what each pull said
        self.last_duration_s = 0.01

    def push(self, events):
        if self.fail_next:
            raise self.fail_next.pop(0)
        events = [json.loads(text) for text in events]  # the queued JSON texts, as sent
        ids = {e["event_id"] for e in events}
        if ids & self.refuse_batches_with:
            raise BatchRefused("invalid_body: events[0].payload.total: bad")
        self.batches.append(len(events))
        results = []
        for index, event in enumerate(events):
            eid = event["event_id"]
            if eid in self.reject_ids:
                results.append(
                    {
                        "index": index,
                        "event_id": eid,
                        "status": "rejected",
                        "reason": "inconsistent_totals",
                        "message": "lines do not add up",
                    }
                )
            elif eid in self.stored:
                results.append({"index": index, "event_id": eid, "status": "duplicate"})
            else:
                self.stored[eid] = event
                results.append({"index": index, "event_id": eid, "status": "accepted"})
        return p.PushResponse.model_validate(
            {"results": results, "accepted": 0, "duplicates": 0, "rejected": 0, "conflicts": 0}
        )

    def pull(self, cursor, limit=500, *, bookings_pending=False):
        self.pull_cursors.append(cursor)
        self.bookings_pending.append(bookings_pending)
        if self.fail_next:
            raise self.fail_next.pop(0)
        index = int(cursor or 0)
        if index >= len(self.pages):
            return p.PullResponse(changes=[], next_cursor=cursor, has_more=False)
        return self.pages[index]


class FakeGateway:
    """The server's payment API as scripted by a test: each payment succeeds (or fails) after
    ``checks_until_done`` status checks. Counts what it was asked."""

    def __init__(self, checks_until_done: int = 1, outcome: str = "succeeded") -> None:
        from app.domain.card import CardStatus

        self.status = CardStatus
        self.checks_until_done = checks_until_done
        self.outcome = CardStatus(outcome)
        self.payments: dict[str, dict] = {}
        self.created = 0

    def _payment(self, payment_id: str):
        from app.domain.card import CardPayment

        data = self.payments[payment_id]
        status = self.outcome if data["checks"] >= self.checks_until_done else self.status.PENDING
        return CardPayment(
            payment_id,
            data["order_id"],
            data["amount"],
            data["currency"],
            status,
            pay_url=f"https://pos.example.test/pay/{payment_id[:8]}",
            decline_reason="Your card was declined." if status is self.status.FAILED else "",
        )

    def create_payment(self, payment_id, order_id, amount, currency):
        if payment_id not in self.payments:
            self.created += 1
            self.payments[payment_id] = {
                "order_id": order_id,
                "amount": amount,
                "currency": currency,
                "checks": 0,
            }
        return self._payment(payment_id)

    def get_payment(self, payment_id):
        self.payments[payment_id]["checks"] += 1
        return self._payment(payment_id)

    def refund(self, payment_id, refund_id, amount, reason):
        return amount

    def email_link(self, payment_id, email):
        self.payments[payment_id].setdefault("mailed", []).append(email)
        return email

    def cancel(self, payment_id):
        """Like the server's cancel: a paid payment stays succeeded, anything else fails."""
        from dataclasses import replace

        current = self._payment(payment_id)
        if current.status is self.status.SUCCEEDED:
            return current
        self.payments[payment_id]["cancelled"] = True
        return replace(
            current, status=self.status.FAILED, decline_reason="cancelled at the till", pay_url=""
        )


class FakeRefundGateway(FakeGateway):
    """FakeGateway whose refunds answer like the server's: a ``CardRefund``, idempotent by
    refund_id. ``outcomes`` scripts the next answers: "succeeded", "pending", "failed", or an
    exception to raise (e.g. ``GatewayUnavailable``); then every refund succeeds."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: list = []
        self.refunds: dict[str, dict] = {}
        self.refund_calls: list[tuple[str, str, int]] = []
        self.on_refund = None  # called with the refund_id before answering

    def refund(self, payment_id, refund_id, amount, reason):
        from app.domain.card import CardRefund, CardRefundStatus

        self.refund_calls.append((payment_id, refund_id, amount))
        if self.on_refund is not None:
            self.on_refund(refund_id)
        outcome = self.outcomes.pop(0) if self.outcomes else "succeeded"
        if isinstance(outcome, Exception):
            raise outcome
        known = self.refunds.get(refund_id)
        if known is None or known["status"] != "succeeded":
            self.refunds[refund_id] = {
                "payment_id": payment_id,
                "amount": amount,
                "status": outcome,
            }
        done = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_id"] == payment_id and r["status"] == "succeeded"
        )
        return CardRefund(
            refund_id,
            payment_id,
            amount,
            CardRefundStatus(self.refunds[refund_id]["status"]),
            failure_reason="card expired" if outcome == "failed" else "",
            payment_amount_refunded=done,
        )


class StepClock:
    """A clock that stands still until a test moves ``moment`` (lockouts, backoff)."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment
