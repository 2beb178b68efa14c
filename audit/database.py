"""The audit database: one async SQLAlchemy engine, SQLite embedded or PostgreSQL.

Its own module rather than the store's, because ``audit`` imports nothing of ours (DESIGN §3);
the two may still share one database file or server (separate tables, separate Alembic
version tables). Every statement goes through :meth:`AuditDatabase.transaction`,
:meth:`~AuditDatabase.connection` or :meth:`~AuditDatabase.snapshot`, which map SQLAlchemy and
driver exceptions to :mod:`audit.errors` at this one boundary.

Durability on SQLite: a rollback journal (``journal_mode=TRUNCATE``) with
``synchronous=FULL``. With ``NORMAL`` a commit survives a crash of the process but not of the
machine (power loss, kernel panic): the last commits before the outage may roll back, and an
answer already delivered would have lost its entry, which breaks the promise that every
released answer is logged. ``FULL`` syncs at every commit; group commit pays those syncs once
per batch, not per entry.

No memory-mapped file at all: not WAL, whose index (the ``-shm`` file) every connection maps
into memory, and ``mmap_size=0``. A write through a mapping of a file that can no longer be
written (made immutable, truncated, on a full disk) is a SIGBUS that kills the whole gateway;
a write through ``write()`` is an error, mapped to :class:`AuditUnavailable`, and the gateway
fails closed and recovers when the file is writable again. The price: a writer waits for
readers to finish before it commits (busy timeout below), where WAL let them overlap.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, event, exc, literal, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from audit.errors import AuditError, AuditUnavailable, InvalidEntry

Backend = Literal["sqlite", "postgresql"]

# Milliseconds a SQLite writer waits for another one (WAL allows one writer at a time).
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The store sets the same mode on the same file (a file has one journal mode): see the
# module docstring for why it is not WAL.
SQLITE_JOURNAL_MODE = "TRUNCATE"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+aiosqlite"}
# libpq's sslmode values that asyncpg's ``ssl`` parameter understands under the same name.
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_BEGIN = "audit_begin"


def normalise_url(url: str) -> URL:
    """Parse ``url`` and point it at the async driver of its backend."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        # The message would echo the URL, password included.
        raise ValueError("the audit database URL cannot be parsed") from None
    if parsed.drivername in _POSTGRES_DRIVERS:
        query = dict(parsed.query)
        sslmode = query.pop("sslmode", None)
        if isinstance(sslmode, str) and sslmode in _SSL_MODES:
            query["ssl"] = sslmode
        return parsed.set(drivername="postgresql+asyncpg", query=query)
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(
        f"unsupported database {parsed.drivername!r}: use sqlite:// or postgresql:// URLs"
    )


def on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN (see on_begin): the module's legacy
    # mode starts transactions late and cannot ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # Busy timeout first: switching the journal mode waits for other connections.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA mmap_size=0")  # why: the module docstring
        cursor.execute(f"PRAGMA journal_mode={SQLITE_JOURNAL_MODE}")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def on_sqlite_read_only_connect(dbapi_connection: Any, _record: Any) -> None:
    # No journal mode: a read-only connection cannot set one, and reads the file's own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA mmap_size=0")
        cursor.execute("PRAGMA query_only=ON")
    finally:
        cursor.close()


def on_begin(connection: Connection) -> None:
    # A writer takes SQLite's write lock at BEGIN: reading the chain head and appending after
    # it must not interleave with another writer (another process on the same file).
    connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN, "BEGIN"))


