"""Card payments: start, follow, refund — idempotent, and never charging twice.

The rules (docs/payments.md explains them at length):

* ``payments.id`` is the terminal's payment_id. Replaying ``POST /payments`` with it returns
  the same payment; ``(store_id, order_id, attempt)`` is unique, and a new attempt for an order is
  refused while another is still open or one succeeded.
* Exactly one PaymentIntent per payment: the PaymentIntent is created by whoever holds the
  row's ``creating_until`` lease (committed before calling Stripe). A try after an unclear
  outcome first *looks the PaymentIntent up* by its metadata, and only creates one when
  Stripe has none; its idempotency key is ``shopsmart-pi:<payment>:<try>`` — a new
  try gets a new key because Stripe replays a saved error for an old one.
* Stripe is the authority for "paid": the signed webhook, or our own server-side retrieve
  with the secret key. Never the browser, never the terminal.
* When a payment succeeds the order confirmation e-mail is queued in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.api import has_nul
from server.errors import ApiError, InvalidBody, NotFound
from server.mail.notifications import (
    queue_payment_confirmation,
    queue_payment_link,
    queue_refund_receipt,
)
from server.models import Payment, PaymentRefund, Store, StripeEvent, utcnow
from server.payments.phone_state import PHONE_ORDER_PURPOSES, phone_payment_changed
from server.payments.stripe_gateway import (
    CardDeclined,
    GatewayBusy,
    GatewayError,
    GatewayRefused,
    IntentState,
    RefundState,
    StripeGateway,
    intent_state,
)
from server.services import Services
from server.sql import dialect_insert
from server.terminals.auth import Caller, get_owned
from sync.protocol import (
    CreatePaymentRequest,
    EmailQueued,
    PaymentData,
    RefundData,
    RefundRequest,
)

log = logging.getLogger("shopsmart.server.payments")
S = TypeVar("S")  # what the payment service creates: a PaymentIntent or a Refund


class PaymentStatus(StrEnum):
    """A card payment's status (the ``payments.status`` column holds these words)."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"  # the customer must finish 3-D Secure
    AUTHORISED = "authorised"  # a manual-capture intent holds the amount (phone orders)
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundStatus(StrEnum):
    """A card refund's status (``payment_refunds.status``)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


OPEN = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)
PAY_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what secrets.token_urlsafe(32) gives
CREATE_LEASE = timedelta(seconds=30)
WAIT_FOR_OTHER_CREATOR = 10.0  # seconds a replay waits for a concurrent creation


class PaymentsUnavailable(ApiError):
    status, code = 503, "payments_unavailable"


class PaymentConflict(ApiError):
    status, code = 409, "payment_conflict"


def gateway_of(svc: Services) -> StripeGateway:
    if not svc.config.payments_enabled:
        raise PaymentsUnavailable("card payments are not configured on this server")
    gateway = svc.extras.get("stripe_gateway")
    if gateway is None:
        cfg = svc.config
        gateway = StripeGateway(
            cfg.stripe_secret_key,
            api_base=cfg.stripe_api_base,
            timeout=cfg.stripe_timeout_seconds,
            max_retries=cfg.stripe_max_retries,
            retry_base=cfg.stripe_retry_base_seconds,
        )
        svc.extras["stripe_gateway"] = gateway
    return gateway


def pay_url(base_url: str, payment: Payment) -> str:
    return f"{base_url.rstrip('/')}/pay/{payment.pay_token}"


def payment_data(payment: Payment, base_url: str) -> PaymentData:
    link_open = payment.status in OPEN and payment.stripe_payment_intent_id is not None
    # a phone order's authorisation is not paid until captured (server/payments/phone.py)
    authorised = payment.status == PaymentStatus.AUTHORISED
    return PaymentData(
        payment_id=str(payment.id),
        order_id=str(payment.order_id),
        status="pending" if authorised else payment.status,  # type: ignore[arg-type]
        amount=payment.amount,
        currency=payment.currency,
        purpose="phone" if payment.purpose.startswith("phone") else payment.purpose,  # type: ignore[arg-type]
        amount_refunded=payment.amount_refunded,
        pay_url=pay_url(base_url, payment) if link_open else None,
        pay_url_expires_at=payment.pay_token_expires_at if link_open else None,
        decline_code=payment.decline_code,
        decline_reason=payment.decline_reason,
        message=payment.message,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
    )


def _request_hash(who: Caller, body: CreatePaymentRequest) -> str:
    content = body.model_dump_json(exclude={"protocol_version"})
    return hashlib.sha256(f"{who.store_id}|{content}".encode()).hexdigest()


# ---------------------------------------------------------------------------- start


def start_payment(
    svc: Services, who: Caller, body: CreatePaymentRequest, base_url: str
) -> PaymentData:
    gateway = gateway_of(svc)
    if body.currency != who.currency:
        raise InvalidBody(
            f"this store takes {who.currency}, not {body.currency}",
            code="currency_mismatch",
            field="currency",
        )
    digest = _request_hash(who, body)
    for _ in range(3):
        try:
            _insert_payment(svc, who, body, digest)
            break
        except IntegrityError:  # another attempt for the order took this attempt number
            continue
    payment = _ensure_intent(svc, gateway, who.store_id, body.payment_id)
    return payment_data(payment, base_url)


def _insert_payment(svc: Services, who: Caller, body: CreatePaymentRequest, digest: str) -> None:
    with svc.sessions() as session, session.begin():
        # a payment id is the store's own (migration 0009): another store's payment under
        # the same id is neither seen nor in the way
        existing = session.get(Payment, _key(who.store_id, body.payment_id))
        if existing is not None:
            if existing.request_hash != digest:
                raise PaymentConflict(
                    "this payment_id was used for a different payment; use a new payment_id "
                    "for a new attempt",
                    code="payment_id_reused",
                    field="payment_id",
                )
            return
        # An order's attempts are counted within the caller's store: another store's payment
        # under the same order id is neither seen nor in the way (migration 0008).
        others = session.execute(
            select(Payment.id, Payment.status, Payment.attempt)
            .where(Payment.store_id == who.store_id, Payment.order_id == body.order_id)
            .with_for_update()
        ).all()
        if any(o.id == body.payment_id for o in others):  # committed meanwhile: a replay
            return _insert_payment(svc, who, body, digest)
        for other in others:
            if other.status == PaymentStatus.SUCCEEDED:
                raise PaymentConflict(
                    f"this order is already paid by card (payment {other.id})",
                    code="order_already_paid",
                    field="order_id",
                )
            if other.status in OPEN:
                raise PaymentConflict(
                    f"payment {other.id} for this order is still open; follow it, or wait "
                    "until it has failed before starting another",
                    code="payment_in_progress",
                    field="order_id",
                )
        now = utcnow()
        table = Payment.__table__
        session.execute(
            dialect_insert(session, table)
            .values(
                id=body.payment_id,
                store_id=who.store_id,
                terminal_id=who.terminal(),
                order_id=body.order_id,
                attempt=max((o.attempt for o in others), default=0) + 1,
                request_hash=digest,
                purpose=body.purpose,
                amount=body.amount,
                currency=body.currency,
                customer_email=body.customer_email,
                order_summary=body.order.model_dump(mode="json") if body.order else None,
                status=PaymentStatus.PENDING,
                gateway_tries=0,
                amount_received=0,
                amount_refunded=0,
                pay_token=secrets.token_urlsafe(32),
                pay_token_expires_at=now + timedelta(minutes=svc.config.pay_link_ttl_minutes),
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["store_id", "id"])
        )


def _key(store_id: uuid.UUID, object_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The primary key of a payment or payment refund: its id names it within its store."""
    return {"store_id": store_id, "id": object_id}


