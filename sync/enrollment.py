"""Enrolling this till with a server, and un-enrolling it.

The server URL, terminal id and store are plain settings in SQLite; the bearer token goes to
the keyring only (``sync.credentials``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from app.domain.errors import InvalidInput
from app.domain.sync import CURSOR_SETTING, TERMINAL_ID_SETTING
from app.ports import UnitOfWork
from sync.credentials import TokenStore
from sync.http_transport import HttpSyncTransport

SERVER_URL = "sync.server_url"
TERMINAL_ID = TERMINAL_ID_SETTING  # the till keeps only its own slot allotments by it
STORE_ID = "sync.store_id"


@dataclass(frozen=True, slots=True)
class Enrollment:
    server_url: str
    terminal_id: str
    terminal_code: str
    store_code: str
    store_name: str


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): this computer itself."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> str:
    """The one rule for a server address, wherever a person gives one (the connection dialog,
    ``shopsmart enroll``, the embedded default): https://, or http:// to this computer only.

    Over plain http the terminal's bearer token, every sale and the customers' addresses
    cross the network readable and changeable by anyone on the way; only the embedded server
    of ``make run`` on loopback never leaves the computer."""
    url = url.strip().rstrip("/")
    parsed = urlparse(url)
    try:
        host = parsed.hostname
    except ValueError:
        host = None
    if parsed.scheme not in ("http", "https") or not parsed.netloc or not host:
        raise InvalidInput(
            f"{url!r} is not a server address like https://pos.example.com", field="server_url"
        )
    if parsed.scheme == "http" and not is_loopback(host):
        raise InvalidInput(
            f"{url} is not encrypted: the till sends its token and sales only over https:// "
            f"(https://{parsed.netloc}); http:// is only for a server on this computer "
            "(127.0.0.1 or localhost)",
            field="server_url",
        )
    return url


def enroll(
    uow_factory: Callable[[], UnitOfWork],
    tokens: TokenStore,
    server_url: str,
    code: str,
    terminal_code: str,
    name: str = "",
    transport: HttpSyncTransport | None = None,
) -> Enrollment:
    """Exchange a one-time code for a terminal id and token; keep the token in the keyring."""
    server_url = check_server_url(server_url)
    tokens.check()  # refuse before spending the one-time code
    client = transport or HttpSyncTransport(server_url, lambda: None)
    answer = client.enroll(code.strip(), terminal_code.strip(), name)
    tokens.save(answer.terminal_id, answer.token)
    with uow_factory() as uow:
        uow.settings.put(SERVER_URL, server_url)
        uow.settings.put(TERMINAL_ID, answer.terminal_id)
        uow.settings.put(STORE_ID, answer.store.id)
        uow.settings.put("terminal_code", answer.terminal_code)
        uow.settings.put("store_code", answer.store.code)
        uow.settings.put("store_name", answer.store.name)
        uow.settings.put("currency", answer.store.currency)
        uow.settings.put("time_zone", answer.store.time_zone)  # the reports' local days
        uow.settings.put(CURSOR_SETTING, "")
        uow.commit()
    return Enrollment(
        server_url, answer.terminal_id, answer.terminal_code, answer.store.code, answer.store.name
    )


def current_enrollment(uow_factory: Callable[[], UnitOfWork]) -> tuple[str, str]:
    """(server url, terminal id); empty strings when not enrolled."""
    with uow_factory() as uow:
        return uow.settings.get(SERVER_URL), uow.settings.get(TERMINAL_ID)


def unenroll(uow_factory: Callable[[], UnitOfWork], tokens: TokenStore) -> None:
    """Forget the server and remove the token from the keyring. Local sales stay queued."""
    _, terminal_id = current_enrollment(uow_factory)
    if terminal_id:
        tokens.delete(terminal_id)
    with uow_factory() as uow:
        uow.settings.put(SERVER_URL, "")
        uow.settings.put(TERMINAL_ID, "")
        uow.commit()
