#!/usr/bin/env python3
"""`make run`: the embedded default — a local sync server on SQLite and the till, together.

Nothing needs to be configured: the server keeps its SQLite database (and the e-mails it would
send, as .eml files) under ``var/server``, the till keeps its store under ``var/till`` (both in
the checkout, ignored by git). The server gets a demo store; the till loads the demo grocery
catalog on first start, enrolls by itself with the server's one-time enrollment code (its token
in the system keyring, or, on a computer without one, in a 0600 file of its data directory that
only this loopback server accepts: docs/sync.md), and its login screen names the demo clerks and
their PINs.
The end-to-end tests start their embedded server with the functions below, so they run the
server exactly as `make run` does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from app.data import demo_clerks_text

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PREFERRED_PORT = 8765


class ServerDidNotStart(RuntimeError):
    """The local server exited, or did not answer its health check in time."""


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    if port_is_free(PREFERRED_PORT):
        return PREFERRED_PORT
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(server_dir: Path, base: Mapping[str, str]) -> dict[str, str]:
    """The local server's environment: SQLite and e-mails under ``server_dir``, whatever
    DATABASE_URL the shell has (the embedded server never uses another database)."""
    env = {**base, "SHOPSMART_DATA_DIR": str(server_dir)}
    env.pop("DATABASE_URL", None)
    return env


def start_server(env: Mapping[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """``shopsmart-server run`` (migrates its SQLite, then serves on 127.0.0.1:``port``)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [str(BIN / "shopsmart-server"), "run", "--port", str(port)],
            env=dict(env),
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )


def wait_healthy(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerDidNotStart(f"the local server stopped while starting; see {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise ServerDidNotStart(f"the local server did not start within 30 s; see {log_path}")


def load_demo(env: Mapping[str, str]) -> str:
    """``shopsmart-server demo`` (the demo store, safe to run again): a fresh enrollment code."""
    demo = subprocess.run(
        [str(BIN / "shopsmart-server"), "demo"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return demo.stdout.strip().split()[-1]


def till_environment(url: str, code: str, base: Mapping[str, str]) -> dict[str, str]:
    """The till's environment: offered the local server's enrollment code (the till uses it
    if it is not enrolled yet), and told it runs the demo (its login screen shows the demo
    clerks' PINs)."""
    env = {**base, "SHOPSMART_ENROLL": f"{url} {code}", "SHOPSMART_DEMO": "1"}
    env.pop("SHOPSMART_DATA_DIR", None)
    return env


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server on the way out
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    server_env = server_environment(var / "server", os.environ)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = var / "server.log"
    server = start_server(server_env, port, log_path)
    try:
        try:
            wait_healthy(url, server, log_path.relative_to(ROOT))
        except ServerDidNotStart as error:
            raise SystemExit(str(error)) from None
        code = load_demo(server_env)
        print(f"Local sync server: {url} (SQLite and e-mails under var/server)")
        print(f"Enrollment code for the till (it enrolls by itself): {code}")
        print(f"Demo clerks: {demo_clerks_text()}")
        return subprocess.call(
            [str(BIN / "shopsmart"), "--data-dir", str(var / "till"), "run"],
            env=till_environment(url, code, os.environ),
            cwd=ROOT,
        )
    finally:
        stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
