"""Appending one batch after the chain head, as cheaply as the backend allows.

The append is on every request's path (the answer waits for it), so it avoids the async
driver layers where they cost most:

- SQLite: the sqlite3 connection itself, used by one dedicated thread. The whole batch —
  ``BEGIN``, read the head, insert, move the head, write the spool, ``COMMIT`` — is one hop to
  that thread, instead of one hop per statement through the async driver. The callers are
  woken as soon as the batch is durable in the writer's spool (:mod:`audit.spool`: one
  ``fdatasync``), before the commit's five syncs; the write lock, taken before the spool write
  and held until the commit ends, keeps every later reader waiting for that commit.
- PostgreSQL: the pooled connection's own asyncpg connection, with statements asyncpg
  prepares once; every replica queues on ``SELECT … FOR UPDATE`` of the head row. The callers
  are woken once the transaction is committed.

Both write exactly what the Core table definitions describe (:mod:`audit.tables`); readers
and ``verify`` keep using SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from audit import tables
from audit.chain import leaf_hash, next_head
from audit.database import AuditDatabase
from audit.entry import AuditEntry
from audit.ledger import Prepared
from audit.spool import Spool, recover
from database import configure_sqlite

logger = logging.getLogger("audit")

# SQLite only. FULL: a commit survives a power cut (one fsync per batch). NORMAL: it survives
# the process being killed, not a power cut; far cheaper where fsync is slow (see docs/audit.md).
Synchronous = Literal["FULL", "NORMAL"]


# Called with the chain's (size, head) once the batch is durable, maybe before it is committed.
Durable = Callable[[int, bytes], None]


class BatchWriter(Protocol):
    async def start(self) -> int:
        """Get ready to append; chain what stopped writers left durable but unchained, and
        return how many of their spools were recovered."""
        ...

    async def append(
        self, batch: Sequence[Prepared], durable: Durable | None = None
    ) -> tuple[int, bytes]:
        """Append after the current head in one transaction; the new (size, head).

        ``durable`` is called on the event loop as soon as the batch would survive a crash:
        possibly before this returns, in which case a failure of the commit that follows
        raises here while the batch stays durable, and is chained by a later append (or by
        the next writer's ``start``) instead of being lost.
        """
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
            }
        )
    return rows, head


def _sqlite_time(value: datetime) -> str:
    # As SQLAlchemy's DateTime stores it on SQLite (UTC wall time, see tables.UTCDateTime),
    # so that the readers' filters and verify see the same text.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteWriter:
    """The batch is written through the sqlite3 connection itself, in its own thread."""

    def __init__(
        self, db: AuditDatabase, synchronous: Synchronous = "FULL", *, spool: bool = True
    ) -> None:
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
        self._use_spool = spool
        self._spool: Spool | None = None
        # Durable in the spool, callers answered, commit failed: chained by the next append.
        self._unchained: list[Prepared] = []

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._start)

    async def append(
        self, batch: Sequence[Prepared], durable: Durable | None = None
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        signal = None
        if durable is not None:

            def signal(size: int, head: bytes) -> None:
                loop.call_soon_threadsafe(durable, size, head)

        return await loop.run_in_executor(self._thread, self._append, batch, signal)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, check_same_thread=False)
            # Autocommit, rollback journal, no memory mapping, busy timeout: the engine's own.
            configure_sqlite(conn, self._synchronous)
            self._conn = conn
        return self._conn

    def _start(self) -> int:
        recovered = recover(Path(self._path), self._chain_recovered)
        if self._use_spool and self._spool is None:
            self._spool = Spool.create(Path(self._path))
        return recovered

    def _chain_recovered(self, records: list[bytes]) -> None:
        batch = [Prepared(AuditEntry.from_canonical(r), r, leaf_hash(r)) for r in records]
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._insert_after_head(conn, self._missing(conn, batch))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _append(self, batch: Sequence[Prepared], signal: Durable | None) -> tuple[int, bytes]:
        conn = self._connection()
        # Callers are answered before the commit only while every earlier batch is chained:
        # once a commit fails, the next ones wait for theirs (the spool is a bridge of one
        # batch, not a second log), and the gateway fails closed if the database stays down.
        early = signal is not None and self._spool is not None and not self._unchained
        # EXCLUSIVE from the start when answering early, so that no reader can start between
        # the answer and the end of the commit and miss the entry.
        conn.execute("BEGIN EXCLUSIVE" if early else "BEGIN IMMEDIATE")
        answered = False
        try:
            items = [*self._missing(conn, self._unchained), *batch]
            size, head = self._insert_after_head(conn, items)
            if self._spool is not None:
                self._spool.write([item.canonical for item in items])
            if early:
                assert signal is not None
                signal(size, head)
                answered = True
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if answered:
                # Durable in the spool and already released: chained by the next append.
                self._unchained = items
            raise
        self._unchained = []
        return size, head

    def _missing(self, conn: sqlite3.Connection, batch: Sequence[Prepared]) -> list[Prepared]:
        """``batch`` without the entries the log holds already (a commit reported failed
        that went through, or a spool recovered twice)."""
        if not batch:
            return []
        marks = ", ".join("?" for _ in batch)
        query = f"SELECT id FROM audit_entries WHERE id IN ({marks})"  # noqa: S608
        present = {row[0] for row in conn.execute(query, [p.entry.id for p in batch])}
        return [p for p in batch if p.entry.id not in present]

    def _insert_after_head(
        self, conn: sqlite3.Connection, batch: Sequence[Prepared]
    ) -> tuple[int, bytes]:
        size, head = conn.execute("SELECT size, head FROM audit_head WHERE id = 1").fetchone()
        rows, head = _rows(int(size) + 1, bytes(head), batch)
        size = int(size) + len(rows)
        if rows:
            conn.executemany(
                self._insert,
                [
                    tuple(_sqlite_time(r[c]) if c == "time" else r[c] for c in self._columns)
                    for r in rows
                ],
            )
            conn.execute("UPDATE audit_head SET size = ?, head = ? WHERE id = 1", (size, head))
        return size, bytes(head)

    def _close(self) -> None:
        if self._unchained:
            try:
                self._append([], None)
            except Exception as error:
                # Left in the spool: the next writer to start chains them.
                logger.error(
                    "%d audit entries left unchained in the spool (%s)",
                    len(self._unchained),
                    type(error).__name__,
                )
        if self._spool is not None:
            self._spool.close(remove=not self._unchained)
            self._spool = None
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

    async def start(self) -> int:
        return 0

    async def append(
        self, batch: Sequence[Prepared], durable: Durable | None = None
    ) -> tuple[int, bytes]:
        # Durable once committed: the caller is answered when this returns.
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
