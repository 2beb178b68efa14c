"""The offsets of a time zone over a window, which SQLite's day buckets are written from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from audit.buckets import PARIS, day_span, offsets

HOUR = timedelta(hours=1)


def test_a_year_of_paris_has_its_two_changes() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    assert offsets(PARIS, start, end) == [
        (datetime(2026, 3, 29, 1, tzinfo=UTC), HOUR),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 2 * HOUR),
        (end, HOUR),
    ]


def test_a_window_without_change_is_one_span() -> None:
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    assert offsets(PARIS, start, end) == [(end, HOUR)]


def test_a_change_at_the_end_of_the_window_is_outside_it() -> None:
    end = datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert offsets(PARIS, end - 3 * HOUR, end) == [(end, HOUR)]


def test_a_zone_changing_at_the_half_hour() -> None:
    # Lord Howe Island moves by 30 minutes, at 02:00 local time (15:00 UTC the day before).
    zone = ZoneInfo("Australia/Lord_Howe")
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    (change, before), (until, after) = offsets(zone, start, end)
    assert (before, after, until) == (timedelta(hours=11), timedelta(hours=10, minutes=30), end)
    assert change.astimezone(zone).utcoffset() == after
    assert (change - timedelta(minutes=1)).astimezone(zone).utcoffset() == before


def test_days_of_paris_as_utc_spans() -> None:
    assert day_span(date(2026, 12, 6)) == (
        datetime(2026, 12, 5, 23, tzinfo=UTC),
        datetime(2026, 12, 6, 23, tzinfo=UTC),
    )
    start, end = day_span(date(2026, 10, 25))
    assert end - start == 25 * HOUR
    start, end = day_span(date(2026, 3, 29))
    assert end - start == 23 * HOUR
