"""The PIN hash format the server issues and terminals verify offline: one implementation."""

from __future__ import annotations

import base64
import hashlib

import pytest

from app.domain.clerk import Role, hash_pin, pin_change_due, pin_hash_is_current, verify_pin
from app.domain.errors import InvalidInput

# Made by the server's former PIN module (server/pins.py) before it was folded into
# app.domain.clerk: clerks enrolled then must still sign in at every till.
SERVER_MADE = {
    "1234": "scrypt$16384$8$1$AAECAwQFBgcICQoLDA0ODw$WN-87vPtGO4o1fwEttloKNIwtqGZqnsfkSCWNJhrpMg",
    "98765432": "scrypt$16384$8$1$c2hvcHNtYXJ0LXNhbHQhIQ$Av8KkKUAgrApK1IZa07RcLVs0RjPOOQh574acV2nx5M",
}


@pytest.mark.parametrize(("pin", "stored"), SERVER_MADE.items())
def test_hashes_the_server_made_verify_and_are_made_again_byte_for_byte(
    pin: str, stored: str
) -> None:
    assert verify_pin(pin, stored)
    assert not verify_pin("0000", stored)
    salt = base64.urlsafe_b64decode(stored.split("$")[4] + "==")
    assert hash_pin(pin, salt=salt, cost=(16384, 8, 1)) == stored  # the cost of that time
    assert not pin_hash_is_current(stored)  # made again at the clerk's next log-in


def test_pin_hash_has_the_exact_agreed_format() -> None:
    salt = bytes(range(16))
    encoded = hash_pin("1234", salt=salt)
    scheme, n, r, p, salt_text, digest_text = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "32768", "8", "1")  # 32 MiB, ~100 ms (docs)
    assert "=" not in salt_text + digest_text
    assert base64.urlsafe_b64decode(salt_text + "==") == salt
    expected = hashlib.scrypt(b"1234", salt=salt, n=32768, r=8, p=1, dklen=32, maxmem=2**26)
    assert base64.urlsafe_b64decode(digest_text + "=") == expected
    assert pin_hash_is_current(encoded)


def test_pin_verifies_and_wrong_or_malformed_does_not() -> None:
    encoded = hash_pin("4711")
    assert verify_pin("4711", encoded)
    assert not verify_pin("4712", encoded)
    assert not verify_pin("4711", "garbage")
    assert not verify_pin("4711", "bcrypt$1$2$3$4$5")


def test_same_pin_gets_a_new_salt_each_time() -> None:
    assert hash_pin("1234") != hash_pin("1234")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "١٢٣٤"])
def test_pin_that_is_not_4_to_8_digits_is_refused(pin: str) -> None:
    with pytest.raises(InvalidInput, match="4 to 8 digits"):
        hash_pin(pin)


@pytest.mark.parametrize("pin", ["1234", "12345"])
def test_a_manager_pin_shorter_than_6_digits_is_refused_a_clerks_is_not(pin: str) -> None:
    with pytest.raises(InvalidInput, match="a manager's PIN is 6 to 8 digits"):
        hash_pin(pin, role=Role.MANAGER)
    assert verify_pin(pin, hash_pin(pin, role=Role.CLERK))
    assert verify_pin("123456", hash_pin("123456", role="manager"))


def test_a_pin_shorter_than_its_role_now_asks_is_due_for_a_change() -> None:
    assert pin_change_due(Role.MANAGER, "9999")
    assert not pin_change_due(Role.MANAGER, "246813")
    assert not pin_change_due(Role.CLERK, "1234")