def _claim_creation(
    session: Session, store_id: uuid.UUID, payment_id: uuid.UUID, model: Any
) -> int | None:
    now = utcnow()
    row = session.execute(
        update(model)
        .where(
            model.store_id == store_id,
            model.id == payment_id,
            model.status == (PaymentStatus.PENDING if model is Payment else RefundStatus.PENDING),
            (model.creating_until.is_(None)) | (model.creating_until < now),
            *(
                [model.stripe_payment_intent_id.is_(None)]
                if model is Payment
                else [model.stripe_refund_id.is_(None)]
            ),
        )
        .values(creating_until=now + CREATE_LEASE, gateway_tries=model.gateway_tries + 1)
        .returning(model.gateway_tries)
    ).first()
    return None if row is None else int(row[0])


def _ensure_intent(
    svc: Services, gateway: StripeGateway, store_id: uuid.UUID, payment_id: uuid.UUID
) -> Payment:
    """The payment with its PaymentIntent, creating it if nobody has (exactly once)."""
    key = _key(store_id, payment_id)
    deadline = time.monotonic() + WAIT_FOR_OTHER_CREATOR
    while True:
        with svc.sessions() as session, session.begin():
            payment = session.get_one(Payment, key)
            if (
                payment.stripe_payment_intent_id is not None
                or payment.status != PaymentStatus.PENDING
            ):
                return payment
            tries = _claim_creation(session, store_id, payment_id, Payment)
            snapshot = (payment.order_id, payment.attempt, payment.amount, payment.currency)
            purpose, capture_method = payment.purpose, payment.capture_method
        if tries is not None:
            break
        if time.monotonic() > deadline:  # another request is creating it; ask again later
            with svc.sessions() as session:
                return session.get_one(Payment, key)
        time.sleep(0.05)

    order_id, attempt, amount, currency = snapshot
    metadata = {
        "payment_id": str(payment_id),
        "order_id": str(order_id),
        "attempt": str(attempt),
        "store_id": str(store_id),
        "purpose": purpose,
    }

    def look_up() -> IntentState | None:
        return gateway.find_intent("payment_id", str(payment_id), store_id=str(store_id))

    state, problem = _create_once(
        tries,
        look_up,
        lambda: gateway.create_intent(
            amount=amount,
            currency=currency,
            metadata=metadata,
            # a payment id (like an order id) names a payment within its store only
            idempotency_key=f"shopsmart-pi:{store_id}:{payment_id}:{tries}",
            find_existing=look_up,
            capture_method=capture_method,
        ),
    )
    with svc.sessions() as session, session.begin():
        payment = session.get_one(Payment, key, with_for_update=True)
        payment.creating_until = None
        payment.updated_at = utcnow()
        if state is not None:
            payment.stripe_payment_intent_id = state.id
            payment.client_secret = state.client_secret
            payment.message = None
            _apply_intent(session, payment, state)
        elif isinstance(problem, GatewayRefused):
            payment.status = PaymentStatus.FAILED
            payment.decline_code = "gateway_refused"
            payment.decline_reason = f"the payment service refused the request: {problem}"
        elif isinstance(problem, GatewayBusy):
            payment.message = "the payment service is busy; ask again in a moment"
        elif problem is not None:
            payment.message = (
                "the payment service did not answer clearly; the next check looks the "
                "payment up at Stripe before trying again"
            )
        # cancelled at the till while this request was creating the intent: cancel it too
        orphan = (
            state is not None
            and payment.status == PaymentStatus.FAILED
            and payment.decline_reason == CANCELLED_AT_TILL
        )
    if orphan and state is not None:
        _cancel_quietly(gateway, state.id)
    return payment


