"""A manager's approval: one mechanism for everything a clerk may not do alone.

An ``Approval`` is granted by a manager typing their PIN (``app.services.approvals``) for ONE
action on ONE subject, and used once, inside the transaction of the use case it approves: an
approval of a 12.50 refund of order A approves neither 13.00, nor order B, nor a void. The
subject is spelled by ``approval_subject`` alone, so the dialog that asks and the use case that
checks always spell it the same way. Using it writes the audit entry (who asked, who approved,
what, when, on which terminal) and queues ``approval.used`` for the server.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from app.domain.errors import InvalidInput, PosError

# A granted approval not used within this long is refused (a PIN typed for one customer does
# not stay valid for the next).
APPROVAL_VALID_FOR = timedelta(minutes=15)


class ApprovalAction(enum.StrEnum):
    REFUND = "refund"
    VOID_AFTER_PAYMENT = "void_after_payment"
    DISCOUNT = "discount"
    PRICE_OVERRIDE = "price_override"
    OPEN_PRICE = "open_price"
    RETURN_WITHOUT_RECEIPT = "return_without_receipt"
    NO_SALE = "no_sale"
    PAID_OUT = "paid_out"
    REPORTS = "reports"

    @property
    def text(self) -> str:
        """What is approved, in words a manager reads in the dialog and the audit."""
        return _ACTION_TEXT[self]


_ACTION_TEXT = {
    ApprovalAction.REFUND: "refund",
    ApprovalAction.VOID_AFTER_PAYMENT: "void of a paid order",
    ApprovalAction.DISCOUNT: "discount above the clerk's limit",
    ApprovalAction.PRICE_OVERRIDE: "price override",
    ApprovalAction.OPEN_PRICE: "open price above the limit",
    ApprovalAction.RETURN_WITHOUT_RECEIPT: "return without a receipt",
    ApprovalAction.NO_SALE: "no-sale drawer open",
    ApprovalAction.PAID_OUT: "cash paid out",
    ApprovalAction.REPORTS: "reports",
}

# The parts each action's subject must name, in the order they are spelled. Further parts may
# be given (they follow, sorted by name), so every caller spells one subject the same way.
SUBJECT_PARTS: dict[ApprovalAction, tuple[str, ...]] = {
    ApprovalAction.REFUND: ("order", "amount"),
    ApprovalAction.VOID_AFTER_PAYMENT: ("order",),
    ApprovalAction.DISCOUNT: ("line", "item", "discount"),
    ApprovalAction.PRICE_OVERRIDE: ("line", "item", "price"),
    ApprovalAction.OPEN_PRICE: ("department", "price"),
    ApprovalAction.RETURN_WITHOUT_RECEIPT: ("order", "amount"),
    ApprovalAction.NO_SALE: ("shift",),
    ApprovalAction.PAID_OUT: ("shift", "amount"),
    ApprovalAction.REPORTS: ("terminal",),
}

SUBJECT_MAX_LENGTH = 200


def approval_subject(action: ApprovalAction, **parts: object) -> str:
    """The one spelling of what an approval is for: ``refund:order=<id>:amount=1250``.

    Every part the action needs (``SUBJECT_PARTS``) must be given and not empty; values are
    percent-quoted, so a ``:`` or ``=`` in a department's name cannot make two subjects
    spell alike."""
    action = ApprovalAction(action)
    needed = SUBJECT_PARTS[action]
    missing = [name for name in needed if str(parts.get(name, "")) == ""]
    if missing:
        raise InvalidInput(
            f"an approval of a {action.text} must say its {', '.join(missing)}", field="subject"
        )
    names = list(needed) + sorted(set(parts) - set(needed))
    spelled = ":".join(f"{name}={quote(str(parts[name]), safe='')}" for name in names)
    subject = f"{action.value}:{spelled}"
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise InvalidInput("what the approval is for is too long to record", field="subject")
    return subject


@dataclass(frozen=True, slots=True)
class Approval:
    id: str
    action: ApprovalAction
    subject: str  # approval_subject(action, ...)
    asked_by: str  # clerk id of who asked
    approved_by: str  # clerk id of the manager who typed their PIN
    terminal_code: str
    at: datetime  # when it was granted
    used_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now - self.at > APPROVAL_VALID_FOR


class ApprovalNeeded(PosError):
    """The use case needs a manager's approval for ``action`` on ``subject``; ``reason`` says
    why, for the dialog that asks for it. Nothing was changed."""

    code = "approval_needed"

    def __init__(self, message: str, *, action: ApprovalAction, subject: str, reason: str) -> None:
        super().__init__(message, field="approval")
        self.action = action
        self.subject = subject
        self.reason = reason


class ApprovalRefused(PosError):
    """An approval that does not approve this: another action or subject, used already,
    expired, not granted on this till, or by someone who is not (or no longer) a manager."""

    code = "approval_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="approval")
