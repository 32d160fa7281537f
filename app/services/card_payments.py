"""Card payments at the till: start or reuse an attempt, follow it, settle what is left over.

Rules that keep money safe (docs/payments.md):
- an attempt is written to the till's disk *before* the server is asked, so a crash right
  after the server created it is never forgotten;
- a sale has at most one live attempt: an open or succeeded, unused attempt for the sale's
  order id is reused (same payment id → the server answers the same payment, never a second
  charge), and only a failed attempt makes room for a new one;
- a succeeded attempt pays a sale exactly once: completing the sale marks it used in the same
  transaction;
- after a restart or an outage, ``settle_card_attempts`` asks the server about every attempt
  still unsettled: a confirmed card-only payment completes its sale; a confirmed part payment
  or a failed one puts the sale back among the parked sales for the clerk, with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from app.domain.card import (
    CaptureChoice,
    CardPayment,
    CardStatus,
    LocalCardAttempt,
    PhoneCardState,
)
from app.domain.cart import Cart, DiscountNeedsApproval
from app.domain.clerk import Clerk
from app.domain.contact import normalise_email
from app.domain.errors import InvalidInput, PosError
from app.domain.money import format_minor
from app.domain.order import Order, TenderInput, TenderKind
from app.domain.store import StoreProfile
from app.ports import Clock, IdFactory, PaymentGateway, PhonePaymentGateway, UnitOfWork
from app.services.checkout import complete_sale
from app.services.discounts import check_approvals


class CardUnavailable(PosError):
    code = "card_unavailable"


def start_card_payment(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    cart: Cart,
    amount: int,
    clerk: Clerk,
    store: StoreProfile,
    clock: Clock,
    ids: IdFactory,
) -> CardPayment:
    """Ask the server for a card payment of ``amount`` towards ``cart`` (which must carry its
    order id). Reuses the sale's live attempt if there is one."""
    if not cart.order_id:
        raise InvalidInput("the sale has no order id yet", field="order_id")
    if amount <= 0:
        raise InvalidInput("a card payment must be more than 0", field="amount")
    with uow_factory() as uow:
        check_approvals(uow, cart, store)  # refused before the customer pays, not after
        attempts = uow.card_attempts.for_order(cart.order_id)
    for attempt in reversed(attempts):
        if attempt.status.is_open or attempt.status is CardStatus.SUCCEEDED:
            return check_card_payment(uow_factory, gateway, attempt.payment_id)
    attempt = LocalCardAttempt(
        ids.new_id(), cart.order_id, amount, CardStatus.PENDING, clerk.id, clock.now()
    )
    with uow_factory() as uow:
        for old in attempts:
            if old.status is CardStatus.FAILED:  # superseded by this new attempt
                uow.card_attempts.set_status(old.payment_id, CardStatus.ABANDONED)
        uow.card_attempts.add(attempt, cart)
        uow.commit()
    payment = gateway.create_payment(attempt.payment_id, cart.order_id, amount, store.currency)
    _record(uow_factory, payment)
    return payment


def check_card_payment(
    uow_factory: Callable[[], UnitOfWork], gateway: PaymentGateway, payment_id: str
) -> CardPayment:
    payment = gateway.get_payment(payment_id)
    _record(uow_factory, payment)
    return payment


def _record(uow_factory: Callable[[], UnitOfWork], payment: CardPayment) -> None:
    _set_status(uow_factory, payment.payment_id, payment.status, payment.pay_url)


def _set_status(
    uow_factory: Callable[[], UnitOfWork],
    payment_id: str,
    status: CardStatus,
    pay_url: str | None = None,
) -> None:
    with uow_factory() as uow:
        uow.card_attempts.set_status(payment_id, status, pay_url)
        uow.commit()


def cancel_card_payment(
    uow_factory: Callable[[], UnitOfWork], gateway: PaymentGateway, payment_id: str
) -> CardPayment:
    """The clerk closed the card dialog before the customer paid: the server cancels the
    payment so it can never be paid (then the sale may be paid another way).

    Answers ``failed`` — kept locally as abandoned, so neither a new attempt nor the
    background settling (which parks failed attempts' sales) acts on it while the clerk
    finishes the sale — or ``succeeded`` if the customer paid first: then it is recorded as
    such and the sale must use it (``card_tender``). ``GatewayUnavailable`` propagates: the
    payment may still be payable, so the sale must not be completed another way yet.
    """
    payment = gateway.cancel(payment_id)
    status = CardStatus.ABANDONED if payment.status is CardStatus.FAILED else payment.status
    _set_status(uow_factory, payment.payment_id, status, payment.pay_url)
    return payment


def card_tender(payment: CardPayment) -> TenderInput:
    if payment.status is not CardStatus.SUCCEEDED:
        raise CardUnavailable(
            f"the card payment is {payment.status.value}, not confirmed", field="tenders"
        )
    return TenderInput(TenderKind.CARD, payment.amount, reference=payment.payment_id)


@dataclass(frozen=True, slots=True)
class Settled:
    """What happened to one leftover attempt, in words for the clerk."""

    payment_id: str
    outcome: str
    order: Order | None = None