def _create_once(
    tries: int, look_up: Callable[[], S | None], create: Callable[[], S]
) -> tuple[S | None, GatewayError | None]:
    """Stripe's object, created by ``create`` — or found by ``look_up`` when an earlier try
    (``tries`` > 1) may have created it already; or the gateway's error instead."""
    try:
        state = look_up() if tries > 1 else None
        return (create() if state is None else state), None
    except GatewayError as exc:
        return None, exc


# ---------------------------------------------------------------------------- state


def _apply_intent(session: Session, payment: Payment, state: IntentState) -> bool:
    """Take Stripe's word for the payment's state; True when it became succeeded now.
    A succeeded payment never goes back. The confirmation e-mail is queued here, in the
    caller's transaction."""
    now = utcnow()
    payment.checked_at = now
    if payment.status == PaymentStatus.SUCCEEDED:
        return False
    before = payment.status
    if state.status == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        payment.amount_received = state.amount_received or state.amount
        payment.succeeded_at = now
        payment.decline_code = payment.decline_reason = payment.message = None
        if before == PaymentStatus.FAILED:
            log.warning(
                "payment succeeded after it was marked failed",
                extra={"event": "payment_late_success", "payment_id": str(payment.id)},
            )
        if payment.purpose not in PHONE_ORDER_PURPOSES:  # those get the final receipt
            queue_payment_confirmation(session, payment)
    elif state.status == "requires_capture":  # authorised: captured after picking
        payment.status = PaymentStatus.AUTHORISED
        payment.amount_capturable = state.amount_capturable or state.amount
        payment.decline_code = payment.decline_reason = payment.message = None
    elif state.status == "requires_action":
        payment.status = PaymentStatus.REQUIRES_ACTION
    elif state.status == "canceled":
        payment.status = PaymentStatus.FAILED
        payment.decline_code = payment.decline_code or "canceled"
        payment.decline_reason = payment.decline_reason or "the payment was cancelled"
    elif state.status == "requires_payment_method" and state.error_message:
        payment.status = PaymentStatus.FAILED
        payment.decline_code = state.decline_code or state.error_code or "card_declined"
        payment.decline_reason = state.error_message
    elif before != PaymentStatus.FAILED:
        payment.status = PaymentStatus.PENDING
    if payment.status != before:
        payment.updated_at = now
        if payment.purpose in PHONE_ORDER_PURPOSES:
            phone_payment_changed(session, payment)
    return payment.status == PaymentStatus.SUCCEEDED and before != PaymentStatus.SUCCEEDED


