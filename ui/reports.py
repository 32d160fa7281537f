"""The Reports screen for managers: the store's reports with a chart, a table, CSV and PDF.

Filters on top (report, date range, terminal, clerk, and the store as text: a till belongs to
one store, and the server scopes every report by it), the chart above, the table below, Export
CSV and PDF on the right (docs/manager.md, "Reports"). The clerk filter is for the reports whose
rows carry a clerk (``CLERK_REPORTS``); for the others the clerk box is disabled and says why.
Online it asks the store's server in a manager session (the manager's PIN once per 15 minutes,
on the network pool); offline, or when the server cannot be reached, the till computes the
report over its own data (the DB worker) and says plainly "Local only: this till's sales". A
clerk cannot open it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QPieSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QMarginsF, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QResizeEvent,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QSizePolicy,
    QTableWidgetItem,
    QWidget,
)

from app.domain.clerk import Clerk
from app.domain.errors import PosError
from app.domain.money import format_minor, to_major
from app.domain.report import CLERK_REPORTS, ColumnKind, ReportName, ReportTable
from app.services.approvals import require_manager_role
from app.services.reports import LOCAL_REPORTS, ReportRequest, check_request, local_report
from ui.style import ACCENT, INK, MUTED
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import PosDialog, button, error_text, label, list_table, pin_field

REPORT_TITLES: dict[ReportName, str] = {
    ReportName.SALES_BY_DAY: "Sales by day",
    ReportName.SALES_BY_HOUR: "Sales by hour",
    ReportName.DEPARTMENTS: "Departments",
    ReportName.PRODUCTS: "Products",
    ReportName.CLERKS: "Clerks",
    ReportName.TERMINALS: "Terminals",
    ReportName.TENDERS: "Tenders",
    ReportName.ADJUSTMENTS: "Refunds, voids, discounts",
    ReportName.SHIFTS: "Shifts and Z reports",
    ReportName.LOW_STOCK: "Low stock",
    ReportName.FLAGS: "Oversold and price flags",
    ReportName.TERMINAL_HEALTH: "Terminal health",
}
LOCAL_ONLY_TEXT = "Local only: this till's sales"
ALL_TERMINALS = "All terminals"
ALL_CLERKS = "All clerks"
INACTIVE_MARK = " (inactive)"

PIE_COLOURS = (ACCENT, "#6fb3c9", "#b9dbe6", "#1f2933", "#9aa5b1")  # the accent, its tints
CHART_BARS = 12  # a chart shows at most this many categories (the table has them all)
CHART_ROWS = 6  # a chart of named bars (departments, products, clerks): the largest six, so
# each name has the width to be read under its bar, on a 1024-pixel screen too
NAME_CHARS = 20  # a longer name is cut with "…" under its bar (the table has it whole)


def no_clerk_reason(report: ReportName) -> str:
    """Why the clerk box is disabled for ``report`` (its tooltip and the status line)."""
    return f"No clerk filter for {REPORT_TITLES[report].lower()}: its figures are not kept by clerk"


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """Which column names the categories and which the values of a report's chart."""

    category: str
    value: str
    style: str = "bar"  # bar, named (bars of the largest few, by name), pie (a whole's shares)


CHARTS: dict[ReportName, ChartSpec] = {
    ReportName.SALES_BY_DAY: ChartSpec("date", "sales"),
    ReportName.SALES_BY_HOUR: ChartSpec("hour", "sales"),
    ReportName.DEPARTMENTS: ChartSpec("department", "sales", "named"),
    ReportName.PRODUCTS: ChartSpec("name", "sales", "named"),
    ReportName.CLERKS: ChartSpec("clerk", "sales", "named"),
    ReportName.TERMINALS: ChartSpec("terminal", "sales"),
    ReportName.TENDERS: ChartSpec("tender", "amount", "pie"),
    ReportName.ADJUSTMENTS: ChartSpec("kind", "amount"),
    ReportName.SHIFTS: ChartSpec("z_number", "difference"),
}


