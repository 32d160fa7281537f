from datetime import UTC, date, datetime

import pytest

from app.domain.errors import InvalidInput
from app.domain.report import (
    REPORT_COLUMNS,
    InvalidTimeZone,
    ReportName,
    check_date_range,
    check_time_zone,
    local_date_hour,
    local_days_utc,
    report_table,
    store_zone,
)
from sync.protocol import ReportResponse


def test_every_report_has_columns_and_totals_sum_only_adding_columns() -> None:
    assert set(REPORT_COLUMNS) == set(ReportName)
    table = report_table(
        ReportName.PRODUCTS,
        time_zone="Europe/Dublin",
        from_date=date(2026, 11, 1),
        to_date=date(2026, 11, 30),
        terminal=None,
        rows=[("p1", "A-1", "Milk", "Dairy", 3, 4, 500), ("p2", "B-1", "Ham", "Deli", 1, 250, 399)],
    )
    assert table.totals == {"lines": 4, "sales": 899}  # quantity (units vs grams) is not summed
    assert ReportResponse.from_table(table).to_table() == table


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="2 cells"):
        report_table(
            ReportName.TENDERS,
            time_zone="Europe/Dublin",
            from_date=date(2026, 11, 1),
            to_date=date(2026, 11, 1),
            terminal=None,
            rows=[("cash", 1)],
        )


def test_local_days_follow_the_store_zone_across_daylight_saving() -> None:
    zone = store_zone("Europe/Dublin")
    start, end = local_days_utc(date(2026, 10, 25), date(2026, 10, 25), zone)  # clocks go back
    assert start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)  # a 25-hour day
    assert local_date_hour(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), zone) == (date(2026, 7, 2), 0)


def test_bad_zone_and_ranges_are_named() -> None:
    with pytest.raises(InvalidTimeZone, match="Mars/Olympus"):
        check_time_zone("Mars/Olympus")
    assert check_time_zone("America/New_York") == "America/New_York"
    with pytest.raises(InvalidInput, match="before"):
        check_date_range(date(2026, 2, 2), date(2026, 2, 1))
    with pytest.raises(InvalidInput, match="366 days"):
        check_date_range(date(2025, 1, 1), date(2026, 1, 2))
    with pytest.raises(InvalidInput, match="years 2000 to 2999"):
        check_date_range(date(9999, 12, 30), date(9999, 12, 31))
