"""Clerks, roles and PINs.

PINs are stored only as a salted scrypt hash in the format the server issues and terminals
verify offline: ``scrypt$N$r$p$<salt b64url>$<hash b64url>`` (no padding).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import InvalidInput

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 16384, 8, 1, 32
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=5)


class Role(enum.StrEnum):
    CLERK = "clerk"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Clerk:
    id: str
    name: str
    role: Role
    pin_hash: str
    active: bool = True
    failed_attempts: int = 0
    locked_until: datetime | None = None

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_pin_format(pin: str) -> None:
    if not pin.isdigit() or not pin.isascii() or not 4 <= len(pin) <= 8:
        raise InvalidInput("a PIN is 4 to 8 digits", field="pin")


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    check_pin_format(pin)
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(
        pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_DKLEN
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_pin_hash(pin_hash: str) -> None:
    """Refuse a stored hash not in the form ``hash_pin`` writes and ``verify_pin`` reads."""
    parts = pin_hash.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(n.isdigit() for n in parts[1:4]):
        raise InvalidInput(
            "pin_hash is not a PIN hash this till can check (scrypt$N$r$p$salt$hash)",
            field="pin_hash",
        )


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Constant-time check of ``pin`` against a stored hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, expected = pin_hash.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            pin.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(_unb64(expected)),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, _unb64(expected))
