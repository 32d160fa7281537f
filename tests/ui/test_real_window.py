"""The till in a real window: an X server (Xvfb) with a window manager (openbox), the till
started as its own process, keys typed the way a keyboard-wedge scanner types them.

Offscreen grabs cannot show what a window manager does to focus (without one, dialogs get
no keyboard focus under Xvfb at all): here the login PIN, the scan, F12 and the Enter that
pays go through X to whatever window has the focus, as at a counter. The sale is read back
from the till's SQLite, and a screenshot of the screen is kept beside the test's files.
``scripts/ensure_test_deps.sh`` (run by ``make test``) installs Xvfb, openbox, xdotool and
ImageMagick when they are missing; without them the test fails, naming what is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from local_db.engine import DB_FILENAME

TOOLS = ("Xvfb", "openbox", "xdotool", "xprop", "import")
SCREEN = "1366x768x24"
PIN = "246810"
TIMEOUT_S = 30.0


def _missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _until(what: str, condition: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty)"


def _start_xvfb(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on a display number it picks itself (-displayfd). ``-ac``: no host-based access
    control, which on some sandboxes finds no address of its own and turns every local
    client away; it listens on no TCP port, so only this machine's processes can reach it."""
    read_end, write_end = os.pipe()
    with log.open("wb") as out:
        xvfb = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                SCREEN,
                "-nolisten",
                "tcp",
                "-ac",
            ],
            pass_fds=(write_end,),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        number = numbers.readline().strip()
    if not number:
        xvfb.kill()
        pytest.fail(f"Xvfb did not start:\n{_tail(log)}")
    return xvfb, f":{number}"