def _cancel_quietly(gateway: StripeGateway, intent_id: str) -> None:
    """A declined PaymentIntent is cancelled so it can never succeed later (the terminal
    starts a new attempt); if it has succeeded meanwhile, the next check says so."""
    try:
        gateway.cancel_intent(intent_id)
    except GatewayError as exc:
        log.info("cancel refused", extra={"event": "payment_cancel_failed", "error": str(exc)})


def refresh_payment(
    svc: Services, store_id: uuid.UUID, payment_id: uuid.UUID, *, force: bool = False
) -> Payment:
    """Ask Stripe about an open payment whose last check is older than the recheck
    interval (or that has no PaymentIntent yet, after an unclear creation)."""
    gateway = gateway_of(svc)
    key = _key(store_id, payment_id)
    with svc.sessions() as session:
        payment = session.get_one(Payment, key)
    if payment.status not in OPEN:
        return payment
    if payment.stripe_payment_intent_id is None:
        return _ensure_intent(svc, gateway, store_id, payment_id)
    # ``force`` (the customer's page after confirming) still asks at most once a second
    recheck = timedelta(
        seconds=min(1.0, svc.config.payment_recheck_seconds)
        if force
        else svc.config.payment_recheck_seconds
    )
    if payment.checked_at is not None and utcnow() - payment.checked_at < recheck:
        return payment
    try:
        state = gateway.retrieve_intent(payment.stripe_payment_intent_id)
    except GatewayError as exc:
        with svc.sessions() as session, session.begin():
            payment = session.get_one(Payment, key, with_for_update=True)
            payment.message = f"could not reach the payment service: {exc}"
            return payment
    with svc.sessions() as session, session.begin():
        payment = session.get_one(Payment, key, with_for_update=True)
        _apply_intent(session, payment, state)
        declined = (
            payment.status == PaymentStatus.FAILED and state.status == "requires_payment_method"
        )
        intent_id = payment.stripe_payment_intent_id
    if declined and intent_id:
        _cancel_quietly(gateway, intent_id)
    return payment


def get_payment(svc: Services, who: Caller, payment_id: str, base_url: str) -> PaymentData:
    gateway_of(svc)
    with svc.sessions() as session:
        payment = get_owned(session, who, Payment, payment_id)
    return payment_data(refresh_payment(svc, who.store_id, payment.id), base_url)


# ---------------------------------------------------------------------------- cancel

CANCELLED_AT_TILL = "cancelled at the till"


class GatewayUnavailableError(ApiError):
    status, code = 503, "payment_service_unavailable"


