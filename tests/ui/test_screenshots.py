"""`make screenshots` (ui/screenshots.py) runs and writes every screen at each size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from ui import screenshots


def test_one_size_renders_every_screen_at_that_size(tmp_path: Path) -> None:
    size = (1024, 768)
    out = tmp_path / "shots"
    env = {**os.environ, "QT_QPA_PLATFORM": screenshots.screen_platform(size, tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "ui.screenshots", str(out), "--size", "1024x768"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == sorted(screenshots.SCREENS)
    for name in ("register.png", "register-search.png", "login.png", "register-online.png"):
        image = QImage(str(out / name))
        assert (image.width(), image.height()) == size, name
    pay = QImage(str(out / "pay.png"))  # a dialog: its own size, never more than the screen
    assert 0 < pay.width() <= size[0] and 0 < pay.height() <= size[1]


def test_make_screenshots_renders_the_three_counter_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[tuple[list[str], dict[str, str]]] = []

    def run(command: list[str], env: dict[str, str], check: bool) -> Any:
        runs.append((command, env))
        platform = env["QT_QPA_PLATFORM"]
        screen = json.loads(Path(platform.split("configfile=")[1]).read_text())["screens"][0]
        assert f"{screen['width']}x{screen['height']}" == command[-1]
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(screenshots.subprocess, "run", run)
    assert screenshots.main([str(tmp_path)]) == 0
    assert [(c[-3], c[-1]) for c, _env in runs] == [
        (str(tmp_path / "1024x768"), "1024x768"),
        (str(tmp_path / "1366x768"), "1366x768"),
        (str(tmp_path / "1920x1080"), "1920x1080"),
    ]
