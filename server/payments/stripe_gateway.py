"""StripeGateway: the one place that talks to Stripe (official SDK, PaymentIntents).

It turns the SDK's answers into plain data and its errors into four outcomes the payment
service can act on:

* ``CardDeclined``   — the card was refused (402); the reason is for the clerk.
* ``GatewayBusy``    — 429 or no connection, still so after the retries: nothing happened
  at Stripe (safe to try again later).
* ``GatewayUnclear`` — a timeout, a 5xx or a 409: Stripe may or may not have acted. Never
  retried blindly — Stripe replays the saved (error) result for the same idempotency key —
  the caller looks the object up instead (``find_intent`` / ``find_refund``).
* ``GatewayRefused`` — any other 4xx: our request was wrong (bad key, bad amount); not retried.

Retries: the SDK retries what it safely can (``max_network_retries``): connection errors,
409 and 5xx of reads and cancels, with the same idempotency key each time. The creations
(PaymentIntents, refunds) keep our own rule instead: a connection that broke after sending is
unclear, so before trying again the caller looks for the object (``before_retry``). 429 is
retried here for every call (tenacity, exponential backoff): the SDK leaves rate limits to us.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import stripe
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger("shopsmart.server.stripe")

T = TypeVar("T")
LIST_PAGE = 100
# A creation is retried by ``_call`` (it looks for the object first), not by the SDK.
_OUR_RETRIES: dict[str, Any] = {"max_network_retries": 0}


class GatewayError(Exception):
    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class CardDeclined(GatewayError):
    def __init__(self, message: str, *, code: str | None, decline_code: str | None) -> None:
        super().__init__(message, code=code, status=402)
        self.decline_code = decline_code


class GatewayBusy(GatewayError):
    """Rate limited or unreachable after the retries; nothing was done."""


class GatewayUnclear(GatewayError):
    """Stripe may have acted: look the object up before doing anything else."""


class GatewayRefused(GatewayError):
    """Stripe refused the request for good (4xx other than 402/409/429)."""


@dataclass(frozen=True, slots=True)
class IntentState:
    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    client_secret: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    amount_capturable: int = 0  # held on the card by a manual-capture intent
    error_code: str | None = None
    decline_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class RefundState:
    id: str
    status: str
    amount: int
    payment_intent: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    failure_reason: str | None = None


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if hasattr(value, "to_dict"):  # a StripeObject
        return dict(value.to_dict())
    return {}


def intent_state(obj: Any) -> IntentState:
    """An SDK PaymentIntent, or the ``data.object`` dict of a webhook event, as plain data."""
    data = _as_dict(obj)
    error = _as_dict(data.get("last_payment_error"))
    amount = int(data.get("amount") or 0)
    status = str(data.get("status") or "")
    received = data.get("amount_received")
    if received is None:
        received = amount if status == "succeeded" else 0
    return IntentState(
        id=str(data.get("id")),
        status=status,
        amount=amount,
        amount_received=int(received),
        currency=str(data.get("currency") or "").upper(),
        client_secret=data.get("client_secret"),
        metadata={str(k): str(v) for k, v in _as_dict(data.get("metadata")).items()},
        amount_capturable=int(data.get("amount_capturable") or 0),
        error_code=error.get("code"),
        decline_code=error.get("decline_code"),
        error_message=error.get("message"),
    )


def refund_state(obj: Any) -> RefundState:
    data = _as_dict(obj)
    return RefundState(
        id=str(data.get("id")),
        status=str(data.get("status") or ""),
        amount=int(data.get("amount") or 0),
        payment_intent=data.get("payment_intent"),
        metadata={str(k): str(v) for k, v in _as_dict(data.get("metadata")).items()},
        failure_reason=data.get("failure_reason"),
    )


class StripeGateway:
    """PaymentIntents and refunds through ``stripe.StripeClient``."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str = "",
        timeout: float = 15.0,
        max_retries: int = 3,
        retry_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        client: Any = None,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        if client is None:
            options: dict[str, Any] = {
                "max_network_retries": max_retries,  # the SDK's own; creations opt out
                "http_client": http_client or stripe.RequestsClient(timeout=timeout),
            }
            if api_base:
                options["base_addresses"] = {"api": api_base.rstrip("/")}
            client = stripe.StripeClient(secret_key, **options)
        self.client = client
        self.max_retries = max_retries
        self.retry_base = retry_base
        self.sleep = sleep

    # ------------------------------------------------------------------ retry policy

    def _call(
        self,
        what: str,
        call: Callable[[], T],
        before_retry: Callable[[], T | None] | None = None,
    ) -> T:
        """``call`` with our retries (429; a creation's broken connection, after looking
        with ``before_retry``), its errors turned into the gateway's four outcomes."""
        broke = False  # the last try lost its connection: the request may have arrived

        def once() -> T:
            nonlocal broke
            if broke and before_retry is not None:
                found = before_retry()
                if found is not None:
                    return found
            try:
                return call()
            except stripe.APIConnectionError:
                broke = True
                raise

        def worth_retrying(exc: BaseException) -> bool:
            if isinstance(exc, stripe.RateLimitError):
                return True
            # Other calls had the SDK's own retries; a creation's are ours (see above).
            return isinstance(exc, stripe.APIConnectionError) and before_retry is not None

        def say_retry(state: RetryCallState) -> None:
            log.warning("stripe call retried", extra={"event": "stripe_retry", "call": what})

        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential(multiplier=self.retry_base),
            retry=retry_if_exception(worth_retrying),
            sleep=self.sleep,
            before_sleep=say_retry,
            reraise=True,
        )
        try:
            return retrying(once)
        except stripe.CardError as exc:
            error = _as_dict(_as_dict(exc.json_body).get("error"))
            raise CardDeclined(
                exc.user_message or str(exc),
                code=exc.code or error.get("code"),
                decline_code=error.get("decline_code"),
            ) from None
        except stripe.RateLimitError as exc:
            raise GatewayBusy(f"Stripe is rate limiting us ({what})", status=429) from exc
        except stripe.APIConnectionError as exc:
            raise GatewayUnclear(
                f"no answer from Stripe ({what}): {exc.user_message or exc}"
            ) from exc
        except stripe.APIError as exc:  # 5xx, 409 and other unexpected statuses
            raise GatewayUnclear(
                f"Stripe answered {exc.http_status} ({what}); the outcome is unknown",
                status=exc.http_status,
            ) from exc
        except stripe.StripeError as exc:  # 400, 401, 403, 404: our request is wrong
            raise GatewayRefused(
                exc.user_message or str(exc), code=exc.code, status=exc.http_status
            ) from exc

    # ------------------------------------------------------------------ PaymentIntents

    def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
        find_existing: Callable[[], IntentState | None] | None = None,
        capture_method: str = "automatic",
    ) -> IntentState:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "metadata": metadata,
        }
        if capture_method == "manual":  # authorise now, capture after picking
            params["capture_method"] = "manual"
        return self._call(
            "create payment intent",
            lambda: intent_state(
                self.client.v1.payment_intents.create(
                    params=params, options={"idempotency_key": idempotency_key, **_OUR_RETRIES}
                )
            ),
            before_retry=find_existing,
        )

    def retrieve_intent(self, intent_id: str) -> IntentState:
        return self._call(
            "retrieve payment intent",
            lambda: intent_state(self.client.v1.payment_intents.retrieve(intent_id)),
        )

    def capture_intent(
        self, intent_id: str, *, amount_to_capture: int, idempotency_key: str
    ) -> IntentState:
        """Capture (part of) an authorised manual-capture intent; the rest is released."""
        return self._call(
            "capture payment intent",
            lambda: intent_state(
                self.client.v1.payment_intents.capture(
                    intent_id,
                    params={"amount_to_capture": amount_to_capture},
                    options={"idempotency_key": idempotency_key},
                )
            ),
        )

    def cancel_intent(self, intent_id: str) -> IntentState:
        return self._call(
            "cancel payment intent",
            lambda: intent_state(self.client.v1.payment_intents.cancel(intent_id)),
        )

    def find_intent(
        self, key: str, value: str, max_pages: int = 10, *, store_id: str | None = None
    ) -> IntentState | None:
        """The newest PaymentIntent whose metadata[key] == value (and, given ``store_id``,
        whose metadata names that store: a payment id is only its store's), by listing
        (Stripe's search is eventually consistent and localstripe has none)."""

        def scan() -> IntentState | None:
            after: str | None = None
            for _ in range(max_pages):
                params: dict[str, Any] = {"limit": LIST_PAGE}
                if after:
                    params["starting_after"] = after
                page = self.client.v1.payment_intents.list(params=params)
                for item in page.data:
                    state = intent_state(item)
                    if state.metadata.get(key) == value and (
                        store_id is None or state.metadata.get("store_id") == store_id
                    ):
                        return state
                if not page.has_more or not page.data:
                    return None
                after = page.data[-1].id
            return None

        return self._call("list payment intents", scan)

    # ------------------------------------------------------------------ refunds

    def create_refund(
        self,
        *,
        payment_intent: str,
        amount: int,
        metadata: dict[str, str],
        idempotency_key: str,
        find_existing: Callable[[], RefundState | None] | None = None,
    ) -> RefundState:
        params = {"payment_intent": payment_intent, "amount": amount, "metadata": metadata}
        return self._call(
            "create refund",
            lambda: refund_state(
                self.client.v1.refunds.create(
                    params=params, options={"idempotency_key": idempotency_key, **_OUR_RETRIES}
                )
            ),
            before_retry=find_existing,
        )

    def find_refund(self, payment_intent: str, refund_id: str) -> RefundState | None:
        def scan() -> RefundState | None:
            page = self.client.v1.refunds.list(
                params={"payment_intent": payment_intent, "limit": LIST_PAGE}
            )
            for item in page.data:
                state = refund_state(item)
                if state.metadata.get("refund_id") == refund_id:
                    return state
            return None

        return self._call("list refunds", scan)


def construct_event(payload: bytes, signature: str | None, secret: str, tolerance: int) -> Any:
    """The verified webhook event, or ``ValueError`` / ``stripe.SignatureVerificationError``."""
    return stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