class AuditDatabase:
    """An async engine and the schema its tables live in (PostgreSQL only)."""

    def __init__(self, engine: AsyncEngine, *, backend: Backend, schema: str | None) -> None:
        self.engine = engine
        self.backend: Backend = backend
        self.schema = schema

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed on exit, rolled back on error.

        ``write=True`` takes SQLite's write lock at once (``BEGIN IMMEDIATE``); on PostgreSQL
        writers serialise on the ``audit_head`` row instead.
        """
        try:
            async with self.engine.connect() as conn:
                if write and self.backend == "sqlite":
                    await conn.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"})
                async with conn.begin():
                    yield conn
        except AuditError:
            raise
        except Exception as error:
            raise self._mapped(error) from None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; nothing is committed."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except AuditError:
            raise
        except Exception as error:
            raise self._mapped(error) from None

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction that sees one state of the log however long it lasts:
        REPEATABLE READ on PostgreSQL, a WAL read transaction on SQLite."""
        try:
            async with self.engine.connect() as conn:
                if self.backend == "postgresql":
                    await conn.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():
                    yield conn
        except AuditError:
            raise
        except Exception as error:
            raise self._mapped(error) from None

    async def ping(self) -> None:
        """Raise :class:`AuditUnavailable` unless the database answers (health checks)."""
        async with self.connection() as conn:
            await conn.execute(select(literal(1)))

    async def aclose(self) -> None:
        await self.engine.dispose()

    def _mapped(self, error: Exception) -> Exception:
        """The audit error for a foreign one; the message names no URL and no value.

        ``from None`` at the raise sites drops the original, whose text may carry a
        statement's parameters (pseudonyms) or, for some drivers, the URL.
        """
        original = getattr(error, "orig", None) or error
        kind = type(original).__name__
        if isinstance(error, exc.StatementError) and isinstance(original, ValueError):
            return InvalidEntry(f"a value cannot be stored ({kind})")
        unavailable = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
        if (
            isinstance(error, (*unavailable, OSError, TimeoutError))
            or (isinstance(error, exc.DBAPIError) and error.connection_invalidated)
            or isinstance(original, OSError | TimeoutError)
        ):
            return AuditUnavailable(f"the {self.backend} audit database is unavailable ({kind})")
        if isinstance(error, exc.SQLAlchemyError):
            return AuditError(f"the {self.backend} audit database refused a statement ({kind})")
        return error


def _read_only_file(parsed: URL) -> URL:
    path = Path(parsed.database or "")
    if not path.is_file():
        raise AuditUnavailable("the sqlite audit database does not exist")
    # A URI filename: SQLite opens the file with O_RDONLY and never creates it.
    return parsed.set(database=f"file:{path.resolve().as_posix()}?mode=ro", query={"uri": "true"})


async def open_database(
    url: str, *, schema: str | None = None, pool_size: int = 5, read_only: bool = False
) -> AuditDatabase:
    """Open an :class:`AuditDatabase` and check that it answers.

    ``read_only``: for verification; SQLite opens the file read-only (and never creates it),
    PostgreSQL runs every transaction ``READ ONLY``. Nothing can then be written, migrations
    included.

    ``schema`` puts every audit table in that PostgreSQL schema (created by
    :func:`audit.migrate`); SQLite has none. Raises :class:`AuditUnavailable` when the server
    cannot be reached, ``ValueError`` for an unusable URL or schema name.
    """
    if pool_size < 1:
        raise ValueError("pool_size must be positive")
    parsed = normalise_url(url)
    backend: Backend = "postgresql" if parsed.drivername.startswith("postgresql") else "sqlite"
    options: dict[str, Any] = {"pool_size": pool_size}
    if schema is not None:
        if backend != "postgresql":
            raise ValueError("a schema applies to PostgreSQL only")
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError("a schema name is lowercase letters, digits and _, at most 63")
        options["execution_options"] = {"schema_translate_map": {None: schema}}
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # Each pooled connection would get its own empty memory database: no shared log.
            raise ValueError("the audit log needs a SQLite file, not a memory database")
        if read_only:
            parsed = _read_only_file(parsed)
        else:
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
    else:
        if read_only:
            options["connect_args"] = {"server_settings": {"default_transaction_read_only": "on"}}
        # One round trip per checkout buys surviving a server restart or failover without
        # failing one batch per pooled connection.
        options["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **options)
    if backend == "sqlite":
        connect = on_sqlite_read_only_connect if read_only else on_sqlite_connect
        event.listen(engine.sync_engine, "connect", connect)
        event.listen(engine.sync_engine, "begin", on_begin)
    database = AuditDatabase(engine, backend=backend, schema=schema)
    try:
        await database.ping()
    except BaseException:
        await engine.dispose()
        raise
    return database