def cell_text(kind: ColumnKind, value: str | int | None, currency: str, locale: str) -> str:
    """A cell as a person reads it: money in the store's currency, percent with its sign."""
    if value is None:
        return "–"
    if kind is ColumnKind.MONEY and isinstance(value, int):
        return format_minor(value, currency, locale)
    if kind is ColumnKind.PERCENT and isinstance(value, int):
        return f"{value / 100:.1f} %"
    if kind is ColumnKind.HOUR and isinstance(value, int):
        return f"{value:02d}:00"
    if kind is ColumnKind.DATETIME and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if kind is ColumnKind.QUANTITY and isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return str(value)


WORDED_KEYS = frozenset({"tender", "kind", "status"})


def shown_words(key: str, text: str) -> str:
    """Codes a person reads as words: ``pay_later`` → "Pay later", ``voids`` → "Voids"."""
    if key in WORDED_KEYS and text:
        words = text.replace("_", " ")
        return words[:1].upper() + words[1:]
    return text


def csv_value(kind: ColumnKind, value: str | int | None, currency: str) -> str:
    """A cell for a spreadsheet: money in major units with a point (``12.34``), percent as a
    number of percent, everything else as sent."""
    if value is None:
        return ""
    if kind is ColumnKind.MONEY and isinstance(value, int):
        return str(to_major(value, currency))
    if kind is ColumnKind.PERCENT and isinstance(value, int):
        return f"{value / 100:.2f}"
    return str(value)


def report_csv(table: ReportTable, currency: str, clerk_name: str = "") -> str:
    """The report as CSV: the column labels, one line per row, then the totals line; a
    report of one clerk starts with a heading line that says so (``describe``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if table.clerk is not None:
        writer.writerow([describe(table, clerk_name)])
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow(
            csv_value(column.kind, value, currency)
            for column, value in zip(table.columns, row, strict=True)
        )
    if table.totals:
        writer.writerow(
            csv_value(column.kind, table.totals[column.key], currency)
            if column.key in table.totals
            else ("Total" if index == 0 else "")
            for index, column in enumerate(table.columns)
        )
    return out.getvalue()


def describe(table: ReportTable, clerk_name: str = "") -> str:
    """ "Sales by day · 2026-11-01 to 2026-11-30 · all terminals · all clerks ·
    Europe/Dublin" (``clerk_name``: the name of the clerk filtered by, else its id)."""
    days = (
        table.from_date.isoformat()
        if table.from_date == table.to_date
        else f"{table.from_date.isoformat()} to {table.to_date.isoformat()}"
    )
    terminal = f"till {table.terminal}" if table.terminal else "all terminals"
    clerk = f"clerk {clerk_name or table.clerk}" if table.clerk is not None else "all clerks"
    return f"{REPORT_TITLES[table.report]} · {days} · {terminal} · {clerk} · {table.time_zone}"


def chart_points(table: ReportTable, currency: str, locale: str) -> list[tuple[str, int]]:
    """(category, value) of the report's chart, largest first where order does not matter
    (days and hours keep theirs), at most ``CHART_BARS``."""
    spec = CHARTS.get(table.report)
    if spec is None:
        return []
    category_at, value_at = table.column(spec.category), table.column(spec.value)
    kind = table.columns[category_at].kind
    key = table.columns[category_at].key

    def category(value: str | int | None) -> str:
        if kind is ColumnKind.DATE and isinstance(value, str):
            return date.fromisoformat(value).strftime("%d %b")
        if key == "z_number":
            return f"Z {value}"
        if kind is ColumnKind.HOUR and isinstance(value, int):
            return str(value)  # 24 bars: the hour alone fits under each
        text = shown_words(key, cell_text(kind, value, currency, locale))
        if spec.style == "named" and len(text) > NAME_CHARS:
            return text[: NAME_CHARS - 1].rstrip() + "…"
        return text

    points = [(category(row[category_at]), row[value_at]) for row in table.rows]
    numeric = [(name, value) for name, value in points if isinstance(value, int)]
    if table.report in (ReportName.SALES_BY_DAY, ReportName.SALES_BY_HOUR, ReportName.SHIFTS):
        return numeric[-CHART_BARS * 3 :] if table.report is ReportName.SALES_BY_DAY else numeric
    most = CHART_ROWS if spec.style == "named" else CHART_BARS
    if table.report is ReportName.PRODUCTS:
        return numeric[:most]
    return sorted(numeric, key=lambda p: -p[1])[:most]


