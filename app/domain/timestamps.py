"""The one timestamp format on disk and on the wire: UTC, microseconds, with the offset."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the shop keeps UTC only")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def optional_utc_iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment else None


def now_iso() -> str:
    return utc_iso(datetime.now(UTC))
