"""Card-link phone orders: authorise the estimate, capture what was picked.

* When a ``card_link`` phone order reaches the server with an e-mail address
  (``open_authorisation``, called in the push's transaction), a manual-capture payment is
  written for ``authorisation_amount(estimated_total, store headroom)`` and its pay link is
  queued in the mail outbox; the PaymentIntent (``capture_method="manual"``) is created when
  the customer opens the page, so the push never waits for Stripe.
* After picking, ``capture_phone_order`` captures the picked total when the authorisation
  covers it. When it does not, the order shows ``needs_decision`` with the shortfall and staff
  choose ``capture_authorised`` (capture it all; the sale carries an order discount of the
  shortfall) or ``top_up`` (capture it all and mail a second link for the difference,
  captured at once). Idempotent by ``capture_id``.
* A cancelled order's authorisation is released (PaymentIntent cancelled) and whatever was
  captured is refunded (``settle_cancelled``, after the cancelling transaction committed).

Every later word from Stripe (webhook, checks) reaches the order through
``phone_state.phone_payment_changed``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable
from datetime import timedelta

from flask import has_app_context
from sqlalchemy import event, func, select, tuple_
from sqlalchemy.orm import Session

from app.domain.delivery import authorisation_amount, capture_plan
from app.domain.money import format_money
from server.errors import ApiError, InvalidBody
from server.mail.final_receipt import queue_final_receipt, queue_phone_order_receipt
from server.mail.notifications import queue_mail
from server.models import (
    Payment,
    PaymentRefund,
    PhoneOrder,
    PhoneOrderPayment,
    PhoneOrderPickedLine,
    Store,
    utcnow,
)
from server.payments.phone_state import (
    PHONE_AUTH,
    PHONE_TOP_UP,
    PhonePaymentStatus,
    announce,
)
from server.payments.service import (
    OPEN,
    GatewayUnavailableError,
    PaymentConflict,
    PaymentStatus,
    RefundStatus,
    _apply_intent,
    _ensure_refund,
    _mark_cancelled,
    gateway_of,
    pay_url,
    refresh_payment,
)
from server.payments.stripe_gateway import GatewayError, IntentState, StripeGateway
from server.services import Services, services
from server.terminals.auth import Caller, get_owned
from sync.protocol import CaptureRequest, PhonePaymentData

log = logging.getLogger("shopsmart.server.payments")

CARD_LINK = "card_link"
RELEASED_REASON = "the phone order was cancelled"


class NotCardLink(ApiError):
    status, code = 409, "not_card_link"


# ---------------------------------------------------------------------------- opening


def open_authorisation(
    session: Session,
    order: PhoneOrder,
    *,
    public_url: str | None = None,
    ttl_minutes: int | None = None,
    email: str | None = None,
) -> PhoneOrderPayment | None:
    """The card side of a card-link phone order that has just reached the server (in the
    caller's transaction): an authorisation payment and its link in the mail outbox. None
    for an order paid at the door, without an address to send the link to, or on a server
    without card payments (the till's staff see ``none`` and take payment at the door).
    ``public_url`` and ``ttl_minutes`` default to the request's server configuration."""
    if order.payment_method != CARD_LINK or order.estimated_total <= 0:
        return None
    if public_url is None or ttl_minutes is None:
        if not has_app_context():  # no server configuration to take the link from
            return None
        config = services().config
        if not config.payments_enabled:
            return None
        public_url = config.public_url if public_url is None else public_url
        ttl_minutes = config.pay_link_ttl_minutes if ttl_minutes is None else ttl_minutes
    to = email or order.customer_email
    card = session.get(
        PhoneOrderPayment, {"store_id": order.store_id, "order_id": order.id}, with_for_update=True
    )
    if card is not None:
        return card
    if not to:
        return None
    store = session.get_one(Store, order.store_id)
    amount = authorisation_amount(order.estimated_total, store.authorisation_headroom_bp)
    payment = _new_payment(
        session, order, purpose=PHONE_AUTH, amount=amount, email=to, ttl_minutes=ttl_minutes
    )
    now = utcnow()
    card = PhoneOrderPayment(
        store_id=order.store_id,
        order_id=order.id,
        order_no=order.order_no,
        customer_email=to,
        currency=order.currency,
        estimated_total=order.estimated_total,
        authorised_amount=amount,
        authorisation_id=payment.id,
        status=PhonePaymentStatus.LINK_SENT,
        shortfall=0,
        captured_amount=0,
        cancelled=False,
        created_at=now,
        updated_at=now,
    )
    session.add(card)
    session.flush()
    _queue_link(session, card, payment, to, public_url)
    announce(session, card)
    return card


def _new_payment(
    session: Session,
    order: PhoneOrder,
    *,
    purpose: str,
    amount: int,
    email: str,
    ttl_minutes: int,
) -> Payment:
    attempt = 1 + int(
        session.scalar(
            select(func.coalesce(func.max(Payment.attempt), 0)).where(
                Payment.store_id == order.store_id, Payment.order_id == order.id
            )
        )
        or 0
    )
    now = utcnow()
    payment_id = uuid.uuid4()
    payment = Payment(
        id=payment_id,
        store_id=order.store_id,
        terminal_id=order.terminal_id,
        order_id=order.id,
        attempt=attempt,
        request_hash=hashlib.sha256(
            f"{purpose}|{order.store_id}|{payment_id}".encode()
        ).hexdigest(),
        purpose=purpose,
        capture_method="manual" if purpose == PHONE_AUTH else "automatic",
        amount=amount,
        amount_capturable=0,
        currency=order.currency,
        customer_email=email,
        order_summary={"receipt_no": order.order_no},
        status=PaymentStatus.PENDING,
        gateway_tries=0,
        amount_received=0,
        amount_refunded=0,
        pay_token=secrets.token_urlsafe(32),
        pay_token_expires_at=now + timedelta(minutes=ttl_minutes),
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def _queue_link(
    session: Session, card: PhoneOrderPayment, payment: Payment, to: str, public_url: str
) -> int | None:
    store = session.get_one(Store, card.store_id)
    top_up = payment.purpose == PHONE_TOP_UP
    amount = format_money(payment.amount, payment.currency)
    return queue_mail(
        session,
        store_id=card.store_id,
        kind="payment_link",
        dedupe_key=f"payment_link:{card.store_id}:{payment.id}:{to.lower()}",
        to=to,
        subject=(
            f"Please pay the remaining {amount} of order {card.order_no}"
            if top_up
            else f"Please authorise your card for order {card.order_no} at {store.name}"
        ),
        template="phone_card_link",
        context={
            "store_name": store.name,
            "order_no": card.order_no,
            "amount": amount,
            "estimated": format_money(card.estimated_total, card.currency),
            "top_up": top_up,
            "pay_url": pay_url(public_url, payment),
            "expires": f"{payment.pay_token_expires_at:%d %b %Y %H:%M} UTC",
        },
    )


# ---------------------------------------------------------------------------- reading


def _card_of(
    session: Session, who: Caller, order_id: str, *, lock: bool = False
) -> tuple[PhoneOrder, PhoneOrderPayment]:
    order = get_owned(session, who, PhoneOrder, order_id)
    card = session.get(
        PhoneOrderPayment, {"store_id": order.store_id, "order_id": order.id}, with_for_update=lock
    )
    if card is None:
        raise NotCardLink(
            "this phone order has no card payment link"
            + ("" if order.payment_method == CARD_LINK else " (it is paid at the door)"),
        )
    return order, card


def phone_payment_data(
    session: Session, card: PhoneOrderPayment, base_url: str
) -> PhonePaymentData:
    """The card side of a phone order as the tills see it (also part of its pull record)."""
    auth = session.get_one(Payment, {"store_id": card.store_id, "id": card.authorisation_id})
    top_up = (
        session.get(Payment, {"store_id": card.store_id, "id": card.top_up_id})
        if card.top_up_id
        else None
    )
    link: Payment | None = None
    if card.status == PhonePaymentStatus.LINK_SENT:
        link = auth
    elif card.status == PhonePaymentStatus.TOP_UP_SENT:
        link = top_up
    open_link = link is not None and link.status in OPEN
    message = None
    if card.status == PhonePaymentStatus.FAILED:
        message = auth.decline_reason or "the card was not authorised; send a new link"
    elif card.cancelled and card.status not in _SETTLED:
        message = (
            "the order is cancelled: the card's hold is released (or a capture refunded) as "
            "soon as Stripe answers; the server keeps trying"
        )
    elif card.status == PhonePaymentStatus.NEEDS_DECISION:
        message = (
            f"the picked total is {format_money(card.shortfall, card.currency)} more than the "
            "card authorised: capture what was authorised, or send a top-up link"
        )
    return PhonePaymentData(
        order_id=str(card.order_id),
        payment_status=card.status,  # type: ignore[arg-type]
        currency=card.currency,
        estimated_total=card.estimated_total,
        authorised_amount=card.authorised_amount,
        actual_total=card.actual_total,
        shortfall=card.shortfall,
        captured_amount=card.captured_amount,
        decision=card.decision,  # type: ignore[arg-type]
        authorisation_payment_id=str(card.authorisation_id),
        top_up_payment_id=str(card.top_up_id) if card.top_up_id else None,
        top_up_amount=top_up.amount if top_up is not None else 0,
        pay_url=pay_url(base_url, link) if open_link and link is not None else None,
        message=message,
        updated_at=card.updated_at,
    )


def phone_payment_fields(
    session: Session, store_id: uuid.UUID, order_id: uuid.UUID, base_url: str
) -> PhonePaymentData | None:
    """For the phone order's pull record: its card side, or None (paid at the door)."""
    card = session.get(PhoneOrderPayment, {"store_id": store_id, "order_id": order_id})
    return None if card is None else phone_payment_data(session, card, base_url)


def pay_urls(
    session: Session, cards: Iterable[PhoneOrderPayment]
) -> dict[tuple[uuid.UUID, uuid.UUID], str]:
    """The open link of each card (authorisation or top-up) by (store, order), for the
    phone orders' pull records; none without a server configuration to build it from."""
    wanted: dict[tuple[uuid.UUID, uuid.UUID], tuple[uuid.UUID, uuid.UUID]] = {}
    for card in cards:
        if card.status == PhonePaymentStatus.LINK_SENT:
            wanted[(card.store_id, card.authorisation_id)] = (card.store_id, card.order_id)
        elif card.status == PhonePaymentStatus.TOP_UP_SENT and card.top_up_id:
            wanted[(card.store_id, card.top_up_id)] = (card.store_id, card.order_id)
    if not wanted or not has_app_context():
        return {}
    base_url = services().config.public_url
    found = {}
    for payment in session.scalars(
        select(Payment).where(
            tuple_(Payment.store_id, Payment.id).in_(list(wanted)),
            Payment.status.in_(OPEN),
        )
    ):
        found[wanted[(payment.store_id, payment.id)]] = pay_url(base_url, payment)
    return found


def get_phone_payment(svc: Services, who: Caller, order_id: str, base_url: str) -> PhonePaymentData:
    """The card side of a phone order, after asking Stripe about an open link."""
    with svc.sessions() as session:
        order, card = _card_of(session, who, order_id)
        open_ids = [card.authorisation_id] + ([card.top_up_id] if card.top_up_id else [])
        cancelled = order.state == "cancelled" and card.status not in _SETTLED
    if cancelled:
        try_settle_cancelled(svc, who.store_id, order.id)  # away: say what is known
    elif svc.config.payments_enabled:
        for payment_id in open_ids:
            refresh_payment(svc, who.store_id, payment_id)
    with svc.sessions() as session:
        _, card = _card_of(session, who, order_id)
        return phone_payment_data(session, card, base_url)


# ---------------------------------------------------------------------------- the link


def send_payment_link(
    svc: Services, who: Caller, order_id: str, email: str | None, base_url: str
) -> PhonePaymentData:
    """Create the authorisation link of a card-link phone order, or send it again: to
    ``email`` if given, else to the order's address. A failed (declined, expired)
    authorisation gets a new payment; a pending top-up's link is sent again."""
    gateway_of(svc)
    ttl = svc.config.pay_link_ttl_minutes
    with svc.sessions() as session, session.begin():
        order = get_owned(session, who, PhoneOrder, order_id)
        if order.payment_method != CARD_LINK:
            raise NotCardLink("this phone order is paid at the door; it has no card link")
        if order.state in ("cancelled", "delivered"):
            raise PaymentConflict(
                f"this phone order is {order.state}; there is nothing to pay", code="order_closed"
            )
        session.refresh(order, with_for_update=True)  # one link request per order at a time
        card = session.get(PhoneOrderPayment, {"store_id": order.store_id, "order_id": order.id})
        to = email or (card.customer_email if card else "") or order.customer_email
        if not to:
            raise InvalidBody(
                "this order has no e-mail address: send the one to mail the link to",
                field="email",
            )
        if card is None:
            card = open_authorisation(
                session, order, public_url=base_url, ttl_minutes=ttl, email=to
            )
            if card is None:
                raise InvalidBody("this order has nothing to pay", field="order_id")
            return phone_payment_data(session, card, base_url)
        if email and not card.customer_email:
            card.customer_email = email
        if card.status == PhonePaymentStatus.FAILED:
            payment = _new_payment(
                session,
                order,
                purpose=PHONE_AUTH,
                amount=card.authorised_amount,
                email=to,
                ttl_minutes=ttl,
            )
            card.authorisation_id = payment.id
            card.status = PhonePaymentStatus.LINK_SENT
            announce(session, card)
        elif card.status == PhonePaymentStatus.LINK_SENT:
            payment = session.get_one(
                Payment, {"store_id": card.store_id, "id": card.authorisation_id}
            )
        elif card.status == PhonePaymentStatus.TOP_UP_SENT and card.top_up_id:
            payment = session.get_one(Payment, {"store_id": card.store_id, "id": card.top_up_id})
        else:
            raise PaymentConflict(
                f"the card payment of this order is {card.status}; no link is needed",
                code="payment_link_not_needed",
            )
        _queue_link(session, card, payment, to, base_url)
        return phone_payment_data(session, card, base_url)


# ---------------------------------------------------------------------------- capture


_SETTLED = (PhonePaymentStatus.RELEASED, PhonePaymentStatus.REFUNDED)


def capture_phone_order(
    svc: Services, who: Caller, order_id: str, body: CaptureRequest, base_url: str
) -> PhonePaymentData:
    """Charge a picked phone order (``CaptureRequest`` says how); idempotent by capture_id."""
    gateway = gateway_of(svc)
    with svc.sessions() as session:
        _, card = _card_of(session, who, order_id)
        auth_id = card.authorisation_id
    refresh_payment(svc, who.store_id, auth_id)  # the customer may have authorised just now
    with svc.sessions() as session, session.begin():
        order, card = _card_of(session, who, order_id, lock=True)
        if order.state == "cancelled" or card.cancelled:
            raise PaymentConflict("this phone order was cancelled", code="order_cancelled")
        if (
            card.capture_id is not None
            and card.capture_id != body.capture_id
            and card.status
            in (
                PhonePaymentStatus.CAPTURED,
                PhonePaymentStatus.TOP_UP_SENT,
            )
        ):
            raise PaymentConflict(
                f"this order was already charged ({card.status}, capture {card.capture_id})",
                code="already_captured",
            )
        auth = session.get_one(Payment, {"store_id": card.store_id, "id": card.authorisation_id})
        if card.capture_id == body.capture_id or card.status in (
            PhonePaymentStatus.CAPTURED,
            PhonePaymentStatus.TOP_UP_SENT,
        ):
            if auth.status == PaymentStatus.SUCCEEDED:  # done: answer it again
                return phone_payment_data(session, card, base_url)
        elif auth.status != PaymentStatus.AUTHORISED:
            raise PaymentConflict(
                "the customer has not authorised the card payment yet (it is "
                f"{card.status}); send the link again or wait for the customer",
                code="payment_not_authorised",
            )
        picked = session.scalar(
            select(func.count())
            .select_from(PhoneOrderPickedLine)
            .where(
                PhoneOrderPickedLine.store_id == order.store_id,
                PhoneOrderPickedLine.order_id == order.id,
            )
        )
        if not picked:
            raise PaymentConflict(
                "this order has not been picked yet: the capture charges the picked total",
                code="not_picked",
            )
        plan = capture_plan(order.actual_total, card.authorised_amount)
        card.actual_total = order.actual_total
        card.shortfall = plan.shortfall
        if plan.shortfall > 0 and body.choice == "capture":
            if card.status != PhonePaymentStatus.NEEDS_DECISION:
                card.status = PhonePaymentStatus.NEEDS_DECISION
                announce(session, card)
            return phone_payment_data(session, card, base_url)
        if card.capture_id is None or card.capture_id != body.capture_id:
            card.capture_id = body.capture_id
            card.decision = body.choice if plan.shortfall > 0 else "capture"
        amount = plan.capture
        intent_id = auth.stripe_payment_intent_id
        payment_key = {"store_id": auth.store_id, "id": auth.id}
    assert intent_id is not None  # authorised: Stripe gave us the intent
    state = _capture_at_stripe(gateway, intent_id, amount, who.store_id, body.capture_id)
    with svc.sessions() as session, session.begin():
        order, card = _card_of(session, who, order_id, lock=True)
        auth = session.get_one(Payment, payment_key, with_for_update=True)
        _apply_intent(session, auth, state)
        if state.status == "succeeded" and card.status not in (
            PhonePaymentStatus.CAPTURED,
            PhonePaymentStatus.TOP_UP_SENT,
        ):
            auth.amount_received = amount  # the rest of the authorisation is released
            auth.captured_at = utcnow()
            card.captured_amount = amount
            if card.decision == "top_up" and card.shortfall > 0:
                top_up = _new_payment(
                    session,
                    order,
                    purpose=PHONE_TOP_UP,
                    amount=card.shortfall,
                    email=card.customer_email,
                    ttl_minutes=svc.config.pay_link_ttl_minutes,
                )
                card.top_up_id = top_up.id
                card.status = PhonePaymentStatus.TOP_UP_SENT
                _queue_link(session, card, top_up, card.customer_email, base_url)
            else:
                card.status = PhonePaymentStatus.CAPTURED
                queue_final_receipt(session, card)
            announce(session, card)
        return phone_payment_data(session, card, base_url)


def _capture_at_stripe(
    gateway: StripeGateway,
    intent_id: str,
    amount: int,
    store_id: uuid.UUID,
    capture_id: uuid.UUID,
) -> IntentState:
    try:
        if amount == 0:  # nothing could be picked: nothing to charge
            return gateway.cancel_intent(intent_id)
        return gateway.capture_intent(
            intent_id,
            amount_to_capture=amount,
            idempotency_key=f"shopsmart-cap:{store_id}:{capture_id}",
        )
    except GatewayError as exc:
        try:  # captured already (a replay), or Stripe's answer was lost: ask
            state = gateway.retrieve_intent(intent_id)
        except GatewayError:
            state = None
        if state is not None and state.status in ("succeeded", "canceled"):
            return state
        raise GatewayUnavailableError(
            f"could not charge the card at the payment service ({exc}); try again with the "
            "same capture_id"
        ) from None


# ---------------------------------------------------------------------------- cancel


def note_cancelled(
    session: Session, store_id: uuid.UUID, order_id: uuid.UUID, *, settle_after_commit: bool = True
) -> bool:
    """The phone order was cancelled (in the cancelling transaction): no capture may start
    any more. True when its card side needs settling; within a request that is done once the
    transaction committed (``settle_cancelled``: the authorisation released, a capture
    refunded). If Stripe cannot be reached then, the next look at the order's card settles it."""
    card = session.get(
        PhoneOrderPayment, {"store_id": store_id, "order_id": order_id}, with_for_update=True
    )
    if card is None:
        return False
    card.cancelled = True
    announce(session, card)
    pending = card.status not in _SETTLED
    if pending and settle_after_commit and has_app_context():
        svc = services()

        def settle(_: Session) -> None:
            try_settle_cancelled(svc, store_id, order_id)

        event.listen(session, "after_commit", settle, once=True)
    return pending


def note_delivered(session: Session, order: PhoneOrder) -> int | None:
    """An order paid at the door was delivered (in the delivering transaction): its final
    receipt, with what was picked. A card-link order had its receipt at capture."""
    if order.payment_method == CARD_LINK or not order.customer_email:
        return None
    how = "in cash at the door" if order.payment_method == "door_cash" else "by card at the door"
    return queue_phone_order_receipt(
        session, order, to=order.customer_email, paid=order.actual_total, paid_how=how
    )


def settle_cancelled(svc: Services, store_id: uuid.UUID, order_id: uuid.UUID) -> None:
    """Release the authorisation of a cancelled phone order and refund what was captured
    (its payment and any top-up). Safe to call again: it does only what is left."""
    if not svc.config.payments_enabled:
        return
    gateway = gateway_of(svc)
    with svc.sessions() as session, session.begin():
        card = session.get(
            PhoneOrderPayment, {"store_id": store_id, "order_id": order_id}, with_for_update=True
        )
        order = session.get(PhoneOrder, {"store_id": store_id, "id": order_id})
        if card is None or card.status in _SETTLED:
            return
        if not card.cancelled and (order is None or order.state != "cancelled"):
            return
        card.cancelled = True
        payment_ids = [card.authorisation_id] + ([card.top_up_id] if card.top_up_id else [])
    refunded = False
    for payment_id in payment_ids:
        refunded |= _release_or_refund(svc, gateway, store_id, order_id, payment_id)
    with svc.sessions() as session, session.begin():
        card = session.get_one(
            PhoneOrderPayment, {"store_id": store_id, "order_id": order_id}, with_for_update=True
        )
        card.status = PhonePaymentStatus.REFUNDED if refunded else PhonePaymentStatus.RELEASED
        announce(session, card)


def settle_cancelled_cards(svc: Services) -> int:
    """The worker's chore: settle every cancelled phone order whose card Stripe could not be
    reached for when it was cancelled (its hold released, a capture refunded), so no hold
    waits for someone to look at the order. Returns how many were settled."""
    if not svc.config.payments_enabled:
        return 0
    with svc.sessions() as session:
        pending = session.execute(
            select(PhoneOrderPayment.store_id, PhoneOrderPayment.order_id)
            .where(
                PhoneOrderPayment.cancelled.is_(True),
                PhoneOrderPayment.status.not_in(_SETTLED),
            )
            .limit(100)
        ).all()
    settled = 0
    for store_id, order_id in pending:
        if not try_settle_cancelled(svc, store_id, order_id):
            break  # Stripe is away: the next round tries again
        settled += 1
    return settled


def try_settle_cancelled(svc: Services, store_id: uuid.UUID, order_id: uuid.UUID) -> bool:
    """``settle_cancelled``, or False (logged) when Stripe cannot be asked now: the worker's
    housekeeping and the next look at the order try again."""
    try:
        settle_cancelled(svc, store_id, order_id)
    except (ApiError, GatewayError) as exc:
        log.warning(
            "cancelled phone order not settled yet",
            extra={"event": "phone_card_settle_failed", "error": str(exc)},
        )
        return False
    return True


def _release_or_refund(
    svc: Services,
    gateway: StripeGateway,
    store_id: uuid.UUID,
    order_id: uuid.UUID,
    payment_id: uuid.UUID,
) -> bool:
    """Cancel one payment of a cancelled order, or refund it if it was charged: True when
    money was refunded."""
    key = {"store_id": store_id, "id": payment_id}
    refund_id = uuid.uuid5(payment_id, "cancelled phone order")
    with svc.sessions() as session, session.begin():
        payment = session.get_one(Payment, key, with_for_update=True)
        status, intent_id = payment.status, payment.stripe_payment_intent_id
        if status == PaymentStatus.FAILED:
            return False
        if status != PaymentStatus.SUCCEEDED and intent_id is None:
            _mark_cancelled(payment)  # no intent yet: none will be created any more
            payment.decline_reason = RELEASED_REASON
            return False
        if status == PaymentStatus.SUCCEEDED:
            left = payment.amount_received - payment.amount_refunded
            if (
                left > 0
                and session.get(PaymentRefund, {"store_id": store_id, "id": refund_id}) is None
            ):
                now = utcnow()
                session.add(
                    PaymentRefund(
                        id=refund_id,
                        payment_id=payment_id,
                        store_id=store_id,
                        amount=left,
                        reason=RELEASED_REASON,
                        status=RefundStatus.PENDING,
                        gateway_tries=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
    if status == PaymentStatus.SUCCEEDED:
        refund = _ensure_refund(svc, gateway, store_id, payment_id, refund_id)
        if refund.status == "pending":
            raise GatewayUnavailableError(
                f"the refund of payment {payment_id} is not confirmed yet; try again"
            )
        return refund.status == "succeeded"
    assert intent_id is not None
    try:
        state = gateway.cancel_intent(intent_id)
    except GatewayError:
        try:
            state = gateway.retrieve_intent(intent_id)
        except GatewayError as exc:
            raise GatewayUnavailableError(
                f"could not release the card authorisation ({exc}); try again"
            ) from None
    with svc.sessions() as session, session.begin():
        payment = session.get_one(Payment, key, with_for_update=True)
        _apply_intent(session, payment, state)
        if payment.status == PaymentStatus.FAILED:
            payment.decline_reason = RELEASED_REASON
    if state.status == "succeeded":  # charged meanwhile: refund it instead
        return _release_or_refund(svc, gateway, store_id, order_id, payment_id)
    log.info(
        "phone order card released",
        extra={"event": "phone_card_released", "order_id": str(order_id)},
    )
    return False