def cancel_payment(svc: Services, who: Caller, payment_id: str, base_url: str) -> PaymentData:
    """Make an open payment unpayable (the clerk closed the card dialog): its PaymentIntent
    is cancelled at Stripe and the payment answers ``failed``. Idempotent. If the customer
    paid first: ``409 payment_already_succeeded`` with the payment, for the till to use."""
    gateway = gateway_of(svc)
    with svc.sessions() as session:
        pid = get_owned(session, who, Payment, payment_id).id
    key = _key(who.store_id, pid)
    with svc.sessions() as session, session.begin():
        # the row lock waits for a request that is applying Stripe's answer right now; once
        # the status is failed, no PaymentIntent is created for this payment any more
        payment = session.get_one(Payment, key, with_for_update=True)
        if payment.status == PaymentStatus.SUCCEEDED:
            raise _already_succeeded(payment, base_url)
        if payment.status == PaymentStatus.FAILED:
            return payment_data(payment, base_url)
        intent_id = payment.stripe_payment_intent_id
        if intent_id is None:  # stop a later creation; look for an earlier one below
            _mark_cancelled(payment)
    state: IntentState | None = None
    try:
        if intent_id is None:
            found = gateway.find_intent("payment_id", str(pid), store_id=str(who.store_id))
            intent_id = found.id if found else None
        if intent_id is not None:
            try:
                state = gateway.cancel_intent(intent_id)
            except GatewayError:  # e.g. it succeeded meanwhile: Stripe refuses the cancel
                state = gateway.retrieve_intent(intent_id)
    except GatewayError as exc:
        raise GatewayUnavailableError(
            f"could not cancel the payment at the payment service ({exc}); it may still be "
            "payable: try again before taking another tender"
        ) from None
    with svc.sessions() as session, session.begin():
        payment = session.get_one(Payment, key, with_for_update=True)
        if state is not None:
            if payment.stripe_payment_intent_id is None:
                payment.stripe_payment_intent_id = state.id
            _apply_intent(session, payment, state)
        cancelled = state is None or state.status == "canceled"
        if payment.status != PaymentStatus.SUCCEEDED and cancelled:
            _mark_cancelled(payment)
        answer = payment_data(payment, base_url)
    if answer.status == PaymentStatus.SUCCEEDED.value:
        raise _already_succeeded_data(answer)
    if not cancelled:
        raise GatewayUnavailableError(
            f"the payment service did not cancel the payment (it is {state.status if state else '?'}"
            "); try again before taking another tender"
        )
    return answer


def _mark_cancelled(payment: Payment) -> None:
    payment.status = PaymentStatus.FAILED
    payment.decline_code = "canceled"
    payment.decline_reason = CANCELLED_AT_TILL
    payment.message = None
    payment.updated_at = utcnow()


def _already_succeeded(payment: Payment, base_url: str) -> ApiError:
    return _already_succeeded_data(payment_data(payment, base_url))


def _already_succeeded_data(data: PaymentData) -> ApiError:
    return PaymentConflict(
        "the customer has already paid this payment; use it for the sale",
        code="payment_already_succeeded",
        extra={"payment": data.model_dump(mode="json")},
    )


# ---------------------------------------------------------------------------- refunds


def _refund_data(refund: PaymentRefund, payment: Payment) -> RefundData:
    return RefundData(
        refund_id=str(refund.id),
        payment_id=str(payment.id),
        amount=refund.amount,
        currency=payment.currency,
        status=refund.status,  # type: ignore[arg-type]
        failure_reason=refund.failure_reason,
        payment_amount_refunded=payment.amount_refunded,
        created_at=refund.created_at,
    )


