"""Discounts at the counter: what a clerk may give alone, and a manager's approval of more.

The rule (StoreProfile.discount_approval_bp): a line or order discount above that share of
what it is taken off needs a manager's approval (app.services.approvals). ``give_discount``
refuses such a discount (``DiscountNeedsApproval``); ``approve_discount`` uses a manager's
approval of exactly that discount (``ApprovalNeeded`` without one) and returns the cart with
the discount marked approved. The sale itself (``complete_sale``) refuses any unapproved one
and writes the audit entry of each approved discount in the sale's transaction. A dialog
only asks for the approval.

A price override (``checkout.override_price``) is the other way a line's price changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.approval import Approval, ApprovalAction, approval_subject
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
from app.services.approvals import use_approval


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


def discount_subject(cart: Cart, discount: Discount, line_id: int | None) -> str:
    """What a manager approves for this discount on line ``line_id`` (None: the sale)."""
    if line_id is None:
        line, item = "sale", "sale"
    else:
        cart_line = cart.line(line_id)
        line, item = str(line_id), cart_line.sku or cart_line.name
    return approval_subject(
        ApprovalAction.DISCOUNT,
        line=line,
        item=item,
        discount=f"{discount.kind.value}:{discount.value}",
        base=cart.discount_base(line_id),
    )


def approve_discount(
    uow: UnitOfWork,
    cart: Cart,
    discount: Discount,
    line_id: int | None,
    approval: Approval | None,
    clock: Clock,
    *,
    store: StoreProfile,
) -> Cart:
    """A discount above the clerk's limit, with a manager's approval of exactly it (this
    line, this discount): the cart with it applied and marked approved (the receipt shows who
    approved it). The approval is used, audited and queued now; without one
    ``ApprovalNeeded`` names what to approve. Within the limit it is just given."""
    subject = discount_subject(cart, discount, line_id)  # an unknown line is refused here
    request = check_discount(cart, discount, line_id, store)
    if not request.needs_manager:
        return give_discount(cart, discount, line_id, store)
    base = cart.discount_base(line_id)
    with uow:
        used = use_approval(
            uow,
            clock,
            approval,
            ApprovalAction.DISCOUNT,
            subject,
            request.explanation,
            amount=discount.amount_off(base),
        )
        manager = uow.clerks.get(used.approved_by)
        assert manager is not None  # use_approval checked it is an active manager
        uow.commit()
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


def _what(discount: Discount, where: str, currency: str) -> str:
    if discount.kind is DiscountKind.PERCENT:
        return f"{percent_text(discount.value)} off {where}"
    return f"{format_minor(discount.value, currency)} off {where}"


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
                f"{order.receipt_no}: {_what(discount, where, order.currency)}, "
                f"asked by {asked_by.name}",
            )
        )
