"""The client registry's version: the one row ``clients_version`` that every change of a client
(``store.clients``) or of a trusted document (``store.documents``) moves in its transaction.

A replica reads it at every client's request to know whether what it holds in memory (clients,
allow-lists) is current, so the read has a fast path: from a SQLite file, the engine's probe
(no pool, no thread) when no writer holds the file; through the engine otherwise.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.database import Database
from store.tables import clients_version

_VERSION_SQL = "SELECT version FROM clients_version"  # the table above (store.tables)


async def current(database: Database) -> int:
    """The version now: 0 until the registry's first change, then one more per change."""
    probe = database.shared.probe
    if probe is not None:
        value = probe.scalar(_VERSION_SQL)
        if isinstance(value, int):
            return value
    async with database.connection() as conn:
        return await read(conn)


async def read(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(clients_version.c.version))).scalar_one())


async def lock(conn: AsyncConnection) -> int:
    """The version, its row locked until the transaction ends (SQLite: the whole file is,
    from ``BEGIN IMMEDIATE``)."""
    query = select(clients_version.c.version).with_for_update()
    return int((await conn.execute(query)).scalar_one())


async def bump(conn: AsyncConnection) -> None:
    await conn.execute(update(clients_version).values(version=clients_version.c.version + 1))
