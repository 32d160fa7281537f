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
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import InvalidInput
from app.domain.money import format_minor, round_half_up
from app.domain.order import Order, OrderStatus, TenderKind


class RefundState(enum.StrEnum):
    PENDING = "pending"  # the card part was asked for; the server has not confirmed it yet
    DONE = "done"  # money given back, event written
    FAILED = "failed"  # the card part was refused; nothing was given back


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


def counts(refund: Refund) -> bool:
    """Done refunds and pending ones (whose card part may still go through) use up the
    order; failed ones do not."""
    return refund.state is not RefundState.FAILED


def _card_payment_id(reference: str) -> str | None:
    try:
        return str(uuid.UUID(reference))
    except ValueError:
        return None


def refundable(order: Order, previous: Iterable[Refund]) -> Refundable:
    earlier = [r for r in previous if counts(r)]
    refunded_qty: dict[int, int] = {}
    for refund in earlier:
        for line in refund.lines:
            refunded_qty[line.line_no] = refunded_qty.get(line.line_no, 0) + line.quantity
    card_left: dict[str, int] = {}
    for tender in order.tenders:
        payment_id = _card_payment_id(tender.reference) if tender.kind is TenderKind.CARD else None
        if payment_id is not None:
            card_left[payment_id] = card_left.get(payment_id, 0) + tender.amount
    for refund in earlier:
        if refund.card_payment_id in card_left:
            card_left[refund.card_payment_id] -= refund.card_amount
    return Refundable(
        amount=order.total - sum(r.amount for r in earlier),
        lines={ln.line_no: ln.quantity - refunded_qty.get(ln.line_no, 0) for ln in order.lines},
        card_left=card_left,
    )


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
    if order.status is not OrderStatus.PAID:
        raise InvalidInput(
            f"order {order.receipt_no} is {order.status.value}; only a paid order can be refunded",
            field="order_id",
        )
    earlier = [r for r in previous if counts(r)]
    if any(r.state is RefundState.PENDING for r in earlier):
        raise InvalidInput(
            f"a card refund of order {order.receipt_no} is still waiting for the server; "
            "finish it first",
            field="order_id",
        )
    left = refundable(order, earlier)
    if left.amount <= 0:
        raise InvalidInput(f"order {order.receipt_no} is refunded in full", field="amount")
    before = {ln.line_no: ln.quantity - left.lines[ln.line_no] for ln in order.lines}
    if lines is None and amount is None:
        chosen = tuple(RefundLine(n, q) for n, q in sorted(left.lines.items()) if q > 0)
        wanted = left.amount
    else:
        chosen = _checked_lines(order, left, lines or ())
        worth = lines_value(order, before, chosen) if chosen else None
        if amount is None:
            assert worth is not None
            wanted = worth
        else:
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise InvalidInput("a refund must be more than 0", field="amount")
            if worth is not None and amount > worth:
                raise InvalidInput(
                    f"the chosen lines are worth {format_minor(worth)}; a refund for them "
                    f"cannot be {format_minor(amount)}",
                    field="amount",
                )
            wanted = amount
        if wanted <= 0:
            raise InvalidInput("a refund must be more than 0", field="amount")
        if wanted > left.amount:
            raise InvalidInput(
                f"at most {format_minor(left.amount)} is left to refund of order "
                f"{order.receipt_no}, not {format_minor(wanted)}",
                field="amount",
            )
    card_payment_id, card = _card_part(left, wanted, to_card)
    return RefundPlan(
        amount=wanted,
        card_amount=card,
        cash_amount=wanted - card,
        card_payment_id=card_payment_id if card else None,
        lines=chosen,
        refunded_before=order.total - left.amount,
        order_total=order.total,
    )


def _checked_lines(
    order: Order, left: Refundable, lines: Sequence[RefundLine]
) -> tuple[RefundLine, ...]:
    merged: dict[int, int] = {}
    for line in lines:
        if line.line_no not in left.lines:
            raise InvalidInput(
                f"order {order.receipt_no} has no line {line.line_no}", field="lines"
            )
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise InvalidInput("a quantity is a whole number", field="lines")
        if line.quantity <= 0:
            raise InvalidInput("a refunded quantity must be more than 0", field="lines")
        merged[line.line_no] = merged.get(line.line_no, 0) + line.quantity
    for line_no, quantity in merged.items():
        if quantity > left.lines[line_no]:
            raise InvalidInput(
                f"line {line_no}: only {left.lines[line_no]} of it can still be refunded",
                field="lines",
            )
    return tuple(RefundLine(n, q) for n, q in sorted(merged.items()))


def _card_part(left: Refundable, amount: int, to_card: int | None) -> tuple[str | None, int]:
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
            f"at most {format_minor(max(best_left, 0))} can go back to the card",
            field="to_card",
        )
    return best_id, to_card
