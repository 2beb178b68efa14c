"""Exclusive named locks: one holder at a time across processes and machines, never a wait.

``async with exclusive(database, "deliver"):`` either holds the lock named ``deliver`` for the
database until the block ends, or raises :class:`LockHeld` at once because another holder has
it. A holder that dies (crash, SIGKILL, lost connection) loses the lock with it, so no lock is
left behind for an operator to clear:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection held
  for the whole block; the server releases it when that session ends. The key is derived
  from the schema and the name, so two deployments sharing a server do not exclude each
  other. The connection runs in autocommit: holding the lock keeps no transaction open.
- SQLite: an OS file lock (``flock``) on ``<database file>.<name>.lock`` next to the database
  file; the kernel releases it with the process. The lock file stays, empty, and is reused.

The lock is advisory: it excludes other holders of the same name, nothing else. If the
PostgreSQL connection drops during the block the lock goes with it; the block then finds out
at its next statement, through its own connections failing the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncConnection

from store.database import Database
from store.errors import StoreError, StoreUnavailable

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
# Process-wide, for in-memory SQLite databases: they are only ever seen by one process.
_MEMORY_HELD: set[tuple[int, str]] = set()


class LockHeld(StoreError):
    """Another holder has the lock: whatever it guards is already being done elsewhere."""


def advisory_key(schema: str | None, name: str) -> int:
    """The signed 64-bit PostgreSQL advisory lock key of ``name`` in ``schema``."""
    digest = hashlib.sha256(f"unefois-lock\0{schema or ''}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file(database: Database, name: str) -> Path | None:
    """The file a SQLite database's lock ``name`` is taken on; None for in-memory ones."""
    url = database.engine.url
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        return None
    path = Path(url.database)
    return path.with_name(f"{path.name}.{name}.lock")


@asynccontextmanager
async def exclusive(database: Database, name: str) -> AsyncIterator[None]:
    """Hold the lock ``name`` for the block, or raise :class:`LockHeld` immediately.

    ``name`` is lowercase letters, digits, ``_`` and ``-`` (it becomes part of a file name).
    Raises :class:`StoreUnavailable` when the database cannot be reached to take it.
    """
    if not _NAME.fullmatch(name):
        raise ValueError("a lock name is lowercase letters, digits, _ and -, at most 63")
    if database.backend == "postgresql":
        async with _advisory(database, name):
            yield
    else:
        async with _flocked(database, name):
            yield


def _mapped(database: Database, error: Exception) -> StoreError:
    kind = type(getattr(error, "orig", None) or error).__name__
    if isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, OSError)):
        return StoreUnavailable(f"the {database.backend} database is unavailable ({kind})")
    return StoreError(f"the {database.backend} database refused a lock ({kind})")


async def _scalar(conn: AsyncConnection, statement: str, key: int) -> Any:
    return (await conn.execute(text(statement), {"key": key})).scalar_one()


@asynccontextmanager
async def _advisory(database: Database, name: str) -> AsyncIterator[None]:
    key = advisory_key(database.schema, name)
    # The body's own errors pass through untouched: only the lock's statements are mapped.
    try:
        conn = await database.engine.connect()
    except (exc.SQLAlchemyError, OSError, TimeoutError) as error:
        raise _mapped(database, error) from None
    try:
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            taken = await _scalar(conn, "SELECT pg_try_advisory_lock(:key)", key)
        except (exc.SQLAlchemyError, OSError, TimeoutError) as error:
            raise _mapped(database, error) from None
        if not taken:
            raise LockHeld(f"the {name} lock is held by another process")
        released = False
        try:
            yield
        finally:
            with contextlib.suppress(exc.SQLAlchemyError, OSError, TimeoutError):
                released = bool(await _scalar(conn, "SELECT pg_advisory_unlock(:key)", key))
            if not released:
                # A pooled session must never keep the lock: closing the session releases it.
                with contextlib.suppress(exc.SQLAlchemyError, OSError, TimeoutError):
                    await conn.invalidate()
    finally:
        with contextlib.suppress(exc.SQLAlchemyError, OSError, TimeoutError):
            await conn.close()


@asynccontextmanager
async def _flocked(database: Database, name: str) -> AsyncIterator[None]:
    path = lock_file(database, name)
    if path is None:
        held = (id(database.engine), name)
        if held in _MEMORY_HELD:
            raise LockHeld(f"the {name} lock is held by another holder")
        _MEMORY_HELD.add(held)
        try:
            yield
        finally:
            _MEMORY_HELD.discard(held)
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise StoreUnavailable(f"the lock file cannot be opened ({type(error).__name__})") from None
    try:
        try:
            # Per open file: a second holder in the same process is refused too.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"the {name} lock is held by another process") from None
        except OSError as error:
            raise StoreUnavailable(
                f"the lock file cannot be locked ({type(error).__name__})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
