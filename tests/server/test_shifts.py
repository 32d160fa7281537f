"""Shift events at push: a shift, its cash movements and its Z report, provisional then final;
a final Z never changes, and a terminal reports only for itself and its store."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from tests.server.report_builders import (
    migrated_sqlite_dir,  # noqa: F401 - a fixture
    report_app,  # noqa: F401 - a fixture
    report_shop,
)

OPENED_AT = "2026-10-25T07:55:00+00:00"
CLOSED_AT = "2026-10-25T18:05:00+00:00"


def _event(kind: str, payload: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "type": kind,
        "occurred_at": OPENED_AT,
        "payload": payload,
    }


def _figures(net_sales: int, float_amount: int, expected_cash: int) -> dict[str, Any]:
    return {
        "sales_count": 2,
        "first_receipt_no": "T01-000001",
        "last_receipt_no": "T01-000002",
        "clerks": ["Maria"],
        "gross_sales": net_sales,
        "discounts": 0,
        "refunds_count": 0,
        "refunds": 0,
        "voids_count": 0,
        "voids": 0,
        "cancellations_count": 0,
        "cancellations": 0,
        "net_sales": net_sales,
        "tax": [],
        "tenders": [{"kind": "cash", "count": 2, "amount": net_sales}],
        "cash_sales": net_sales,
        "cash_refunds": 0,
        "cash_voids": 0,
        "paid_in": 0,
        "paid_out": 500,
        "no_sales": 0,
        "float_amount": float_amount,
        "expected_cash": expected_cash,
        "phone_orders_taken": 0,
        "phone_orders_paid": 0,
    }


def _closed(
    shift_id: str, status: str, *, counted: dict[str, int], z_number: int = 1, terminal: str = "T01"
) -> dict[str, Any]:
    counted_total = sum(int(k) * v for k, v in counted.items())
    expected = 10_000 + 2_400 - 500  # float + cash sales − paid out (a late sale included)
    net = 1_000 if status == "provisional" else 2_400  # the provisional lacked a late sale
    return {
        "shift_id": shift_id,
        "terminal_code": terminal,
        "z_number": z_number,
        "status": status,
        "opened_at": OPENED_AT,
        "opened_by": "c-maria",
        "closed_at": CLOSED_AT,
        "closed_by": "c-maria",
        "counted": counted,
        "counted_total": counted_total,
        "expected_cash": expected,
        "difference": counted_total - expected,
        "figures": _figures(net, 10_000, expected),
        "waiting": ["T01-000002"] if status == "provisional" else [],
        "synced_after_close": ["T01-000002"] if status == "final" else [],
        "finalised_at": "2026-10-26T09:00:00+00:00" if status == "final" else None,
    }


@pytest.mark.parametrize("report_app", ["postgresql"], indirect=True)  # the reports: both
def test_a_shift_closed_during_an_outage_becomes_final_once_and_for_all(
    report_app: Flask,  # noqa: F811
) -> None:
    shop = report_shop(report_app, tills=2)
    t01, t02 = shop.tills
    shift_id = str(uuid.uuid4())
    opened = {
        "shift_id": shift_id,
        "terminal_code": "T01",
        "opened_at": OPENED_AT,
        "clerk_id": "c-maria",
        "float_amount": 10_000,
        "float_count": {"5000": 1, "2000": 2, "100": 10},
    }
    moved = {
        "movement_id": str(uuid.uuid4()),
        "shift_id": shift_id,
        "kind": "paid_out",
        "amount": 500,
        "reason": "window cleaner",
        "clerk_id": "c-maria",
        "approval_id": None,
        "at": "2026-10-25T12:00:00+00:00",
    }
    count = {"5000": 2, "1000": 1, "100": 9}  # 11,900: exactly what is expected
    provisional = _closed(shift_id, "provisional", counted=count)
    assert (
        shop.push(
            t01,
            [
                _event("shift.opened", opened, shift_id),
                _event("cash.moved", moved),
                _event("shift.closed", provisional),
            ],
        )
        == ["accepted"] * 3
    )
    token = shop.manager_token()
    day = {"from": "2026-10-25", "to": "2026-10-25"}
    rows = shop.report("shifts", token, **day)["rows"]
    assert [r[:3] for r in rows] == [["T01", 1, "provisional"]]
    assert rows[0][3:] == [OPENED_AT, CLOSED_AT, "c-maria", 1_000, 11_900, 11_900, 0, 0]

    final = _closed(shift_id, "final", counted=count)
    assert shop.push(t01, [_event("shift.closed", final)]) == ["accepted"]
    rows = shop.report("shifts", token, **day)["rows"]
    assert [r[2] for r in rows] == ["final"]
    assert rows[0][6:] == [2_400, 11_900, 11_900, 0, 1]  # the late sale listed apart, no variance

    # a final Z never changes: the same report again is a duplicate, another a conflict, and
    # the provisional arriving late changes nothing
    recount = _closed(shift_id, "final", counted={"5000": 2, "1000": 1})
    assert shop.push(
        t01,
        [
            _event("shift.closed", final),
            _event("shift.closed", recount),
            _event("shift.closed", provisional),
        ],
    ) == ["duplicate", "conflict", "duplicate"]
    assert shop.report("shifts", token, **day)["rows"] == rows

    # Z 1 of T01 is that shift's: another shift under the same number conflicts, and a till
    # cannot report for another terminal
    other = _closed(str(uuid.uuid4()), "provisional", counted=count)
    foreign = _closed(str(uuid.uuid4()), "provisional", counted=count, terminal="T01")
    answer = shop.client.post(
        "/api/v1/sync/push",
        json={"protocol_version": 1, "events": [_event("shift.closed", foreign)]},
        headers=t02.headers,
    ).json
    assert [r["reason"] for r in answer["results"]] == ["terminal_code_mismatch"]  # type: ignore[index]
    assert shop.push(t01, [_event("shift.closed", other)]) == ["conflict"]
    with_t02 = shop.report("shifts", shop.manager_token(t02), t02, **day)["rows"]
    assert [r[0] for r in with_t02] == ["T01"]  # same store, another till: it sees the Z
    health = {r[0]: r for r in shop.report("terminal-health", token, **day)["rows"]}
    assert health["T02"][6] == 1 and health["T01"][6] == 2  # the refused events, per till
