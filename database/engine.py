"""One async SQLAlchemy engine per database, with SQLite's settings and PostgreSQL's schema.

SQLite: WAL journal (readers beside the writer), ``synchronous=FULL`` by default (a commit
survives a machine crash, which the audit log's promise needs: an answer delivered keeps its
entry; group commit pays one fsync per batch), foreign keys on, a busy timeout for writers of
other processes. SQLAlchemy, not the sqlite3 module, emits ``BEGIN``: the module's legacy mode
starts transactions late and cannot ask for ``BEGIN IMMEDIATE``, which a writer that reads
then appends (the audit chain) needs; the :data:`WRITE_LOCK` execution option asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, event, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from database.url import Backend, backend_of, is_memory, normalise_url

__all__ = ["WRITE_LOCK", "Backend", "Engine", "open_engine"]

Sync = Literal["FULL", "NORMAL"]
# Execution option naming the statement that opens a SQLite transaction.
WRITE_LOCK = "unefois_begin"
# Milliseconds a SQLite writer waits for another one (WAL allows one writer at a time).
SQLITE_BUSY_TIMEOUT_MS = 10_000
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True, eq=False)
class Engine:
    """An async engine, its backend, and the PostgreSQL schema its tables live in."""

    engine: AsyncEngine
    backend: Backend
    schema: str | None

    async def ping(self) -> None:
        """Raise the driver's error unless the database answers."""
        async with self.engine.connect() as conn:
            await conn.execute(select(literal(1)))

    async def aclose(self) -> None:
        await self.engine.dispose()


def _sqlite_settings(sync: Sync) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # Not WAL, and no memory mapping: the audit log shares this file, and a write
            # through a mapped file that turned unwritable is a SIGBUS killing the gateway
            # (audit/database.py, docs/audit.md). A file has one journal mode: same as there.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
            cursor.execute("PRAGMA mmap_size=0")
            cursor.execute("PRAGMA journal_mode=TRUNCATE")
            cursor.execute(f"PRAGMA synchronous={sync}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        finally:
            cursor.close()

    return on_connect


def _on_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get(WRITE_LOCK, "BEGIN"))


def open_engine(
    url: str,
    *,
    schema: str | None = None,
    pool_size: int = 5,
    sqlite_sync: Sync = "FULL",
    allow_memory: bool = True,
) -> Engine:
    """An engine for ``url``; nothing is connected yet (see :meth:`Engine.ping`).

    ``schema`` puts every table in that PostgreSQL schema (created by the migrations); SQLite
    has none. Raises ``ValueError`` for an unusable URL, schema name or pool size.
    """
    if pool_size < 1:
        raise ValueError("pool_size must be positive")
    if sqlite_sync not in ("FULL", "NORMAL"):
        raise ValueError("sqlite_sync is FULL or NORMAL")
    parsed = normalise_url(url)
    backend = backend_of(parsed)
    options: dict[str, Any] = {}
    if schema is not None:
        if backend != "postgresql":
            raise ValueError("a schema applies to PostgreSQL only")
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError("a schema name is lowercase letters, digits and _, at most 63")
        options["execution_options"] = {"schema_translate_map": {None: schema}}
    if backend == "sqlite":
        if is_memory(parsed):
            if not allow_memory:
                # Each pooled connection would get its own empty memory database.
                raise ValueError("this database needs a SQLite file, not a memory database")
        elif parsed.database:
            # The data directory of a fresh install does not exist yet.
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options["pool_size"] = pool_size
    else:
        options["pool_size"] = pool_size
        # One round trip per checkout buys surviving a server restart or failover without
        # failing one request per pooled connection.
        options["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **options)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_settings(sqlite_sync))
        event.listen(engine.sync_engine, "begin", _on_begin)
    return Engine(engine, backend, schema)
