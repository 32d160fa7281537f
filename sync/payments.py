"""The server's payment API as the till's ``PaymentGateway`` port (app/ports.py)."""

from __future__ import annotations

from uuid import UUID

from app.domain.card import CardPayment, CardStatus
from sync import protocol as p
from sync.http_transport import HttpSyncTransport


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

    def refund(self, payment_id: str, refund_id: str, amount: int, reason: str) -> int:
        body = p.RefundRequest(
            protocol_version=p.PROTOCOL_VERSION,
            refund_id=UUID(refund_id),
            amount=amount,
            reason=reason,
        )
        return self._transport.refund(payment_id, body).payment_amount_refunded


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
