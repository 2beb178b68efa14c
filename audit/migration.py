"""Bring the audit tables to the latest schema with Alembic, at every start.

Idempotent: on an up-to-date database Alembic finds nothing to run. On PostgreSQL, replicas
starting together take turns on an advisory lock (``migrations/env.py``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from audit.database import AuditDatabase

_HERE = Path(__file__).resolve().parent


def _config() -> Config:
    # script_location is relative to the ini file's directory: found wherever we are installed.
    return Config(str(_HERE / "alembic.ini"))


def _upgrade(connection: Connection, schema: str | None) -> None:
    config = _config()
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    command.upgrade(config, "head")


async def migrate(db: AuditDatabase) -> None:
    """Run ``alembic upgrade head`` on ``db``, in its schema, in one transaction."""
    async with db.transaction(write=True) as conn:
        await conn.run_sync(_upgrade, db.schema)


def head_revision() -> str:
    """The revision :func:`migrate` brings a database to (for health checks and tests)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head
