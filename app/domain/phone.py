"""Phone numbers: normalised to E.164 (``+4930123456``) with phonenumbers, a number typed
without its country code read as one of the store's country (``StoreProfile.country``)."""

from __future__ import annotations

from app.domain.errors import InvalidInput

MAX_PHONE_TEXT = 40  # what a person may type: spaces, dashes, brackets, "ext. 12"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason  # the message without the field's name (for the wire models)


def check_country(country: str) -> str:
    """``country`` as an ISO 3166 alpha-2 code phonenumbers knows (``ie`` → ``IE``)."""
    import phonenumbers

    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"country: {country!r} is not an ISO 3166 alpha-2 country code")
    return code


def normalise_phone(text: str, country: str | None = None, *, field: str = "phone") -> str:
    """``text`` as an E.164 number, or ``InvalidPhone`` saying what is wrong with it.

    ``country`` (ISO 3166 alpha-2, the store's) is the region of a number written without
    ``+`` and country code; without it only international numbers are taken.
    """
    import phonenumbers
    from phonenumbers import NumberParseException, ValidationResult

    typed = text.strip()
    if not typed:
        raise InvalidPhone(field, "a phone number is needed")
    if len(typed) > MAX_PHONE_TEXT:
        raise InvalidPhone(field, f"{typed[:20]!r}… is longer than {MAX_PHONE_TEXT} characters")
    region = check_country(country) if country else None
    try:
        number = phonenumbers.parse(typed, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            if typed.startswith(("+", "00")):
                raise InvalidPhone(
                    field, f"{typed!r} starts with no country's calling code"
                ) from None
            raise InvalidPhone(
                field, f"{typed!r} needs its country code (+ and the code first)"
            ) from None
        if exc.error_type == NumberParseException.NOT_A_NUMBER:
            raise InvalidPhone(field, f"{typed!r} is not a phone number") from None
        if exc.error_type == NumberParseException.TOO_LONG:
            raise InvalidPhone(field, f"{typed!r} has too many digits") from None
        raise InvalidPhone(field, f"{typed!r} has too few digits") from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == ValidationResult.TOO_SHORT or len(str(number.national_number or "")) < 5:
        raise InvalidPhone(field, f"{typed!r} has too few digits")
    if possible == ValidationResult.TOO_LONG:
        raise InvalidPhone(field, f"{typed!r} has too many digits")
    if possible == ValidationResult.INVALID_COUNTRY_CODE:
        raise InvalidPhone(field, f"{typed!r} starts with no country's calling code")
    if possible == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise InvalidPhone(field, f"{typed!r} needs its area code")
    if not phonenumbers.is_valid_number(number):
        calling_code = number.country_code or 0
        home = phonenumbers.region_code_for_country_code(calling_code)
        raise InvalidPhone(field, f"{typed!r} is not a number in use in {home} (+{calling_code})")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def tidy_phone(text: str, country: str | None = None) -> str:
    """E.164 when ``text`` is a valid number, else ``text`` trimmed: for contact details that
    are kept either way (a paid order is never refused over its customer's phone)."""
    try:
        return normalise_phone(text, country)
    except InvalidPhone:
        return text.strip()
