"""Where the till keeps its device token: the OS keyring, through ``keyring``.

Service name: ``ShopSmart POS`` — the entry's user name is the terminal id. The token is never
written to SQLite. On a machine with no usable OS keyring (a bare Linux box with no Secret
Service) ``keyring`` would quietly pick a plaintext file backend when ``keyrings.alt`` is
installed; we refuse that: ``TokenStore`` raises ``KeyringUnavailable`` and the app offers an
explicit choice, an encrypted file protected by a passphrase (``EncryptedFileKeyring``), whose
passphrase the OS keyring may remember where one exists (``remember_passphrase``).

One exception, the embedded demo (`make run`) on a computer without a keyring: its token, for
a server on this computer (loopback) only, is kept in a plain file readable by this account
alone (``DemoFileKeyring``, mode 0600, in the till's data directory), so the demo connects by
itself. A till connected to any other server never uses it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "ShopSmart POS"
PLAINTEXT_BACKENDS = ("PlaintextKeyring", "fail.Keyring", "null.Keyring", "ChainerBackend")


class KeyringUnavailable(Exception):
    """No keyring that keeps secrets safely is available; a person must choose what to do."""


def backend_is_safe(backend: KeyringBackend) -> bool:
    """True for a real OS keyring, our encrypted file or the demo's loopback-only file;
    False for plaintext/fail/null."""
    if isinstance(backend, EncryptedFileKeyring | DemoFileKeyring):
        return True
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if any(marker in name for marker in PLAINTEXT_BACKENDS):
        if type(backend).__name__ == "ChainerBackend":
            children = getattr(backend, "backends", [])
            return any(backend_is_safe(child) for child in children)
        return False
    try:
        priority = float(getattr(backend, "priority", 0))
    except Exception:
        return False
    return priority >= 1


class TokenStore:
    """Save, read and delete the device token in the active keyring backend."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    def check(self) -> None:
        if not backend_is_safe(self.backend):
            raise KeyringUnavailable(
                "No secure keyring is available on this computer (found "
                f"{type(self.backend).__name__}). A manager chooses an encrypted token file "
                "with a passphrase in Till → Server connection…, or installs a Secret Service "
                "keyring."
            )

    def save(self, terminal_id: str, token: str) -> None:
        self.check()
        self.backend.set_password(SERVICE, terminal_id, token)

    def load(self, terminal_id: str) -> str | None:
        if not terminal_id:
            return None
        try:
            return self.backend.get_password(SERVICE, terminal_id)
        except keyring.errors.KeyringError:
            return None

    def delete(self, terminal_id: str) -> None:
        try:
            self.backend.delete_password(SERVICE, terminal_id)
        except keyring.errors.PasswordDeleteError:
            pass


