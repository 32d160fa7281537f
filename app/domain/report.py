"""The shape of every manager report: one table of typed columns, rows and totals.

The server computes its reports with SQL over what the tills synced (server/reports/) and
sends them as ``sync.protocol.ReportResponse``; the till computes the same reports over its
own SQLite when it is offline. Both hand the screen a ``ReportTable``, so every report is
rendered, charted and exported alike, whoever computed it.

Values in ``rows`` follow their column's kind: ``money`` int minor units, ``count`` int,
``quantity`` int (units, or grams for goods sold by weight), ``text`` str, ``date``
``YYYY-MM-DD`` (the store's local date), ``datetime`` ISO 8601 with its UTC offset,
``hour`` int 0–23 (the store's local hour), ``percent`` int basis points (10000 = 100 %).
Any cell may be ``None`` (nothing to show). ``totals`` holds the sum of each money, count
and quantity column that adds up across rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.domain.errors import InvalidInput

DEFAULT_TIME_ZONE = "Europe/Dublin"
MAX_REPORT_DAYS = 366  # one request covers at most a year
DEFAULT_REPORT_LIMIT = 50
MAX_REPORT_LIMIT = 1000
LOW_STOCK_UNITS = 5  # a product at or below this many units (grams / 1000 by weight) is low

Cell = str | int | None


class ColumnKind(StrEnum):
    MONEY = "money"
    COUNT = "count"
    QUANTITY = "quantity"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    HOUR = "hour"
    PERCENT = "percent"


ADDING_KINDS = frozenset({ColumnKind.MONEY, ColumnKind.COUNT, ColumnKind.QUANTITY})


class ReportName(StrEnum):
    SALES_BY_DAY = "sales-by-day"
    SALES_BY_HOUR = "sales-by-hour"
    DEPARTMENTS = "departments"
    PRODUCTS = "products"
    CLERKS = "clerks"
    TERMINALS = "terminals"
    TENDERS = "tenders"
    ADJUSTMENTS = "adjustments"
    SHIFTS = "shifts"
    LOW_STOCK = "low-stock"
    FLAGS = "flags"
    TERMINAL_HEALTH = "terminal-health"


@dataclass(frozen=True, slots=True)
class ReportColumn:
    key: str
    label: str
    kind: ColumnKind
    adds_up: bool = True  # only money, count and quantity columns are ever summed


def _col(key: str, label: str, kind: ColumnKind, *, adds_up: bool = True) -> ReportColumn:
    return ReportColumn(key, label, kind, adds_up and kind in ADDING_KINDS)


M, C, Q, T = ColumnKind.MONEY, ColumnKind.COUNT, ColumnKind.QUANTITY, ColumnKind.TEXT

# The figures of a sale, the same in every sales report: a sale counts on the store's local
# date (and hour) of its payment; a voided order is no sale (it leaves its day and is counted
# among the voids on the day of the void); a refund counts on the day it was given.
#   gross      the lines before any discount        (Σ line gross)
#   discounts  line and order discounts             (order discount_total)
#   sales      what the customers paid              (order total = gross − discounts, tax incl.)
#   tax        the tax inside (or added to) sales   (order tax_total)
#   refunds    what was given back                  (refund amounts)
#   net        sales − refunds
_SALES = (
    _col("orders", "Sales", C),
    _col("gross", "Gross", M),
    _col("discounts", "Discounts", M),
    _col("sales", "Sales amount", M),
    _col("refunds", "Refunds", M),
    _col("net", "Net", M),
    _col("tax", "Tax", M),
)

REPORT_COLUMNS: Mapping[ReportName, tuple[ReportColumn, ...]] = {
    ReportName.SALES_BY_DAY: (_col("date", "Date", ColumnKind.DATE), *_SALES),
    ReportName.SALES_BY_HOUR: (
        _col("hour", "Hour", ColumnKind.HOUR),
        _col("orders", "Sales", C),
        _col("sales", "Sales amount", M),
    ),
    ReportName.DEPARTMENTS: (
        _col("department", "Department", T),
        _col("lines", "Lines", C),
        _col("sales", "Sales amount", M),
        _col("share", "Share", ColumnKind.PERCENT),
    ),
    ReportName.PRODUCTS: (
        _col("product_id", "Product", T),
        _col("sku", "SKU", T),
        _col("name", "Name", T),
        _col("department", "Department", T),
        _col("lines", "Lines", C),
        # units and grams do not add up across products
        _col("quantity", "Quantity", Q, adds_up=False),
        _col("sales", "Sales amount", M),
    ),
    ReportName.CLERKS: (
        _col("clerk_id", "Clerk id", T),
        _col("clerk", "Clerk", T),
        _col("orders", "Sales", C),
        _col("sales", "Sales amount", M),
        _col("average", "Average sale", M, adds_up=False),
        _col("refunds_count", "Refunds given", C),
        _col("refunds", "Refunded", M),
        _col("voids_count", "Voids", C),
        _col("voids", "Voided", M),
    ),
    ReportName.TERMINALS: (
        _col("terminal", "Terminal", T),
        _col("orders", "Sales", C),
        _col("sales", "Sales amount", M),
        _col("average", "Average sale", M, adds_up=False),
        _col("refunds", "Refunds", M),
        _col("net", "Net", M),
    ),
    ReportName.TENDERS: (
        _col("tender", "Tender", T),
        _col("count", "Payments", C),
        _col("amount", "Taken", M),
        _col("refunds", "Refunded", M),
        _col("net", "Net", M),
    ),
    ReportName.ADJUSTMENTS: (
        _col("kind", "What", T),  # refunds, voids, discounts
        _col("count", "Count", C, adds_up=False),
        _col("amount", "Amount", M, adds_up=False),
    ),
    ReportName.SHIFTS: (
        _col("terminal", "Terminal", T),
        _col("z_number", "Z", C, adds_up=False),
        _col("status", "Status", T),  # open, provisional, final
        _col("opened_at", "Opened", ColumnKind.DATETIME),
        _col("closed_at", "Closed", ColumnKind.DATETIME),
        _col("closed_by", "Closed by", T),
        _col("net_sales", "Net sales", M),
        _col("expected_cash", "Expected cash", M),
        _col("counted", "Counted", M),
        _col("difference", "Difference", M),
        _col("synced_after_close", "Synced after close", C),
    ),
    ReportName.LOW_STOCK: (
        _col("product_id", "Product", T),
        _col("sku", "SKU", T),
        _col("name", "Name", T),
        _col("quantity", "In stock", Q, adds_up=False),
    ),
    ReportName.FLAGS: (
        _col("created_at", "When", ColumnKind.DATETIME),
        _col("kind", "Flag", T),  # oversold, price_mismatch
        _col("receipt_no", "Receipt", T),
        _col("terminal", "Terminal", T),
        _col("product_id", "Product", T),
        _col("detail", "Detail", T),
    ),
    ReportName.TERMINAL_HEALTH: (
        _col("terminal", "Terminal", T),
        _col("name", "Name", T),
        _col("status", "Status", T),  # active, revoked
        _col("last_seen", "Last seen", ColumnKind.DATETIME),
        _col("last_sale", "Last sale", ColumnKind.DATETIME),
        _col("waiting", "Waiting at last close", C),
        _col("refused", "Refused events", C),
    ),
}

ADJUSTMENT_KINDS = ("refunds", "voids", "discounts")

# The reports whose rows carry a clerk, and so take a clerk filter: a sale counts under the
# clerk on the order, a refund under the clerk who gave it, a void under the sale's clerk
# (on the server and in the till's own reports alike); the shifts report keeps the shifts that clerk opened or closed. The others (tenders,
# departments, products, low stock, flags, terminal health) have no clerk to filter by and
# refuse one (``check_clerk_filter``) rather than answer the whole store's figures.
CLERK_REPORTS = (
    ReportName.SALES_BY_DAY,
    ReportName.SALES_BY_HOUR,
    ReportName.CLERKS,
    ReportName.TERMINALS,
    ReportName.ADJUSTMENTS,
    ReportName.SHIFTS,
)
CLERK_ID_CHARS = 64


class ClerkFilterRefused(InvalidInput):
    code = "clerk_filter_not_supported"


def clerk_filter_reports() -> str:
    """ "sales-by-day, sales-by-hour, …": the reports a clerk filter applies to."""
    return ", ".join(name.value for name in CLERK_REPORTS)


def check_clerk_filter(report: ReportName, clerk: str | None) -> None:
    """Refuse a clerk filter on a report whose rows carry no clerk (never ignore it), and a
    clerk id that is empty or too long."""
    if clerk is None:
        return
    if not clerk.strip() or len(clerk) > CLERK_ID_CHARS:
        raise InvalidInput(
            f"clerk: a clerk id of 1 to {CLERK_ID_CHARS} characters, or none for all",
            field="clerk",
        )
    if report not in CLERK_REPORTS:
        raise ClerkFilterRefused(
            f"the {report.value} report has no clerk to filter by; the clerk filter applies "
            f"to {clerk_filter_reports()}",
            field="clerk",
        )


@dataclass(frozen=True, slots=True)
class ReportTable:
    """One report as a screen shows it (see the module's docstring for the cell types)."""

    report: ReportName
    time_zone: str
    from_date: date
    to_date: date
    terminal: str | None
    columns: tuple[ReportColumn, ...]
    rows: tuple[tuple[Cell, ...], ...]
    totals: Mapping[str, int] = field(default_factory=dict)
    local_only: bool = False  # computed by the till over its own data (offline)
    clerk: str | None = None  # the clerk id filtered by (None: every clerk)

    def column(self, key: str) -> int:
        """The index of column ``key`` in each row."""
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(key)


def report_totals(
    columns: Sequence[ReportColumn], rows: Sequence[Sequence[Cell]]
) -> dict[str, int]:
    """The sum of every column that adds up (money, count, quantity), over ``rows``."""
    totals: dict[str, int] = {}
    for index, column in enumerate(columns):
        if column.adds_up:
            totals[column.key] = sum(cell for row in rows if isinstance(cell := row[index], int))
    return totals


def report_table(
    report: ReportName,
    *,
    time_zone: str,
    from_date: date,
    to_date: date,
    terminal: str | None,
    rows: Sequence[Sequence[Cell]],
    local_only: bool = False,
    clerk: str | None = None,
) -> ReportTable:
    """A report's table with its own columns and the totals of its rows."""
    columns = REPORT_COLUMNS[report]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"{report}: a row of {len(row)} cells for {len(columns)} columns")
    return ReportTable(
        report=report,
        time_zone=time_zone,
        from_date=from_date,
        to_date=to_date,
        terminal=terminal,
        columns=columns,
        rows=tuple(tuple(row) for row in rows),
        totals=report_totals(columns, rows),
        local_only=local_only,
        clerk=clerk,
    )


