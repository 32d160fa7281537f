"""The shopsmart-server command line against a real PostgreSQL."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.data import DEMO_MANAGER_PIN
from app.domain.clerk import verify_pin
from app.services.demo_catalog import demo_catalog
from server.cli import main
from server.models import AuditEntry, Product, StockLevel
from sync.protocol import PROTOCOL_HEADER
from tests.server.builders import order, paid_event, push_body
from tests.server.conftest import Shop, services_of

PUSH = "/api/v1/sync/push"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, migrated_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("SHOPSMART_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MONGO_URL", raising=False)
    return migrated_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_operator_sets_up_a_store_and_a_terminal_enrolls(
    cli_env: str, capsys: pytest.CaptureFixture[str], app: Flask, client: FlaskClient
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "store", "create", "--code", "S12", "--name", "Main St")[0] == 0
    code, out, _ = run(
        capsys,
        "clerk",
        "add",
        "--store",
        "S12",
        "--name",
        "Maria",
        "--role",
        "clerk",
        "--pin",
        "1234",
    )
    assert code == 0 and "Maria" in out
    maria = out.rsplit(" ", 1)[-1]
    code, enroll_code, _ = run(capsys, "terminal", "enroll-code", "--store", "S12")
    assert code == 0
    enrolled = client.post(
        "/api/v1/terminals/enroll",
        json={"protocol_version": 1, "code": enroll_code, "terminal_code": "T01"},
    ).json
    headers = {"Authorization": f"Bearer {enrolled['token']}", PROTOCOL_HEADER: "1"}
    pulled = pull_when_visible(client, headers)
    assert [c["data"]["name"] for c in pulled["changes"] if c["kind"] == "clerk"] == ["Maria"]
    assert run(capsys, "clerk", "deactivate", maria)[0] == 0
    later = pull_when_visible(client, headers, pulled["next_cursor"])["changes"]
    assert [(c["data"]["id"], c["data"]["active"]) for c in later] == [(maria, False)]
    assert run(capsys, "clerk", "deactivate", "nobody")[0] == 1
    assert run(capsys, "terminal", "revoke", enrolled["terminal_id"])[0] == 0
    assert client.get("/api/v1/sync/pull", headers=headers).status_code == 401
    code, _, err = run(capsys, "terminal", "revoke", enrolled["terminal_id"])
    assert code == 1 and "no active terminal" in err


def test_operator_mistakes_exit_1_with_a_message(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "store", "create", "--code", "S1", "--name", "One")[0] == 0
    code, _, err = run(capsys, "store", "create", "--code", "S1", "--name", "Again")
    assert (code, err) == (1, "error: store S1 exists already")
    code, _, err = run(capsys, "terminal", "enroll-code", "--store", "NOPE")
    assert (code, err) == (1, "error: no store with code NOPE")
    code, _, err = run(capsys, "clerk", "add", "--store", "S1", "--name", "X", "--pin", "12")
    assert (code, err) == (1, "error: a PIN is 4 to 8 digits")


def test_products_import_from_json_and_csv(
    cli_env: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    app: Flask,
    client: FlaskClient,
) -> None:
    listing = tmp_path / "products.json"
    listing.write_text(
        json.dumps(
            [
                {
                    "id": "p1",
                    "sku": "A-1",
                    "name": "Oat milk",
                    "unit_price": 219,
                    "tax_class": "food",
                    "attributes": {"allergens": ["oats"]},
                }
            ]
        )
    )
    sheet = tmp_path / "products.csv"
    sheet.write_text(  # the till's format: prices as written, barcodes split by |
        "id,sku,name,price,tax_class,sold_by,barcodes,department,stock\n"
        "p2,B-2,Cherries,12.99,food,weight,,produce,2500\n"
        "p3,C-3,Candle,4.99,standard,each,4006381333931|4006381333948,household,\n"
    )
    assert run(capsys, "product", "import", str(listing)) == (
        0,
        "1 products imported (1 new, 0 updated)",
        "",
    )
    assert run(capsys, "store", "create", "--code", "S1", "--name", "One")[0] == 0
    assert run(capsys, "product", "import", str(sheet), "--store", "S1") == (
        0,
        "2 products imported (2 new, 0 updated), stock set for 1",
        "",
    )
    svc = services_of(app)
    with svc.sessions() as session:
        found = svc.catalog(session).get_many(["p1", "p2", "p3"])
        stock = session.execute(select(StockLevel.product_id, StockLevel.quantity)).all()
    assert found["p1"].attributes == {"allergens": ["oats"]}
    assert (found["p2"].sold_by, found["p2"].barcodes, found["p2"].unit_price) == (
        "weight",
        [],
        1299,
    )
    assert found["p3"].barcodes == ["4006381333931", "4006381333948"]
    assert stock == [("p2", 2500)]
    # a re-import without ids finds the products by SKU and keeps their ids
    again = tmp_path / "again.csv"
    again.write_text("sku,name,price,tax_class\nC-3,Candle,5.49,standard\n")
    assert run(capsys, "product", "import", str(again))[:2] == (
        0,
        "1 products imported (0 new, 1 updated)",
    )
    with svc.sessions() as session:
        assert svc.catalog(session).find_by_sku("C-3").id == "p3"


@pytest.mark.parametrize(
    ("sheet", "problems"),
    [
        (  # a wrong check digit and a price above the till's limit: every till would drop them
            "sku,name,price,tax_class,barcodes\n"
            "X-1,Soap,1.99,standard,4006381333932\n"
            "X-2,Gold bar,10000.01,standard,\n",
            [
                "row 2, field barcodes: barcode '4006381333932' has check digit 2, expected 1",
                "row 3, field price: '10000.01': unit_price 1000001 is absurdly high",
            ],
        ),
        (
            "sku,name,price,tax_class,barcodes\nX-1,Soap,1.99,standard,4006381333931|4011\n"
            "X-2,Other soap,2.99,standard,4011\n",
            ["row 3, field barcodes: 4011 is already used in row 2"],
        ),
        (  # the server's old dialect is refused with a message, not misread
            "id,sku,name,unit_price,tax_class,barcodes\nx,X-1,Soap,199,standard,4011;4012\n",
            [
                "row 1, field unit_price: a CSV gives price as written (1.29); "
                "unit_price in cents is for JSON"
            ],
        ),
        (
            "sku,name,price,tax_class\nX-1,Soap,1.99,luxury\n",
            ["row 2, field tax_class: unknown tax class 'luxury'"],
        ),
    ],
)
def test_a_bad_product_file_imports_nothing_and_names_row_and_field(
    cli_env: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    app: Flask,
    sheet: str,
    problems: list[str],
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(sheet)
    code, out, err = run(capsys, "product", "import", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines()[0].startswith("error: nothing was imported")
    assert [line.strip() for line in err.splitlines()[1:]] == problems
    svc = services_of(app)
    with svc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_a_barcode_of_another_catalog_product_is_refused_naming_it(
    cli_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, app: Flask
) -> None:
    first = tmp_path / "first.csv"
    first.write_text("id,sku,name,price,tax_class,barcodes\np1,C-3,Candle,4.99,standard,4011\n")
    assert run(capsys, "product", "import", str(first))[0] == 0
    second = tmp_path / "second.csv"
    second.write_text("sku,name,price,tax_class,barcodes\nB-9,Bananas,1.99,food,4011\n")
    code, _, err = run(capsys, "product", "import", str(second))
    assert code == 1
    assert err.splitlines()[1].strip() == (
        "row 2, field barcodes: barcode 4011 already belongs to Candle (sku C-3); "
        "Bananas (sku B-9) cannot have it too"
    )
    svc = services_of(app)
    with svc.sessions() as session:
        assert svc.catalog(session).find_by_sku("B-9") is None
    code, _, err = run(capsys, "product", "import", str(tmp_path / "nope.xlsx"))
    assert (code, err) == (1, "error: nope.xlsx: expected a .csv, .json or .jsonl catalog file")


def test_demo_loads_a_store_terminals_can_use_and_runs_again(
    cli_env: str, capsys: pytest.CaptureFixture[str], app: Flask, client: FlaskClient
) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    run(capsys, "demo")  # a second run keeps the store and hands out a fresh code
    enroll_code = out.rsplit(" ", 1)[-1]
    enrolled = client.post(
        "/api/v1/terminals/enroll",
        json={"protocol_version": 1, "code": enroll_code, "terminal_code": "T01"},
    ).json
    headers = {"Authorization": f"Bearer {enrolled['token']}", PROTOCOL_HEADER: "1"}
    changes = pull_when_visible(client, headers)["changes"]
    kinds = [c["kind"] for c in changes]
    demo = demo_catalog()  # what a till loads on first start
    assert kinds.count("product") == len(demo)
    assert kinds.count("clerk") == 2
    assert kinds.count("delivery_slot") == 3
    assert kinds.count("stock") == sum(p.stock is not None for p in demo)
    pulled = {c["data"]["id"]: c["data"] for c in changes if c["kind"] == "product"}
    for product in demo:  # the server holds the till's demo products: ids, barcodes, prices
        got = pulled[product.id]
        assert (got["sku"], got["name"], got["unit_price"], got["tax_class"]) == (
            product.sku,
            product.name,
            product.unit_price,
            product.tax_class,
        )
        assert (tuple(got["barcodes"]), got["sold_by"]) == (product.barcodes, product.sold_by)


def test_terminal_and_order_lists_show_each_store_its_own_rows_as_lines_and_json(
    cli_env: str, capsys: pytest.CaptureFixture[str], app: Flask, client: FlaskClient, shop: Shop
) -> None:
    early = order(clerk_id=shop.s1.clerk_id, sequence=1)
    late = {**order(clerk_id=shop.s1.clerk_id, sequence=2), "paid_at": "2026-11-26T09:00:00+00:00"}
    other = order(terminal_code="T02", clerk_id=shop.s2.clerk_id, sequence=1)
    for terminal, payload in ((shop.s1, early), (shop.s1, late), (shop.s2, other)):
        pushed = client.post(PUSH, json=push_body([paid_event(payload)]), headers=terminal.headers)
        assert pushed.json["accepted"] == 1, pushed.json  # type: ignore[index]
    assert run(capsys, "terminal", "revoke", shop.s2.terminal_id)[0] == 0

    code, out, _ = run(capsys, "terminal", "list", "--json")
    terminals = {t["id"]: t for t in json.loads(out)}
    assert code == 0 and set(terminals) == {shop.s1.terminal_id, shop.s2.terminal_id}
    assert (terminals[shop.s1.terminal_id]["store"], terminals[shop.s1.terminal_id]["state"]) == (
        "S1",
        "active",
    )
    assert terminals[shop.s2.terminal_id]["state"] == "revoked"
    assert terminals[shop.s1.terminal_id]["last_push_at"] is not None
    code, out, _ = run(capsys, "terminal", "list", "--store", "S1")
    assert code == 0 and out.split("\t")[:4] == [shop.s1.terminal_id, "S1", "T01", "active"]

    code, out, _ = run(capsys, "order", "list", "--store", "S1", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == [late["id"], early["id"]]  # newest first
    assert (rows[0]["receipt_no"], rows[0]["total"], rows[0]["status"]) == (
        "T01-000002",
        late["total"],
        "paid",
    )
    code, out, _ = run(capsys, "order", "list", "--store", "S1", "--since", "2026-11-26")
    assert code == 0 and len(out.splitlines()) == 1
    assert out.split("\t")[1:3] == ["T01-000002", "paid"] and late["id"] in out
    code, out, _ = run(capsys, "order", "list", "--store", "S2", "--json")
    assert [r["id"] for r in json.loads(out)] == [other["id"]]  # never another store's

    code, _, err = run(capsys, "order", "list", "--store", "S1", "--since", "yesterday")
    assert code == 1 and "--since 'yesterday' is not a date" in err
    code, _, err = run(capsys, "order", "list", "--store", "NOPE")
    assert (code, err) == (1, "error: no store with code NOPE")


def pull_when_visible(
    client: FlaskClient, headers: dict[str, str], cursor: str | None = None, seconds: float = 20.0
) -> dict[str, Any]:
    """The pull after ``cursor``, once it brings anything. A pull returns only what every
    transaction older than the cluster's snapshot horizon has finished with (docs/server.md,
    the cursor), so a transaction open elsewhere on the same PostgreSQL — another test's —
    may defer a change for a moment; a till gets it at its next sync."""
    query = {"cursor": cursor} if cursor else {}
    deadline = time.monotonic() + seconds
    while True:
        body: dict[str, Any] = client.get(
            "/api/v1/sync/pull", query_string=query, headers=headers
        ).json  # type: ignore[assignment]
        if body["changes"] or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_the_owner_sets_a_new_pin_on_the_server_and_every_till_pulls_it(
    cli_env: str, capsys: pytest.CaptureFixture[str], app: Flask, client: FlaskClient
) -> None:
    assert run(capsys, "store", "create", "--code", "S1", "--name", "One")[0] == 0
    code, _, err = run(
        capsys,
        "clerk",
        "add",
        "--store",
        "S1",
        "--name",
        "Max",
        "--role",
        "manager",
        "--pin",
        "9999",
    )
    assert (code, err) == (1, "error: a manager's PIN is 6 to 8 digits")
    code, out, _ = run(
        capsys,
        "clerk",
        "add",
        "--store",
        "S1",
        "--name",
        "Max",
        "--role",
        "manager",
        "--pin",
        DEMO_MANAGER_PIN,
    )
    max_id = out.rsplit(" ", 1)[-1]
    assert run(capsys, "clerk", "list", "--store", "S1")[1].split("\t") == [
        max_id,
        "Max",
        "manager",
        "active",
    ]
    enroll_code = run(capsys, "terminal", "enroll-code", "--store", "S1")[1]
    enrolled = client.post(
        "/api/v1/terminals/enroll",
        json={"protocol_version": 1, "code": enroll_code, "terminal_code": "T01"},
    ).json
    headers = {"Authorization": f"Bearer {enrolled['token']}", PROTOCOL_HEADER: "1"}
    first = pull_when_visible(client, headers)
    capsys.readouterr()  # what the requests logged is not the CLI's

    assert run(capsys, "clerk", "set-pin", max_id, "--pin", "1234")[2] == (
        "error: a manager's PIN is 6 to 8 digits"
    )
    code, out, _ = run(capsys, "clerk", "set-pin", max_id, "--pin", "13572468")
    assert code == 0 and out == "new PIN set for Max: tills take it at their next sync"
    later = pull_when_visible(client, headers, first["next_cursor"])["changes"]
    assert [c["data"]["id"] for c in later] == [max_id]
    assert verify_pin("13572468", later[0]["data"]["pin_hash"])
    assert not verify_pin(DEMO_MANAGER_PIN, later[0]["data"]["pin_hash"])
    svc = services_of(app)
    with svc.sessions() as session:
        audited = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "clerk.set_pin")
        ).all()
    assert audited == [{"clerk_id": max_id, "name": "Max"}]  # who and when, never the PIN
    assert run(capsys, "clerk", "set-pin", "nobody", "--pin", "13572468")[0] == 1


def _summary_rows(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    from server.models import ReportProductDays, ReportProducts, ReportSales, ReportTenders

    with services_of(app).sessions() as session:
        return {
            model.__tablename__: sorted(
                tuple(row) for row in session.execute(select(model.__table__)).all()
            )
            for model in (ReportSales, ReportTenders, ReportProducts, ReportProductDays)
        }


def test_an_upgrade_from_before_the_report_summaries_sums_the_orders_already_stored(
    cli_env: str,
    capsys: pytest.CaptureFixture[str],
    app: Flask,
    client: FlaskClient,
    shop: Shop,
) -> None:
    """A server upgraded from 0011 holds orders the summaries (0012) never saw: the upgrade
    sums them, so its reports count them without a step of the operator's."""
    from alembic import command

    from server.db import alembic_config, schema_revision

    for terminal, payload in (
        (shop.s1, order(clerk_id=shop.s1.clerk_id, lines=[("p1", 2), ("p2", 1)], sequence=1)),
        (shop.s1, order(clerk_id=shop.s1.clerk_id, lines=[("p2", 3)], sequence=2)),
        (shop.s2, order(terminal_code="T02", clerk_id=shop.s2.clerk_id, sequence=1)),
    ):
        pushed = client.post(PUSH, json=push_body([paid_event(payload)]), headers=terminal.headers)
        assert pushed.json["accepted"] == 1, pushed.json  # type: ignore[index]
    by_push = _summary_rows(app)
    assert all(by_push.values()), by_push  # the push path summed the three orders

    url = services_of(app).engine.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0011")  # the summaries' tables are gone
    assert schema_revision(url) == "0011"
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0
    assert out.splitlines() == [
        "store S1: report summaries summed from its orders",
        "store S2: report summaries summed from its orders",
        "database is at the newest schema",
    ]
    assert _summary_rows(app) == by_push
    # at the newest schema already: an upgrade migrates nothing and sums nothing
    assert run(capsys, "db", "upgrade")[1] == "database is at the newest schema"


def test_the_embedded_servers_first_upgrade_makes_its_data_directory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The first `make run` of a fresh checkout: no DATABASE_URL, a data directory that does
    not exist yet. The upgrade makes it and its SQLite database."""
    data_dir = tmp_path / "var" / "server"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MONGO_URL", raising=False)
    monkeypatch.setenv("SHOPSMART_DATA_DIR", str(data_dir))
    code, out, err = run(capsys, "db", "upgrade")
    assert (code, out, err) == (0, "database is at the newest schema", "")
    assert [p.suffix for p in data_dir.iterdir()] == [".sqlite3"]
