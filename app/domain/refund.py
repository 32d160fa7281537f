"""Refunds of a paid order: how much may go back, for which lines, to card or in cash.

The rules (docs/payments.md, "Refunds at the till"):

* never more than was paid minus what was refunded (or is being refunded) already;
* a refund is by **lines** (quantities go back to stock) or by **amount** (goodwill, no
  stock), or both: lines with a smaller amount than they are worth;
* a line's value is its net share of the order, taken *cumulatively*: refunding q of n sold
  units is worth ``round_half_up(net × (p+q), n) − round_half_up(net × p, n)`` when p were
  refunded before, so refunding a line piece by piece adds up exactly to its net. With
  prices that exclude tax the refunded nets are scaled to the order total the same way, so
  refunding everything gives back exactly the total;
* the card part goes back to a card tender that the server's payment API took (its
  ``reference`` is the payment id), never more than is left on that tender; by default as
  much as possible goes back to the card, the rest in cash.

Whether a refund fits its order at all (the order is paid, the amount and every line within
what is left) is decided once, by ``refund_refusal``: the till asks it before it refunds, the
server (server/orders) before it accepts a refund a till pushed.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.errors import InvalidInput
from app.domain.money import format_minor, round_half_up
from app.domain.order import Order, OrderStatus, TenderKind


class RefundState(enum.StrEnum):
    PENDING = "pending"  # the card part was asked for; the server has not confirmed it yet
    DONE = "done"  # money given back, event written
    FAILED = "failed"  # the card part was refused; nothing was given back


class ReturnedLine(Protocol):
    """A line of a refund as any side holds it (``RefundLine``, the wire's refund line)."""

    @property
    def line_no(self) -> int: ...

    @property
    def quantity(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RefundLine:
    """``quantity`` of order line ``line_no`` comes back (units, or grams if weighed)."""

    line_no: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Refund:
    id: str  # client UUIDv7; also the refund_id at the payment service
    order_id: str
    amount: int  # card_amount + cash_amount
    card_amount: int
    cash_amount: int
    card_payment_id: str | None
    reason: str
    lines: tuple[RefundLine, ...]
    clerk_id: str
    clerk_name: str
    created_at: datetime
    state: RefundState
    refunded_at: datetime | None = None
    failure: str = ""


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """What a refund would do; shown to the manager before it is approved."""

    amount: int
    card_amount: int
    cash_amount: int
    card_payment_id: str | None
    lines: tuple[RefundLine, ...]
    refunded_before: int
    order_total: int

    @property
    def completes_order(self) -> bool:
        return self.refunded_before + self.amount == self.order_total


@dataclass(frozen=True, slots=True)
class Refundable:
    """What is left to refund of an order."""

    amount: int
    lines: dict[int, int]  # line_no → quantity not yet refunded
    card_left: dict[str, int]  # payment id → card amount not yet refunded

    def after(
        self,
        amount: int,
        lines: Iterable[ReturnedLine],
        card_payment_id: str | None = None,
        card_amount: int = 0,
    ) -> Refundable:
        """What is left once a refund of ``amount`` (``lines`` back, ``card_amount`` to
        payment ``card_payment_id``) counts too."""
        left = dict(self.lines)
        for line in lines:
            if line.line_no in left:
                left[line.line_no] -= line.quantity
        card_left = dict(self.card_left)
        if card_payment_id in card_left:
            card_left[card_payment_id] -= card_amount
        return Refundable(self.amount - amount, left, card_left)


def nothing_refunded(
    paid: int, sold: Mapping[int, int], card_paid: Mapping[str, int] | None = None
) -> Refundable:
    """All of an order that took ``paid`` for ``sold`` (line_no → quantity) is refundable."""
    return Refundable(paid, dict(sold), dict(card_paid or {}))


def counts(refund: Refund) -> bool:
    """Done refunds and pending ones (whose card part may still go through) use up the
    order; failed ones do not."""
    return refund.state is not RefundState.FAILED


def card_payment_id(kind: str, reference: str) -> str | None:
    """The payment of the server's payment API a tender was taken through: a card tender's
    ``reference`` when it is a payment id. None for cash, pay later, and a card tender of an
    external card terminal (its reference is that terminal's), which the server cannot
    confirm and a refund pays back in cash."""
    if kind != TenderKind.CARD or not reference:
        return None
    try:
        return str(uuid.UUID(reference))
    except ValueError:
        return None


def refundable(order: Order, previous: Iterable[Refund]) -> Refundable:
    card_paid: dict[str, int] = {}
    for tender in order.tenders:
        payment_id = card_payment_id(tender.kind, tender.reference)
        if payment_id is not None:
            card_paid[payment_id] = card_paid.get(payment_id, 0) + tender.amount
    left = nothing_refunded(order.total, {ln.line_no: ln.quantity for ln in order.lines}, card_paid)
    for refund in previous:
        if counts(refund):
            left = left.after(
                refund.amount, refund.lines, refund.card_payment_id, refund.card_amount
            )
    return left


class RefundRefusalReason(enum.StrEnum):
    """Why a refund does not fit its order (the codes the server answers a push with)."""

    ORDER_VOIDED = "order_voided"
    ORDER_NOT_PAID = "order_not_paid"
    EXCEEDS_ORDER = "refund_exceeds_order"
    UNKNOWN_LINE = "unknown_line"
    EXCEEDS_LINE = "refund_exceeds_line"


@dataclass(frozen=True, slots=True)
class RefundRefusal:
    """A refund that does not fit its order. ``field`` is the path inside the refund
    (``amount``, ``lines[2].quantity``); ``left`` is what is left of the order (minor units)
    or of line ``line_no`` (units or grams). ``message`` says it in minor units, as the
    server answers a till; ``for_clerk`` says it to the till's manager."""

    reason: RefundRefusalReason
    field: str
    order: str  # the order as the caller names it: its id, or its receipt number
    status: OrderStatus
    paid: int
    asked: int
    left: int
    line_no: int = 0

    @property
    def message(self) -> str:
        match self.reason:
            case RefundRefusalReason.ORDER_VOIDED:
                return f"order {self.order} was voided"
            case RefundRefusalReason.ORDER_NOT_PAID:
                return f"order {self.order} is {self.status.value}, not paid"
            case RefundRefusalReason.EXCEEDS_ORDER:
                return f"at most {self.left} is left to refund of this order (paid {self.paid})"
            case RefundRefusalReason.UNKNOWN_LINE:
                return f"the order has no line {self.line_no}"
            case RefundRefusalReason.EXCEEDS_LINE:
                return f"line {self.line_no}: {self.left} of it is left to refund"

    def for_clerk(self, currency: str) -> str:
        """The refusal as the till's manager reads it, amounts in the order's ``currency``."""
        match self.reason:
            case RefundRefusalReason.ORDER_VOIDED | RefundRefusalReason.ORDER_NOT_PAID:
                return (
                    f"order {self.order} is {self.status.value}; only a paid order can be refunded"
                )
            case RefundRefusalReason.EXCEEDS_ORDER if self.left <= 0:
                return f"order {self.order} is refunded in full"
            case RefundRefusalReason.EXCEEDS_ORDER:
                return (
                    f"at most {format_minor(self.left, currency)} is left to refund of order "
                    f"{self.order}, not {format_minor(self.asked, currency)}"
                )
            case RefundRefusalReason.UNKNOWN_LINE:
                return f"order {self.order} has no line {self.line_no}"
            case RefundRefusalReason.EXCEEDS_LINE:
                return f"line {self.line_no}: only {self.left} of it can still be refunded"


def refund_refusal(
    order: str,
    status: OrderStatus,
    paid: int,
    left: Refundable,
    amount: int,
    lines: Sequence[ReturnedLine],
) -> RefundRefusal | None:
    """Why a refund of ``amount`` with ``lines`` back does not fit an order (named
    ``order``, in ``status``, that took ``paid``) of which ``left`` is left, or None.

    Only a paid order is refunded (a refunded one has nothing left); every line must be a
    line of the order, and all of a refund's quantities of a line (it may name a line twice)
    at most what is left of it; then the amount at most what is left of the order.
    """

    def refused(
        reason: RefundRefusalReason, where: str, remaining: int, line_no: int = 0
    ) -> RefundRefusal:
        return RefundRefusal(reason, where, order, status, paid, amount, remaining, line_no)

    if status is OrderStatus.VOIDED:
        return refused(RefundRefusalReason.ORDER_VOIDED, "order_id", left.amount)
    if status is OrderStatus.OPEN:
        return refused(RefundRefusalReason.ORDER_NOT_PAID, "order_id", left.amount)
    asked: dict[int, int] = {}
    for i, line in enumerate(lines):
        line_left = left.lines.get(line.line_no)
        if line_left is None:
            return refused(RefundRefusalReason.UNKNOWN_LINE, f"lines[{i}].line_no", 0, line.line_no)
        asked[line.line_no] = asked.get(line.line_no, 0) + line.quantity
        if asked[line.line_no] > line_left:
            return refused(
                RefundRefusalReason.EXCEEDS_LINE, f"lines[{i}].quantity", line_left, line.line_no
            )
    if amount > left.amount:
        return refused(RefundRefusalReason.EXCEEDS_ORDER, "amount", left.amount)
    return None


def _nets_refunded(order: Order, quantities: dict[int, int]) -> int:
    total = 0
    for line in order.lines:
        qty = quantities.get(line.line_no, 0)
        if qty:
            total += round_half_up(line.net * qty, line.quantity)
    return total


def lines_value(order: Order, before: dict[int, int], lines: Sequence[RefundLine]) -> int:
    """What ``lines`` are worth after ``before`` (line_no → quantity) were refunded."""
    after = dict(before)
    for line in lines:
        after[line.line_no] = after.get(line.line_no, 0) + line.quantity
    all_nets = sum(line.net for line in order.lines)
    if all_nets == 0:
        return 0
    n_before, n_after = _nets_refunded(order, before), _nets_refunded(order, after)
    return round_half_up(order.total * n_after, all_nets) - round_half_up(
        order.total * n_before, all_nets
    )


def plan_refund(
    order: Order,
    previous: Iterable[Refund],
    *,
    amount: int | None = None,
    lines: Sequence[RefundLine] | None = None,
    to_card: int | None = None,
) -> RefundPlan:
    """Check a refund against the order and what was refunded before.

    Nothing given: everything that is left (all remaining quantities back to stock).
    ``lines``: those quantities, worth their value (``amount`` may be less). ``amount``
    alone: that much, no stock. ``to_card``: the card part (default: as much as possible).
    """
    earlier = [r for r in previous if counts(r)]
    if any(r.state is RefundState.PENDING for r in earlier):
        raise InvalidInput(
            f"a card refund of order {order.receipt_no} is still waiting for the server; "
            "finish it first",
            field="order_id",
        )
    left = refundable(order, earlier)
    worth: int | None = None
    if lines is None and amount is None:
        chosen = tuple(RefundLine(n, q) for n, q in sorted(left.lines.items()) if q > 0)
        wanted = left.amount
    else:
        chosen = _checked_lines(lines or ())
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0
        ):
            raise InvalidInput("a refund must be more than 0", field="amount")
        if chosen:
            before = {ln.line_no: ln.quantity - left.lines[ln.line_no] for ln in order.lines}
            worth = lines_value(order, before, chosen)
        wanted = amount if amount is not None else (worth or 0)
    refusal = refund_refusal(
        order.receipt_no,
        order.status,
        order.total,
        left,
        wanted,
        chosen if lines is None else lines,
    )
    if refusal is not None:
        raise InvalidInput(refusal.for_clerk(order.currency), field=refusal.field)
    if left.amount <= 0:
        raise InvalidInput(f"order {order.receipt_no} is refunded in full", field="amount")
    if amount is not None and worth is not None and amount > worth:
        raise InvalidInput(
            f"the chosen lines are worth {format_minor(worth, order.currency)}; a refund for "
            f"them cannot be {format_minor(amount, order.currency)}",
            field="amount",
        )
    if wanted <= 0:
        raise InvalidInput("a refund must be more than 0", field="amount")
    card_payment_id, card = _card_part(left, wanted, to_card, order.currency)
    return RefundPlan(
        amount=wanted,
        card_amount=card,
        cash_amount=wanted - card,
        card_payment_id=card_payment_id if card else None,
        lines=chosen,
        refunded_before=order.total - left.amount,
        order_total=order.total,
    )


def _checked_lines(lines: Sequence[RefundLine]) -> tuple[RefundLine, ...]:
    """The lines as typed: whole quantities above 0, one per line (whether they fit the
    order is ``refund_refusal``'s to say)."""
    merged: dict[int, int] = {}
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise InvalidInput("a quantity is a whole number", field="lines")
        if line.quantity <= 0:
            raise InvalidInput("a refunded quantity must be more than 0", field="lines")
        merged[line.line_no] = merged.get(line.line_no, 0) + line.quantity
    return tuple(RefundLine(n, q) for n, q in sorted(merged.items()))


def _card_part(
    left: Refundable, amount: int, to_card: int | None, currency: str
) -> tuple[str | None, int]:
    best = max(left.card_left.items(), key=lambda item: item[1], default=None)
    best_id, best_left = best if best else (None, 0)
    if to_card is None:
        return best_id, min(amount, max(best_left, 0))
    if isinstance(to_card, bool) or not isinstance(to_card, int) or to_card < 0:
        raise InvalidInput("the card part is a whole amount, 0 or more", field="to_card")
    if to_card > amount:
        raise InvalidInput("the card part cannot exceed the refund", field="to_card")
    if to_card > best_left:
        raise InvalidInput(
            f"at most {format_minor(max(best_left, 0), currency)} can go back to the card",
            field="to_card",
        )
    return best_id, to_card