# --------------------------------------------------------------------------- time zone


class InvalidTimeZone(InvalidInput):
    code = "invalid_time_zone"


def check_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone this machine knows, else ``InvalidTimeZone``."""
    if not name or name != name.strip() or name not in available_timezones():
        raise InvalidTimeZone(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Dublin",
            field="time_zone",
        )
    return name


def store_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(check_time_zone(name))
    except ZoneInfoNotFoundError:  # pragma: no cover - listed but not loadable
        raise InvalidTimeZone(f"unknown time zone {name!r}", field="time_zone") from None


def local_date_hour(moment: datetime, zone: ZoneInfo) -> tuple[date, int]:
    """The store's local date and hour (0–23) of a UTC moment."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the shop keeps UTC only")
    local = moment.astimezone(zone)
    return local.date(), local.hour


def local_days_utc(from_date: date, to_date: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC moments ``[start, end)`` that the store's local days from…to (inclusive) span,
    daylight-saving changes included."""
    start = datetime.combine(from_date, time(0), zone).astimezone(UTC)
    end = datetime.combine(to_date + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


FIRST_REPORT_DATE, LAST_REPORT_DATE = date(2000, 1, 1), date(2999, 12, 31)


def check_date_range(from_date: date, to_date: date) -> None:
    for name, day in (("from", from_date), ("to", to_date)):
        if not FIRST_REPORT_DATE <= day <= LAST_REPORT_DATE:
            raise InvalidInput(f"{name} {day} is outside the years 2000 to 2999", field=name)
    if to_date < from_date:
        raise InvalidInput(f"to {to_date} is before from {from_date}", field="to")
    if (to_date - from_date).days >= MAX_REPORT_DAYS:
        raise InvalidInput(
            f"{from_date} to {to_date} is more than {MAX_REPORT_DAYS} days", field="to"
        )
