"""Phone numbers (phonenumbers, E.164, the store's country) and e-mail addresses
(email-validator, no DNS): normalised, or refused with what is wrong."""

from __future__ import annotations

import pytest

from app.domain.contact import InvalidEmail, is_sendable_email, normalise_email
from app.domain.phone import InvalidPhone, check_country, normalise_phone, tidy_phone
from app.domain.store import StoreProfile


@pytest.mark.parametrize(
    ("typed", "country", "e164"),
    [
        ("087 123 4567", "IE", "+353871234567"),
        ("(01) 234 5678", "IE", "+35312345678"),
        ("030 1234567", "DE", "+49301234567"),
        ("+49 30 1234567", None, "+49301234567"),
        ("+49 (0)30 123-4567", "IE", "+49301234567"),
        ("00353 87 123 4567", "DE", "+353871234567"),
        ("+44 20 7946 0958", "ie", "+442079460958"),
    ],
)
def test_a_number_becomes_e164_read_in_the_stores_country(
    typed: str, country: str | None, e164: str
) -> None:
    assert normalise_phone(typed, country) == e164


def test_the_store_profile_says_which_country_a_local_number_is_in() -> None:
    store = StoreProfile()
    assert (store.country, store.locale) == ("IE", "en_IE")
    assert normalise_phone("087 123 4567", store.country) == "+353871234567"


@pytest.mark.parametrize(
    ("typed", "country", "says"),
    [
        ("", "IE", "phone: a phone number is needed"),
        ("call me", "IE", "is not a phone number"),
        ("0871234567", None, "needs its country code"),
        ("+999 1234567", None, "starts with no country's calling code"),
        ("123", "DE", "has too few digits"),
        ("+353 1 2345 678 999999", None, "has too many digits"),
        ("+353 99 999 9999", None, "is not a number in use in IE (+353)"),
        ("1" * 41, "IE", "is longer than 40 characters"),
    ],
)
def test_a_wrong_number_is_refused_saying_what_is_wrong(
    typed: str, country: str | None, says: str
) -> None:
    with pytest.raises(InvalidPhone) as refused:
        normalise_phone(typed, country, field="customer.phone")
    assert says in refused.value.message
    assert refused.value.message.startswith("customer.phone: ")
    assert refused.value.field == "customer.phone"
    assert refused.value.code == "invalid_phone"


def test_an_unknown_country_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="country: 'XX' is not an ISO 3166"):
        normalise_phone("087 123 4567", "XX")
    assert check_country(" de ") == "DE"


def test_tidy_phone_keeps_what_it_cannot_read() -> None:
    assert tidy_phone(" +49 30 1234567 ") == "+49301234567"
    assert tidy_phone(" 123 ") == "123"
    assert tidy_phone("087 123 4567", "IE") == "+353871234567"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+till@Example.COM ", "Ada.Lovelace+till@example.com"),
        ("o'brien@shop.example.ie", "o'brien@shop.example.ie"),
    ],
)
def test_an_address_is_trimmed_and_its_domain_lower_cased(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored
    assert is_sendable_email(typed)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "an e-mail address is needed"),
        ("walk-in", "must have an @-sign"),
        ("ada@example", "should have a period"),
        ("a@b", "should have a period"),
        ("Ada <ada@example.com>", "display name"),
        ('"a b"@example.com', "quoting"),
        ("a@[192.0.2.1]", "bracketed IP address"),
        ("a..b@example.com", "two periods in a row"),
        ("ada@shop.invalid", "special-use or reserved"),
        ("zoë@example.com", "internationalized characters"),
        ("a" * 250 + "@example.com", "longer than 254 characters"),
    ],
)
def test_an_address_we_cannot_send_to_is_refused_saying_why(typed: str, says: str) -> None:
    with pytest.raises(InvalidEmail) as refused:
        normalise_email(typed, field="customer_email")
    assert says in refused.value.message
    assert refused.value.field == "customer_email"
    assert refused.value.message == f"customer_email: {refused.value.reason}"
    assert not is_sendable_email(typed)


def test_the_wire_keeps_a_customers_phone_and_stores_it_in_e164_when_it_reads_as_one() -> None:
    from sync.protocol import CustomerRef

    uid = "0190f1c2-0000-7000-8000-000000000001"
    assert CustomerRef(id=uid, phone="+353 87 123 4567").phone == "+353871234567"  # type: ignore[arg-type]
    assert CustomerRef(id=uid, phone=" 123 ").phone == "123"  # type: ignore[arg-type]
    assert CustomerRef(id=uid).phone == ""  # type: ignore[arg-type]


def test_the_wire_refuses_an_address_we_cannot_send_to_saying_why() -> None:
    from pydantic import ValidationError

    from sync.protocol import EmailLinkRequest

    assert (
        EmailLinkRequest(protocol_version=1, email=" Ada@Example.COM ").email == "Ada@example.com"
    )
    with pytest.raises(ValidationError, match="should have a period"):
        EmailLinkRequest(protocol_version=1, email="ada@example")
