"""A read of one small value from a SQLite file, on the caller's thread, that never waits.

The engine's reads go through a connection pool and a worker thread: right for queries, but
for a one-row read made at every request (the client registry's version) the hops cost far
more than the read. A probe holds its own read-only connection and reads at once; when the
file is locked (a writer is committing) or unreadable, it answers ``None`` without waiting,
and the caller reads through the engine as usual. It never writes and never creates the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteProbe:
    def __init__(self, file: Path) -> None:
        self._file = file
        self._connection: sqlite3.Connection | None = None

    def scalar(self, sql: str) -> Any | None:
        """The first column of the first row, or None: locked, missing, or no row."""
        try:
            connection = self._connection or self._open()
            row = connection.execute(sql).fetchone()
        except sqlite3.Error as error:
            # A lock is the usual answer while a writer commits: the connection stays good.
            # Anything else and the file may have been replaced: reopened at the next read.
            if getattr(error, "sqlite_errorcode", None) not in _LOCKED:
                self.close()
            return None
        return None if row is None else row[0]

    def _open(self) -> sqlite3.Connection:
        uri = f"file:{self._file.resolve().as_posix()}?mode=ro"
        # timeout=0: a lock held by a writer answers SQLITE_BUSY at once, never a wait.
        connection = sqlite3.connect(
            uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA mmap_size=0")  # as the engine's (database.engine)
        connection.execute("PRAGMA query_only=ON")
        self._connection = connection
        return connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
