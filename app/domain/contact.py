"""E-mail addresses the shop sends to: one check, email-validator's, with no DNS look-up.

Phone numbers are in app/domain/phone.py.
"""

from __future__ import annotations

from app.domain.errors import InvalidInput

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path


class InvalidEmail(InvalidInput):
    code = "invalid_email"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason  # the message without the field's name (for the wire models)


def normalise_email(address: str, *, field: str = "email") -> str:
    """``address`` as the shop stores and sends to it (trimmed, the domain in lower case and
    IDNA-checked), or ``InvalidEmail`` saying what is wrong with it.

    A plain ``local@domain.tld`` only: no display name (``Ada <ada@…>``), no quoted local
    part, no IP literal, no special-use domain (``.invalid``, ``.test``, ``localhost``), ASCII
    local parts (what SES delivers). Nothing is looked up on the network.
    """
    from email_validator import EmailNotValidError, validate_email

    text = address.strip()
    if not text:
        raise InvalidEmail(field, "an e-mail address is needed")
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(field, f"{text[:40]!r}… is longer than {MAX_EMAIL_LENGTH} characters")
    try:
        checked = validate_email(
            text,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        raise InvalidEmail(
            field,
            f"{text!r} is not an e-mail address we can send to ({reason[:1].lower()}{reason[1:]})",
        ) from None
    return str(checked.normalized)


def is_sendable_email(address: str) -> bool:
    """Whether ``normalise_email`` takes ``address`` (for data that is kept either way, like
    the contact details on a paid order: only whether a receipt can be mailed depends on it)."""
    try:
        normalise_email(address)
    except InvalidEmail:
        return False
    return True
