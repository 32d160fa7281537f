"""Where the till keeps its device token: the OS keyring, through ``keyring``.

Service name: ``ShopSmart POS`` — the entry's user name is the terminal id. The token is never
written to SQLite or a plain file. On a machine with no usable OS keyring (a bare Linux box
with no Secret Service) ``keyring`` would quietly pick a plaintext file backend when
``keyrings.alt`` is installed; we refuse that: ``TokenStore`` raises ``KeyringUnavailable`` and
the app offers an explicit choice, an encrypted file protected by a passphrase
(``EncryptedFileKeyring``).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

SERVICE = "ShopSmart POS"
PLAINTEXT_BACKENDS = ("PlaintextKeyring", "fail.Keyring", "null.Keyring", "ChainerBackend")


class KeyringUnavailable(Exception):
    """No keyring that keeps secrets safely is available; a person must choose what to do."""


def backend_is_safe(backend: KeyringBackend) -> bool:
    """True for a real OS keyring or our encrypted file; False for plaintext/fail/null."""
    if isinstance(backend, EncryptedFileKeyring):
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
                f"{type(self.backend).__name__}). Choose an encrypted token file with a "
                "passphrase in Settings, or install a Secret Service keyring."
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


class EncryptedFileKeyring(KeyringBackend):
    """A keyring in one file, encrypted with a key derived from a passphrase (scrypt + Fernet).

    Chosen explicitly by a person when no OS keyring exists; never picked automatically
    (priority 0), and the passphrase is asked for at start-up, never stored.
    """

    priority = 0

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"salt": base64.b64encode(salt).decode(), "data": token}))
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


TOKEN_FILE = "terminal-token.enc"
KEYRING_CHOICE = "sync.keyring"  # setting: "" (OS keyring) or "encrypted-file"


def use_encrypted_file(data_dir: Path, passphrase: str) -> EncryptedFileKeyring:
    """Make the passphrase-protected token file this process's keyring (a person chose it)."""
    backend = EncryptedFileKeyring(data_dir / TOKEN_FILE, passphrase)
    backend._read()  # a wrong passphrase fails here, not at the first sync
    keyring.set_keyring(backend)
    return backend
