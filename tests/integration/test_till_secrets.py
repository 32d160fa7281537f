"""What a till keeps on disk is its own account's only, and it talks to servers over https."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import open_terminal
from app.domain.clerk import Role
from app.domain.errors import InvalidInput
from app.services.clerks import create_clerk
from local_db.engine import DB_FILENAME
from sync.credentials import TOKEN_FILE, EncryptedFileKeyring, TokenStore
from sync.enrollment import SERVER_URL, check_server_url, current_enrollment, enroll


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_is_0700_and_every_file_the_till_writes_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "till"
    terminal = open_terminal(data_dir)
    try:
        create_clerk(terminal.uow(), "Maria", "2468", Role.CLERK, terminal.ids)  # a WAL write
        TokenStore(EncryptedFileKeyring(data_dir / TOKEN_FILE, "correct horse battery")).save(
            "terminal-1", "tok_secret"
        )
        written = sorted(p.name for p in data_dir.iterdir())
        assert {DB_FILENAME, f"{DB_FILENAME}-wal", f"{DB_FILENAME}-shm", TOKEN_FILE} <= set(written)
        assert mode(data_dir) == 0o700
        assert {name: mode(data_dir / name) for name in written} == dict.fromkeys(written, 0o600)
    finally:
        terminal.close()


def test_a_till_installed_with_readable_files_is_tightened_at_its_next_start(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "till"
    open_terminal(data_dir).close()
    os.chmod(data_dir, 0o755)  # as tills before this rule created them
    os.chmod(data_dir / DB_FILENAME, 0o644)
    terminal = open_terminal(data_dir)
    try:
        assert (mode(data_dir), mode(data_dir / DB_FILENAME)) == (0o700, 0o600)
    finally:
        terminal.close()


class RefusingTransport:
    """A server that must not be asked: the address is refused before the code is spent."""

    def enroll(self, *args: Any) -> Any:
        raise AssertionError("the one-time code was sent to a refused address")


def test_an_http_server_address_off_this_computer_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    terminal = open_terminal(tmp_path / "till")
    tokens = TokenStore(EncryptedFileKeyring(tmp_path / "tokens", "correct horse battery"))
    try:
        for url in ("http://pos.example.com", "http://192.168.1.20:8765", "http://[fe80::1]:80"):
            with pytest.raises(InvalidInput) as refused:
                enroll(terminal.uow, tokens, url, "CODE", "T01", transport=RefusingTransport())  # type: ignore[arg-type]
            assert refused.value.field == "server_url"
            assert f"{url} is not encrypted" in refused.value.message
            assert "https://" in refused.value.message and "127.0.0.1" in refused.value.message
        assert current_enrollment(terminal.read) == ("", "")
        with terminal.read() as uow:
            assert uow.settings.get(SERVER_URL) == ""
        assert not (tmp_path / "tokens").exists()
    finally:
        terminal.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://pos.example.com/",
        "http://127.0.0.1:8765",  # the embedded default of make run
        "http://127.0.0.2:9000",
        "http://localhost:8765",
        "http://[::1]:8765",
    ],
)
def test_https_and_loopback_http_addresses_are_accepted(url: str) -> None:
    assert check_server_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["pos.example.com", "ftp://pos.example.com", "https://", "http://:80"]
)
def test_something_that_is_not_a_server_address_is_refused_as_such(url: str) -> None:
    with pytest.raises(InvalidInput, match="is not a server address like https://"):
        check_server_url(url)


def test_the_till_cli_refuses_an_http_server_address_with_the_same_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui.cli import main

    monkeypatch.setenv("SHOPSMART_TOKEN_PASSPHRASE", "correct horse battery")
    argv = ["--data-dir", str(tmp_path / "till"), "enroll", "--server", "http://pos.example.com"]
    assert main([*argv, "--code", "ABCDE-FGHJK"]) == 1
    err = capsys.readouterr().err
    assert "http://pos.example.com is not encrypted" in err and "https://pos.example.com" in err
