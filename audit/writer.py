"""Appending one batch after the chain head, as cheaply as the backend allows.

The append is on every request's path (the answer waits for it), so it avoids the async
driver layers where they cost most:

- SQLite: the sqlite3 connection itself, used by one dedicated thread. The whole batch —
  ``BEGIN IMMEDIATE``, read the head, insert, move the head, ``COMMIT`` (fsync) — is one hop
  to that thread, instead of one hop per statement through the async driver.
- PostgreSQL: the pooled connection's own asyncpg connection, with statements asyncpg
  prepares once; every replica queues on ``SELECT … FOR UPDATE`` of the head row.

Both write exactly what the Core table definitions describe (:mod:`audit.tables`); readers
and ``verify`` keep using SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from audit import tables
from audit.chain import next_head
from audit.database import AuditDatabase
from audit.ledger import Prepared
from database import configure_sqlite

# SQLite only. FULL: a commit survives a power cut (one fsync per batch). NORMAL: it survives
# the process being killed, not a power cut; far cheaper where fsync is slow (see docs/audit.md).
Synchronous = Literal["FULL", "NORMAL"]


class BatchWriter(Protocol):
    async def append(self, batch: Sequence[Prepared]) -> tuple[int, bytes]:
        """Append after the current head in one transaction; the new (size, head)."""
        ...

    async def aclose(self) -> None: ...


def _rows(first: int, head: bytes, batch: Sequence[Prepared]) -> tuple[list[dict[str, Any]], bytes]:
    rows = []
    for offset, item in enumerate(batch):
        head = next_head(head, item.leaf)
        entry = item.entry
        rows.append(
            {
                "seq": first + offset,
                "id": entry.id,
                "time": entry.time,
                "kind": entry.kind,
                "client": entry.client,
                "purpose": entry.purpose,
                "object": entry.object,
                "recipient": entry.recipient,
                "person": entry.person,
                "outcome": entry.outcome,
                "denials": entry.denials,
                "canonical": item.canonical,
                "leaf": item.leaf,
                "head": head,
                "corrects": entry.corrects,
            }
        )
    return rows, head


def _sqlite_time(value: datetime) -> str:
    # As SQLAlchemy's DateTime stores it on SQLite (UTC wall time, see tables.UTCDateTime),
    # so that the readers' filters and verify see the same text.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteWriter:
    """The batch is written through the sqlite3 connection itself, in its own thread."""

    def __init__(self, db: AuditDatabase, synchronous: Synchronous = "FULL") -> None:
        self._synchronous = synchronous
        path = db.engine.url.database
        if not path:
            raise ValueError("the audit log needs a SQLite file")
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-writer")
        columns = [c.name for c in tables.entries.columns]
        marks = ", ".join("?" for _ in columns)
        self._insert = f"INSERT INTO audit_entries ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        self._columns = columns

    async def append(self, batch: Sequence[Prepared]) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._append, batch)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, check_same_thread=False)
            # Autocommit, rollback journal, no memory mapping, busy timeout: the engine's own.
            configure_sqlite(conn, self._synchronous)
            self._conn = conn
        return self._conn

    def _append(self, batch: Sequence[Prepared]) -> tuple[int, bytes]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            size, head = conn.execute("SELECT size, head FROM audit_head WHERE id = 1").fetchone()
            rows, head = _rows(int(size) + 1, bytes(head), batch)
            size = int(size) + len(rows)
            conn.executemany(
                self._insert,
                [
                    tuple(_sqlite_time(r[c]) if c == "time" else r[c] for c in self._columns)
                    for r in rows
                ],
            )
            conn.execute("UPDATE audit_head SET size = ?, head = ? WHERE id = 1", (size, head))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return size, head

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)


class PostgresWriter:
    def __init__(self, db: AuditDatabase) -> None:
        self._db = db
        # The schema name was checked against a strict pattern when the database was opened,
        # and the columns come from our own table: no value of a request is ever spliced in.
        prefix = f'"{db.schema}".' if db.schema else ""
        self._lock_head = f"SELECT size, head FROM {prefix}audit_head WHERE id = 1 FOR UPDATE"  # noqa: S608
        columns = [c.name for c in tables.entries.columns]
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        self._insert = (
            f"INSERT INTO {prefix}audit_entries ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
        )
        self._columns = columns
        self._move_head = f"UPDATE {prefix}audit_head SET size = $1, head = $2 WHERE id = 1"  # noqa: S608

    async def append(self, batch: Sequence[Prepared]) -> tuple[int, bytes]:
        async with self._db.connection() as conn:
            raw = await conn.get_raw_connection()
            pg: Any = raw.driver_connection
            async with pg.transaction():
                row = await pg.fetchrow(self._lock_head)
                size, head = int(row["size"]), bytes(row["head"])
                rows, head = _rows(size + 1, head, batch)
                size += len(rows)
                await pg.executemany(
                    self._insert,
                    [
                        tuple(r[c] if c != "time" else r[c].astimezone(UTC) for c in self._columns)
                        for r in rows
                    ],
                )
                await pg.execute(self._move_head, size, head)
        return size, head

    async def aclose(self) -> None:
        return None


def open_writer(db: AuditDatabase, synchronous: Synchronous = "FULL") -> BatchWriter:
    return SqliteWriter(db, synchronous) if db.backend == "sqlite" else PostgresWriter(db)
