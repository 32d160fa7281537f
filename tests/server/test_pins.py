"""The PIN hash format terminals verify offline."""

from __future__ import annotations

import base64
import hashlib

import pytest

from server.pins import hash_pin, verify_pin


def test_pin_hash_has_the_exact_agreed_format() -> None:
    salt = bytes(range(16))
    encoded = hash_pin("1234", salt=salt)
    scheme, n, r, p, salt_text, digest_text = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert "=" not in salt_text + digest_text
    assert base64.urlsafe_b64decode(salt_text + "==") == salt
    expected = hashlib.scrypt(b"1234", salt=salt, n=16384, r=8, p=1, dklen=32)
    assert base64.urlsafe_b64decode(digest_text + "=") == expected


def test_pin_verifies_and_wrong_pin_does_not() -> None:
    encoded = hash_pin("4711")
    assert verify_pin("4711", encoded)
    assert not verify_pin("4712", encoded)
    assert not verify_pin("4711", "garbage")


def test_same_pin_gets_a_new_salt_each_time() -> None:
    assert hash_pin("1234") != hash_pin("1234")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "١٢٣٤"])
def test_pin_that_is_not_4_to_8_digits_is_refused(pin: str) -> None:
    with pytest.raises(ValueError, match="4 to 8 digits"):
        hash_pin(pin)
