"""deploy/nginx.conf in front of gunicorn (2 sync workers, PostgreSQL): nginx accepts the
file, and two slow clients (slow headers; a slow body to the webhook) no longer stop health
checks from being answered — as they do when they reach gunicorn directly."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests

from server.config import Config, TestConfig
from server.db import upgrade_database
from tests.e2e.harness import ROOT, ServerProcess, free_port

CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed (scripts/ensure_test_deps.sh installs nginx-light with apt)",
)


def test_the_shipped_limits_match_the_servers_own() -> None:
    text = CONF.read_text()
    size = re.search(r"client_max_body_size (\d+)m;", text)
    assert (
        size and int(size.group(1)) * 1024 * 1024 == Config.model_fields["max_body_bytes"].default
    )
    assert "proxy_request_buffering on;" in text and "proxy_buffering on;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # replaced, not appended
    assert "server 127.0.0.1:8765;" in text  # gunicorn on loopback (gunicorn.conf.py's default)


def local_conf(tmp: Path, upstream: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx.conf with only its machine-specific lines changed: ports, certificate,
    pid/log/temp paths under ``tmp``. Each change must apply exactly once, so a test of a
    drifted file fails instead of testing something else."""
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {tmp / kind};\n" for kind in ("client_body", "proxy", "fastcgi")
    )
    changes = [
        ("user www-data;", user),
        ("pid /run/shopsmart-nginx.pid;", f"pid {tmp / 'nginx.pid'};"),
        ("/var/log/nginx/", f"{tmp}/"),
        ("http {\n", "http {\n" + temp),
        ("server 127.0.0.1:8765;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("listen [::]:443 ssl;", ""),
        ("/etc/ssl/shopsmart/fullchain.pem", str(tmp / "cert.pem")),
        ("/etc/ssl/shopsmart/privkey.pem", str(tmp / "key.pem")),
    ]
    text = CONF.read_text()
    for old, new in changes:
        assert text.count(old) == (2 if old == "/var/log/nginx/" else 1), old
        text = text.replace(old, new)
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


def test_nginx_accepts_the_shipped_file(tmp_path: Path) -> None:
    conf = local_conf(tmp_path, free_port(), free_port(), free_port())
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(conf)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr


@pytest.fixture
def gunicorn(pg_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """gunicorn with 2 sync workers as deployed (gunicorn.conf.py), trusting one proxy."""
    upgrade_database(TestConfig(database_url=pg_url).sqlalchemy_url)
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "SHOPSMART_DATA_DIR": str(tmp_path / "srv"),
        "SHOPSMART_LOG_LEVEL": "WARNING",
        "SHOPSMART_TRUSTED_PROXIES": "1",
        # webhooks configured, so the webhook reads the body it is promised (the server
        # never calls Stripe in this test)
        "STRIPE_SECRET_KEY": "sk_test_slow_clients",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_slow_clients",
        "STRIPE_WEBHOOK_SECRET": "whsec_slow_clients",
        "SHOPSMART_PUBLIC_URL": "https://pos.example.com",
    }
    server = ServerProcess(env, tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nginx(gunicorn: ServerProcess, tmp_path: Path) -> Iterator[str]:
    """deploy/nginx.conf in front of ``gunicorn``: its https URL."""
    https_port = free_port()
    conf = local_conf(tmp_path, gunicorn.port, free_port(), https_port)
    process = subprocess.Popen(
        [NGINX, "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"https://127.0.0.1:{https_port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start listening"
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


@contextmanager
def slow_clients(port: int, tls: bool) -> Iterator[None]:
    """Two clients that never finish: one stops in the middle of its headers, the other
    promises the webhook a body and sends ten bytes of it."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    requests_sent = [
        b"GET /api/v1/health HTTP/1.1\r\nHost: pos\r\nX-Slow: ",
        b"POST /stripe/webhook HTTP/1.1\r\nHost: pos\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100000\r\n\r\n{"id": "ev',
    ]
    with ExitStack() as stack:
        for data in requests_sent:
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            if tls:
                sock = stack.enter_context(context.wrap_socket(sock, server_hostname="127.0.0.1"))
            sock.sendall(data)
        time.sleep(0.3)  # let the server side pick both connections up (no event to wait on)
        yield


def answered(url: str, verify: str | bool, tries: int = 6, timeout: float = 2.0) -> int:
    count = 0
    for _ in range(tries):
        try:
            count += requests.get(f"{url}/api/v1/health", timeout=timeout, verify=verify).ok
        except requests.RequestException:
            pass
    return count


def test_two_slow_clients_stop_gunicorn_alone_but_not_behind_nginx(
    gunicorn: ServerProcess, nginx: str, tmp_path: Path
) -> None:
    cert = str(tmp_path / "cert.pem")
    with slow_clients(gunicorn.port, tls=False):  # what the buffering proxy is for
        assert answered(gunicorn.url, True, tries=2, timeout=1.5) == 0
    assert answered(gunicorn.url, True, tries=1) == 1  # the workers are free again
    with slow_clients(int(nginx.rsplit(":", 1)[1]), tls=True):
        assert answered(nginx, cert) == 6
        # a body over the server's limit is refused by nginx before gunicorn reads it
        big = requests.post(
            f"{nginx}/api/v1/sync/push", data=b"x" * (8 * 1024 * 1024 + 1), verify=cert, timeout=10
        )
        assert big.status_code == 413
