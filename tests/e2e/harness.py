"""The real server in a subprocess, for the end-to-end tests and the sync benchmark: gunicorn
(as deployed, on PostgreSQL) or the embedded server (as `make run` starts it, on SQLite)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from scripts import run_embedded
from sync.credentials import EncryptedFileKeyring, TokenStore

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server:
    """A server subprocess on its own port; stop() and start() again on the same port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def _launch(self) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def start(self) -> None:
        self.process = self._launch()
        try:
            run_embedded.wait_healthy(self.url, self.process, self.log_path)
        except run_embedded.ServerDidNotStart as error:
            self.stop()
            raise RuntimeError(f"{error}: {self.log_path.read_text()[-2000:]}") from None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self._terminate(self.process)
        self.process = None

    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        process.wait(timeout=30)


class ServerProcess(_Server):
    """gunicorn running the sync server (as deployed)."""

    def _launch(self) -> subprocess.Popen[bytes]:
        env = {**self.env, "SHOPSMART_BIND": f"127.0.0.1:{self.port}", "SHOPSMART_WORKERS": "2"}
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )


class EmbeddedServer(_Server):
    """``shopsmart-server run`` on SQLite, started and stopped by scripts/run_embedded.py's
    own functions (the code path of `make run`)."""

    def _launch(self) -> subprocess.Popen[bytes]:
        return run_embedded.start_server(self.env, self.port, self.log_path)

    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        run_embedded.stop_server(process)


def server_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "shopsmart-server"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"shopsmart-server {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def keyring_for(path: Path) -> TokenStore:
    """An isolated, encrypted keyring file per till: never the developer's real keyring."""
    return TokenStore(EncryptedFileKeyring(path / "tokens.json", "e2e passphrase"))
