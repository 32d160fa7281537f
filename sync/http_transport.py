"""`requests` transport to the sync server, speaking ``sync.protocol``.

Every request has a timeout; answers are parsed into the protocol's models, and every failure
becomes one of ``sync.errors`` so the engine can decide: back off, stop, or split the batch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import requests
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.domain.sync import UnusableRow
from sync import protocol as p
from sync.engine import PullAnswer
from sync.errors import (
    AuthFailed,
    BatchRefused,
    BatchTooLarge,
    IncompatibleServer,
    ServerTrouble,
    ServerUnreachable,
    SyncError,
)

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 20.0
# The server's own refusals a manager reads (a wrong PIN, an expired session): answered, not
# raised. 404/405 stay errors: a server without reports is an incompatible one.
_ANY_CLIENT_ERROR = tuple((status, "*") for status in (400, 401, 403, 409, 422, 423, 429))


class HttpSyncTransport:
    def __init__(
        self,
        base_url: str,
        token: Callable[[], str | None],
        *,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._session = session or requests.Session()
        self.last_duration_s = 0.0

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ calls

    def enroll(self, code: str, terminal_code: str, name: str = "") -> p.EnrollResponse:
        body = p.EnrollRequest(
            protocol_version=p.PROTOCOL_VERSION, code=code, terminal_code=terminal_code, name=name
        )
        data = self._request("POST", "/api/v1/terminals/enroll", body=body, auth=False)
        return p.EnrollResponse.model_validate(data)

    def push(self, events: Sequence[str]) -> p.PushResponse:
        """Push events given as their queued JSON texts: the body is put together around
        them, never decoded and encoded again (a resend is byte for byte the same, which
        the server answers from its stored hash)."""
        head = f'{{"protocol_version":{p.PROTOCOL_VERSION},"events":['.encode()
        body = head + b",".join(event.encode() for event in events) + b"]}"
        data = self._request("POST", "/api/v1/sync/push", raw_body=body)
        return p.PushResponse.model_validate(data)

    def pull(
        self, cursor: str, limit: int = p.DEFAULT_PULL_LIMIT, *, bookings_pending: bool = False
    ) -> p.PullResponse | PullAnswer:
        """One page of changes. A page with a row that does not match the protocol (a
        timestamp without a zone, a missing field) is read row by row: the rows that do are
        returned as changes, the others as ``unreadable``, each with what is wrong."""
        params = {"cursor": cursor, "limit": str(limit)}
        if bookings_pending:
            params["bookings_pending"] = "true"
        data = self._request("GET", "/api/v1/sync/pull", params=params)
        try:
            return p.PullResponse.model_validate(data)
        except ValidationError:
            return _read_row_by_row(data)

    def create_payment(self, body: p.CreatePaymentRequest) -> p.PaymentData:
        data = self._request("POST", "/api/v1/payments", body=body)
        return p.PaymentData.model_validate(data)

    def get_payment(self, payment_id: str) -> p.PaymentData:
        data = self._request("GET", f"/api/v1/payments/{payment_id}")
        return p.PaymentData.model_validate(data)

    def refund(self, payment_id: str, body: p.RefundRequest) -> p.RefundData:
        data = self._request("POST", f"/api/v1/payments/{payment_id}/refunds", body=body)
        return p.RefundData.model_validate(data)

    def email_link(self, payment_id: str, email: str) -> p.EmailQueued:
        body = p.EmailLinkRequest(protocol_version=p.PROTOCOL_VERSION, email=email)
        data = self._request("POST", f"/api/v1/payments/{payment_id}/email-link", body=body)
        return p.EmailQueued.model_validate(data)

    def cancel_payment(self, payment_id: str) -> p.PaymentData:
        """Cancel an open payment. The payment as it is now: ``failed`` once cancelled, or
        ``succeeded`` when the customer paid first (the server's 409
        ``payment_already_succeeded`` carries it)."""
        body = p.CancelPaymentRequest(protocol_version=p.PROTOCOL_VERSION)
        data = self._request(
            "POST",
            f"/api/v1/payments/{payment_id}/cancel",
            body=body,
            accept=((409, "payment_already_succeeded"),),
        )
        if "error" in data:
            conflict = p.PaymentConflictResponse.model_validate(data)
            if conflict.payment is None:
                raise ServerTrouble("the server said the payment succeeded but did not send it")
            return conflict.payment
        return p.PaymentData.model_validate(data)

    def manager_session(self, body: p.ManagerSessionRequest) -> dict[str, Any]:
        """Open a manager session (the manager's PIN as the server holds it). The answer's
        JSON: the session, or the server's 4xx error body (a wrong PIN, a clerk, a lockout),
        which the caller reads (sync/reports.py)."""
        return self._request(
            "POST", "/api/v1/manager-sessions", body=body, accept=_ANY_CLIENT_ERROR
        )

    def report(self, name: str, params: dict[str, str], manager_token: str) -> dict[str, Any]:
        """One report (``GET /api/v1/reports/{name}``) in a manager session: the answer's
        JSON, the report or the server's 4xx error body (the session expired …)."""
        return self._request(
            "GET",
            f"/api/v1/reports/{name}",
            params=params,
            headers={p.MANAGER_HEADER: manager_token},
            accept=_ANY_CLIENT_ERROR,
        )

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/api/v1/health", auth=False)

    # ------------------------------------------------------------------ plumbing

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: p.RequestModel | None = None,
        raw_body: bytes | None = None,
        params: dict[str, str] | None = None,
        auth: bool = True,
        accept: tuple[tuple[int, str], ...] = (),
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The answer's JSON; errors raise, except the (status, error code) in ``accept``
        (code ``*``: any of the server's errors with that status), whose error body is
        returned. ``headers`` are sent besides the protocol's own."""
        headers = {
            **(headers or {}),
            p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION),
            "Accept": "application/json",
        }
        if auth:
            token = self._token()
            if not token:
                raise AuthFailed("this till is not enrolled with a server")
            headers["Authorization"] = f"Bearer {token}"
        data: bytes | None = None
        if body is not None:
            data = body.model_dump_json().encode()
        elif raw_body is not None:
            data = raw_body
        if data is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                data=data,
                params=params,
                headers=headers,
                timeout=self._timeout,
            )
        except requests.Timeout as error:
            raise ServerUnreachable(
                f"the server did not answer in time ({error.__class__.__name__})"
            ) from None
        except requests.ConnectionError:
            raise ServerUnreachable("cannot reach the server") from None
        except requests.RequestException as error:
            raise ServerUnreachable(f"request failed: {error.__class__.__name__}") from None
        finally:
            self.last_duration_s = time.monotonic() - started
        return self._answer(response, accept)

    def _answer(
        self, response: requests.Response, accept: tuple[tuple[int, str], ...] = ()
    ) -> dict[str, Any]:
        """Only the server's own error — its JSON error shape *and* its protocol header —
        can refuse: an error page from a proxy or firewall in between (HTML, or JSON without
        the header) is transient and retried; its 413 still halves the batch."""
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        error = _server_error(response, data)
        if (
            error is not None
            and isinstance(data, dict)
            and ((status, error.error) in accept or (status, "*") in accept)
        ):
            return data
        if 200 <= status < 300:
            if not isinstance(data, dict):
                raise ServerTrouble(f"the server sent an unreadable answer (HTTP {status})")
            return data
        if status == 429:
            raise ServerTrouble(
                "the server asks us to slow down", retry_after=_retry_after(response)
            )
        if status >= 500:
            raise ServerTrouble(
                f"the server failed (HTTP {status})", retry_after=_retry_after(response)
            )
        if error is None:
            if status == 413:
                raise BatchTooLarge(
                    "something between the till and the server refuses the request as too "
                    "large (HTTP 413, not the server's answer)",
                    from_server=False,
                )
            raise ServerTrouble(
                f"something between the till and the server answered HTTP {status} "
                "(not the server's answer)"
            )
        message, code = error.message, error.error
        if status in (401, 403):
            raise AuthFailed(f"the server refused this till's token: {message}")
        if code == "unsupported_protocol_version" or status == 426:
            raise IncompatibleServer(f"the server does not speak this version: {message}")
        if status == 413:
            raise BatchTooLarge(f"{code}: {message}", from_server=True)
        if status in (400, 422):
            raise BatchRefused(f"{code}: {message}")
        raise SyncError(f"unexpected answer HTTP {status}: {message}")


