"""Real widgets on the offscreen platform, against a real SQLite store in a temp directory."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Any]:
    """A migrated till with the small sample catalog and no clerks yet."""
    from app.bootstrap import open_terminal
    from ui.picker import FAVOURITES_KEY
    from ui.sample_catalog import FAVOURITES, sample_products

    opened = open_terminal(tmp_path / "till")
    with opened.uow() as uow:
        uow.products.replace_all(sample_products())
        uow.settings.put(FAVOURITES_KEY, ",".join(FAVOURITES))
        uow.commit()
    yield opened
    opened.close()


@pytest.fixture
def open_window(qtbot: Any, qapp: Any, terminal: Any) -> Iterator[Any]:
    """Start the till's window on ``terminal`` (after any clerks the test created)."""
    from ui.main_window import MainWindow
    from ui.style import STYLESHEET

    opened: list[Any] = []

    def start(sync: Any = None) -> Any:
        qapp.setStyleSheet(STYLESHEET)
        main = MainWindow(terminal=terminal, load_demo=False, sync=sync)
        qtbot.addWidget(main)
        main.show()
        qtbot.waitExposed(main)
        main.activateWindow()
        with qtbot.waitSignal(main.login_shown, timeout=10_000):
            main.start()
        opened.append(main)
        return main

    yield start
    for main in opened:
        main.runner.shutdown()


def add_clerk(terminal: Any, name: str, pin: str, manager: bool = False) -> Any:
    from app.domain.clerk import Role
    from app.services.clerks import create_clerk

    role = Role.MANAGER if manager else Role.CLERK
    return create_clerk(terminal.uow(), name, pin, role, terminal.ids)
