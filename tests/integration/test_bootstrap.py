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
    assert terminal.payments() is None and terminal.phone_payments() is None
    enrolled(terminal)
    assert isinstance(terminal.payments(), HttpPaymentGateway)
    assert isinstance(terminal.phone_payments(), HttpPaymentGateway)  # phone orders' links


def test_the_sync_scheduler_is_built_but_not_started(terminal: Terminal) -> None:
    scheduler = terminal.open_sync(
        TokenStore(EncryptedFileKeyring(terminal.data_dir / "t", "correct horse"))
    )
    assert isinstance(scheduler, SyncScheduler)


def test_automatic_enrollment_only_with_an_offer_and_no_server_yet(terminal: Terminal) -> None:
    from keyrings.alt.file import PlaintextKeyring

    plain = PlaintextKeyring()
    plain.file_path = str(terminal.data_dir / "plain.cfg")  # never the developer's keyring
    safe = TokenStore(EncryptedFileKeyring(terminal.data_dir / "tokens", "correct horse"))
    assert terminal.auto_enrollment("", safe) is None
    assert terminal.auto_enrollment("http://127.0.0.1:9", safe) is None  # no code
    assert callable(terminal.auto_enrollment("https://pos.example.com K7QF2", safe))
    # No secure keyring: only the embedded demo's server on this computer (its 0600 file)
    assert terminal.auto_enrollment("https://pos.example.com K7QF2", TokenStore(plain)) is None
    assert terminal.auto_enrollment("http://10.0.0.5:8765 K7QF2", TokenStore(plain)) is None
    assert callable(terminal.auto_enrollment("http://127.0.0.1:9 K7QF2", TokenStore(plain)))
    assert callable(terminal.auto_enrollment("http://localhost:9 K7QF2", TokenStore(plain)))
    enrolled(terminal)
    assert terminal.auto_enrollment("http://127.0.0.1:9 K7QF2", safe) is None


def test_the_demo_token_file_serves_only_a_loopback_server(terminal: Terminal) -> None:
    import keyring

    from sync import credentials

    previous = keyring.get_keyring()
    demo = credentials.DemoFileKeyring(terminal.data_dir / credentials.DEMO_TOKEN_FILE)
    demo.set_password(credentials.SERVICE, "0190f1c2-0000-7000-8000-000000000001", "tok")
    assert (demo.path.stat().st_mode & 0o777) == 0o600
    with terminal.uow() as uow:
        uow.settings.put(credentials.KEYRING_CHOICE, credentials.KEYRING_DEMO_FILE)
        uow.commit()
    try:
        enrolled(terminal)  # http://127.0.0.1:9
        assert terminal.prepare_keyring()
        assert isinstance(keyring.get_keyring(), credentials.DemoFileKeyring)
        keyring.set_keyring(previous)
        from sync.enrollment import SERVER_URL

        with terminal.uow() as uow:
            uow.settings.put(SERVER_URL, "https://pos.example.com")
            uow.commit()
        assert terminal.prepare_keyring()  # nothing to ask a person, and the file is not used
        assert keyring.get_keyring() is previous
        import pytest

        with pytest.raises(credentials.KeyringUnavailable, match="only for a server on this"):
            credentials.use_demo_file(terminal.data_dir, "https://pos.example.com")
    finally:
        keyring.set_keyring(previous)


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
