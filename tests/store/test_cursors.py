"""CursorStore on both backends: cursors advance, events are marked once, feeds stay apart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from store import CursorStore, Database, InvalidRecord

AT = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def cursors(database: Database) -> CursorStore:
    return CursorStore(database)


@pytest.fixture
def feed() -> str:
    # Tests share the session's PostgreSQL schema: a feed name of their own keeps them apart.
    return f"feed-{uuid.uuid4().hex}"


async def test_a_new_feed_starts_at_its_beginning(cursors: CursorStore, feed: str) -> None:
    assert await cursors.get(feed) is None


async def test_advance_moves_and_overwrites(cursors: CursorStore, feed: str) -> None:
    await cursors.advance(feed, "c1", AT)
    assert await cursors.get(feed) == "c1"
    await cursors.advance(feed, "c2", AT + timedelta(minutes=1))
    assert await cursors.get(feed) == "c2"
    assert await cursors.get(feed + "-other") is None


async def test_mark_is_idempotent_and_per_feed(cursors: CursorStore, feed: str) -> None:
    assert not await cursors.seen(feed, "e1")
    await cursors.mark(feed, ["e1", "e2", "e1"], AT)
    await cursors.mark(feed, ["e2", "e3"], AT + timedelta(seconds=1))  # a replayed page
    assert [await cursors.seen(feed, e) for e in ("e1", "e2", "e3", "e4")] == [
        True,
        True,
        True,
        False,
    ]
    assert not await cursors.seen(feed + "-other", "e1")
    await cursors.mark(feed, [], AT)  # nothing to do, no statement


async def test_naive_times_and_empty_cursors_are_refused(cursors: CursorStore, feed: str) -> None:
    with pytest.raises(InvalidRecord):
        await cursors.advance(feed, "c1", datetime(2025, 7, 10))
    with pytest.raises(InvalidRecord):
        await cursors.advance(feed, "", AT)
    with pytest.raises(InvalidRecord):
        await cursors.mark(feed, ["e1"], datetime(2025, 7, 10))
