"""The server's reports as the till's Reports screen asks for them (docs/manager.md).

A manager opens a session with their PIN (``POST /api/v1/manager-sessions``, 15 minutes);
each report call sends the terminal's token as always and the session's token in
``X-Shopsmart-Manager``. What the server refuses (a wrong PIN, a clerk, a lockout, an expired
session) comes back as ``ReportRefused`` with the server's own words; a server that cannot be
reached raises the sync error it is (``ServerUnreachable`` …), so the screen can fall back to
the till's own data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from app.domain.errors import PosError
from app.domain.report import ReportTable
from app.services.reports import ReportRequest
from sync import protocol as p
from sync.errors import ServerTrouble
from sync.http_transport import HttpSyncTransport


class ReportRefused(PosError):
    """The server refused a manager session or a report; ``session_over`` when the session
    must be opened again (expired, or never opened)."""

    code = "report_refused"

    def __init__(self, message: str, *, error: str = "", session_over: bool = False) -> None:
        super().__init__(message, field="pin" if session_over else None)
        self.error = error
        self.session_over = session_over


SESSION_ERRORS = frozenset({"manager_required", "manager_session_expired", "invalid_manager"})


@dataclass(frozen=True, slots=True)
class ManagerSession:
    token: str
    expires_at: datetime
    clerk_id: str
    clerk_name: str

    def valid_at(self, now: datetime) -> bool:
        return now < self.expires_at


def _refused(data: dict[str, Any], *, session: bool = False) -> ReportRefused:
    error = p.ErrorResponse.model_validate(data)
    over = session or error.error in SESSION_ERRORS or "session" in error.error
    return ReportRefused(error.message, error=error.error, session_over=over)


class HttpReportClient:
    def __init__(self, transport: HttpSyncTransport) -> None:
        self._transport = transport

    def open_session(self, clerk_id: str, pin: str) -> ManagerSession:
        body = p.ManagerSessionRequest(
            protocol_version=p.PROTOCOL_VERSION, clerk_id=clerk_id, pin=pin
        )
        data = self._transport.manager_session(body)
        if "error" in data:
            raise _refused(data, session=True)
        answer = p.ManagerSessionResponse.model_validate(data)
        return ManagerSession(answer.token, answer.expires_at, answer.clerk_id, answer.clerk_name)

    def report(self, session: ManagerSession, request: ReportRequest) -> ReportTable:
        params = {
            "from": request.from_date.isoformat(),
            "to": request.to_date.isoformat(),
            "limit": str(request.limit),
        }
        if request.terminal:
            params["terminal"] = request.terminal
        if request.clerk is not None:
            params["clerk"] = request.clerk
        if request.report.value == "products":
            params["order"] = request.order
        data = self._transport.report(request.report.value, params, session.token)
        if "error" in data:
            raise _refused(data)
        try:
            return p.ReportResponse.model_validate(data).to_table()
        except (ValidationError, ValueError):
            raise ServerTrouble("the server sent a report this till cannot read") from None
