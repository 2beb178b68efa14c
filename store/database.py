"""The store's database: the shared engine (:mod:`database`), with the store's errors.

Every statement goes through :meth:`Database.transaction` or :meth:`Database.connection`,
which map SQLAlchemy and driver exceptions to the store's errors at this single boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from database import DEFAULT_FILE, WRITE_LOCK, Engine, classify, open_engine, url_for
from database.failures import kind_of
from store.errors import InvalidRecord, StoreError, StoreUnavailable

__all__ = ["DEFAULT_FILE", "Database", "connect", "database_url_for"]


def database_url_for(data_dir: Path, env_url: str | None) -> str:
    """The URL the gateway uses: ``UNEFOIS_DATABASE_URL`` if set, else a SQLite file in the
    data directory."""
    return url_for(data_dir, env_url)


class Database:
    """The store's view of one database; the engine may be shared with the audit log."""

    def __init__(self, shared: Engine, *, owns: bool = False) -> None:
        self.shared = shared
        self.engine = shared.engine
        self.backend = shared.backend
        self.schema = shared.schema
        self._owns = owns

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed on exit, rolled back on error.

        On SQLite the write lock is taken at ``BEGIN``: a transaction that reads then writes
        would otherwise fail at once, not wait, when another process wrote in between.
        """
        try:
            async with self.engine.connect() as conn:
                if self.backend == "sqlite":
                    await conn.execution_options(**{WRITE_LOCK: "BEGIN IMMEDIATE"})
                async with conn.begin():
                    yield conn
        except StoreError:
            raise
        except Exception as error:
            raise self._mapped(error) from None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; nothing is committed."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except StoreError:
            raise
        except Exception as error:
            raise self._mapped(error) from None

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the database answers (health checks)."""
        try:
            await self.shared.ping()
        except Exception as error:
            raise self._mapped(error) from None

    async def aclose(self) -> None:
        """Close the engine if this store opened it (a shared one is its opener's)."""
        if self._owns:
            await self.shared.aclose()

    def _mapped(self, error: Exception) -> Exception:
        """The store's error for a foreign one; the message names no URL and no value.

        ``from None`` at the raise sites drops the original, whose text may carry the
        statement's parameters (person pseudonyms) or, for some drivers, the URL.
        """
        kind = kind_of(error)
        match classify(error):
            case "integrity":
                return InvalidRecord(f"the {self.backend} database refused the record ({kind})")
            case "invalid_value":
                return InvalidRecord(f"a value cannot be stored ({kind})")
            case "unavailable":
                return StoreUnavailable(f"the {self.backend} database is unavailable ({kind})")
            case "refused":
                return StoreError(f"the {self.backend} database refused a statement ({kind})")
        return error


async def connect(url: str, *, schema: str | None = None, pool_size: int = 5) -> Database:
    """Open a :class:`Database` of its own and check that it answers.

    ``schema`` puts every table in that PostgreSQL schema (created by :func:`migrate`); SQLite
    has none. Raises :class:`StoreUnavailable` when the server cannot be reached, ``ValueError``
    for an unusable URL or schema name.
    """
    database = Database(open_engine(url, schema=schema, pool_size=pool_size), owns=True)
    try:
        await database.ping()
    except BaseException:
        await database.shared.aclose()
        raise
    return database
