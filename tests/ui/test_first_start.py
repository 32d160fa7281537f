"""First start as a newcomer meets it: the demo's login names its clerks and PINs, the header
says why the till is offline and what to do, the token file's passphrase is remembered when
the store chose that, the connection dialog says one state, and every menu a text names is a
real entry of the menu bar."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring
from PySide6.QtWidgets import QApplication

from app.data import DEMO_CLERKS, DEMO_MANAGER_PIN
from local_db.sync_store import SqliteSyncStore
from sync import credentials
from sync.credentials import (
    KEYRING_CHOICE,
    SERVICE,
    TOKEN_FILE,
    EncryptedFileKeyring,
    TokenStore,
)
from sync.engine import ConnectionState, SyncEngine, SyncStatus
from sync.enrollment import SERVER_URL, TERMINAL_ID
from ui.login import DEMO_ENV
from ui.settings_dialog import NO_KEYRING_TO_REMEMBER, SettingsDialog, TokenFileDialog

from .conftest import add_clerk
from .test_register_flow import enter, log_in
from .test_sync_status import ThreadScheduler

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 10_000
TERMINAL = "0190f1c2-0000-7000-8000-000000000001"
PASSPHRASE = "correct horse battery"


@pytest.fixture
def no_keyring(tmp_path: Path) -> Iterator[None]:
    """A bare Linux box: keyring's only backend is a plaintext file (never trusted)."""
    previous = keyring.get_keyring()
    plain = PlaintextKeyring()
    plain.file_path = str(tmp_path / "plain.cfg")  # never the developer's keyring
    keyring.set_keyring(plain)
    yield
    keyring.set_keyring(previous)


class DesktopKeyring(KeyringBackend):
    """A desktop's secure keyring (the Secret Service), in memory for the test."""

    priority = 5

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such entry")


@pytest.fixture
def computer_keyring() -> Iterator[DesktopKeyring]:
    previous = keyring.get_keyring()
    backend = DesktopKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def not_enrolled_bridge(terminal: Any) -> Any:
    from ui.sync_bridge import SyncBridge

    engine = SyncEngine(
        SqliteSyncStore(terminal.database.sync_writer), lambda: None, terminal.clock
    )
    return SyncBridge(ThreadScheduler(engine))


def enrolled(terminal: Any, url: str = "http://127.0.0.1:9") -> None:
    with terminal.uow() as uow:
        uow.settings.put(SERVER_URL, url)
        uow.settings.put(TERMINAL_ID, TERMINAL)
        uow.commit()


def menu_entries(window: Any) -> dict[str, set[str]]:
    """Menu title → the texts of its actions, as a person reads them (no &, no shortcut)."""
    entries: dict[str, set[str]] = {}
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        title = menu_action.text().replace("&", "")
        entries[title] = {
            a.text().replace("&", "").split("\t")[0] for a in menu.actions() if a.text()
        }
    return entries


def one_line(widget: Any) -> bool:
    """The label's text fits its width on one line (QFontMetrics, the stylesheet's font)."""
    text = widget.text()
    return "\n" not in text and (
        widget.fontMetrics().horizontalAdvance(text) <= widget.contentsRect().width()
    )


# demo login ------------------------------------------------------------------------------


def test_the_demo_login_names_the_demo_clerks_and_a_manager_logs_in_with_the_pin_shown(
    qtbot: Any, open_window: Any, terminal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEMO_ENV, "1")
    for clerk in DEMO_CLERKS:  # as the demo server's pull brings them
        add_clerk(terminal, clerk.name, clerk.pin, manager=clerk.role == "manager")
    window = open_window()
    hint = window.login.demo_hint
    assert hint.isVisible()
    manager = next(c for c in DEMO_CLERKS if c.role == "manager")
    assert f"{manager.name} (manager): PIN {manager.pin}" in hint.text()
    for clerk in DEMO_CLERKS:
        assert f"{clerk.name}" in hint.text() and f"PIN {clerk.pin}" in hint.text()
    log_in(qtbot, window, manager.name, manager.pin)
    assert window.clerk.name == manager.name and window.clerk.is_manager


def test_a_real_stores_login_shows_no_pin(
    qtbot: Any, open_window: Any, terminal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DEMO_ENV, raising=False)
    for clerk in DEMO_CLERKS:  # even clerks who happen to share the demo's names
        add_clerk(terminal, clerk.name, clerk.pin, manager=clerk.role == "manager")
    window = open_window()
    assert not window.login.demo_hint.isVisible()
    assert window.login.demo_hint.text() == ""


