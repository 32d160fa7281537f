"""The device token lives in a keyring, never in a plain file, and never silently."""

from __future__ import annotations

import keyring.errors
import pytest
from keyrings.alt.file import PlaintextKeyring

from sync.credentials import SERVICE, EncryptedFileKeyring, KeyringUnavailable, TokenStore


def test_plaintext_fallback_is_refused_with_a_clear_choice(tmp_path):
    plain = PlaintextKeyring()
    plain.file_path = str(tmp_path / "plain.cfg")  # never the developer's real keyring
    store = TokenStore(plain)
    with pytest.raises(KeyringUnavailable, match="encrypted token file with a passphrase"):
        store.save("terminal-1", "secret-token")
    assert not (tmp_path / "plain.cfg").exists()


def test_encrypted_file_keyring_round_trips_and_hides_the_token(tmp_path):
    path = tmp_path / "tokens.json"
    store = TokenStore(EncryptedFileKeyring(path, "correct horse battery"))
    store.save("terminal-1", "tok_" + "x" * 43)
    assert "tok_" not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = TokenStore(EncryptedFileKeyring(path, "correct horse battery"))
    assert again.load("terminal-1") == "tok_" + "x" * 43
    again.delete("terminal-1")
    assert again.load("terminal-1") is None


def test_wrong_passphrase_reads_nothing(tmp_path):
    path = tmp_path / "tokens.json"
    EncryptedFileKeyring(path, "correct horse battery").set_password(SERVICE, "t", "secret")
    wrong = EncryptedFileKeyring(path, "not the passphrase")
    with pytest.raises(keyring.errors.KeyringError, match="wrong passphrase"):
        wrong.get_password(SERVICE, "t")
    assert TokenStore(wrong).load("t") is None


def test_the_slow_key_derivation_runs_once_per_file_version(tmp_path, monkeypatch):
    """The sync engine reads the token for every request: scrypt (tens of ms, on purpose)
    must not run each time — only when the file was written with a new salt."""
    import hashlib

    derivations = []
    real = hashlib.scrypt

    def counted(*args, **kwargs):
        derivations.append(kwargs.get("salt"))
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    path = tmp_path / "tokens.json"
    store = TokenStore(EncryptedFileKeyring(path, "correct horse battery"))
    store.save("terminal-1", "first")
    assert [store.load("terminal-1") for _ in range(20)] == ["first"] * 20
    assert len(derivations) == 1
    store.save("terminal-1", "second")  # a new salt: derived once more, then cached again
    assert [store.load("terminal-1") for _ in range(20)] == ["second"] * 20
    assert len(derivations) == 2
    other = TokenStore(EncryptedFileKeyring(path, "correct horse battery"))
    assert other.load("terminal-1") == "second"  # another reader derives on its own


def test_short_passphrase_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 8"):
        EncryptedFileKeyring(tmp_path / "t.json", "short")
