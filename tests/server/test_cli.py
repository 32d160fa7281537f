"""The shopsmart-server command line against a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.cli import main
from sync.protocol import PROTOCOL_HEADER
from tests.server.conftest import services_of


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
    pulled = client.get("/api/v1/sync/pull", headers=headers).json
    assert [c["data"]["name"] for c in pulled["changes"] if c["kind"] == "clerk"] == ["Maria"]
    assert run(capsys, "clerk", "deactivate", maria)[0] == 0
    later = client.get(
        "/api/v1/sync/pull", query_string={"cursor": pulled["next_cursor"]}, headers=headers
    ).json["changes"]
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
    sheet.write_text(
        "id,sku,name,unit_price,tax_class,sold_by,barcodes,department\n"
        "p2,B-2,Cherries,1299,food,weight,,produce\n"
        "p3,C-3,Candle,499,standard,each,4006381333931;4006381333948,household\n"
    )
    assert run(capsys, "product", "import", str(listing)) == (0, "1 products imported", "")
    assert run(capsys, "product", "import", str(sheet)) == (0, "2 products imported", "")
    svc = services_of(app)
    with svc.sessions() as session:
        found = svc.catalog(session).get_many(["p1", "p2", "p3"])
    assert found["p1"].attributes == {"allergens": ["oats"]}
    assert (found["p2"].sold_by, found["p2"].barcodes) == ("weight", [])
    assert found["p3"].barcodes == ["4006381333931", "4006381333948"]
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"id": "x", "sku": "X", "name": "Bad", "unit_price": 1.5, "tax_class": "food"}])
    )
    code, _, err = run(capsys, "product", "import", str(bad))
    assert code == 1 and "unit_price" in err


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
    kinds = [c["kind"] for c in client.get("/api/v1/sync/pull", headers=headers).json["changes"]]
    assert kinds.count("product") == 10
    assert kinds.count("clerk") == 2
    assert kinds.count("delivery_slot") == 3
    assert kinds.count("stock") == 10
