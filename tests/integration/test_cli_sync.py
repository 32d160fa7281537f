"""`shopsmart enroll | sync | status` driven as a script would, against a real embedded server
(the one `make run` starts: SQLite, a subprocess on loopback) — no person, no OS keyring: the
token goes to the encrypted token file with the passphrase from SHOPSMART_TOKEN_PASSPHRASE.

(Beside tests/integration/test_cli.py, which holds the catalog and clerk commands.)
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import keyring.core
import pytest
from keyring.backends import fail

from app.bootstrap import open_terminal
from app.domain.cart import Cart
from app.domain.clerk import Clerk, Role
from app.domain.order import TenderInput, TenderKind
from app.services.checkout import complete_sale
from scripts import run_embedded
from server.admin import service as admin
from server.config import TestConfig
from server.db import make_engine, make_session_factory, unit_of_work
from server.terminals.auth import create_enroll_code
from sync.credentials import TOKEN_FILE
from tests.e2e.harness import EmbeddedServer
from ui.cli import EXIT_SYNC_FAILED, PASSPHRASE_ENV, main

PASSPHRASE = "correct horse battery"


class Embedded:
    def __init__(self, server: EmbeddedServer, database: Path) -> None:
        self.server = server
        self.database = database

    def enroll_code(self) -> str:
        """What `shopsmart-server terminal enroll-code --store DEMO` makes (in this process)."""
        engine = make_engine(TestConfig(database_url=f"sqlite:///{self.database}").sqlalchemy_url)
        try:
            with unit_of_work(make_session_factory(engine)) as session:
                store_id = admin.store_by_code(session, "DEMO").id
                return create_enroll_code(session, store_id, timedelta(hours=1))
        finally:
            engine.dispose()

    def orders(self) -> int:
        with closing(sqlite3.connect(self.database, timeout=30)) as db:
            return int(db.execute("SELECT count(*) FROM orders").fetchone()[0])


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    root = tmp_path_factory.mktemp("embedded")
    env = {
        **run_embedded.server_environment(root / "server", os.environ),
        "SHOPSMART_LOG_LEVEL": "WARNING",
    }
    server = EmbeddedServer(env, root / "server.log")
    server.start()
    try:
        run_embedded.load_demo(env)
        yield Embedded(server, root / "server" / "server.sqlite3")
    finally:
        server.stop()


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare Linux box: no OS keyring (and never the developer's own)."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())


def shopsmart(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), *args])


def status_json(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert shopsmart(data_dir, "status", "--json") == 0
    return json.loads(capsys.readouterr().out)


def sell(data_dir: Path, count: int) -> None:
    terminal = open_terminal(data_dir)
    try:
        with terminal.read() as uow:
            milk = uow.products.by_id("demo-milk") or uow.products.search("milk")[0]
        clerk = Clerk(id="cli-clerk", name="Maria", role=Role.CLERK, pin_hash="x")
        for _ in range(count):
            complete_sale(
                terminal.uow(),
                Cart().add(milk),
                [TenderInput(TenderKind.CASH, 10_000)],
                clerk,
                terminal.store,
                terminal.clock,
                terminal.ids,
            )
    finally:
        terminal.close()


def test_enroll_sync_until_done_and_status_json_with_an_encrypted_token_file(
    tmp_path, embedded, no_keyring, monkeypatch, capsys
):
    till = tmp_path / "till"
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    url = embedded.server.url
    code = embedded.enroll_code()
    assert shopsmart(till, "enroll", "--server", url, "--code", code, "--till", "T11") == 0
    out = capsys.readouterr().out
    assert "enrolled as T11 of" in out and "(DEMO)" in out and "encrypted token file" in out
    assert (till / TOKEN_FILE).stat().st_mode & 0o777 == 0o600

    assert shopsmart(till, "sync", "--until-done") == 0  # the catalog and clerks come down
    assert "sync online: 0 waiting, 0 refused" in capsys.readouterr().out
    sell(till, 3)
    before = status_json(till, capsys)
    assert before["connection"] == {"state": "online", "reason": ""}
    assert (before["waiting"], before["refused"], before["quarantined"]) == (3, 0, 0)
    assert before["products"] > 10 and before["clerks"] >= 2 and before["orders"] == 3
    assert before["server_url"] == url and before["terminal_id"]
    assert before["last_sync"] is not None

    assert shopsmart(till, "sync", "--until-done") == 0
    assert embedded.orders() >= 3
    after = status_json(till, capsys)
    assert (after["waiting"], after["refused"]) == (0, 0)
    assert after["last_sync"] > before["last_sync"]

    embedded.server.stop()  # the server goes away: sync fails with the reason, status says so
    try:
        sell(till, 1)
        capsys.readouterr()
        assert shopsmart(till, "sync", "--until-done") == EXIT_SYNC_FAILED
        err = capsys.readouterr().err
        assert "sync offline: cannot reach the server (1 waiting)" in err
        offline = status_json(till, capsys)
        assert offline["connection"]["state"] == "offline" and offline["waiting"] == 1
    finally:
        embedded.server.start()
    assert shopsmart(till, "sync", "--until-done") == 0
    assert status_json(till, capsys)["waiting"] == 0


def test_without_keyring_or_passphrase_enroll_is_refused_and_the_code_stays_good(
    tmp_path, embedded, no_keyring, monkeypatch, capsys
):
    till = tmp_path / "till"
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    code = embedded.enroll_code()
    server = ("--server", embedded.server.url, "--code", code, "--till", "T12")
    assert shopsmart(till, "enroll", *server) == 1
    err = capsys.readouterr().err
    assert "no secure keyring is available on this computer" in err and PASSPHRASE_ENV in err
    assert status_json(till, capsys)["connection"]["state"] == "not enrolled"
    assert not (till / TOKEN_FILE).exists()
    monkeypatch.setenv(PASSPHRASE_ENV, "short")
    assert shopsmart(till, "enroll", *server) == 1
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    assert shopsmart(till, "enroll", *server) == 0

    monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")
    capsys.readouterr()
    assert shopsmart(till, "sync") == 1
    assert "wrong passphrase for the token file" in capsys.readouterr().err
    locked = status_json(till, capsys)  # the rest of the status is still there
    assert locked["connection"]["state"] == "token locked" and locked["waiting"] == 0
    monkeypatch.delenv(PASSPHRASE_ENV)
    assert shopsmart(till, "sync") == 1
    assert f"set {PASSPHRASE_ENV} to its passphrase" in capsys.readouterr().err


def test_a_spent_code_or_no_enrollment_exits_non_zero_with_the_reason(
    tmp_path, embedded, no_keyring, monkeypatch, capsys
):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    assert shopsmart(tmp_path / "a", "sync", "--until-done") == 1
    assert "this till is not enrolled" in capsys.readouterr().err
    server = ("--server", embedded.server.url, "--code", embedded.enroll_code())
    assert shopsmart(tmp_path / "a", "enroll", *server, "--till", "T13") == 0
    assert shopsmart(tmp_path / "b", "enroll", *server, "--till", "T14") == 1
    err = capsys.readouterr().err
    assert "the server did not enroll this till:" in err
    assert status_json(tmp_path / "b", capsys)["connection"]["state"] == "not enrolled"


def test_the_demo_till_make_run_enrolled_by_itself_syncs_from_the_command_line(
    tmp_path, embedded, no_keyring, monkeypatch, capsys
):
    """`make run` without a keyring keeps the demo's token in its loopback-only file: the
    command line finds it there, no passphrase needed."""
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    till = tmp_path / "till"
    terminal = open_terminal(till)
    try:
        with terminal.uow() as uow:
            uow.settings.put("terminal_code", "T15")
            uow.commit()
        terminal.close()
        terminal = open_terminal(till)
        enroll_demo = terminal.auto_enrollment(f"{embedded.server.url} {embedded.enroll_code()}")
        assert enroll_demo is not None
        enroll_demo()
    finally:
        terminal.close()
    assert shopsmart(till, "sync", "--until-done") == 0
    report = status_json(till, capsys)
    assert report["connection"]["state"] == "online" and report["products"] > 10
