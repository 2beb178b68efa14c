"""The database: one async SQLAlchemy engine, SQLite embedded or PostgreSQL past one machine.

Every statement goes through :meth:`Database.transaction` or :meth:`Database.connection`,
which map SQLAlchemy and driver exceptions to the store's errors at this single boundary.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, exc, literal, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from store.errors import InvalidRecord, StoreError, StoreUnavailable

Backend = Literal["sqlite", "postgresql"]

DEFAULT_FILE = "unefois.db"
# Milliseconds a SQLite writer waits for another one (WAL allows one writer at a time).
SQLITE_BUSY_TIMEOUT_MS = 5000
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+aiosqlite"}
# libpq's sslmode values that asyncpg's ``ssl`` parameter understands under the same name.
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def database_url_for(data_dir: Path, env_url: str | None) -> str:
    """The URL the gateway uses: ``UNEFOIS_DATABASE_URL`` if set, else a SQLite file in the
    data directory."""
    if env_url and env_url.strip():
        return env_url.strip()
    return f"sqlite+aiosqlite:///{(data_dir / DEFAULT_FILE).as_posix()}"


def _normalise(url: str) -> URL:
    """Parse ``url`` and point it at the async driver of its backend."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        # The message would echo the URL, password included.
        raise ValueError("the database URL cannot be parsed") from None
    if parsed.drivername in _POSTGRES_DRIVERS:
        query = dict(parsed.query)
        sslmode = query.pop("sslmode", None)
        if isinstance(sslmode, str) and sslmode in _SSL_MODES:
            # libpq spells it sslmode, asyncpg spells it ssl: URLs copied from other tools work.
            query["ssl"] = sslmode
        return parsed.set(drivername="postgresql+asyncpg", query=query)
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(
        f"unsupported database {parsed.drivername!r}: use sqlite:// or postgresql:// URLs"
    )


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or (url.query.get("mode") == "memory")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL is durable across process crashes in WAL
    # mode and avoids an fsync per commit; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
    finally:
        cursor.close()


class Database:
    """An async engine and the schema its tables live in (PostgreSQL only)."""

    def __init__(self, engine: AsyncEngine, *, backend: Backend, schema: str | None) -> None:
        self.engine = engine
        self.backend: Backend = backend
        self.schema = schema

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed on exit, rolled back on error."""
        try:
            async with self.engine.begin() as conn:
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
        async with self.connection() as conn:
            await conn.execute(select(literal(1)))

    async def aclose(self) -> None:
        await self.engine.dispose()

    def _mapped(self, error: Exception) -> Exception:
        """The store's error for a foreign one; the message names no URL and no value.

        ``from None`` at the raise sites drops the original, whose text may carry the
        statement's parameters (person pseudonyms) or, for some drivers, the URL.
        """
        original = getattr(error, "orig", None) or error
        kind = type(original).__name__
        if isinstance(error, exc.IntegrityError):
            return InvalidRecord(f"the {self.backend} database refused the record ({kind})")
        if isinstance(error, exc.StatementError) and isinstance(original, ValueError):
            return InvalidRecord(f"a value cannot be stored ({kind})")
        unavailable = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
        if (
            isinstance(error, (*unavailable, OSError, TimeoutError))
            or (isinstance(error, exc.DBAPIError) and error.connection_invalidated)
            or isinstance(original, OSError | TimeoutError)
        ):
            return StoreUnavailable(f"the {self.backend} database is unavailable ({kind})")
        if isinstance(error, exc.SQLAlchemyError):
            return StoreError(f"the {self.backend} database refused a statement ({kind})")
        return error


async def connect(url: str, *, schema: str | None = None, pool_size: int = 5) -> Database:
    """Open a :class:`Database` and check that it answers.

    ``schema`` puts every table in that PostgreSQL schema (created by :func:`migrate`); SQLite
    has none. Raises :class:`StoreUnavailable` when the server cannot be reached, ``ValueError``
    for an unusable URL or schema name.
    """
    if pool_size < 1:
        raise ValueError("pool_size must be positive")
    parsed = _normalise(url)
    backend: Backend = "postgresql" if parsed.drivername.startswith("postgresql") else "sqlite"
    options: dict[str, Any] = {}
    if schema is not None:
        if backend != "postgresql":
            raise ValueError("a schema applies to PostgreSQL only")
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError("a schema name is lowercase letters, digits and _, at most 63")
        options["execution_options"] = {"schema_translate_map": {None: schema}}
    if backend == "sqlite":
        if not _is_memory(parsed) and parsed.database:
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
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    database = Database(engine, backend=backend, schema=schema)
    try:
        await database.ping()
    except BaseException:
        await engine.dispose()
        raise
    return database