class _FileKeyring(KeyringBackend):
    """A keyring kept in one file of the till's data directory, written whole (mode 0600,
    replaced atomically); subclasses say how the entries are read and stored."""

    priority = 0  # never picked automatically: a person (or the demo) chooses it
    path: Path

    def _read(self) -> dict[str, str]:
        raise NotImplementedError

    def _write(self, entries: dict[str, str]) -> None:
        raise NotImplementedError

    def _replace_file(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._read()
        entries[f"{service}\x00{username}"] = password
        self._write(entries)

    def delete_password(self, service: str, username: str) -> None:
        entries = self._read()
        if entries.pop(f"{service}\x00{username}", None) is None:
            raise keyring.errors.PasswordDeleteError("no such token")
        self._write(entries)


class EncryptedFileKeyring(_FileKeyring):
    """A keyring in one file, encrypted with a key derived from a passphrase (scrypt + Fernet).

    Chosen explicitly by a person when no OS keyring exists; never picked automatically
    (priority 0). The passphrase is asked for at start-up, unless the person chose to have
    the OS keyring remember it (``remember_passphrase``); ShopSmart never writes it anywhere.
    """

    def __init__(self, path: Path, passphrase: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if len(passphrase) < 8:
            raise ValueError("the passphrase must be at least 8 characters")
        self.path = path
        self._passphrase = passphrase.encode()
        # The key of the file's current salt: scrypt is slow on purpose (tens of ms), and
        # the sync engine reads the token for every request.
        self._keys: dict[bytes, Any] = {}

    def _fernet(self, salt: bytes):  # type: ignore[no-untyped-def]
        cached = self._keys.get(salt)
        if cached is not None:
            return cached
        import hashlib

        from cryptography.fernet import Fernet

        key = hashlib.scrypt(self._passphrase, salt=salt, n=2**14, r=8, p=1, dklen=32)
        fernet = Fernet(base64.urlsafe_b64encode(key))
        self._keys = {salt: fernet}  # a write draws a new salt: keep only the latest
        return fernet

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        from cryptography.fernet import InvalidToken

        raw = json.loads(self.path.read_text(encoding="utf-8"))
        salt = base64.b64decode(raw["salt"])
        try:
            clear = self._fernet(salt).decrypt(raw["data"].encode())
        except InvalidToken:
            raise keyring.errors.KeyringError("wrong passphrase for the token file") from None
        data: dict[str, str] = json.loads(clear)
        return data

    def _write(self, entries: dict[str, str]) -> None:
        salt = os.urandom(16)
        token = self._fernet(salt).encrypt(json.dumps(entries).encode()).decode()
        self._replace_file(json.dumps({"salt": base64.b64encode(salt).decode(), "data": token}))


TOKEN_FILE = "terminal-token.enc"
KEYRING_CHOICE = "sync.keyring"  # setting: "" (OS keyring), "encrypted-file" or "demo-file"


def use_encrypted_file(data_dir: Path, passphrase: str) -> EncryptedFileKeyring:
    """Make the passphrase-protected token file this process's keyring (a person chose it)."""
    backend = EncryptedFileKeyring(data_dir / TOKEN_FILE, passphrase)
    backend._read()  # a wrong passphrase fails here, not at the first sync
    _replace_keyring(backend)
    return backend


DEMO_TOKEN_FILE = "demo-terminal-token.json"
KEYRING_DEMO_FILE = "demo-file"  # KEYRING_CHOICE of the embedded demo without a keyring
KEYRING_ENCRYPTED_FILE = "encrypted-file"
PASSPHRASE_SERVICE = "ShopSmart POS token file"  # the OS keyring entry remembering it
_computer_keyring: list[KeyringBackend] = []  # the OS keyring, once one of ours replaced it


def is_loopback_url(url: str) -> bool:
    """A server on this computer (the one rule: ``sync.enrollment.is_loopback``)."""
    from sync.enrollment import is_loopback  # enrollment imports this module

    try:
        host = urlparse(url.strip()).hostname or ""
    except ValueError:
        return False
    return is_loopback(host)


class DemoFileKeyring(_FileKeyring):
    """The embedded demo's token file: plain JSON, mode 0600, in the till's data directory.

    Only for a server on this computer (``make run`` on a box without a keyring): anyone who
    can read this account's files can read the token, which opens nothing but the demo
    server on loopback. Never picked automatically (priority 0).
    """

    def __init__(self, path: Path) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.path = path

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        data: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _write(self, entries: dict[str, str]) -> None:
        self._replace_file(json.dumps(entries))


def _ours(backend: KeyringBackend) -> bool:
    return isinstance(backend, EncryptedFileKeyring | DemoFileKeyring)


def _replace_keyring(backend: KeyringBackend) -> None:
    """Make ``backend`` this process's keyring, keeping the computer's own one at hand."""
    current = keyring.get_keyring()
    if not _ours(current):
        _computer_keyring[:] = [current]
    keyring.set_keyring(backend)


def computer_keyring() -> KeyringBackend:
    """The OS keyring of this computer, even after one of our file backends replaced it."""
    current = keyring.get_keyring()
    if not _ours(current):
        return current
    if _computer_keyring:
        return _computer_keyring[0]
    from keyring.backends import fail

    return fail.Keyring()  # type: ignore[no-untyped-call]


def use_demo_file(data_dir: Path, server_url: str) -> DemoFileKeyring:
    """The embedded demo's token file as this process's keyring: for a loopback server only."""
    if not is_loopback_url(server_url):
        raise KeyringUnavailable(
            f"the demo's token file is only for a server on this computer, not {server_url}"
        )
    backend = DemoFileKeyring(data_dir / DEMO_TOKEN_FILE)
    _replace_keyring(backend)
    return backend


def use_computer_keyring() -> None:
    """Back to the OS keyring (a manager disconnected the demo till)."""
    keyring.set_keyring(computer_keyring())


def _passphrase_entry(data_dir: Path) -> str:
    return str(data_dir.resolve() / TOKEN_FILE)


def can_remember_passphrase() -> bool:
    """Only a secure OS keyring may remember the token file's passphrase."""
    return backend_is_safe(computer_keyring()) and not _ours(computer_keyring())


def remember_passphrase(data_dir: Path, passphrase: str) -> None:
    """Keep the token file's passphrase in the OS keyring, so no one types it at start-up."""
    if not can_remember_passphrase():
        raise KeyringUnavailable("this computer has no secure keyring to remember it in")
    computer_keyring().set_password(PASSPHRASE_SERVICE, _passphrase_entry(data_dir), passphrase)


def remembered_passphrase(data_dir: Path) -> str | None:
    if not can_remember_passphrase():
        return None
    try:
        return computer_keyring().get_password(PASSPHRASE_SERVICE, _passphrase_entry(data_dir))
    except keyring.errors.KeyringError:
        return None


def forget_passphrase(data_dir: Path) -> None:
    if not can_remember_passphrase():
        return
    try:
        computer_keyring().delete_password(PASSPHRASE_SERVICE, _passphrase_entry(data_dir))
    except keyring.errors.PasswordDeleteError:
        pass  # nothing was remembered
    except keyring.errors.KeyringError as error:  # still remembered: say so, do not hide it
        log.warning("the OS keyring did not forget the token file's passphrase: %s", error)
