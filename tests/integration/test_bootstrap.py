"""The composition root hands screens typed services: payments, sync and enrollment."""

from __future__ import annotations

from app.bootstrap import Terminal
from sync.credentials import EncryptedFileKeyring, TokenStore
from sync.enrollment import SERVER_URL, TERMINAL_ID
from sync.payments import HttpPaymentGateway
from sync.scheduler import SyncScheduler


def enrolled(terminal: Terminal) -> None:
    with terminal.uow() as uow:
        uow.settings.put(SERVER_URL, "http://127.0.0.1:9")
        uow.settings.put(TERMINAL_ID, "0190f1c2-0000-7000-8000-000000000001")
        uow.commit()


def test_no_payment_gateway_until_the_till_is_enrolled(terminal: Terminal) -> None:
    assert terminal.payments() is None
    enrolled(terminal)
    assert isinstance(terminal.payments(), HttpPaymentGateway)


def test_the_sync_scheduler_is_built_but_not_started(terminal: Terminal) -> None:
    scheduler = terminal.open_sync(
        TokenStore(EncryptedFileKeyring(terminal.data_dir / "t", "correct horse"))
    )
    assert isinstance(scheduler, SyncScheduler)


def test_automatic_enrollment_only_with_an_offer_a_safe_keyring_and_no_server_yet(
    terminal: Terminal,
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    plain = PlaintextKeyring()
    plain.file_path = str(terminal.data_dir / "plain.cfg")  # never the developer's keyring
    safe = TokenStore(EncryptedFileKeyring(terminal.data_dir / "tokens", "correct horse"))
    assert terminal.auto_enrollment("", safe) is None
    assert terminal.auto_enrollment("http://127.0.0.1:9", safe) is None  # no code
    assert terminal.auto_enrollment("http://127.0.0.1:9 K7QF2", TokenStore(plain)) is None
    assert callable(terminal.auto_enrollment("http://127.0.0.1:9 K7QF2", safe))
    enrolled(terminal)
    assert terminal.auto_enrollment("http://127.0.0.1:9 K7QF2", safe) is None


def test_an_encrypted_token_file_is_unlocked_only_with_its_passphrase(terminal: Terminal) -> None:
    import keyring.errors
    import pytest

    from sync.credentials import KEYRING_CHOICE, SERVICE, TOKEN_FILE

    assert not terminal.token_file_chosen()
    EncryptedFileKeyring(terminal.data_dir / TOKEN_FILE, "correct horse").set_password(
        SERVICE, "t1", "secret"
    )
    with terminal.uow() as uow:
        uow.settings.put(KEYRING_CHOICE, "encrypted-file")
        uow.commit()
    assert terminal.token_file_chosen()
    with pytest.raises(keyring.errors.KeyringError, match="wrong passphrase"):
        terminal.unlock_token_file("wrong horse battery")
