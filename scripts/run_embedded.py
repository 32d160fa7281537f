#!/usr/bin/env python3
"""`make run`: the embedded default — a local sync server on SQLite and the till, together.

Nothing needs to be configured: the server keeps its SQLite database (and the e-mails it would
send, as .eml files) under ``var/server``, the till keeps its store under ``var/till`` (both in
the checkout, ignored by git). The server gets a demo store; the till loads the demo grocery
catalog on first start and is offered the server's one-time enrollment code, which it uses if
this computer has a secure keyring (otherwise Till → Server connection… explains the choice).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PREFERRED_PORT = 8765


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


def wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the local server stopped while starting; see var/server.log")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the local server did not start within 30 s; see var/server.log")


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server on the way out
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    server_env = {**os.environ, "SHOPSMART_DATA_DIR": str(var / "server")}
    server_env.pop("DATABASE_URL", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (var / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [str(BIN / "shopsmart-server"), "run", "--port", str(port)],
            env=server_env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
    try:
        wait_healthy(url, server)
        demo = subprocess.run(
            [str(BIN / "shopsmart-server"), "demo"],
            env=server_env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        code = demo.stdout.strip().split()[-1]
        print(f"Local sync server: {url} (SQLite and e-mails under var/server)")
        print(f"Enrollment code for the till: {code}")
        till_env = {**os.environ, "SHOPSMART_ENROLL": f"{url} {code}"}
        till_env.pop("SHOPSMART_DATA_DIR", None)
        return subprocess.call(
            [str(BIN / "shopsmart"), "--data-dir", str(var / "till"), "run"],
            env=till_env,
            cwd=ROOT,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
