"""The audit database: the shared engine (:mod:`database`), with the audit log's errors.

The audit log may share its database file or server with the store (separate tables, separate
Alembic version tables, one engine). Every statement goes through
:meth:`AuditDatabase.transaction`, :meth:`~AuditDatabase.connection` or
:meth:`~AuditDatabase.snapshot`, which map SQLAlchemy and driver exceptions to
:mod:`audit.errors` at this one boundary.

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
readers to finish before it commits (busy timeout), where WAL let them overlap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from audit.errors import AuditError, AuditUnavailable, InvalidEntry
from database import WRITE_LOCK, Backend, Engine, classify, open_engine
from database.failures import kind_of

__all__ = ["AuditDatabase", "Backend", "open_database"]


class AuditDatabase:
    """The audit log's view of one database; the engine may be shared with the store."""

    def __init__(self, shared: Engine, *, owns: bool = False) -> None:
        self.shared = shared
        self.engine = shared.engine
        self.backend: Backend = shared.backend
        self.schema = shared.schema
        self._owns = owns

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed on exit, rolled back on error.

        ``write=True`` takes SQLite's write lock at once (``BEGIN IMMEDIATE``): reading the
        chain head and appending after it must not interleave with another writer (another
        process on the same file); on PostgreSQL writers serialise on the ``audit_head`` row.
        """
        try:
            async with self.engine.connect() as conn:
                if write and self.backend == "sqlite":
                    await conn.execution_options(**{WRITE_LOCK: "BEGIN IMMEDIATE"})
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
        REPEATABLE READ on PostgreSQL, a read transaction on SQLite."""
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
        try:
            await self.shared.ping()
        except Exception as error:
            raise self._mapped(error) from None

    async def aclose(self) -> None:
        """Close the engine if this log opened it (a shared one is its opener's)."""
        if self._owns:
            await self.shared.aclose()

    def _mapped(self, error: Exception) -> Exception:
        """The audit error for a foreign one; the message names no URL and no value.

        ``from None`` at the raise sites drops the original, whose text may carry a
        statement's parameters (pseudonyms) or, for some drivers, the URL.
        """
        kind, where = kind_of(error), f"{self.backend} audit database"
        match classify(error):
            case "invalid_value":
                return InvalidEntry(f"a value cannot be stored ({kind})")
            case "unavailable":
                return AuditUnavailable(f"the {where} is unavailable ({kind})")
            case "integrity" | "refused":
                return AuditError(f"the {where} refused a statement ({kind})")
        return error


async def open_database(
    url: str, *, schema: str | None = None, pool_size: int = 5, read_only: bool = False
) -> AuditDatabase:
    """Open an :class:`AuditDatabase` of its own and check that it answers.

    ``read_only``: for verification; SQLite opens the file read-only (and never creates it),
    PostgreSQL runs every transaction ``READ ONLY``. Nothing can then be written, migrations
    included.

    ``schema`` puts every audit table in that PostgreSQL schema (created by
    :func:`audit.migrate`); SQLite has none. Raises :class:`AuditUnavailable` when the server
    cannot be reached or the file is missing, ``ValueError`` for an unusable URL or schema.
    """
    try:
        shared = open_engine(
            url, schema=schema, pool_size=pool_size, allow_memory=False, read_only=read_only
        )
    except FileNotFoundError:
        raise AuditUnavailable("the sqlite audit database does not exist") from None
    database = AuditDatabase(shared, owns=True)
    try:
        await database.ping()
    except BaseException:
        await shared.aclose()
        raise
    return database
