"""The server's payment API as the till's ``PaymentGateway`` port (app/ports.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from app.domain.card import (
    CaptureChoice,
    CardPayment,
    CardRefund,
    CardRefundStatus,
    CardStatus,
    PhoneCardState,
    PhoneCardStatus,
)
from app.domain.errors import GatewayRefused, GatewayUnavailable
from sync import protocol as p
from sync.errors import AuthFailed, BatchRefused, IncompatibleServer, SyncError
from sync.http_transport import HttpSyncTransport

T = TypeVar("T")


def _money_call(call: Callable[[], T]) -> T:
    """Sync errors in the shop's words for calls that move money: refused for good (a 4xx
    that is not about auth: nothing was done) or unavailable (the outcome is unknown or the
    server could not be asked: ask again with the same id)."""
    try:
        return call()
    except (AuthFailed, IncompatibleServer) as exc:
        raise GatewayUnavailable(str(exc)) from None
    except BatchRefused as exc:
        raise GatewayRefused(str(exc)) from None
    except SyncError as exc:
        if exc.__class__ is SyncError:  # another 4xx (409 …): refused
            raise GatewayRefused(str(exc)) from None
        raise GatewayUnavailable(str(exc)) from None


class HttpPaymentGateway:
    def __init__(self, transport: HttpSyncTransport) -> None:
        self._transport = transport

    def create_payment(
        self, payment_id: str, order_id: str, amount: int, currency: str
    ) -> CardPayment:
        body = p.CreatePaymentRequest(
            protocol_version=p.PROTOCOL_VERSION,
            payment_id=UUID(payment_id),
            order_id=UUID(order_id),
            amount=amount,
            currency=currency,
            purpose="counter",
        )
        return card_payment(self._transport.create_payment(body))

    def get_payment(self, payment_id: str) -> CardPayment:
        return card_payment(self._transport.get_payment(payment_id))

    def refund(self, payment_id: str, refund_id: str, amount: int, reason: str) -> CardRefund:
        body = p.RefundRequest(
            protocol_version=p.PROTOCOL_VERSION,
            refund_id=UUID(refund_id),
            amount=amount,
            reason=reason[:200],
        )
        data = _money_call(lambda: self._transport.refund(payment_id, body))
        return CardRefund(
            refund_id=data.refund_id,
            payment_id=data.payment_id,
            amount=data.amount,
            status=CardRefundStatus(data.status),
            failure_reason=data.failure_reason or "",
            payment_amount_refunded=data.payment_amount_refunded,
        )

    def cancel(self, payment_id: str) -> CardPayment:
        return card_payment(_money_call(lambda: self._transport.cancel_payment(payment_id)))

    def email_link(self, payment_id: str, email: str) -> str:
        """Mail the payment page link (phone orders); returns the address it goes to."""
        return _money_call(lambda: self._transport.email_link(payment_id, email)).to

    # ------------------------------------------------------------ card links of phone orders
    # (``PhonePaymentGateway``; the transport's plumbing, as for every call it makes)

    def phone_payment(self, order_id: str) -> PhoneCardState:
        path = f"/api/v1/phone-orders/{order_id}/payment"
        return phone_card_state(_money_call(lambda: self._transport._request("GET", path)))

    def send_payment_link(self, order_id: str, email: str) -> PhoneCardState:
        body = p.PaymentLinkRequest(protocol_version=p.PROTOCOL_VERSION, email=email or None)
        path = f"/api/v1/phone-orders/{order_id}/payment-link"
        return phone_card_state(
            _money_call(lambda: self._transport._request("POST", path, body=body))
        )

    def capture(self, order_id: str, capture_id: str, choice: CaptureChoice) -> PhoneCardState:
        body = p.CaptureRequest(
            protocol_version=p.PROTOCOL_VERSION, capture_id=UUID(capture_id), choice=choice.value
        )
        path = f"/api/v1/phone-orders/{order_id}/capture"
        return phone_card_state(
            _money_call(lambda: self._transport._request("POST", path, body=body))
        )


def phone_card_state(raw: dict[str, Any]) -> PhoneCardState:
    data = p.PhonePaymentData.model_validate(raw)
    return PhoneCardState(
        order_id=data.order_id,
        status=PhoneCardStatus(data.payment_status),
        currency=data.currency,
        estimated_total=data.estimated_total,
        authorised_amount=data.authorised_amount,
        actual_total=data.actual_total,
        shortfall=data.shortfall,
        captured_amount=data.captured_amount,
        decision=CaptureChoice(data.decision) if data.decision else None,
        authorisation_payment_id=data.authorisation_payment_id,
        top_up_payment_id=data.top_up_payment_id or "",
        top_up_amount=data.top_up_amount,
        pay_url=data.pay_url or "",
        message=data.message or "",
    )


def card_payment(data: p.PaymentData) -> CardPayment:
    return CardPayment(
        payment_id=data.payment_id,
        order_id=data.order_id,
        amount=data.amount,
        currency=data.currency,
        status=CardStatus(data.status),
        pay_url=data.pay_url or "",
        decline_reason=data.decline_reason or "",
        message=data.message or "",
        amount_refunded=data.amount_refunded,
    )
