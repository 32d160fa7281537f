"""The connection dialog refuses an http:// server address off this computer with the rule's
own message, and stays not connected (the one rule of sync.enrollment, as the CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keyring
import pytest

from sync.enrollment import current_enrollment
from tests.ui.test_first_start import DesktopKeyring, not_enrolled_bridge
from ui.settings_dialog import SettingsDialog

TIMEOUT = 10_000


@pytest.fixture
def desktop_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(DesktopKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.mark.usefixtures("desktop_keyring")
def test_the_connection_dialog_refuses_plain_http_to_another_computer(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    bridge = not_enrolled_bridge(terminal)
    window = open_window(sync=bridge)
    dialog = SettingsDialog(terminal, bridge, window.runner, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.server_url.setText("http://pos.example.com")
    dialog.code.setText("ABCDE-FGHJK")
    assert dialog.connect_button.isEnabled()
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: "is not encrypted" in dialog.message.text(), timeout=TIMEOUT)
    assert "https://pos.example.com" in dialog.message.text()
    assert current_enrollment(terminal.read) == ("", "")
    assert dialog.connect_button.isEnabled()  # the person can correct the address
