"""Clerks, roles and PINs.

PINs are stored only as a salted scrypt hash in the format the server issues and terminals
verify offline: ``scrypt$N$r$p$<salt b64url>$<hash b64url>`` (no padding).

The policy (docs/security.md, "PINs on a stolen till"): every till of a store holds every
clerk's hash, so a hash must be slow to test and a manager's PIN long. Clerks' PINs are 4–8
digits, managers' 6–8; a hash costs ~100 ms of one core (N=2^15, r=8: 32 MiB). Hashes made
with older, cheaper parameters still verify, and are made again with these at the clerk's next
good log-in on the till (``pin_hash_is_current``). A manager whose PIN is shorter than a
manager's must be still logs in (a store must not be locked out by a rule change) and is told
to have it changed (``pin_change_due``).
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

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 32768, 8, 1, 32
SCRYPT_MAXMEM = 256 * 1024 * 1024  # N=2^15, r=8 needs 32 MiB: above hashlib's default limit
PIN_MAX_LENGTH = 8
PIN_MIN_LENGTH = {"clerk": 4, "manager": 6}  # by Role value
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
    # set by log_in, never stored: the PIN just typed is shorter than the role now asks
    pin_change_due: bool = False

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_pin_format(pin: str, role: Role | str | None = None) -> None:
    """4 to 8 digits; with ``role`` manager, at least 6 (a manager's PIN approves refunds and
    discounts on every till of the store, and every till holds its hash)."""
    if not pin.isdigit() or not pin.isascii() or not 4 <= len(pin) <= PIN_MAX_LENGTH:
        raise InvalidInput("a PIN is 4 to 8 digits", field="pin")
    if role is not None and Role(role) is Role.MANAGER and len(pin) < PIN_MIN_LENGTH["manager"]:
        raise InvalidInput("a manager's PIN is 6 to 8 digits", field="pin")


def pin_change_due(role: Role, pin: str) -> bool:
    """The PIN a clerk just logged in with is shorter than the policy now asks for their role
    (a 4-digit manager PIN from before the 6-digit rule): it works, and must be changed."""
    return len(pin) < PIN_MIN_LENGTH[role.value]


def hash_pin(
    pin: str,
    salt: bytes | None = None,
    role: Role | str | None = None,
    cost: tuple[int, int, int] = (SCRYPT_N, SCRYPT_R, SCRYPT_P),
) -> str:
    """A new hash of ``pin`` (``role`` checks the role's length rule). ``cost`` is (N, r, p);
    only tests ask for other than the current one, to make hashes of the past."""
    check_pin_format(pin, role)
    salt = os.urandom(16) if salt is None else salt
    n, r, p = cost
    digest = hashlib.scrypt(
        pin.encode(), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN, maxmem=SCRYPT_MAXMEM
    )
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def pin_hash_is_current(pin_hash: str) -> bool:
    """Made with today's cost: False for a hash of the cheaper parameters of before."""
    parts = pin_hash.split("$")
    return len(parts) == 6 and parts[1:4] == [str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P)]


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
            maxmem=SCRYPT_MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, _unb64(expected))
