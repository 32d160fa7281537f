"""Refunds at the till (approved by a manager): full or partial, by lines or by amount, to the card
through the server's payment API and/or in cash.

Money safety, in the order things happen (docs/payments.md, "Refunds at the till"):

1. The refund is checked against the order and every earlier refund (``plan_refund``).
2. Cash only: the refund row, the order's new refunded total (and status), the audit entry
   and the ``order.refunded`` outbox event are written in ONE transaction. Works offline.
3. With a card part: the refund row is written *before* the server is asked, as
   ``pending``; its id is the ``refund_id`` the server refunds once, however often it is
   sent. Only when the server confirms the card refund are the order, audit and outbox
   event written — again in one transaction. An unclear answer (timeout, 5xx) leaves the
   row pending and blocks further refunds of the order until ``retry_refund`` or
   ``settle_pending_refunds`` has the server's word; a refusal marks it failed and nothing
   changes.
4. Every refund needs a manager's approval of exactly it (this order, this amount:
   ``refund_subject``), used in the transaction of step 2 (app.services.approvals). A return
   without a receipt (the customer has none; the sale was found by searching the history) is
   approved as such and audited as such (``AuditAction.RETURN_WITHOUT_RECEIPT``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from app.domain.approval import Approval, ApprovalAction, approval_subject
from app.domain.audit import AuditAction, AuditEntry
from app.domain.card import CardRefundStatus
from app.domain.clerk import Clerk
from app.domain.errors import (
    GatewayRefused,
    GatewayUnavailable,
    InvalidInput,
    NotFound,
    PosError,
)
from app.domain.events import OrderRefunded
from app.domain.money import format_minor
from app.domain.order import Order, OrderStatus
from app.domain.refund import (
    Refund,
    Refundable,
    RefundLine,
    RefundPlan,
    RefundState,
    plan_refund,
    refundable,
)
from app.domain.stock import refund_movements
from app.ports import Clock, IdFactory, PaymentGateway, UnitOfWork
from app.services.approvals import use_approval


class CardRefundNeedsConnection(PosError):
    code = "card_refund_offline"


class CardRefundFailed(PosError):
    code = "card_refund_failed"


class CardRefundPending(PosError):
    code = "card_refund_pending"


def _order(uow: UnitOfWork, order_id: str) -> Order:
    order = uow.orders.get(order_id)
    if order is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return order


def refund_left(uow: UnitOfWork, order_id: str) -> Refundable:
    """What is still refundable of an order: amount, quantity per line, card per payment."""
    with uow:
        order = _order(uow, order_id)
        return refundable(order, uow.refunds.for_order(order_id))


def quote_refund(
    uow: UnitOfWork,
    order_id: str,
    *,
    amount: int | None = None,
    lines: Sequence[RefundLine] | None = None,
    to_card: int | None = None,
) -> RefundPlan:
    """What ``refund_order`` would do with these arguments (nothing is written)."""
    with uow:
        order = _order(uow, order_id)
        return plan_refund(
            order, uow.refunds.for_order(order_id), amount=amount, lines=lines, to_card=to_card
        )


def refund_subject(
    order_id: str, amount: int, *, with_receipt: bool = True
) -> tuple[ApprovalAction, str]:
    """What a manager approves to refund ``amount`` of order ``order_id`` (a return without a
    receipt is its own action)."""
    action = ApprovalAction.REFUND if with_receipt else ApprovalAction.RETURN_WITHOUT_RECEIPT
    return action, approval_subject(action, order=order_id, amount=amount)


def refund_order(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway | None,
    order_id: str,
    reason: str,
    clerk: Clerk,
    clock: Clock,
    ids: IdFactory,
    *,
    amount: int | None = None,
    lines: Sequence[RefundLine] | None = None,
    to_card: int | None = None,
    with_receipt: bool = True,
    approval: Approval | None = None,
) -> Refund:
    """Refund (part of) a paid order, asked by ``clerk`` with a manager's ``approval`` of
    exactly this refund: this order, this amount (``ApprovalNeeded`` without one, naming the
    subject to approve; ``ApprovalRefused`` for an approval of anything else).

    Nothing but ``reason``: everything that is left, lines back to stock. ``lines``: those
    quantities (``amount`` may lower what is paid back for them). ``amount`` alone: that much,
    no stock. ``to_card``: the card part (default as much as the order's card payment can
    take back; ``0`` for all cash). ``gateway`` is None when the till is offline or not
    enrolled: then only cash refunds work. ``with_receipt=False``: the customer has no
    receipt; the approval is of a return without a receipt and the audit says so.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a refund needs a reason", field="reason")
    now = clock.now()
    with uow_factory() as uow:
        order = _order(uow, order_id)
        plan = plan_refund(
            order, uow.refunds.for_order(order_id), amount=amount, lines=lines, to_card=to_card
        )
        if plan.card_amount and gateway is None:
            raise CardRefundNeedsConnection(
                "card refunds need a connection: "
                f"{format_minor(plan.card_amount, order.currency)} would go "
                "back to the card. Refund it in cash, or try again when the till is online",
                field="to_card",
            )
        action, subject = refund_subject(order.id, plan.amount, with_receipt=with_receipt)
        why = f"refunding {format_minor(plan.amount, order.currency)} of {order.receipt_no}"
        if not with_receipt:
            why += " without a receipt"
        used = use_approval(uow, clock, approval, action, subject, why, amount=plan.amount)
        manager = uow.clerks.get(used.approved_by)
        assert manager is not None  # use_approval checked it is an active manager
        refund = Refund(
            id=ids.new_id(),
            order_id=order.id,
            amount=plan.amount,
            card_amount=plan.card_amount,
            cash_amount=plan.cash_amount,
            card_payment_id=plan.card_payment_id,
            reason=reason[:200],
            lines=plan.lines,
            clerk_id=manager.id,
            clerk_name=manager.name,
            created_at=now,
            state=RefundState.PENDING if plan.card_amount else RefundState.DONE,
            refunded_at=None if plan.card_amount else now,
        )
        uow.refunds.add(refund)
        if not with_receipt:
            uow.audit.add(
                AuditEntry(
                    now,
                    manager.id,
                    manager.name,
                    AuditAction.RETURN_WITHOUT_RECEIPT,
                    refund.reason,
                    refund.amount,
                    f"{order.receipt_no}: no receipt shown, approved by {manager.name}, "
                    f"asked by {clerk.name}",
                )
            )
        if not plan.card_amount:
            _record_done(uow, order, refund, ids)
        uow.commit()
    if not plan.card_amount:
        return refund
    assert gateway is not None
    return _ask_for_card_part(uow_factory, gateway, refund, clock, ids)