def _read_row_by_row(data: dict[str, Any]) -> PullAnswer:
    read_envelope, read_change = _adapters()
    try:
        envelope = read_envelope.validate_python(data)
    except ValidationError:  # not a page at all: the answer, not a row, is wrong
        raise ServerTrouble("the server sent an unreadable pull page") from None
    changes: list[p.Change] = []
    unreadable: list[UnusableRow] = []
    for raw in envelope.changes:
        try:
            changes.append(read_change.validate_python(raw))
        except ValidationError as error:
            unreadable.append(_unreadable(raw, error))
    return PullAnswer(changes, envelope.next_cursor, envelope.has_more, tuple(unreadable))


def _unreadable(raw: object, error: ValidationError) -> UnusableRow:
    change = raw if isinstance(raw, dict) else {}
    row = change.get("data")
    row = row if isinstance(row, dict) else {}
    kind = str(change.get("kind") or "unknown")
    key = str(row.get("id") or row.get("product_id") or change.get("cursor") or "?")
    name = str(row.get("name") or row.get("starts_at") or key)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'] if part != 'data')}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    )
    payload = json.dumps(row if row else raw, default=str)
    return UnusableRow(kind[:20], key[:64], name[:200], problems, payload)


class _PullEnvelope(BaseModel):
    changes: list[Any]
    next_cursor: str
    has_more: bool


@cache
def _adapters() -> tuple[TypeAdapter[_PullEnvelope], TypeAdapter[p.Change]]:
    """Built on the first page that needs them (the till's start-up memory is measured)."""
    return TypeAdapter(_PullEnvelope), TypeAdapter(p.Change)


def _server_error(response: requests.Response, data: object) -> p.ErrorResponse | None:
    """The server's own error: its JSON error shape with its protocol header (every error
    the server sends carries both, server/errors.py); None for anything else."""
    if p.PROTOCOL_HEADER not in response.headers or not isinstance(data, dict):
        return None
    try:
        return p.ErrorResponse.model_validate(data)
    except ValidationError:
        return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None
