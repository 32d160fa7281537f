"""Discounts at the counter: what a clerk may give alone, and a manager's approval of more.

The rule (StoreProfile.discount_approval_bp): a line or order discount above that share of
what it is taken off needs a manager's PIN. ``give_discount`` refuses such a discount
(``DiscountNeedsApproval``); ``approve_discount`` checks the PIN (wrong PINs count towards
the manager's lockout) and returns the cart with the discount marked approved. The sale
itself (``complete_sale``) refuses any unapproved one and writes the audit entry of each
approved discount in the sale's transaction. A dialog only collects the PIN.

The till has no price overrides (a line's price is the catalog's); a discount is the only way
to lower it, so this is the one approval rule for prices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.audit import AuditAction, AuditEntry
from app.domain.cart import (
    Cart,
    Discount,
    DiscountKind,
    DiscountNeedsApproval,
    needs_approval,
    percent_text,
)
from app.domain.clerk import Clerk
from app.domain.money import format_minor
from app.domain.order import Order
from app.domain.store import StoreProfile
from app.ports import Clock, UnitOfWork
from app.services.clerks import approve_as_manager


@dataclass(frozen=True, slots=True)
class DiscountRequest:
    """Whether a discount may be given at once, and if not, why (for the PIN dialog)."""

    needs_manager: bool
    explanation: str = ""


def _explain(discount: Discount, base: int, threshold_bp: int) -> str:
    return (
        f"A discount of {percent_text(discount.percent_of(base))} is above the "
        f"{percent_text(threshold_bp)} a clerk may give."
    )


def check_discount(
    cart: Cart, discount: Discount, line_id: int | None, store: StoreProfile
) -> DiscountRequest:
    """Would this discount need a manager (nothing is changed)?"""
    base = cart.discount_base(line_id)
    threshold = store.discount_approval_bp
    if needs_approval(discount, base, threshold):
        return DiscountRequest(True, _explain(discount, base, threshold))
    return DiscountRequest(False)


def give_discount(cart: Cart, discount: Discount, line_id: int | None, store: StoreProfile) -> Cart:
    """A clerk's discount on line ``line_id`` (None: the whole sale), within the threshold."""
    unapproved = replace(discount, approver_id="", approver_name="")
    request = check_discount(cart, unapproved, line_id, store)
    if request.needs_manager:
        raise DiscountNeedsApproval(
            request.explanation + " A manager must approve it with their PIN.", field="discount"
        )
    return cart.with_discount(unapproved, line_id)


def approve_discount(
    uow: UnitOfWork, cart: Cart, discount: Discount, line_id: int | None, pin: str, clock: Clock
) -> Cart:
    """A manager approves a discount with their PIN: the cart with it applied and marked
    approved (the receipt shows who approved it). A wrong PIN raises and changes nothing."""
    cart.discount_base(line_id)  # an unknown line is refused before the PIN is checked
    manager = approve_as_manager(uow, pin, clock)
    reason = discount.reason or "discount"
    approved = replace(
        discount,
        reason=f"{reason}, approved by {manager.name}",
        approver_id=manager.id,
        approver_name=manager.name,
    )
    return cart.with_discount(approved, line_id)


def check_approvals(uow: UnitOfWork, cart: Cart, store: StoreProfile) -> None:
    """Refuse a sale with a discount above the threshold that no manager approved, or
    approved by someone who is not (or no longer) an active manager of this till."""
    discounts = cart.discounts()
    if not discounts:
        return  # most sales: nothing to check
    for line_id, discount in cart.unapproved_discounts(store.discount_approval_bp):
        base = cart.discount_base(line_id)
        where = "the whole sale" if line_id is None else cart.line(line_id).name
        raise DiscountNeedsApproval(
            f"{_explain(discount, base, store.discount_approval_bp)} The discount on {where} "
            "needs a manager's approval",
            field="discount",
        )
    approvers = {d.approver_id for _line, d in discounts if d.approver_id}
    for approver_id in approvers:
        approver = uow.clerks.get(approver_id)
        if approver is None or not approver.active or not approver.is_manager:
            name = approver.name if approver else "an unknown clerk"
            raise DiscountNeedsApproval(
                f"{name} may not approve discounts: ask a manager to approve it again",
                field="discount",
            )


def _what(discount: Discount, where: str) -> str:
    if discount.kind is DiscountKind.PERCENT:
        return f"{percent_text(discount.value)} off {where}"
    return f"{format_minor(discount.value)} off {where}"


def audit_approved_discounts(uow: UnitOfWork, cart: Cart, order: Order, asked_by: Clerk) -> None:
    """One DISCOUNT_APPROVED entry per approved discount of the sale: the approving manager,
    who asked, what, and the amount it took off (in the caller's transaction)."""
    approved = [(line_id, d) for line_id, d in cart.discounts() if d.approver_id]
    if not approved:
        return
    number_of = {line.line_id: n for n, line in enumerate(cart.lines, start=1)}
    taken_off = {ln.line_no: ln.line_discount for ln in order.lines}
    order_share = sum(ln.order_discount_share for ln in order.lines)
    for line_id, discount in approved:
        if line_id is None:
            where, amount = "the whole sale", order_share
        else:
            where, amount = cart.line(line_id).name, taken_off.get(number_of[line_id], 0)
        uow.audit.add(
            AuditEntry(
                order.paid_at or order.created_at,
                discount.approver_id,
                discount.approver_name,
                AuditAction.DISCOUNT_APPROVED,
                discount.reason,
                amount,
                f"{order.receipt_no}: {_what(discount, where)}, asked by {asked_by.name}",
            )
        )