def retry_refund(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    refund_id: str,
    clock: Clock,
    ids: IdFactory,
) -> Refund:
    """Ask the server again about a pending card refund (same refund_id: never twice)."""
    with uow_factory() as uow:
        refund = uow.refunds.get(refund_id)
    if refund is None:
        raise NotFound(f"no refund {refund_id}", field="refund_id")
    if refund.state is not RefundState.PENDING:
        return refund
    return _ask_for_card_part(uow_factory, gateway, refund, clock, ids)


def settle_pending_refunds(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    clock: Clock,
    ids: IdFactory,
) -> list[Refund]:
    """After an outage: every pending card refund asked again; what is settled now is
    returned (still unclear ones stay pending, refused ones become failed)."""
    with uow_factory() as uow:
        pending = uow.refunds.pending()
    settled = []
    for refund in pending:
        try:
            settled.append(_ask_for_card_part(uow_factory, gateway, refund, clock, ids))
        except CardRefundFailed:
            with uow_factory() as uow:
                failed = uow.refunds.get(refund.id)
            if failed is not None:
                settled.append(failed)
        except (CardRefundPending, CardRefundNeedsConnection):
            continue
    return settled


def _ask_for_card_part(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    refund: Refund,
    clock: Clock,
    ids: IdFactory,
) -> Refund:
    assert refund.card_payment_id is not None
    try:
        answer = gateway.refund(
            refund.card_payment_id, refund.id, refund.card_amount, refund.reason
        )
    except GatewayUnavailable as exc:
        raise CardRefundNeedsConnection(
            f"card refunds need a connection ({exc.message}); the refund is kept and can be "
            "retried — it is never made twice",
            field="to_card",
        ) from None
    except GatewayRefused as exc:
        _mark_failed(uow_factory, refund, exc.message)
        raise CardRefundFailed(f"the card refund was refused: {exc.message}") from None
    if answer.status is CardRefundStatus.FAILED:
        why = answer.failure_reason or "refused by the payment service"
        _mark_failed(uow_factory, refund, why)
        raise CardRefundFailed(f"the card refund failed: {why}")
    if answer.status is CardRefundStatus.PENDING:
        raise CardRefundPending(
            "the payment service has not confirmed the card refund yet; retry in a moment "
            "(it is never made twice)"
        )
    now = clock.now()
    with uow_factory() as uow:
        current = uow.refunds.get(refund.id)
        if current is not None and current.state is RefundState.DONE:
            return current  # settled meanwhile by another caller
        order = _order(uow, refund.order_id)
        done = replace(refund, state=RefundState.DONE, refunded_at=now)
        uow.refunds.set_state(refund.id, RefundState.DONE, refunded_at=now)
        _record_done(uow, order, done, ids)
        uow.commit()
    return done


def _mark_failed(uow_factory: Callable[[], UnitOfWork], refund: Refund, why: str) -> None:
    with uow_factory() as uow:
        uow.refunds.set_state(refund.id, RefundState.FAILED, failure=why[:500])
        uow.commit()


def _record_done(uow: UnitOfWork, order: Order, refund: Refund, ids: IdFactory) -> None:
    """The order's refunded total (and status), the refunded quantities back in stock, the
    audit entry and the outbox event, in the caller's transaction."""
    assert refund.refunded_at is not None
    refunded_total = order.refunded_total + refund.amount
    uow.orders.set_refunded_total(order.id, refunded_total)
    if refunded_total == order.total:
        uow.orders.set_status(order.id, order.with_status(OrderStatus.REFUNDED).status)
    uow.products.move_stock(refund_movements(order, refund))
    uow.audit.add(
        AuditEntry(
            refund.refunded_at,
            refund.clerk_id,
            refund.clerk_name,
            AuditAction.ORDER_REFUNDED,
            refund.reason,
            refund.amount,
            f"{order.receipt_no}: card {format_minor(refund.card_amount, order.currency)}, "
            f"cash {format_minor(refund.cash_amount, order.currency)}",
        )
    )
    uow.outbox.add(OrderRefunded(ids.new_id(), refund))
