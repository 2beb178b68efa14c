"""Where each agency event feed was read up to, and which of its events were handled.

Feeds deliver at least once: a consumer that crashes after handling a page but before moving
the cursor reads that page again. The events it had already marked are then recognised by
:meth:`CursorStore.seen` and skipped, so handling is idempotent. Callers therefore mark first
and advance second; the reverse order would lose the events of a crash in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from store.database import Database
from store.errors import InvalidRecord
from store.tables import event_cursors, processed_events


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord("at must be timezone-aware")
    return value.astimezone(UTC)


class CursorStore:
    """Feed cursors and processed event ids in a migrated :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def _insert(self, table: Any) -> Any:
        # Both dialects speak ON CONFLICT; the generic insert does not, and a conflict here
        # (another worker, or a replay) is the expected case, not an error.
        dialect = postgresql if self._database.backend == "postgresql" else sqlite
        return dialect.insert(table)

    async def get(self, feed: str) -> str | None:
        """The cursor to read ``feed`` from, or None to start at its beginning."""
        async with self._database.connection() as conn:
            row = (
                await conn.execute(
                    select(event_cursors.c.cursor).where(event_cursors.c.feed == feed)
                )
            ).one_or_none()
        return None if row is None else str(row.cursor)

    async def advance(self, feed: str, cursor: str, at: datetime) -> None:
        """Record that ``feed`` has been handled up to ``cursor``."""
        if not cursor:
            raise InvalidRecord("a cursor is a non-empty token")
        statement = self._insert(event_cursors).values(
            feed=feed, cursor=cursor, updated_at=_aware(at)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[event_cursors.c.feed],
            set_={"cursor": cursor, "updated_at": _aware(at)},
        )
        async with self._database.transaction() as conn:
            await conn.execute(statement)

    async def seen(self, feed: str, event_id: str) -> bool:
        """Whether that event of ``feed`` was already handled."""
        async with self._database.connection() as conn:
            row = (
                await conn.execute(
                    select(processed_events.c.event_id).where(
                        processed_events.c.feed == feed, processed_events.c.event_id == event_id
                    )
                )
            ).one_or_none()
        return row is not None

    async def mark(self, feed: str, event_ids: Iterable[str], at: datetime) -> None:
        """Record those events of ``feed`` as handled; marking one again changes nothing."""
        at = _aware(at)
        rows = [{"feed": feed, "event_id": i, "processed_at": at} for i in dict.fromkeys(event_ids)]
        if not rows:
            return
        statement = self._insert(processed_events).on_conflict_do_nothing(
            index_elements=[processed_events.c.feed, processed_events.c.event_id]
        )
        async with self._database.transaction() as conn:
            await conn.execute(statement, rows)
