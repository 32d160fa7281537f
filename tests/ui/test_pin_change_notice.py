"""A manager whose PIN is shorter than the 6-digit rule (made before it) logs in and is told
to have it changed; a manager with a 6-digit PIN is not."""

from __future__ import annotations

from typing import Any

from app.data import DEMO_MANAGER_PIN
from app.domain.clerk import Clerk, Role, hash_pin
from tests.ui.conftest import add_clerk
from tests.ui.test_register_flow import log_in


def test_a_4_digit_manager_pin_logs_in_and_the_register_asks_for_a_new_one(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    old = Clerk("m-old", "Max", Role.MANAGER, hash_pin("9999", cost=(16384, 8, 1)))
    with terminal.uow() as uow:  # pulled from a server before the rule
        uow.clerks.save(old)
        uow.commit()
    add_clerk(terminal, "Sam", DEMO_MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Max", "9999")
    notice = window.register.notice
    assert notice.isVisible() and not notice.is_error
    assert "a manager's PIN now has 6 to 8 digits" in notice.text()
    assert "shopsmart-server clerk set-pin" in notice.text()
    assert window.clerk.is_manager  # it works: refunds and approvals are not blocked


def test_a_6_digit_manager_pin_gets_no_such_notice(
    qtbot: Any, open_window: Any, terminal: Any
) -> None:
    add_clerk(terminal, "Sam", DEMO_MANAGER_PIN, manager=True)
    window = open_window()
    log_in(qtbot, window, "Sam", DEMO_MANAGER_PIN)
    assert not window.register.notice.isVisible()