def refund_payment(svc: Services, who: Caller, payment_id: str, body: RefundRequest) -> RefundData:
    gateway = gateway_of(svc)
    with svc.sessions() as session, session.begin():
        payment = get_owned(session, who, Payment, payment_id)
        session.refresh(payment, with_for_update=True)  # refunds of a payment in series
        existing = session.get(PaymentRefund, _key(who.store_id, body.refund_id))
        if existing is not None:
            if existing.payment_id != payment.id or existing.amount != body.amount:
                raise PaymentConflict(
                    "this refund_id was used for a different refund",
                    code="refund_id_reused",
                    field="refund_id",
                )
        else:
            if payment.status != PaymentStatus.SUCCEEDED:
                raise PaymentConflict(
                    f"only a succeeded payment can be refunded (this one is {payment.status})",
                    code="payment_not_captured",
                )
            committed = session.scalar(
                select(func.coalesce(func.sum(PaymentRefund.amount), 0)).where(
                    PaymentRefund.store_id == payment.store_id,
                    PaymentRefund.payment_id == payment.id,
                    PaymentRefund.status.in_((RefundStatus.PENDING, RefundStatus.SUCCEEDED)),
                )
            )
            left = payment.amount_received - int(committed or 0)
            if body.amount > left:
                raise InvalidBody(
                    f"at most {left} is left to refund of this payment",
                    code="refund_exceeds_payment",
                    field="amount",
                )
            now = utcnow()
            session.add(
                PaymentRefund(
                    id=body.refund_id,
                    payment_id=payment.id,
                    store_id=payment.store_id,
                    amount=body.amount,
                    reason=body.reason,
                    status=RefundStatus.PENDING,
                    gateway_tries=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        pid = payment.id
    return _ensure_refund(svc, gateway, who.store_id, pid, body.refund_id)


def _ensure_refund(
    svc: Services,
    gateway: StripeGateway,
    store_id: uuid.UUID,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID,
) -> RefundData:
    with svc.sessions() as session, session.begin():
        tries = _claim_creation(session, store_id, refund_id, PaymentRefund)
        refund = session.get_one(PaymentRefund, _key(store_id, refund_id))
        payment = session.get_one(Payment, _key(store_id, payment_id))
        intent_id, amount = payment.stripe_payment_intent_id, refund.amount
        if tries is None:  # done, failed, or being created by a concurrent request
            return _refund_data(refund, payment)
    assert intent_id is not None

    def look_up() -> RefundState | None:
        return gateway.find_refund(intent_id, str(refund_id))

    state, problem = _create_once(
        tries,
        look_up,
        lambda: gateway.create_refund(
            payment_intent=intent_id,
            amount=amount,
            metadata={
                "refund_id": str(refund_id),
                "payment_id": str(payment_id),
                "store_id": str(store_id),
            },
            idempotency_key=f"shopsmart-re:{store_id}:{refund_id}:{tries}",
            find_existing=look_up,
        ),
    )
    with svc.sessions() as session, session.begin():
        payment = session.get_one(Payment, _key(store_id, payment_id), with_for_update=True)
        refund = session.get_one(PaymentRefund, _key(store_id, refund_id), with_for_update=True)
        refund.creating_until = None
        refund.updated_at = utcnow()
        if state is not None:
            refund.stripe_refund_id = state.id
            _apply_refund(session, payment, refund, state)
        elif isinstance(problem, GatewayRefused | CardDeclined):
            refund.status = RefundStatus.FAILED
            refund.failure_reason = str(problem)
        elif problem is not None:
            refund.failure_reason = (
                f"{problem} — still pending; send the same refund_id again to check"
            )
        return _refund_data(refund, payment)


def _apply_refund(
    session: Session, payment: Payment, refund: PaymentRefund, state: RefundState
) -> None:
    if refund.status != RefundStatus.PENDING:
        return
    if state.status == "succeeded":
        refund.status = RefundStatus.SUCCEEDED
        refund.failure_reason = None
        payment.amount_refunded += refund.amount
        payment.updated_at = utcnow()
        queue_refund_receipt(session, payment, refund)
    elif state.status in ("failed", "canceled"):
        refund.status = RefundStatus.FAILED
        refund.failure_reason = state.failure_reason or state.status


# ---------------------------------------------------------------------------- e-mail link


def email_payment_link(
    svc: Services, who: Caller, payment_id: str, email: str, base_url: str
) -> EmailQueued:
    gateway = gateway_of(svc)
    with svc.sessions() as session:
        payment = get_owned(session, who, Payment, payment_id)
    payment = refresh_payment(svc, who.store_id, payment.id)
    if payment.stripe_payment_intent_id is None and payment.status in OPEN:
        payment = _ensure_intent(svc, gateway, who.store_id, payment.id)
    if payment.status not in OPEN or payment.stripe_payment_intent_id is None:
        raise PaymentConflict(
            f"this payment is {payment.status}; there is nothing to pay",
            code="payment_not_open",
        )
    with svc.sessions() as session, session.begin():
        payment = session.get_one(Payment, _key(payment.store_id, payment.id), with_for_update=True)
        if not payment.customer_email:
            payment.customer_email = email
        mail_id = queue_payment_link(session, payment, email, pay_url(base_url, payment))
    assert mail_id is not None  # the address was validated by the request model
    return EmailQueued(payment_id=str(payment.id), to=email, mail_id=mail_id)


# ---------------------------------------------------------------------------- webhook


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    duplicate: bool
    payment_id: uuid.UUID | None
    cancel_intent: str | None = None


def apply_event(svc: Services, event: dict[str, Any]) -> WebhookOutcome:
    """Apply one verified Stripe event, recording its id in the same transaction (a
    replayed event changes nothing)."""
    event_id = str(event.get("id") or "")
    kind = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id:
        raise InvalidBody("the event has no id", field="id")
    if len(event_id) > 255 or has_nul(event):  # signed, but no database takes a NUL
        raise InvalidBody("the event is not one this server can record", field="id")
    with svc.sessions() as session, session.begin():
        fresh = session.execute(
            dialect_insert(session, StripeEvent.__table__)
            .values(id=event_id, type=kind[:100], received_at=utcnow())
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(StripeEvent.id)
        ).first()
        if fresh is None:
            return WebhookOutcome(duplicate=True, payment_id=None)
        payment: Payment | None = None
        cancel: str | None = None
        if kind.startswith("payment_intent."):
            state = intent_state(obj)
            payment = _payment_for_intent(session, state.id, state.metadata)
            if payment is not None:
                if payment.stripe_payment_intent_id is None:  # our creation's answer was lost
                    payment.stripe_payment_intent_id = state.id
                    payment.client_secret = payment.client_secret or state.client_secret
                _apply_intent(session, payment, state)
                if (
                    payment.status == PaymentStatus.FAILED
                    and state.status == "requires_payment_method"
                ):
                    cancel = state.id
        elif kind == "charge.refunded":
            intent_id = obj.get("payment_intent")
            payment = _payment_for_intent(session, intent_id, {}) if intent_id else None
            # a partial capture releases the rest, which localstripe reports as a refund:
            # a manual-capture payment's refunds are our payment_refunds rows alone
            if payment is not None and payment.capture_method != "manual":
                refunded = int(obj.get("amount_refunded") or 0)
                if refunded > payment.amount_refunded:
                    payment.amount_refunded = refunded
                    payment.updated_at = utcnow()
        if payment is not None:
            session.execute(
                update(StripeEvent).where(StripeEvent.id == event_id).values(payment_id=payment.id)
            )
        return WebhookOutcome(False, payment.id if payment else None, cancel)


def _payment_for_intent(
    session: Session, intent_id: str | None, metadata: dict[str, str]
) -> Payment | None:
    """The payment of a PaymentIntent: by its id, else (our creation's answer was lost) by
    the payment and store ids in its metadata — a payment id names a payment only within
    its store."""
    if intent_id:
        found = session.scalar(
            select(Payment).where(Payment.stripe_payment_intent_id == intent_id).with_for_update()
        )
        if found is not None:
            return found
    try:
        key = _key(uuid.UUID(metadata["store_id"]), uuid.UUID(metadata["payment_id"]))
    except (KeyError, ValueError, TypeError):
        return None
    return session.get(Payment, key, with_for_update=True)


def after_event(svc: Services, outcome: WebhookOutcome) -> None:
    if outcome.cancel_intent:
        _cancel_quietly(gateway_of(svc), outcome.cancel_intent)


# ---------------------------------------------------------------------------- pay page


@dataclass(frozen=True, slots=True)
class PayPage:
    payment_id: uuid.UUID
    status: str
    expired: bool
    amount: int
    currency: str
    store_name: str
    client_secret: str | None
    decline_reason: str | None


def pay_page(svc: Services, token: str, *, refresh: bool = False) -> PayPage:
    """What the public payment page shows for an opaque token (404 when unknown). Only the
    shape a token has (``secrets.token_urlsafe``) reaches the database: anything else, a NUL
    byte say, which PostgreSQL refuses, is simply not a payment page."""
    if not PAY_TOKEN.fullmatch(token):
        raise NotFound("no such payment page")
    with svc.sessions() as session:
        payment = session.scalar(select(Payment).where(Payment.pay_token == token))
        if payment is None:
            raise NotFound("no such payment page")
    needs_check = refresh or payment.stripe_payment_intent_id is None
    if payment.status in OPEN and svc.config.payments_enabled and needs_check:
        payment = refresh_payment(svc, payment.store_id, payment.id, force=refresh)
    with svc.sessions() as session:
        store = session.get_one(Store, payment.store_id)
        store_name = store.name
    return PayPage(
        payment_id=payment.id,
        status=payment.status,
        expired=payment.pay_token_expires_at < utcnow() and payment.status in OPEN,
        amount=payment.amount,
        currency=payment.currency,
        store_name=store_name,
        client_secret=payment.client_secret,
        decline_reason=payment.decline_reason,
    )
