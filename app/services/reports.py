"""The manager's reports as the till asks for them (docs/manager.md, "Reports").

Online the Reports screen asks the store's server (``sync.reports``), which computes them over
everything the tills synced; offline the till computes the same reports over its own SQLite
(``LocalReportQueries``, local_db/reports.py) and marks them ``local_only``: they hold this
till's sales only. Either way the screen gets a ``ReportTable``. Only a manager may ask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from app.domain.clerk import Clerk
from app.domain.errors import InvalidInput, PosError
from app.domain.report import (
    DEFAULT_REPORT_LIMIT,
    MAX_REPORT_LIMIT,
    Cell,
    ReportName,
    ReportTable,
    check_clerk_filter,
    check_date_range,
    local_days_utc,
    report_table,
    store_zone,
)
from app.domain.timestamps import utc_iso
from app.ports import UnitOfWork
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
        ReportName.SHIFTS,
        ReportName.LOW_STOCK,
    }
)


class ReportNeedsServer(PosError):
    """A report only the server can make (other tills' data, the server's own records)."""

    code = "report_needs_server"


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What the manager asked for: a report over the store's local dates from…to
    (inclusive), of one terminal or all (``None``), of one clerk (a clerk id) or all; only
    the reports of ``CLERK_REPORTS`` take a clerk."""

    report: ReportName
    from_date: date
    to_date: date
    terminal: str | None = None
    limit: int = DEFAULT_REPORT_LIMIT
    order: Literal["top", "slow"] = "top"
    clerk: str | None = None


class LocalReportQueries(Protocol):
    """The till's own data as reports (local_db/reports.py; built by app.bootstrap)."""

    def run(self, request: ReportRequest) -> ReportTable:
        """The report over this till's sales, ``local_only``."""

    def time_zone(self) -> str:
        """The store's time zone as this till knows it (the server's, from enrollment)."""


def check_request(request: ReportRequest) -> ReportRequest:
    """Refuse a range that ends before it starts or spans more than a year, a bad limit, a
    clerk filter on a report without clerks."""
    check_date_range(request.from_date, request.to_date)
    check_clerk_filter(request.report, request.clerk)
    if not 1 <= request.limit <= MAX_REPORT_LIMIT:
        raise InvalidInput(f"limit is 1 to {MAX_REPORT_LIMIT}", field="limit")
    if request.terminal is not None and not request.terminal.strip():
        raise InvalidInput("terminal: a terminal code, or none for all", field="terminal")
    return request


def local_report(
    queries: LocalReportQueries,
    clerk: Clerk | None,
    request: ReportRequest,
    read: Callable[[], UnitOfWork] | None = None,
) -> ReportTable:
    """The report over this till's own data (offline): managers only. ``read`` opens a
    read-only unit of work: the shifts report is this till's Z reports (app.services.shifts)."""
    require_manager_role(clerk, "open the reports")
    check_request(request)
    if request.report not in LOCAL_REPORTS or (request.report is ReportName.SHIFTS and not read):
        raise ReportNeedsServer(
            f"the {request.report.value} report needs the store's server; this till has "
            "only its own sales",
            field="report",
        )
    if request.report is ReportName.SHIFTS:
        assert read is not None
        return local_shifts(queries, read, request)
    return queries.run(request)


def local_shifts(
    queries: LocalReportQueries, read: Callable[[], UnitOfWork], request: ReportRequest
) -> ReportTable:
    """This till's Z reports closed on the store's local days asked for, newest first, with
    their variances (the columns of the server's shifts report); with a clerk, the shifts
    that clerk opened or closed."""
    from app.services.shifts import z_reports

    zone_name = queries.time_zone()
    zone = store_zone(zone_name)
    start, end = local_days_utc(request.from_date, request.to_date, zone)
    with read() as uow:
        names = {c.id: c.name for c in uow.clerks.all()}
    rows: list[list[Cell]] = []
    for z in z_reports(read(), MAX_REPORT_LIMIT):
        if not start <= z.closed_at < end:
            continue
        if request.terminal and z.terminal_code != request.terminal:
            continue
        if request.clerk is not None and request.clerk not in (z.opened_by, z.closed_by):
            continue
        rows.append(
            [
                z.terminal_code,
                z.z_number,
                z.status.value,
                utc_iso(z.opened_at),
                utc_iso(z.closed_at),
                names.get(z.closed_by, z.closed_by),
                z.figures.net_sales,
                z.expected_cash,
                z.counted.total,
                z.difference,
                len(z.synced_after_close),
            ]
        )
    return report_table(
        ReportName.SHIFTS,
        time_zone=zone_name,
        from_date=request.from_date,
        to_date=request.to_date,
        terminal=request.terminal,
        rows=rows[: request.limit],
        local_only=True,
        clerk=request.clerk,
    )
