"""`shopsmart` command-line tools on a real data directory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from app.data import DEMO_MANAGER_PIN
from local_db.engine import DB_FILENAME
from ui.cli import main

CSV = (
    "sku,name,department,price,tax_class,sold_by,barcodes\n"
    "BAK-ROLL,Kaiser roll,Bakery,0.45,food,each,4012345678901\n"
    "FRU-PEAR,Pears Conference,Fruit & Vegetables,2.99,food,weight,4409\n"
)


def count(data_dir: Path, table: str) -> int:
    with sqlite3.connect(data_dir / DB_FILENAME) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_import_catalog_reports_what_it_imported(tmp_path, capsys):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CSV, encoding="utf-8")
    assert main(["--data-dir", str(tmp_path / "till"), "import-catalog", str(catalog)]) == 0
    assert "imported 2 products from catalog.csv (2 new, 0 updated)" in capsys.readouterr().out
    assert count(tmp_path / "till", "products") == 2


def test_broken_catalog_exits_non_zero_and_lists_problems(tmp_path, capsys):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CSV + "BAD,,Bakery,abc,food,each,123\n", encoding="utf-8")
    assert main(["--data-dir", str(tmp_path / "till"), "import-catalog", str(catalog)]) == 1
    err = capsys.readouterr().err
    assert "nothing was imported: 1 problem" in err
    assert "row 4, field name: name is required" in err
    assert count(tmp_path / "till", "products") == 0


def test_unreadable_or_unknown_files_are_refused(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "import-catalog", str(tmp_path / "nope.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "catalog.xlsx").write_bytes(b"PK\x03\x04")
    assert (
        main(["--data-dir", str(tmp_path), "import-catalog", str(tmp_path / "catalog.xlsx")]) == 1
    )
    assert "expected a .csv, .json or .jsonl catalog file" in capsys.readouterr().err


def test_demo_data_and_status_through_the_console_script(tmp_path):
    env = {**os.environ, "SHOPSMART_DATA_DIR": str(tmp_path / "till")}
    script = Path(sys.executable).with_name("shopsmart")
    done = subprocess.run(
        [str(script), "demo-data", "--count", "5000"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "loaded 5000 demo products over" in done.stdout
    status = subprocess.run(
        [str(script), "status"], env=env, capture_output=True, text=True, check=True
    )
    assert "products:  5000" in status.stdout
    assert "orders:    0" in status.stdout


def test_add_clerk_then_it_can_log_in(tmp_path, capsys):
    data_dir = tmp_path / "till"
    assert (
        main(
            [
                "--data-dir",
                str(data_dir),
                "add-clerk",
                "Sam",
                "--role",
                "manager",
                "--pin",
                DEMO_MANAGER_PIN,
            ]
        )
        == 0
    )
    assert "created manager Sam" in capsys.readouterr().out
    assert main(["--data-dir", str(data_dir), "add-clerk", "Sam", "--pin", "1111"]) == 1
    assert "already a clerk called Sam" in capsys.readouterr().err
