"""SessionStore on both backends: ids are random and kept hashed, sessions expire and end."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from store import Database, SessionStore
from store.tables import web_sessions

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)


async def test_a_session_is_found_by_its_id_and_kind_only(database: Database) -> None:
    store = SessionStore(database)
    made = await store.create("citizen", {"token": "t"}, NOW, LATER)
    assert len(made.id) >= 43  # 32 random bytes
    found = await store.get(made.id, "citizen", NOW)
    assert found is not None and found.data == {"token": "t"} and found.expires_at == LATER
    assert await store.get(made.id, "console", NOW) is None  # another kind's cookie
    assert await store.get(made.id + "x", "citizen", NOW) is None
    assert await store.get("", "citizen", NOW) is None
    assert await store.get("a" * 500, "citizen", NOW) is None


async def test_only_the_id_hash_is_stored(database: Database) -> None:
    made = await SessionStore(database).create("console", {"sub": "s"}, NOW, LATER)
    async with database.connection() as conn:
        keys = [row.id_hash for row in await conn.execute(select(web_sessions.c.id_hash))]
    assert made.id not in keys
    assert hashlib.sha256(made.id.encode()).hexdigest() in keys


async def test_expired_sessions_open_nothing_and_are_purged(database: Database) -> None:
    store = SessionStore(database)
    made = await store.create("citizen", {}, NOW, LATER)
    assert await store.get(made.id, "citizen", LATER) is None
    assert await store.purge_expired(LATER) >= 1
    assert await store.get(made.id, "citizen", NOW) is None


async def test_update_then_delete_ends_the_session(database: Database) -> None:
    store = SessionStore(database)
    made = await store.create("citizen", {"a": 1}, NOW, LATER)
    await store.update(made.id, {"a": 2})
    found = await store.get(made.id, "citizen", NOW)
    assert found is not None and found.data == {"a": 2}
    await store.delete(made.id)
    assert await store.get(made.id, "citizen", NOW) is None


async def test_touch_pushes_the_expiry(database: Database) -> None:
    store = SessionStore(database)
    made = await store.create("citizen", {}, NOW, LATER)
    await store.touch(made.id, LATER + timedelta(minutes=30))
    assert await store.get(made.id, "citizen", LATER) is not None