def tick_decimals(low: float, high: float, ticks: int) -> int:
    """The decimals the value axis needs so that no two ticks read the same: 0 for steps of
    whole units, 1 or 2 for a day of a few euros (0, 0.5, 1, 1.5 — not 0, 1, 1, 2)."""
    step = (high - low) / max(1, ticks - 1)
    for decimals in (0, 1):
        if abs(step * 10**decimals - round(step * 10**decimals)) < 1e-6:
            return decimals
    return 2


def build_chart(table: ReportTable, currency: str, locale: str) -> QChart | None:
    """The report's chart (QtCharts), or None for a report that is a list (low stock …)."""
    spec = CHARTS.get(table.report)
    points = chart_points(table, currency, locale)
    if spec is None or not points:
        return None
    chart = QChart()
    chart.setTitle(f"{table.columns[table.column(spec.value)].label} ({currency})")
    chart.setTitleFont(QFont("DejaVu Sans", 11, QFont.Weight.Bold))
    chart.setBackgroundRoundness(6)
    chart.setMargins(chart.margins())
    chart.legend().hide()
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    major = [float(to_major(value, currency)) for _name, value in points]
    if spec.style == "pie":
        pie = QPieSeries()
        pie.setPieSize(0.75)
        for index, ((name, value), amount) in enumerate(zip(points, major, strict=True)):
            if value > 0:
                slice_ = pie.append(f"{name} {format_minor(value, currency, locale)}", amount)
                slice_.setLabelVisible(True)
                slice_.setColor(QColor(PIE_COLOURS[index % len(PIE_COLOURS)]))
                slice_.setBorderColor(QColor("#ffffff"))
        chart.addSeries(pie)
        return chart
    bars = QBarSet(table.columns[table.column(spec.value)].label)
    bars.setColor(QColor(ACCENT))
    bars.append(major)
    names = [name for name, _value in points]
    series = QBarSeries()
    series.append(bars)
    series.setBarWidth(0.7)
    chart.addSeries(series)
    categories = QBarCategoryAxis()
    categories.append(names)
    values = QValueAxis()
    low = min(0.0, *major)
    values.setRange(low, max(1.0, *major) * 1.1)
    values.applyNiceNumbers()
    values.setLabelFormat(f"%.{tick_decimals(values.min(), values.max(), values.tickCount())}f")
    for axis in (categories, values):
        axis.setLabelsColor(QColor(INK))
        axis.setLabelsFont(QFont("DejaVu Sans", 9))
    values.setGridLineColor(QColor("#e4e7eb"))
    chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(categories)
    series.attachAxis(values)
    return chart


def report_html(
    table: ReportTable, currency: str, locale: str, chart: bool, clerk_name: str = ""
) -> str:
    """The report for its PDF: title (and the clerk, for one clerk's), what it covers, the
    chart (resource ``chart``), the table with its totals."""
    title = REPORT_TITLES[table.report]
    if table.clerk is not None:
        title = f"{title} · clerk {clerk_name or table.clerk}"
    parts = [
        "<div style='font-family: \"DejaVu Sans\"; font-size: 9pt; color: #000;'>",
        f"<h2 style='margin:0'>{escape(title)}</h2>",
        f"<p style='margin:2px 0 8px 0; color:{MUTED}'>{escape(describe(table, clerk_name))}</p>",
    ]
    if table.local_only:
        parts.append(f"<p><b>{escape(LOCAL_ONLY_TEXT)}</b> (computed by this till offline)</p>")
    if chart:
        parts.append("<p><img src='chart' width='640'></p>")
    parts.append("<table width='100%' cellspacing='0' cellpadding='3' border='0.5'><tr>")
    numeric = {ColumnKind.MONEY, ColumnKind.COUNT, ColumnKind.QUANTITY, ColumnKind.PERCENT}
    for column in table.columns:
        align = "right" if column.kind in numeric else "left"
        parts.append(f"<th align='{align}' bgcolor='#eef0f3'>{escape(column.label)}</th>")
    parts.append("</tr>")
    for row in table.rows:
        parts.append("<tr>")
        for column, value in zip(table.columns, row, strict=True):
            align = "right" if column.kind in numeric else "left"
            text = escape(cell_text(column.kind, value, currency, locale))
            parts.append(f"<td align='{align}'>{text}</td>")
        parts.append("</tr>")
    if table.totals:
        parts.append("<tr>")
        for index, column in enumerate(table.columns):
            value = table.totals.get(column.key)
            text = (
                cell_text(column.kind, value, currency, locale)
                if column.key in table.totals
                else ("Total" if index == 0 else "")
            )
            align = "right" if column.key in table.totals else "left"
            parts.append(f"<td align='{align}'><b>{escape(text)}</b></td>")
        parts.append("</tr>")
    parts.append("</table></div>")
    return "".join(parts)