# the header's reason ---------------------------------------------------------------------


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_header_says_why_offline_and_names_the_real_menu(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Ana", DEMO_MANAGER_PIN, manager=True)
    bridge = not_enrolled_bridge(terminal)
    window = open_window(sync=bridge)
    bridge.start()
    bar = window.connection_bar
    qtbot.waitUntil(bar.isVisible, timeout=TIMEOUT)
    assert "no secure keyring" in bar.text.text()
    assert "Till → Server connection…" in bar.text.text()
    window.resize(1024, 768)  # the smallest counter screen
    qtbot.waitUntil(lambda: one_line(bar.text), timeout=TIMEOUT)
    assert "Server connection…" in menu_entries(window)["Till"]
    log_in(qtbot, window, "Ana", DEMO_MANAGER_PIN)
    assert window.settings_action.isEnabled()  # the manager can do what the line says
    bridge.stop()


@pytest.mark.usefixtures("computer_keyring")
def test_with_a_keyring_the_header_says_the_till_is_not_connected(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    bridge = not_enrolled_bridge(terminal)
    window = open_window(sync=bridge)
    bridge.start()
    qtbot.waitUntil(window.connection_bar.isVisible, timeout=TIMEOUT)
    assert window.connection_bar.text.text() == (
        "Offline: not connected to a server — a manager connects it in Till → Server connection…"
    )
    bridge.stop()


# the token file's passphrase -------------------------------------------------------------


def start_window(qtbot: Any, qapp: Any, terminal: Any) -> Any:
    """The till's window as `shopsmart run` starts it: with its own sync engine."""
    from ui.main_window import MainWindow

    window = MainWindow(terminal=terminal, load_demo=False, start_sync=True)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.login_shown, timeout=TIMEOUT):
        window.start()
    return window


def stop_window(window: Any) -> None:
    window.runner.shutdown()
    if window.sync is not None:
        window.sync.stop()


def token_file(terminal: Any) -> None:
    """An enrolled till whose token is in the encrypted file (a manager chose it)."""
    enrolled(terminal)
    EncryptedFileKeyring(terminal.data_dir / TOKEN_FILE, PASSPHRASE).set_password(
        SERVICE, TERMINAL, "the-device-token"
    )
    with terminal.uow() as uow:
        uow.settings.put(KEYRING_CHOICE, credentials.KEYRING_ENCRYPTED_FILE)
        uow.commit()


def test_a_remembered_passphrase_unlocks_the_token_file_without_asking(
    qtbot: Any,
    qapp: Any,
    terminal: Any,
    computer_keyring: DesktopKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token_file(terminal)
    credentials.remember_passphrase(terminal.data_dir, PASSPHRASE)

    def asked(*_args: Any) -> str:
        raise AssertionError("the passphrase was asked for although the keyring remembers it")

    monkeypatch.setattr("ui.main_window.ask_passphrase", asked)
    window = start_window(qtbot, qapp, terminal)
    try:
        assert TokenStore().load(TERMINAL) == "the-device-token"
        assert not window.connection_bar.token_locked
    finally:
        stop_window(window)
        keyring.set_keyring(computer_keyring)


@pytest.mark.usefixtures("no_keyring")
def test_a_token_file_left_locked_says_so_in_the_header(
    qtbot: Any, qapp: Any, terminal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file(terminal)
    asked: list[str] = []
    monkeypatch.setattr(
        "ui.main_window.ask_passphrase", lambda _w, title, _p: asked.append(title)
    )  # the person cancels
    window = start_window(qtbot, qapp, terminal)
    try:
        assert asked == ["Unlock the server token"]
        bar = window.connection_bar
        qtbot.waitUntil(bar.isVisible, timeout=TIMEOUT)
        assert "token file is locked" in bar.text.text()
        assert one_line(bar.text)
        assert "Till → Server connection…" in bar.text.text()
    finally:
        stop_window(window)


def open_token_file_dialog(qtbot: Any, window: Any, terminal: Any) -> TokenFileDialog:
    dialog = SettingsDialog(terminal, window.sync, window.runner, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.use_file_button.isVisible()
    dialog.use_file_button.click()
    choice = dialog.token_file_dialog
    assert isinstance(choice, TokenFileDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is choice.passphrase, timeout=TIMEOUT)
    return choice


def test_choosing_the_token_file_offers_to_remember_the_passphrase_in_the_keyring(
    qtbot: Any,
    open_window: Any,
    terminal: Any,
    computer_keyring: DesktopKeyring,
) -> None:
    window = open_window(sync=not_enrolled_bridge(terminal))
    choice = open_token_file_dialog(qtbot, window, terminal)
    assert choice.remember.isEnabled() and choice.remember.isChecked()
    texts = [w.text() for w in choice.findChildren(type(choice.error))]
    assert any("not from someone who can log in" in text for text in texts)
    assert any("Protects the token if the computer" in text for text in texts)
    qtbot.keyClicks(choice.passphrase, PASSPHRASE)
    enter(qtbot, choice.passphrase)
    qtbot.keyClicks(choice.again, PASSPHRASE)
    settings = window.settings_dialog or choice.parent()
    with qtbot.waitSignal(choice.finished, timeout=TIMEOUT):
        enter(qtbot, choice.again)
    qtbot.waitUntil(lambda: terminal.token_file_chosen(), timeout=TIMEOUT)
    try:
        assert credentials.remembered_passphrase(terminal.data_dir) == PASSPHRASE
        qtbot.waitUntil(lambda: "remembered" in settings.keyring_notice.text(), timeout=TIMEOUT)
    finally:
        keyring.set_keyring(computer_keyring)


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_passphrase_cannot_be_remembered_and_the_dialog_says_why(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    window = open_window(sync=not_enrolled_bridge(terminal))
    choice = open_token_file_dialog(qtbot, window, terminal)
    assert not choice.remember.isEnabled()
    assert choice.ask_every_start.isChecked()
    texts = [w.text() for w in choice.findChildren(type(choice.error))]
    assert NO_KEYRING_TO_REMEMBER in texts
    qtbot.keyClicks(choice.passphrase, "short")
    qtbot.keyClicks(choice.again, "short")
    enter(qtbot, choice.again)
    assert choice.isVisible() and "at least 8 characters" in choice.error.text()
    assert not terminal.token_file_chosen()  # nothing changed
    choice.reject()


# the connection dialog -------------------------------------------------------------------


@pytest.mark.usefixtures("computer_keyring")
def test_after_connecting_the_dialog_says_one_state_once(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    bridge = not_enrolled_bridge(terminal)
    window = open_window(sync=bridge)
    enrolled(terminal, "https://pos.example.com")  # just connected: the engine has not run
    dialog = SettingsDialog(terminal, bridge, window.runner, window)
    qtbot.addWidget(dialog)
    dialog.show()
    text = dialog.current.text()
    assert text.startswith("Connected to https://pos.example.com as till")
    assert "Not connected" not in text and "Settings" not in text
    assert text.count("onnected") == 1
    bridge.status_changed.emit(
        SyncStatus(ConnectionState.ONLINE, last_success_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    )
    qtbot.waitUntil(lambda: "Online, last sync" in dialog.current.text(), timeout=TIMEOUT)
    assert dialog.current.text().count("onnected") == 1
    assert dialog.windowTitle() == "Server connection"  # the menu entry that opens it


@pytest.mark.usefixtures("computer_keyring")
def test_the_connection_dialog_is_prefilled_with_make_runs_address_and_code(
    qtbot: Any, open_window: Any, terminal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPSMART_ENROLL", "http://127.0.0.1:8765 K7QF2-9XH4M")
    window = open_window(sync=not_enrolled_bridge(terminal))
    dialog = SettingsDialog(terminal, window.sync, window.runner, window)
    qtbot.addWidget(dialog)
    assert (dialog.server_url.text(), dialog.code.text()) == (
        "http://127.0.0.1:8765",
        "K7QF2-9XH4M",
    )
    assert dialog.connect_button.isEnabled()


# every menu named in a text is a real one --------------------------------------------------

MENU_PATH = re.compile(r"\b([A-Z]\w*) → ([A-Z][\w ]*\w…?)")


@functools.cache
def user_texts() -> list[tuple[str, str]]:
    """(where, text) of every string constant in the till's code, and the docs' lines."""
    return list(_user_texts())


def _user_texts() -> Iterator[tuple[str, str]]:
    for folder in ("ui", "app", "sync", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if "→" not in source and "Settings" not in source:
                continue  # no menu named in this file
            tree = ast.parse(source)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node.value
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield f"{path.relative_to(ROOT)}:{number}", line


def test_every_menu_a_text_names_is_a_real_menu_entry(open_window: Any) -> None:
    entries = menu_entries(open_window())
    named = [
        (where, menu, entry)
        for where, text in user_texts()
        for menu, entry in MENU_PATH.findall(text)
        if menu in ("Till", "Settings", "Server", "Menu", "File")
    ]
    assert len(named) >= 5  # the walk found the texts (Till → Server connection… …)
    wrong = [
        f"{where}: {menu} → {entry}"
        for where, menu, entry in named
        if entry not in entries.get(menu, set()) and f"{entry}…" not in entries.get(menu, set())
    ]
    assert wrong == []
    in_settings = [
        f"{where}: {text}"
        for where, text in user_texts()
        if re.search(r"\bin Settings\b|\bSettings →", text)
    ]
    assert in_settings == []  # there is no Settings menu


def test_the_menu_walk_catches_a_menu_that_does_not_exist(open_window: Any) -> None:
    entries = menu_entries(open_window())
    ((menu, entry),) = MENU_PATH.findall("Not connected to a server: Till → Settings")
    assert entry not in entries[menu] and f"{entry}…" not in entries[menu]
