#!/usr/bin/env python3
"""Run a command with a real, throw-away PostgreSQL server and SHOPSMART_TEST_DATABASE_URL set.

If SHOPSMART_TEST_DATABASE_URL is already set, it is used as it is and nothing is started.
Otherwise PostgreSQL is installed with apt when missing (we run as root on Debian), a cluster
is initialised in a temporary directory owned by the ``postgres`` user, started on a free
loopback port, and stopped and deleted when the command ends, whatever its outcome.

Usage: scripts/with_postgres.py -- COMMAND [ARG ...]
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PER_WORKER = "SHOPSMART_TEST_PG_PER_WORKER"


def log(message: str) -> None:
    print(f"[with_postgres] {message}", file=sys.stderr, flush=True)


def find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def install_postgres() -> Path:
    log("PostgreSQL not found: installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
    )
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("apt-get installed postgresql but no initdb was found")
    return bindir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_postgres(args: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def cluster(durable: bool = False) -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port: its admin URL. Stopped and
    deleted on the way out, whatever happened. Tests run it with fsync, synchronous_commit
    and full_page_writes off; ``durable`` keeps PostgreSQL's own (production) settings."""
    bindir = find_bindir() or install_postgres()
    workdir = Path(tempfile.mkdtemp(prefix="shopsmart-pg-"))
    datadir = workdir / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    os.chmod(workdir, 0o700)
    started = False
    try:
        subprocess.run(
            as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(datadir),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        fast = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options = (
            f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 "
            f"{'' if durable else fast}-c max_connections=200"
        )
        subprocess.run(
            as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(datadir),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(workdir / "server.log"),
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        started = True
        log(f"PostgreSQL {bindir.parent.name} running on 127.0.0.1:{port}")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                as_postgres(
                    [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"]
                ),
                check=False,
                stdout=subprocess.DEVNULL,
            )
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1 :]
    if os.environ.get("SHOPSMART_TEST_DATABASE_URL"):
        log("using SHOPSMART_TEST_DATABASE_URL from the environment")
        return subprocess.call(command)
    with cluster() as url:
        # PER_WORKER: each pytest-xdist worker starts a cluster of its own (tests/conftest.py):
        # a pull sees only transactions older than the oldest one running anywhere in the
        # cluster, so another worker's open transaction would hold a test's pull back.
        env = {**os.environ, "SHOPSMART_TEST_DATABASE_URL": url, PER_WORKER: "1"}
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
