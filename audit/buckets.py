"""Calendar buckets of entry times (UTC day, UTC hour) as SQL, per backend.

Both return text (``YYYY-MM-DD``, ``YYYY-MM-DD HH``) so that grouping happens in the database
and the same parsing serves both backends. SQLite stores times as UTC text, which its date
functions read as UTC; PostgreSQL's ``timestamptz`` is brought to UTC before formatting, so
that the session's time zone never moves an access to another day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func

from audit.database import Backend

Unit = Literal["day", "hour"]
_SQLITE = {"day": "%Y-%m-%d", "hour": "%Y-%m-%d %H"}
_POSTGRES = {"day": "YYYY-MM-DD", "hour": "YYYY-MM-DD HH24"}


def bucket(backend: Backend, column: Any, unit: Unit) -> ColumnElement[str]:
    if backend == "sqlite":
        return func.strftime(_SQLITE[unit], column)
    return func.to_char(func.timezone("UTC", column), _POSTGRES[unit])


def day_of(text: str) -> date:
    return date.fromisoformat(text)


def hour_of(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)
