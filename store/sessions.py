"""Server-side sessions of the pages, shared by every replica through the store database.

The browser keeps only a random id; the table keys the session by that id's SHA-256, so
reading the table gives nobody a usable cookie. A session has a kind (``console``,
``citizen``, or the short ``login-…`` state of a sign-in in progress), JSON data and an
expiry; ending it deletes the row, so a cookie copied before sign-out opens nothing after.
Times are passed in, never read here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from store.database import Database
from store.tables import web_sessions

ID_BYTES = 32


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredSession:
    id: str  # the random id the browser holds; never stored as such
    kind: str
    data: dict[str, Any]
    created_at: datetime
    expires_at: datetime


class SessionStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(
        self, kind: str, data: dict[str, Any], now: datetime, expires_at: datetime
    ) -> StoredSession:
        session_id = secrets.token_urlsafe(ID_BYTES)
        async with self._database.transaction() as conn:
            await conn.execute(
                web_sessions.insert().values(
                    id_hash=_hash(session_id),
                    kind=kind,
                    data=data,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return StoredSession(session_id, kind, dict(data), now, expires_at)

    async def get(self, session_id: str, kind: str, now: datetime) -> StoredSession | None:
        """The live session of that kind with that id; ``None`` when unknown or expired."""
        if not session_id or len(session_id) > 128:
            return None
        query = select(web_sessions).where(
            (web_sessions.c.id_hash == _hash(session_id))
            & (web_sessions.c.kind == kind)
            & (web_sessions.c.expires_at > now)
        )
        async with self._database.connection() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return StoredSession(session_id, row.kind, dict(row.data), row.created_at, row.expires_at)

    async def update(self, session_id: str, data: dict[str, Any]) -> None:
        async with self._database.transaction() as conn:
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == _hash(session_id))
                .values(data=data)
            )

    async def touch(self, session_id: str, expires_at: datetime) -> None:
        """Push a live session's expiry (a request came)."""
        async with self._database.transaction() as conn:
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == _hash(session_id))
                .values(expires_at=expires_at)
            )

    async def delete(self, session_id: str) -> None:
        async with self._database.transaction() as conn:
            await conn.execute(
                delete(web_sessions).where(web_sessions.c.id_hash == _hash(session_id))
            )

    async def purge_expired(self, now: datetime) -> int:
        """Delete the sessions past their expiry; how many went."""
        async with self._database.transaction() as conn:
            done = await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
        return int(done.rowcount or 0)
