"""The write statements of the log: one batch appended after the chain head, checkpoints.

Kept apart from :mod:`audit.log` (which owns the queue and the writer task) so that the one
place where seq numbers and heads are assigned is short enough to read in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import tables
from audit.checkpoint import Checkpoint, CheckpointSigner
from audit.database import AuditDatabase
from audit.entry import AuditEntry


@dataclass(frozen=True)
class Prepared:
    """An entry with its canonical bytes and leaf, computed by the appending caller so that
    the writer's critical section only chains and inserts."""

    entry: AuditEntry
    canonical: bytes
    leaf: bytes

    @classmethod
    def of(cls, entry: AuditEntry, leaf_of: Callable[[bytes], bytes]) -> Prepared:
        canonical = entry.canonical()
        return cls(entry, canonical, leaf_of(canonical))


async def read_head(conn: AsyncConnection, *, lock: bool = False) -> tuple[int, bytes]:
    query = select(tables.head.c.size, tables.head.c.head).where(tables.head.c.id == 1)
    if lock:
        # PostgreSQL: every writer of every replica queues on this row, so each reads the
        # head its predecessor committed. SQLite ignores FOR UPDATE; BEGIN IMMEDIATE locks.
        query = query.with_for_update()
    row = (await conn.execute(query)).one()
    return int(row.size), bytes(row.head)


def checkpoint_from_row(row: Row[Any]) -> Checkpoint:
    return Checkpoint(
        origin=row.origin,
        size=int(row.size),
        head=bytes(row.head),
        signed_at=row.signed_at,
        key_id=row.key_id,
        signature=bytes(row.signature),
    )


async def write_checkpoint(
    db: AuditDatabase,
    signer: CheckpointSigner,
    origin: str,
    at: datetime,
    known: tuple[int, bytes] | None = None,
) -> Checkpoint:
    """Sign and store a checkpoint of ``known`` (size, head), or of the current head.

    One checkpoint per size: if one exists already (another replica signed the same head),
    that one is returned and nothing is written.
    """
    async with db.transaction() as conn:
        size, head = known if known is not None else await read_head(conn)
        checkpoint = signer.sign(origin, size, head, at)
        dialect = postgresql if db.backend == "postgresql" else sqlite
        statement = dialect.insert(tables.checkpoints).values(
            size=size,
            origin=checkpoint.origin,
            head=checkpoint.head,
            signed_at=checkpoint.signed_at,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
        )
        written = await conn.execute(statement.on_conflict_do_nothing(index_elements=["size"]))
        if written.rowcount == 1:
            return checkpoint
        stored = select(tables.checkpoints).where(tables.checkpoints.c.size == size)
        return checkpoint_from_row((await conn.execute(stored)).one())


async def latest_checkpoint_size(db: AuditDatabase) -> int:
    async with db.connection() as conn:
        value = (await conn.execute(select(func.max(tables.checkpoints.c.size)))).scalar()
    return int(value or 0)