def settle_card_attempts(
    uow_factory: Callable[[], UnitOfWork],
    gateway: PaymentGateway,
    store: StoreProfile,
    clock: Clock,
    ids: IdFactory,
    *,
    older_than_s: float = 0.0,
) -> list[Settled]:
    """Resolve attempts left over by a crash, an outage or a closed dialog (see module doc).

    Attempts younger than ``older_than_s`` are left to the dialog that is following them.
    Gateway errors propagate: nothing is changed for an attempt whose outcome is unknown.
    """
    now = clock.now()
    with uow_factory() as uow:
        pending = uow.card_attempts.unsettled()
        clerks = {c.id: c for c in uow.clerks.all()}
    results: list[Settled] = []
    for attempt, cart in pending:
        if (now - attempt.created_at).total_seconds() < older_than_s:
            continue
        payment = check_card_payment(uow_factory, gateway, attempt.payment_id)
        money = f"{format_minor(attempt.amount, store.currency, store.locale)} {store.currency}"
        with uow_factory() as uow:
            done = uow.orders.get(attempt.order_id)
            parked = any(sale_id == attempt.order_id for sale_id, *_ in uow.parked.list())
        if done is not None:
            _set_status(uow_factory, attempt.payment_id, CardStatus.USED)
            continue
        if payment.status is CardStatus.SUCCEEDED:
            clerk = clerks.get(attempt.clerk_id)
            total = cart.totals(store.taxes).total
            order = None
            if clerk is not None and payment.amount == total:
                try:
                    order = complete_sale(
                        uow_factory(),
                        cart,
                        [card_tender(payment)],
                        clerk,
                        store,
                        clock,
                        ids,
                        parked_sale_id=attempt.order_id if parked else None,
                    )
                except DiscountNeedsApproval:
                    # Paid, but a discount of the sale lacks a (still valid) manager's
                    # approval: the clerk finishes it once a manager approved it again.
                    if not parked:
                        label = f"Card {money} PAID — a manager must approve the discount"
                        _park(uow_factory, cart, attempt, label, clock)
                        results.append(
                            Settled(
                                attempt.payment_id,
                                f"card payment of {money} was confirmed; the sale is parked "
                                "until a manager approves its discount",
                            )
                        )
                    continue
            if order is not None:
                results.append(
                    Settled(
                        attempt.payment_id,
                        f"card payment of {money} was confirmed: sale {order.receipt_no} completed",
                        order,
                    )
                )
            elif not parked:
                rest = total - payment.amount
                label = f"Card {money} PAID — " + (
                    f"take the rest ({format_minor(rest, store.currency, store.locale)})"
                    if rest
                    else "finish the sale"
                )
                _park(uow_factory, cart, attempt, label, clock)
                results.append(
                    Settled(
                        attempt.payment_id,
                        f"card payment of {money} was confirmed; the sale is parked: "
                        + label.split("— ", 1)[1],
                    )
                )
        elif payment.status is CardStatus.FAILED:
            _set_status(uow_factory, attempt.payment_id, CardStatus.ABANDONED)
            if not parked:
                _park(uow_factory, cart, attempt, f"Card {money} failed", clock)
            reason = payment.decline_reason or "declined"
            results.append(
                Settled(
                    attempt.payment_id,
                    f"card payment of {money} failed ({reason}): the sale is parked",
                )
            )
    return results


def _park(
    uow_factory: Callable[[], UnitOfWork],
    cart: Cart,
    attempt: LocalCardAttempt,
    label: str,
    clock: Clock,
) -> None:
    with uow_factory() as uow:
        uow.parked.park(attempt.order_id, cart, attempt.clerk_id, label, clock.now())
        uow.commit()


def email_payment_link(gateway: PaymentGateway, payment_id: str, email: str) -> str:
    """Phone orders: the server mails the customer the payment page link (once per address)."""
    return gateway.email_link(payment_id, normalise_email(email))


# ---------------------------------------------------------------------------- phone orders


def phone_card_state(gateway: PhonePaymentGateway, order_id: str) -> PhoneCardState:
    """The card side of a card-link phone order (the server asks Stripe about an open link)."""
    return gateway.phone_payment(order_id)


def send_phone_payment_link(
    gateway: PhonePaymentGateway, order_id: str, email: str = ""
) -> PhoneCardState:
    """Mail the order's authorisation link again (to ``email``, else the order's address);
    a declined or expired authorisation gets a new link."""
    address = normalise_email(email) if email.strip() else ""
    return gateway.send_payment_link(order_id, address)


def capture_phone_payment(
    gateway: PhonePaymentGateway, order_id: str, choice: CaptureChoice = CaptureChoice.CAPTURE
) -> PhoneCardState:
    """Charge a picked card-link phone order. ``CAPTURE`` charges the picked total when the
    authorisation covers it; when it does not, the answer is ``NEEDS_DECISION`` with the
    shortfall, and staff call this again with ``CAPTURE_AUTHORISED`` (the final sale then
    carries an order discount of the shortfall) or ``TOP_UP`` (a second link is mailed).

    The capture id is derived from the order and the choice, so asking again after a lost
    answer (a timeout: ``GatewayUnavailable``) never charges twice."""
    capture_id = str(uuid.uuid5(_CAPTURE_IDS, f"{order_id}:{choice.value}"))
    return gateway.capture(order_id, capture_id, choice)


def card_link_tenders(state: PhoneCardState) -> list[TenderInput]:
    """The card tenders of a captured card-link order's final sale (``complete_delivery``):
    one per card charge, each referring to its payment. Refused until it is captured."""
    charges = state.card_charges()
    if not charges:
        raise CardUnavailable(
            f"the card payment of this order is {state.status.value.replace('_', ' ')}, "
            "not captured: charge it after picking first"
        )
    return [TenderInput(TenderKind.CARD, amount, payment_id) for payment_id, amount in charges]


_CAPTURE_IDS = uuid.UUID("6b2f1f9e-5a63-4d53-9c4e-0f3a8d1c7e21")  # namespace of capture ids
