"""Manager sessions and the report endpoints (server/reports/service.py)."""

from __future__ import annotations

from flask import Blueprint, request

from app.domain.errors import InvalidInput
from app.domain.report import ReportName, clerk_filter_reports
from server.api import endpoint
from server.errors import ApiError, NotFound
from server.reports.service import ReportRequest, run_report
from server.reports.sessions import open_manager_session, require_manager
from server.services import services
from server.terminals.auth import caller
from sync.protocol import (
    MANAGER_HEADER,
    ManagerSessionRequest,
    ManagerSessionResponse,
    ReportQuery,
    ReportResponse,
)

bp = Blueprint("reports", __name__, url_prefix="/api/v1")

REPORT_LIST = ", ".join(name.value for name in ReportName)


@bp.post("/manager-sessions")
@endpoint(
    "Sign a manager in for reports (15 minutes); 5 wrong PINs lock the sign-in for 5 minutes",
    tag="reports",
    body=ManagerSessionRequest,
    response=ManagerSessionResponse,
    errors=(403,),
)
def create_manager_session(body: ManagerSessionRequest) -> ManagerSessionResponse:
    opened = open_manager_session(services().sessions, caller(), body.clerk_id, body.pin)
    return ManagerSessionResponse(
        token=opened.token,
        expires_at=opened.expires_at,
        clerk_id=str(opened.clerk_id),
        clerk_name=opened.clerk_name,
    )


@bp.get("/reports/<name>")
@endpoint(
    f"One report of the caller's store over its local dates (manager only; "
    f"send {MANAGER_HEADER}): {REPORT_LIST}; the clerk filter applies to "
    f"{clerk_filter_reports()}",
    tag="reports",
    query=ReportQuery,
    response=ReportResponse,
    errors=(403, 404, 422),
    path_values=(("name", tuple(name.value for name in ReportName)),),
)
def get_report(name: str, query: ReportQuery) -> ReportResponse:
    who = caller()
    svc = services()
    with svc.sessions() as session:
        require_manager(session, who, request.headers.get(MANAGER_HEADER))
        try:
            report = ReportName(name)
        except ValueError:
            raise NotFound(f"no report {name!r}; the reports are: {REPORT_LIST}") from None
        try:
            table = run_report(
                session,
                svc.catalog(session),
                report,
                ReportRequest(
                    store_id=who.store_id,
                    from_date=query.from_,
                    to_date=query.to,
                    terminal=query.terminal,
                    limit=query.limit,
                    order=query.order,
                    clerk=query.clerk,
                ),
            )
        except InvalidInput as exc:
            raise ApiError(exc.message, code=exc.code, field=exc.field, status=422) from None
    return ReportResponse.from_table(table)
