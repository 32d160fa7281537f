"""The manager's reports as the till asks for them (docs/manager.md, "Reports").

Online the Reports screen asks the store's server (``sync.reports``), which computes them over
everything the tills synced; offline the till computes the same reports over its own SQLite
(``LocalReportQueries``, local_db/reports.py) and marks them ``local_only``: they hold this
till's sales only. Either way the screen gets a ``ReportTable``. Only a manager may ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from app.domain.clerk import Clerk
from app.domain.errors import InvalidInput, PosError
from app.domain.report import (
    DEFAULT_REPORT_LIMIT,
    MAX_REPORT_LIMIT,
    ReportName,
    ReportTable,
    check_date_range,
)
from app.services.approvals import require_manager_role

# The reports a till can compute over its own data; the others need the server.
LOCAL_REPORTS = frozenset(
    {
        ReportName.SALES_BY_DAY,
        ReportName.SALES_BY_HOUR,
        ReportName.DEPARTMENTS,
        ReportName.PRODUCTS,
        ReportName.CLERKS,
        ReportName.TERMINALS,
        ReportName.TENDERS,
        ReportName.ADJUSTMENTS,
        ReportName.LOW_STOCK,
    }
)


class ReportNeedsServer(PosError):
    """A report only the server can make (other tills' data, the server's own records)."""

    code = "report_needs_server"


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What the manager asked for: a report over the store's local dates from…to
    (inclusive), of one terminal or all (``None``)."""

    report: ReportName
    from_date: date
    to_date: date
    terminal: str | None = None
    limit: int = DEFAULT_REPORT_LIMIT
    order: Literal["top", "slow"] = "top"


class LocalReportQueries(Protocol):
    """The till's own data as reports (local_db/reports.py; built by app.bootstrap)."""

    def run(self, request: ReportRequest) -> ReportTable:
        """The report over this till's sales, ``local_only``."""


def check_request(request: ReportRequest) -> ReportRequest:
    """Refuse a range that ends before it starts or spans more than a year, a bad limit."""
    check_date_range(request.from_date, request.to_date)
    if not 1 <= request.limit <= MAX_REPORT_LIMIT:
        raise InvalidInput(f"limit is 1 to {MAX_REPORT_LIMIT}", field="limit")
    if request.terminal is not None and not request.terminal.strip():
        raise InvalidInput("terminal: a terminal code, or none for all", field="terminal")
    return request


def local_report(
    queries: LocalReportQueries, clerk: Clerk | None, request: ReportRequest
) -> ReportTable:
    """The report over this till's own data (offline): managers only."""
    require_manager_role(clerk, "open the reports")
    check_request(request)
    if request.report not in LOCAL_REPORTS:
        raise ReportNeedsServer(
            f"the {request.report.value} report needs the store's server; this till has "
            "only its own sales",
            field="report",
        )
    return queries.run(request)