def _x_answers(env: dict[str, str], wanted: str) -> tuple[bool, str]:
    probe = subprocess.run(
        ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True, text=True
    )
    return wanted in probe.stdout, (probe.stdout + probe.stderr).strip()


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    """A fresh X display with openbox on it. Xvfb's and openbox's own output is kept beside
    the test's files and quoted in any failure, so a run elsewhere says what went wrong."""
    missing = _missing_tools()
    if missing:
        # Never skipped: `make test` installs them (scripts/ensure_test_deps.sh), so a run
        # without them is a broken run, as a run without PostgreSQL is.
        pytest.fail(
            f"no real X window possible: {', '.join(missing)} not installed; "
            "run scripts/ensure_test_deps.sh (make test does)"
        )
    xvfb_log = tmp_path / "xvfb.log"
    xvfb, display = _start_xvfb(xvfb_log)
    env = {**os.environ, "DISPLAY": display}
    started: list[subprocess.Popen[bytes]] = []
    try:
        # The server is up once any client can read the root window's properties.
        last = [""]

        def server_answers() -> bool:
            if xvfb.poll() is not None:
                pytest.fail(f"Xvfb on {display} exited ({xvfb.returncode}):\n{_tail(xvfb_log)}")
            answered, last[0] = _x_answers(env, "_NET_SUPPORTING_WM_CHECK")
            return answered

        try:
            _until(f"Xvfb on {display} to take clients", server_answers)
        except AssertionError:
            pytest.fail(
                f"no X client can reach Xvfb on {display}: xprop says {last[0]!r}\n"
                f"Xvfb's log:\n{_tail(xvfb_log)}"
            )
        # openbox, tried three times: a machine under load can lose the first attempt.
        for attempt in range(1, 4):
            wm_log = tmp_path / f"openbox-{attempt}.log"
            with wm_log.open("wb") as out:
                wm = subprocess.Popen(
                    ["openbox", "--sm-disable"], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            started.append(wm)

            def wm_running(wm: subprocess.Popen[bytes] = wm) -> bool:
                return wm.poll() is not None or _x_answers(env, "window id")[0]

            _until("openbox to manage the display", wm_running)  # a loaded machine is slow
            if wm.poll() is None:
                break
            if attempt == 3:
                pytest.fail(
                    f"openbox exited with code {wm.returncode} before managing {display}, "
                    f"three times:\n{_tail(wm_log)}\nXvfb's log:\n{_tail(xvfb_log)}"
                )
            time.sleep(0.5)
        yield display
    finally:
        for process in (*started, xvfb):
            if process.poll() is None:
                process.terminate()
        for process in (*started, xvfb):
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def till_data(tmp_path: Path) -> Path:
    """A till's data directory with the demo catalog and one manager, as after set-up."""
    from app.bootstrap import open_terminal
    from app.domain.clerk import Role
    from app.services.clerks import create_clerk
    from ui.picker import FAVOURITES_KEY
    from ui.sample_catalog import FAVOURITES, sample_products

    data = tmp_path / "till"
    terminal = open_terminal(data)
    with terminal.uow() as uow:
        uow.products.replace_all(sample_products())
        uow.settings.put(FAVOURITES_KEY, ",".join(FAVOURITES))
        uow.commit()
    create_clerk(terminal.uow(), "Maria", PIN, Role.MANAGER, terminal.ids)
    terminal.close()
    return data


class Till:
    """The till's process and the X tools that drive it."""

    def __init__(self, display: str, data: Path, log: Path) -> None:
        self.env = {
            **os.environ,
            "DISPLAY": display,
            "QT_QPA_PLATFORM": "xcb",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # not the host's
        }
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "--data-dir", str(data), "run"],
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def logged(self, text: str) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the till exited: {self.log.read_text()[-2000:]}")
        return text in self.log.read_text()

    def x(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
        return done.stdout.strip()

    def window(self, title: str) -> str:
        """The id of the visible window named ``title``, once it is mapped."""
        found: list[str] = []

        def shown() -> bool:
            found[:] = self.x("search", "--onlyvisible", "--name", title).split()
            return bool(found)

        _until(f"a window named {title!r}", shown)
        return found[-1]

    def focused_is(self, window: str) -> bool:
        return self.x("getwindowfocus") == window

    def screenshot(self, path: Path) -> None:
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, timeout=TIMEOUT_S
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log_file.close()


def test_a_scanned_item_is_paid_in_cash_in_a_real_window(
    x_display: str, till_data: Path, tmp_path: Path
) -> None:
    from ui.sample_catalog import barcode_of

    till = Till(x_display, till_data, tmp_path / "till.log")
    try:
        _until("the login screen", lambda: till.logged("login screen shown"))
        main = till.window("^ShopSmart POS$")
        _until("the window manager to focus the till", lambda: till.focused_is(main))
        till.x("type", "--delay", "30", PIN)  # the only clerk is chosen; the PIN has focus
        till.x("key", "Return")
        _until("the register", lambda: till.logged("register ready: Maria logged in"))

        # A wedge scanner: the digits a few ms apart, then Enter, into the focused window.
        code = barcode_of("Sourdough loaf")
        till.x("type", "--delay", "4", code)
        till.x("key", "Return")
        till.x("key", "F12")
        pay = till.window("^Payment")
        _until("the payment dialog to have the focus", lambda: till.focused_is(pay))
        till.x("key", "Return")  # nothing typed: exact cash
        till.window("^Sale complete")
        till.screenshot(tmp_path / "receipt-real-window.png")

        with sqlite3.connect(till_data / DB_FILENAME) as db:
            orders = db.execute("SELECT id, status, total, receipt_no FROM orders").fetchall()
            assert len(orders) == 1
            order_id, status, total, receipt_no = orders[0]
            lines = db.execute(
                "SELECT name, quantity, net FROM order_lines WHERE order_id = ?", (order_id,)
            ).fetchall()
            tenders = db.execute(
                "SELECT kind, amount FROM tenders WHERE order_id = ?", (order_id,)
            ).fetchall()
        assert status == "paid" and receipt_no == "T01-000001"
        assert lines == [("Sourdough loaf", 1, total)]
        assert tenders == [("cash", total)]
        assert (tmp_path / "receipt-real-window.png").stat().st_size > 10_000
    finally:
        till.stop()
