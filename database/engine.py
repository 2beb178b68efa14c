"""One async SQLAlchemy engine per database, with SQLite's settings and PostgreSQL's schema.

SQLite: a rollback journal (``TRUNCATE``) and no memory mapping at all — not WAL, whose
index (the ``-shm`` file) every connection maps into memory, and ``mmap_size=0``: a write
through a mapping of a file that can no longer be written (made immutable, truncated, on a
full disk) is a SIGBUS that kills the whole process, where a ``write()`` is an error the
audit log maps to "unavailable" and recovers from. ``synchronous=FULL`` by default (a commit
survives a machine crash, which the audit log's promise needs: an answer delivered keeps its
entry; group commit pays the syncs once per batch), foreign keys on, a busy timeout for
writers and readers of other processes. One file has one journal mode: the store and the
audit log share these settings because they share the file.

SQLAlchemy, not the sqlite3 module, emits ``BEGIN``: the module's legacy mode starts
transactions late and cannot ask for ``BEGIN IMMEDIATE``, which a writer that reads then
appends (the audit chain) needs; the :data:`WRITE_LOCK` execution option asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, event, literal, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from database.probe import SqliteProbe
from database.url import Backend, backend_of, is_memory, normalise_url

__all__ = ["WRITE_LOCK", "Backend", "Engine", "configure_sqlite", "open_engine"]

Sync = Literal["FULL", "NORMAL"]
# Execution option naming the statement that opens a SQLite transaction.
WRITE_LOCK = "unefois_begin"
# Milliseconds a SQLite connection waits for another one's lock.
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_JOURNAL_MODE = "TRUNCATE"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True, eq=False)
class Engine:
    """An async engine, its backend, and the PostgreSQL schema its tables live in."""

    engine: AsyncEngine
    backend: Backend
    schema: str | None
    # A SQLite file's probe for reads that must not wait (database.probe); None otherwise.
    probe: SqliteProbe | None = None

    async def ping(self) -> None:
        """Raise the driver's error unless the database answers."""
        async with self.engine.connect() as conn:
            await conn.execute(select(literal(1)))

    async def aclose(self) -> None:
        if self.probe is not None:
            self.probe.close()
        await self.engine.dispose()


def configure_sqlite(dbapi_connection: Any, sync: Sync = "FULL") -> None:
    """The settings above, on a sqlite3 connection (the engine's, or one of its own)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # Busy timeout first: switching the journal mode waits for other connections.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA mmap_size=0")
        cursor.execute(f"PRAGMA journal_mode={SQLITE_JOURNAL_MODE}")
        cursor.execute(f"PRAGMA synchronous={sync}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _configure_read_only(dbapi_connection: Any, _record: Any) -> None:
    # No journal mode: a read-only connection cannot set one, and reads the file's own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA mmap_size=0")
        cursor.execute("PRAGMA query_only=ON")
    finally:
        cursor.close()


def _read_only_file(parsed: URL) -> URL:
    path = Path(parsed.database or "")
    if not path.is_file():
        raise FileNotFoundError("the SQLite database does not exist")
    # A URI filename: SQLite opens the file with O_RDONLY and never creates it.
    return parsed.set(database=f"file:{path.resolve().as_posix()}?mode=ro", query={"uri": "true"})


def _on_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get(WRITE_LOCK, "BEGIN"))


def open_engine(
    url: str,
    *,
    schema: str | None = None,
    pool_size: int = 5,
    sqlite_sync: Sync = "FULL",
    allow_memory: bool = True,
    read_only: bool = False,
) -> Engine:
    """An engine for ``url``; nothing is connected yet (see :meth:`Engine.ping`).

    ``schema`` puts every table in that PostgreSQL schema (created by the migrations); SQLite
    has none. ``read_only`` (verification): SQLite opens the file read-only and never creates
    it (``FileNotFoundError`` if absent), PostgreSQL runs every transaction ``READ ONLY``.
    Raises ``ValueError`` for an unusable URL, schema name or pool size.
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
        elif read_only:
            parsed = _read_only_file(parsed)
            options["pool_size"] = pool_size
        elif parsed.database:
            # The data directory of a fresh install does not exist yet.
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options["pool_size"] = pool_size
    else:
        if read_only:
            options["connect_args"] = {"server_settings": {"default_transaction_read_only": "on"}}
        options["pool_size"] = pool_size
        # One round trip per checkout buys surviving a server restart or failover without
        # failing one request per pooled connection.
        options["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **options)
    if backend == "sqlite":
        if read_only:
            event.listen(engine.sync_engine, "connect", _configure_read_only)
        else:

            def on_connect(dbapi_connection: Any, _record: Any) -> None:
                configure_sqlite(dbapi_connection, sqlite_sync)

            event.listen(engine.sync_engine, "connect", on_connect)
        event.listen(engine.sync_engine, "begin", _on_begin)
    probe = None
    if backend == "sqlite" and not is_memory(parsed) and parsed.database:
        probe = SqliteProbe(Path(parsed.database.removeprefix("file:").partition("?")[0]))
    return Engine(engine, backend, schema, probe)