def save_report_pdf(
    table: ReportTable,
    currency: str,
    locale: str,
    chart_image: QImage | None,
    path: Path,
    clerk_name: str = "",
) -> Path:
    """The report as an A4 landscape PDF (runs in a worker: file I/O)."""
    writer = QPdfWriter(str(path))
    writer.setResolution(150)
    writer.setTitle(REPORT_TITLES[table.report])
    writer.setCreator("ShopSmart POS")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(12, 12, 12, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    document = QTextDocument()
    if chart_image is not None:
        document.addResource(QTextDocument.ResourceType.ImageResource, "chart", chart_image)
    document.setHtml(report_html(table, currency, locale, chart_image is not None, clerk_name))
    # The page in the document's own (screen) pixels: print_ scales it to the writer's
    # resolution, so 9 pt stays 9 pt on paper, and a long table goes on to the next pages.
    room = writer.pageLayout().paintRect(QPageLayout.Unit.Millimeter)
    document.setPageSize(QSizeF(room.width() / 25.4 * 96, room.height() / 25.4 * 96))
    document.print_(writer)
    return path


def default_range(today: date) -> tuple[date, date]:
    """The last seven days, today included."""
    return today - timedelta(days=6), today


class ReportsDialog(PosDialog):
    """Reports for a manager. ``server`` makes the report client (None: this till is not
    enrolled); ``online`` says whether the server can be reached now; ``sessions`` keeps the
    manager session between openings (the main window's dict)."""

    report_shown = Signal(object)  # the ReportTable on screen
    exported = Signal(str)  # the path written

    def __init__(
        self,
        terminal: Any,
        runner: TaskRunner,
        clerk: Clerk | None,
        *,
        server: Callable[[], Any] | None = None,
        online: Callable[[], bool] = lambda: False,
        sessions: dict[str, Any] | None = None,
        today: date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.clerk = require_manager_role(clerk, "open the reports")
        super().__init__("Reports", parent)
        self._terminal = terminal
        self._runner = runner
        self._server = server
        self._online = online
        self._sessions = sessions if sessions is not None else {}
        self.table_shown: ReportTable | None = None
        self.chart: QChart | None = None
        self.loading = False
        self._asked: tuple[ReportName, str | None] | None = None  # what the load under way is for
        store = terminal.store
        self._currency, self._locale = store.currency, store.locale
        self.resize(1240, 860)

        filters = QHBoxLayout()
        filters.setSpacing(10)
        self.report_choice = QComboBox()
        for name, title in REPORT_TITLES.items():
            self.report_choice.addItem(title, name)
        self.report_choice.setMinimumContentsLength(22)
        self.report_choice.currentIndexChanged.connect(lambda _i: self._on_report_changed())
        filters.addWidget(self._caption("&Report", self.report_choice))
        filters.addWidget(self.report_choice, 2)
        self.order_choice = QComboBox()
        self.order_choice.addItem("Top sellers", "top")
        self.order_choice.addItem("Slow sellers", "slow")
        self.order_choice.setMinimumContentsLength(11)
        filters.addWidget(self.order_choice)
        filters.addStretch(1)
        self.csv_button = button("Export CSV…", self.ask_csv_path)
        self.pdf_button = button("Export PDF…", self.ask_pdf_path)
        for extra in (self.csv_button, self.pdf_button):
            extra.setAutoDefault(False)
            extra.setEnabled(False)
            filters.addWidget(extra)
        self.body.addLayout(filters)

        span = QHBoxLayout()
        span.setSpacing(10)
        start, end = default_range(today or date.today())
        self.from_date = self._date_edit(start)
        self.to_date = self._date_edit(end)
        span.addWidget(self._caption("&From", self.from_date))
        span.addWidget(self.from_date)
        span.addWidget(self._caption("to", self.to_date))
        span.addWidget(self.to_date)
        span.addSpacing(16)
        self.terminal_choice = QComboBox()
        self.terminal_choice.setEditable(True)
        self.terminal_choice.addItem(ALL_TERMINALS)
        self.terminal_choice.addItem(store.terminal_code)
        self.terminal_choice.lineEdit().setMaxLength(16)
        self.terminal_choice.setMinimumContentsLength(13)
        span.addWidget(self._caption("&Terminal", self.terminal_choice))
        span.addWidget(self.terminal_choice)
        span.addStretch(1)
        self.body.addLayout(span)

        # The store is not a choice: a till belongs to one store, and the server scopes every
        # report by the till's (docs/manager.md, "Reports").
        people = QHBoxLayout()
        people.setSpacing(10)
        self.clerk_choice = QComboBox()
        self.clerk_choice.addItem(ALL_CLERKS, None)
        self.clerk_choice.setMinimumContentsLength(18)
        self.clerk_choice.currentIndexChanged.connect(lambda _i: self._auto_load())
        self.clerk_names: dict[str, str] = {}
        people.addWidget(self._caption("&Clerk", self.clerk_choice))
        people.addWidget(self.clerk_choice)
        people.addSpacing(16)
        self.store_text = label(f"Store {store.store_code} · {store.store_name}", "Muted")
        people.addWidget(self.store_text)
        people.addStretch(1)
        self.body.addLayout(people)

        self.pin_row = QWidget()
        pin_line = QHBoxLayout(self.pin_row)
        pin_line.setContentsMargins(0, 0, 0, 0)
        self.pin_caption = label(
            f"The store's reports from the server: {self.clerk.name}'s manager PIN", wrap=True
        )
        pin_line.addWidget(self.pin_caption, 1)
        self.pin = pin_field()
        self.pin.setMaximumWidth(220)
        pin_line.addWidget(self.pin)
        self.local_button = button("This till only", self.show_local)
        self.local_button.setAutoDefault(False)
        pin_line.addWidget(self.local_button)
        self.body.addWidget(self.pin_row)

        self.banner = label("", "Notice", wrap=True)
        self.banner.hide()
        self.body.addWidget(self.banner)

        self.chart_view = QChartView()
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(200)
        self.chart_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.body.addWidget(self.chart_view, 3)
        self.grid = list_table([], 34)
        self.grid.setAlternatingRowColors(True)
        self.grid.setMinimumHeight(160)
        self.body.addWidget(self.grid, 4)
        self.status = label("", "Muted", wrap=True)
        self.body.addWidget(self.status)
        self.finish_layout("Show (Enter)", "Close (Esc)", stretch=False)
        self.order_choice.setVisible(False)
        self.chart_view.hide()  # until there is a report to draw
        self._show_clerk_choice()
        self._show_pin_row()
        self._load_clerks()
        QTimer.singleShot(0, self._auto_load)

    @staticmethod
    def _caption(text: str, buddy: QWidget) -> Any:
        """A filter's caption; its ``&`` letter with Alt moves the focus to the filter."""
        caption = label(text)
        caption.setBuddy(buddy)
        return caption

    def _load_clerks(self) -> None:
        """The till's clerks into the clerk box, by name, inactive ones marked (DB worker)."""
        terminal = self._terminal

        def read(_control: TaskControl) -> list[tuple[str, str, bool]]:
            with terminal.read() as uow:
                return [(c.id, c.name, c.active) for c in uow.clerks.all()]

        self._runner.run_db("report clerks", read, self._on_clerks_loaded, self._on_failed)

    def _on_clerks_loaded(self, clerks: list[tuple[str, str, bool]]) -> None:
        if not shiboken6.isValid(self):
            return
        chosen = self.clerk_choice.currentData()
        self.clerk_choice.blockSignals(True)  # the same choice: nothing to show again
        self.clerk_choice.clear()
        self.clerk_choice.addItem(ALL_CLERKS, None)
        for clerk_id, name, active in sorted(clerks, key=lambda c: (c[1].casefold(), c[0])):
            self.clerk_names[clerk_id] = name
            self.clerk_choice.addItem(name if active else f"{name}{INACTIVE_MARK}", clerk_id)
        self.clerk_choice.setCurrentIndex(max(0, self.clerk_choice.findData(chosen)))
        self.clerk_choice.blockSignals(False)

    def _show_clerk_choice(self) -> None:
        """The clerk box is for the reports that have clerks; for the others it says why not."""
        report = self.report_name()
        takes_clerk = report in CLERK_REPORTS
        self.clerk_choice.setEnabled(takes_clerk)
        self.clerk_choice.setToolTip(
            "Only this clerk's figures" if takes_clerk else no_clerk_reason(report)
        )

    def clerk_name(self, table: ReportTable | None = None) -> str:
        """The name of the clerk ``table`` (default: the one shown) is filtered by."""
        table = table or self.table_shown
        if table is None or table.clerk is None:
            return ""
        return self.clerk_names.get(table.clerk, table.clerk)

    @staticmethod
    def _date_edit(day: date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumWidth(150)
        return edit

    # ------------------------------------------------------------------ what is asked

    def _on_report_changed(self) -> None:
        """Another report chosen: shown at once, unless the server still needs the PIN."""
        self.order_choice.setVisible(self.report_name() is ReportName.PRODUCTS)
        self._show_clerk_choice()
        self._auto_load()

    def _auto_load(self) -> None:
        if self.loading or not self.isVisible():
            return
        if self._use_server() and self._session() is None:
            return  # the PIN first
        self.load()

    def report_name(self) -> ReportName:
        value = self.report_choice.currentData()
        return ReportName(value)

    def _choice(self) -> tuple[ReportName, str | None]:
        """The report and clerk chosen now (a load remembers what it was for)."""
        return self.report_name(), self._clerk_asked()

    def _clerk_asked(self) -> str | None:
        """The clerk id the chosen report is for (None: every clerk, or a report without)."""
        if self.report_name() not in CLERK_REPORTS:
            return None
        clerk: str | None = self.clerk_choice.currentData()
        return clerk

    def request(self) -> ReportRequest:
        terminal = self.terminal_choice.currentText().strip()
        report = self.report_name()
        clerk = self._clerk_asked()
        return check_request(
            ReportRequest(
                report=report,
                from_date=self.from_date.date().toPython(),
                to_date=self.to_date.date().toPython(),
                terminal=None if terminal in ("", ALL_TERMINALS) else terminal.upper(),
                order=self.order_choice.currentData(),
                clerk=clerk,
            )
        )

    def _session(self) -> Any:
        session = self._sessions.get(self.clerk.id)
        if session is not None and not session.valid_at(datetime.now(UTC)):
            self._sessions.pop(self.clerk.id, None)
            return None
        return session

    def _use_server(self) -> bool:
        return self._server is not None and self._online()

    def _show_pin_row(self) -> None:
        self.pin_row.setVisible(self._use_server() and self._session() is None)

    def first_field(self) -> QWidget | None:
        if self.pin_row.isVisibleTo(self):
            return self.pin
        return self.report_choice

    # ------------------------------------------------------------------ loading

    def _on_ok(self) -> None:
        """Enter: show the report (from the server in a session, else this till's)."""
        self.load()

    def load(self) -> None:
        if self.loading:
            return
        try:
            request = self.request()
        except Exception as error:  # a bad range: said under the filters, nothing asked
            self.show_error(error_text(error))
            return
        self.error.hide()
        if not self._use_server():
            self._load_local(request, "")
            return
        session = self._session()
        pin = self.pin.text()
        if session is None and not pin:
            self.show_error(
                "Type your manager PIN for the store's reports, or press “This till only”."
            )
            self.pin.setFocus()
            return
        self._load_server(request, session, pin)

    def show_local(self) -> None:
        """The till's own figures, without asking the server."""
        try:
            request = self.request()
        except Exception as error:
            self.show_error(error_text(error))
            return
        self._load_local(request, "")

    def _busy(self, text: str) -> None:
        self.loading = True
        self.status.setText(text)
        self.ok_button.setEnabled(False)

    def _load_local(self, request: ReportRequest, why: str) -> None:
        if request.report not in LOCAL_REPORTS:
            self._show_table(None)
            self.banner.setText(
                f"{LOCAL_ONLY_TEXT}. {REPORT_TITLES[request.report]} needs the store's "
                f"server, which {why or 'this till cannot reach now'}."
            )
            self.banner.show()
            self.status.setText("")
            return
        terminal, clerk = self._terminal, self.clerk
        self._asked = self._choice()  # the choice when asked
        self._busy("Computing this till's report…")
        self._local_reason = why

        def work(_control: TaskControl) -> ReportTable:
            return local_report(terminal.local_reports(), clerk, request, terminal.read)

        self._runner.run_db("local report", work, self._on_loaded, self._on_failed)

    def _load_server(self, request: ReportRequest, session: Any, pin: str) -> None:
        make, clerk = self._server, self.clerk
        assert make is not None
        self._asked = self._choice()  # the choice when asked
        self._busy("Asking the store's server…")

        def work(_control: TaskControl) -> tuple[Any, ReportTable]:
            client = make()
            if client is None:
                raise ConnectionError("this till is not connected to a server")
            opened = session or client.open_session(clerk.id, pin)
            return opened, client.report(opened, request)

        def fall_back(error: Exception) -> None:
            from sync.reports import ReportRefused

            if not shiboken6.isValid(self):  # closed while the server was asked
                return
            self.loading = False
            self.ok_button.setEnabled(True)
            if isinstance(error, ReportRefused):
                if error.session_over:
                    self._sessions.pop(clerk.id, None)
                    self.pin.clear()
                    self._show_pin_row()
                    self.pin.setFocus()
                self.status.setText("")
                self.show_error(error_text(error))
                return
            said = error_text(error) if isinstance(error, PosError) else str(error)
            self._load_local(request, f"could not be asked ({said})")

        self._runner.run_network("server report", work, self._on_server_report, fall_back)

    def _on_server_report(self, answer: tuple[Any, ReportTable]) -> None:
        session, table = answer
        self._sessions[self.clerk.id] = session
        self.pin.clear()
        self.pin_row.hide()
        self._local_reason = ""
        self._on_loaded(table)

    def _on_failed(self, error: Exception) -> None:
        self.loading = False
        self.ok_button.setEnabled(True)
        self.status.setText("")
        self.show_error(error_text(error))

    def _on_loaded(self, table: ReportTable) -> None:
        self.loading = False
        self.ok_button.setEnabled(True)
        if self._asked != self._choice():
            self.load()  # another report or clerk was chosen while this one loaded
            return
        if table.local_only:
            reason = getattr(self, "_local_reason", "")
            extra = f" The store's server {reason}." if reason else ""
            self.banner.setText(
                f"{LOCAL_ONLY_TEXT} ({self._terminal.store.terminal_code}): other tills' "
                f"sales are not included.{extra}"
            )
            self.banner.show()
        else:
            self.banner.hide()
        self._show_table(table)
        source = "this till" if table.local_only else "the store's server"
        line = f"{describe(table, self.clerk_name(table))} · from {source}"
        if table.report not in CLERK_REPORTS:
            line += f" · {no_clerk_reason(table.report)}"
        self.status.setText(line)
        self.report_shown.emit(table)

    # ------------------------------------------------------------------ rendering

    def _show_table(self, table: ReportTable | None) -> None:
        self.table_shown = table
        for extra in (self.csv_button, self.pdf_button):
            extra.setEnabled(table is not None)
        self.grid.clear()
        if table is None:
            self.grid.setRowCount(0)
            self.grid.setColumnCount(0)
            self._set_chart(None)
            return
        columns = [c for c in table.columns if c.key not in ("product_id", "clerk_id")]
        shown = [table.columns.index(c) for c in columns]
        self.grid.setColumnCount(len(columns))
        self.grid.setHorizontalHeaderLabels([c.label for c in columns])
        rows = len(table.rows) + (1 if table.totals else 0)
        self.grid.setRowCount(rows)
        numeric = {ColumnKind.MONEY, ColumnKind.COUNT, ColumnKind.QUANTITY, ColumnKind.PERCENT}
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, row in enumerate(table.rows):
            for c, index in enumerate(shown):
                column = table.columns[index]
                item = QTableWidgetItem(
                    shown_words(
                        column.key,
                        cell_text(column.kind, row[index], self._currency, self._locale),
                    )
                )
                if column.kind in numeric:
                    item.setTextAlignment(right)
                self.grid.setItem(r, c, item)
        if table.totals:
            bold = QFont(self.grid.font())
            bold.setBold(True)
            for c, index in enumerate(shown):
                column = table.columns[index]
                if column.key in table.totals:
                    text = cell_text(
                        column.kind, table.totals[column.key], self._currency, self._locale
                    )
                else:
                    text = "Total" if c == 0 else ""
                item = QTableWidgetItem(text)
                item.setFont(bold)
                if column.key in table.totals:
                    item.setTextAlignment(right)
                self.grid.setItem(rows - 1, c, item)
        self._fit_columns()
        self._set_chart(build_chart(table, self._currency, self._locale))

    def _fit_columns(self) -> None:
        """Each column as wide as its widest cell; the room left over shared out evenly (a
        table wider than the window scrolls)."""
        header = self.grid.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        widths = [header.sectionSize(i) for i in range(header.count())]
        scroll_bar = self.grid.verticalScrollBar().sizeHint().width()  # may appear
        spare = self.grid.viewport().width() - scroll_bar - sum(widths)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for index, width in enumerate(widths):
            header.resizeSection(index, width + max(0, spare) // len(widths))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.table_shown is not None:
            self._fit_columns()

    def _set_chart(self, chart: QChart | None) -> None:
        self.chart = chart
        self.chart_view.setVisible(chart is not None)
        if chart is not None:
            self.chart_view.setChart(chart)

    def chart_image(self) -> QImage | None:
        """The chart as drawn now (for the PDF), on the GUI thread."""
        if self.chart is None or not self.chart_view.isVisible():
            return None
        image = QImage(1600, 560, QImage.Format.Format_RGB32)
        image.fill(QColor("#ffffff"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.render(painter)
        painter.end()
        return image

    # ------------------------------------------------------------------ export

    def export_name(self, suffix: str) -> str:
        table = self.table_shown
        assert table is not None
        scope = f"-{table.terminal}" if table.terminal else ""
        if table.clerk is not None:
            name = "".join(ch if ch.isalnum() else "-" for ch in self.clerk_name(table).lower())
            scope += f"-clerk-{name.strip('-') or 'clerk'}"
        local = "-local" if table.local_only else ""
        return (
            f"{table.report.value}{scope}{local}-{table.from_date.isoformat()}-"
            f"{table.to_date.isoformat()}.{suffix}"
        )

    def ask_csv_path(self) -> None:
        if self.table_shown is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export CSV", self.export_name("csv"), "CSV (*.csv)"
        )
        if path:
            self.save_csv(Path(path))

    def ask_pdf_path(self) -> None:
        if self.table_shown is None:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export PDF", self.export_name("pdf"), "PDF (*.pdf)"
        )
        if path:
            self.save_pdf(Path(path))

    def save_csv(self, path: Path) -> None:
        table, currency = self.table_shown, self._currency
        assert table is not None
        clerk_name = self.clerk_name(table)

        def write(_control: TaskControl) -> Path:
            path.write_text(report_csv(table, currency, clerk_name), encoding="utf-8")
            return path

        self.status.setText("Saving CSV…")
        self._runner.run_io("report csv", write, self._on_exported, self._on_failed)

    def save_pdf(self, path: Path) -> None:
        table, currency, locale = self.table_shown, self._currency, self._locale
        assert table is not None
        image = self.chart_image()
        clerk_name = self.clerk_name(table)
        self.status.setText("Saving PDF…")
        self._runner.run_io(
            "report pdf",
            lambda _c: save_report_pdf(table, currency, locale, image, path, clerk_name),
            self._on_exported,
            self._on_failed,
        )

    def _on_exported(self, path: Path) -> None:
        self.status.setText(f"Saved {path.name}")
        self.exported.emit(str(path))
