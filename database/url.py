"""Database URLs: which database, on which async driver."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from sqlalchemy import exc
from sqlalchemy.engine import URL, make_url

Backend = Literal["sqlite", "postgresql"]

DEFAULT_FILE = "unefois.db"
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+aiosqlite"}
# libpq's sslmode values that asyncpg's ``ssl`` parameter understands under the same name.
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def url_for(data_dir: Path, env_url: str | None) -> str:
    """The configured URL if there is one, else the SQLite file of the data directory."""
    if env_url and env_url.strip():
        return env_url.strip()
    return f"sqlite+aiosqlite:///{(data_dir / DEFAULT_FILE).as_posix()}"


def normalise_url(url: str) -> URL:
    """Parse ``url`` and point it at the async driver of its backend.

    Raises ``ValueError`` whose message never echoes the URL (it may hold a password).
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
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


def backend_of(url: URL) -> Backend:
    return "postgresql" if url.drivername.startswith("postgresql") else "sqlite"


def is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
