"""Calendar buckets of entry times as SQL, per backend: the hour in UTC, the day where the
log is read.

Both return text (``YYYY-MM-DD HH``, ``YYYY-MM-DD``) so that grouping happens in the
database and the same parsing serves both backends.

- An hour is a UTC hour (an hour of France is one too: its offsets are whole hours).
- A day is a day of the readers' time zone (Europe/Paris by default: the auditors'), not a
  UTC day, which in Paris runs from 01:00 or 02:00 to the next. PostgreSQL converts with its
  own time-zone database. SQLite has none: times are UTC text, and the offsets the zone had
  over the window asked for are written into the query (one ``CASE`` branch per change of
  offset, found with :mod:`zoneinfo`), so a day starts at the zone's midnight on both sides
  of a change to or from summer time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func

from audit.database import Backend

PARIS = ZoneInfo("Europe/Paris")
_SQLITE_HOUR = "%Y-%m-%d %H"
_SQLITE_DAY = "%Y-%m-%d"


def hour_bucket(backend: Backend, column: Any) -> ColumnElement[str]:
    """The UTC hour of ``column``, as ``YYYY-MM-DD HH``."""
    if backend == "sqlite":
        return func.strftime(_SQLITE_HOUR, column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


def day_bucket(
    backend: Backend, column: Any, start: datetime, end: datetime, zone: ZoneInfo = PARIS
) -> ColumnElement[str]:
    """The day of ``zone`` of ``column``, as ``YYYY-MM-DD``, for times in ``[start, end)``."""
    if backend != "sqlite":
        return func.to_char(func.timezone(zone.key, column), "YYYY-MM-DD")
    spans = offsets(zone, start, end)
    *changes, (_, last) = spans
    if not changes:
        return _shifted(column, last)
    return case(
        *((column < until, _shifted(column, offset)) for until, offset in changes),
        else_=_shifted(column, last),
    )


def _shifted(column: Any, offset: timedelta) -> ColumnElement[str]:
    return func.strftime(_SQLITE_DAY, column, f"{int(offset.total_seconds()):+d} seconds")


def offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta]]:
    """The zone's UTC offsets over ``[start, end)``: (until, offset) pairs in order, the last
    one's ``until`` being ``end``. A change is looked for day by day, then narrowed to the
    minute."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    spans: list[tuple[datetime, timedelta]] = []
    at, current = start, _offset(zone, start)
    while at < end:
        step = min(at + timedelta(days=1), end)
        if _offset(zone, step) == current:
            at = step
            continue
        change = _change(zone, at, step, current)
        if change >= end:
            break
        spans.append((change, current))
        at, current = change, _offset(zone, change)
    spans.append((end, current))
    return spans


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    return at.astimezone(zone).utcoffset() or timedelta(0)


def _change(zone: ZoneInfo, low: datetime, high: datetime, before: timedelta) -> datetime:
    """The first minute in ``(low, high]`` whose offset is not ``before``."""
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            middle = low + timedelta(minutes=1)
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def day_of(text: str) -> date:
    return date.fromisoformat(text)


def hour_of(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)


def day_span(day: date, zone: ZoneInfo = PARIS) -> tuple[datetime, datetime]:
    """A day of ``zone`` as its UTC ``[start, end)`` (23 or 25 hours on a change of offset)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
